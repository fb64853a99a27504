//! What a page of the report looks like: the header band on every page (title, reference,
//! the first two header fields), the other header fields on the first, the table header
//! and rows, the totals and end note after the last row, and "Page N of M" at the foot.

use krilla::color::rgb;
use krilla::surface::Surface;

use super::pagination::{
    BAND_BOTTOM_PT, CONTENT_WIDTH_PT, FIELD_LINE_PT, FIELDS_GAP_PT, MARGIN_PT, PAGE_HEIGHT_PT,
    RowHeights, TABLE_LINE_PT, TOTAL_LINE_PT, TOTALS_GAP_PT,
};
use super::pen::{Align, Pen, Slot, Style};
use super::table_layout::{self, Placed};
use super::typeface::Typeface;
use crate::export::cell_text::{self, Digits};
use crate::export::report::neutralise_formula;
use crate::export::{Cell, ColumnKind, Field, Report};

/// Header fields shown in the band on every page; the first page shows the rest below it.
pub(super) const BAND_FIELDS: usize = 2;

fn ink() -> rgb::Color {
    rgb::Color::new(0x1F, 0x29, 0x37)
}
fn muted() -> rgb::Color {
    rgb::Color::new(0x5F, 0x67, 0x73)
}
fn accent() -> rgb::Color {
    rgb::Color::new(0x1E, 0x3A, 0x5F)
}
fn header_fill() -> rgb::Color {
    rgb::Color::new(0xE6, 0xEB, 0xF1)
}
fn stripe_fill() -> rgb::Color {
    rgb::Color::new(0xF5, 0xF7, 0xFA)
}
fn rule() -> rgb::Color {
    rgb::Color::new(0xC9, 0xCF, 0xD6)
}

/// Space between a table cell's text and its column's edges.
const CELL_PADDING_PT: u32 = 4;
/// The label column of a header field and of a total.
const LABEL_WIDTH_PT: u32 = 92;
const TOTALS_WIDTH_PT: u32 = 380;

/// The regular and bold typefaces.
pub(super) struct Typefaces {
    pub(super) regular: Typeface,
    pub(super) bold: Typeface,
}

/// One column of the table on paper.
struct TableColumn {
    name: String,
    kind: ColumnKind,
    placed: Placed,
}

/// Everything printed on the pages but the rows, with the report's text neutralised.
pub(super) struct Stationery {
    title: String,
    reference: String,
    header: Vec<Field>,
    columns: Vec<TableColumn>,
    /// The table's font size, the largest at which its columns fit.
    table_size_pt: f32,
    heights: RowHeights,
    totals: Vec<Field>,
    end_note: Option<String>,
}

/// What one page holds besides the stationery.
pub(super) struct PageContent<'r> {
    /// From 1.
    pub(super) number: u64,
    pub(super) count: u64,
    pub(super) rows: &'r [Vec<Cell>],
    pub(super) with_totals: bool,
}

impl Stationery {
    pub(super) fn new(report: &Report, faces: &Typefaces) -> Stationery {
        let neutral = |text: &str| neutralise_formula(text).into_owned();
        let neutral_field =
            |field: &Field| Field::new(neutral(&field.label), neutral(&field.value));
        let layout = table_layout::lay_out(&report.columns, &faces.regular, &faces.bold);
        Stationery {
            title: neutral(&report.title),
            reference: neutral(&report.reference),
            header: report.header.iter().map(neutral_field).collect(),
            columns: report
                .columns
                .iter()
                .zip(layout.columns)
                .map(|(column, placed)| TableColumn {
                    name: column.name.clone(),
                    kind: column.kind,
                    placed,
                })
                .collect(),
            table_size_pt: layout.size_pt,
            heights: RowHeights::for_lines(layout.lines),
            totals: report.totals.iter().map(neutral_field).collect(),
            end_note: report.end_note.as_deref().map(neutral),
        }
    }

    /// Header fields below the band on the first page.
    pub(super) fn first_page_fields(&self) -> &[Field] {
        self.header.get(BAND_FIELDS..).unwrap_or_default()
    }

    pub(super) fn row_heights(&self) -> RowHeights {
        self.heights
    }

    pub(super) fn totals_count(&self) -> usize {
        self.totals.len()
    }

    pub(super) fn has_end_note(&self) -> bool {
        self.end_note.is_some()
    }

    pub(super) fn title(&self) -> &str {
        &self.title
    }

    pub(super) fn paint(
        &self,
        surface: &mut Surface<'_>,
        faces: &Typefaces,
        page: &PageContent<'_>,
    ) {
        let mut pen = Pen::new(surface);
        self.paint_band(&mut pen, faces);
        let mut top = BAND_BOTTOM_PT;
        if page.number == 1 {
            top = self.paint_first_page_fields(&mut pen, faces, top);
        }
        if page.number == 1 || !page.rows.is_empty() {
            top = self.paint_table_header(&mut pen, faces, top);
            top = self.paint_rows(&mut pen, faces, page.rows, top);
        }
        if page.with_totals {
            self.paint_totals(&mut pen, faces, top);
        }
        self.paint_footer(&mut pen, faces, page);
    }

    fn paint_band(&self, pen: &mut Pen<'_, '_>, faces: &Typefaces) {
        let title = Style {
            face: &faces.bold,
            size_pt: 16.0,
            color: accent(),
        };
        let reference = Style {
            face: &faces.bold,
            size_pt: 11.0,
            color: ink(),
        };
        let half = CONTENT_WIDTH_PT / 2;
        pen.text(&self.title, title, slot(MARGIN_PT, half, Align::Left), 50.0);
        pen.text(
            &self.reference,
            reference,
            slot(MARGIN_PT + half, half, Align::Right),
            50.0,
        );
        for (index, field) in self.header.iter().take(BAND_FIELDS).enumerate() {
            let left = MARGIN_PT + u32::try_from(index).expect("two band fields") * half;
            paint_field(pen, faces, field, left, 68);
        }
        pen.rule(
            MARGIN_PT as f32,
            (MARGIN_PT + CONTENT_WIDTH_PT) as f32,
            76.0,
            1.2,
            accent(),
        );
    }

    /// The header fields not in the band, in two columns filled top to bottom.
    fn paint_first_page_fields(&self, pen: &mut Pen<'_, '_>, faces: &Typefaces, top: u32) -> u32 {
        let fields = self.first_page_fields();
        let lines = fields.len().div_ceil(2);
        for (index, field) in fields.iter().enumerate() {
            let (column, line) = (index / lines, index % lines);
            let left =
                MARGIN_PT + u32::try_from(column).expect("two columns") * (CONTENT_WIDTH_PT / 2);
            let line_top = top + u32::try_from(line).expect("bounded fields") * FIELD_LINE_PT;
            paint_field(pen, faces, field, left, line_top + 12);
        }
        if fields.is_empty() {
            top
        } else {
            top + u32::try_from(lines).expect("bounded fields") * FIELD_LINE_PT + FIELDS_GAP_PT
        }
    }

    fn paint_table_header(&self, pen: &mut Pen<'_, '_>, faces: &Typefaces, top: u32) -> u32 {
        let style = Style {
            face: &faces.bold,
            size_pt: self.table_size_pt,
            color: ink(),
        };
        pen.fill_rect(
            MARGIN_PT as f32,
            top as f32,
            CONTENT_WIDTH_PT as f32,
            self.heights.header_pt as f32,
            header_fill(),
        );
        for column in &self.columns {
            let baseline = top + 12 + column.placed.line * TABLE_LINE_PT;
            pen.text(&column.name, style, column.placed.slot, baseline as f32);
        }
        let bottom = top + self.heights.header_pt;
        pen.rule(
            MARGIN_PT as f32,
            (MARGIN_PT + CONTENT_WIDTH_PT) as f32,
            bottom as f32,
            0.8,
            accent(),
        );
        bottom
    }

    /// Draws the rows from `top`, every other one on a light stripe; returns where they end.
    fn paint_rows(
        &self,
        pen: &mut Pen<'_, '_>,
        faces: &Typefaces,
        rows: &[Vec<Cell>],
        top: u32,
    ) -> u32 {
        let style = Style {
            face: &faces.regular,
            size_pt: self.table_size_pt,
            color: ink(),
        };
        let row_pt = self.heights.row_pt;
        let mut text = String::new();
        let mut row_top = top;
        for (index, row) in rows.iter().enumerate() {
            if index % 2 == 1 {
                pen.fill_rect(
                    MARGIN_PT as f32,
                    row_top as f32,
                    CONTENT_WIDTH_PT as f32,
                    row_pt as f32,
                    stripe_fill(),
                );
            }
            for (cell, column) in row.iter().zip(&self.columns) {
                text.clear();
                cell_text::write_cell(&mut text, cell, column.kind.exponent(), Digits::Grouped);
                let placed = column.placed;
                let baseline = (row_top + 10 + placed.line * TABLE_LINE_PT) as f32;
                if placed.whole {
                    pen.whole_text(&text, style, placed.slot, baseline);
                } else {
                    pen.text(&text, style, placed.slot, baseline);
                }
            }
            row_top += row_pt;
        }
        if !rows.is_empty() {
            pen.rule(
                MARGIN_PT as f32,
                (MARGIN_PT + CONTENT_WIDTH_PT) as f32,
                row_top as f32,
                0.5,
                rule(),
            );
        }
        row_top
    }

    /// Totals right-aligned under the table (label, then value at the table's right edge),
    /// then the end note, centred.
    fn paint_totals(&self, pen: &mut Pen<'_, '_>, faces: &Typefaces, top: u32) {
        let label = Style {
            face: &faces.regular,
            size_pt: 9.0,
            color: muted(),
        };
        let value = Style {
            face: &faces.bold,
            size_pt: 9.0,
            color: ink(),
        };
        let right = MARGIN_PT + CONTENT_WIDTH_PT - CELL_PADDING_PT;
        let value_width = TOTALS_WIDTH_PT / 2;
        let label_slot = slot(
            right - TOTALS_WIDTH_PT,
            TOTALS_WIDTH_PT - value_width - 12,
            Align::Right,
        );
        let value_slot = slot(right - value_width, value_width, Align::Right);
        let mut line_top = top + TOTALS_GAP_PT;
        for total in &self.totals {
            pen.text(&total.label, label, label_slot, (line_top + 11) as f32);
            pen.text(&total.value, value, value_slot, (line_top + 11) as f32);
            line_top += TOTAL_LINE_PT;
        }
        if !self.totals.is_empty() {
            pen.rule(
                (right - TOTALS_WIDTH_PT) as f32,
                right as f32,
                (line_top + 3) as f32,
                0.8,
                accent(),
            );
        }
        if let Some(end_note) = &self.end_note {
            let note = Style {
                face: &faces.regular,
                size_pt: 8.5,
                color: muted(),
            };
            let note_top = line_top + TOTALS_GAP_PT;
            pen.text(
                end_note,
                note,
                slot(MARGIN_PT, CONTENT_WIDTH_PT, Align::Center),
                (note_top + 11) as f32,
            );
        }
    }
}

impl Stationery {
    /// The title and reference at the left of the foot, "Page N of M" at the right.
    fn paint_footer(&self, pen: &mut Pen<'_, '_>, faces: &Typefaces, page: &PageContent<'_>) {
        let style = Style {
            face: &faces.regular,
            size_pt: 7.5,
            color: muted(),
        };
        let rule_y = PAGE_HEIGHT_PT - 34;
        pen.rule(
            MARGIN_PT as f32,
            (MARGIN_PT + CONTENT_WIDTH_PT) as f32,
            rule_y as f32,
            0.5,
            rule(),
        );
        let baseline = (PAGE_HEIGHT_PT - 22) as f32;
        let half = CONTENT_WIDTH_PT / 2;
        let imprint = format!("{} · {}", self.title, self.reference);
        pen.text(
            &imprint,
            style,
            slot(MARGIN_PT, half, Align::Left),
            baseline,
        );
        let page_of = format!("Page {} of {}", page.number, page.count);
        pen.text(
            &page_of,
            style,
            slot(MARGIN_PT + half, half, Align::Right),
            baseline,
        );
    }
}

/// A label, muted and bold, then its value.
fn paint_field(pen: &mut Pen<'_, '_>, faces: &Typefaces, field: &Field, left: u32, baseline: u32) {
    let label = Style {
        face: &faces.bold,
        size_pt: 8.0,
        color: muted(),
    };
    let value = Style {
        face: &faces.regular,
        size_pt: 9.0,
        color: ink(),
    };
    let value_width = CONTENT_WIDTH_PT / 2 - LABEL_WIDTH_PT - 12;
    pen.text(
        &field.label,
        label,
        slot(left, LABEL_WIDTH_PT - 6, Align::Left),
        baseline as f32,
    );
    pen.text(
        &field.value,
        value,
        slot(left + LABEL_WIDTH_PT, value_width, Align::Left),
        baseline as f32,
    );
}

fn slot(left: u32, width: u32, align: Align) -> Slot {
    Slot {
        left: left as f32,
        width: width as f32,
        align,
    }
}
