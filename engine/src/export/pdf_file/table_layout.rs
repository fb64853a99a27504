//! How the table sits across the page: its font size and each column's slot. Times and
//! numbers get the width their widest value takes, so that they are never cut; text columns
//! share the rest in proportion to the length of their typical value. The largest font size
//! at which every column fits is chosen. A column printed below another shares that one's
//! slot on the row's second line.
#![expect(
    clippy::float_arithmetic,
    reason = "placing columns in points: layout only, never money"
)]

use super::pagination::{CONTENT_WIDTH_PT, MARGIN_PT};
use super::pen::{Align, Slot};
use super::typeface::Typeface;
use crate::export::{Column, ColumnKind};

/// Font sizes tried for the table, largest first; the last one is used even if the text
/// columns must then cut their longest values.
const TABLE_SIZES_PT: [f32; 4] = [8.0, 7.5, 7.0, 6.5];
/// Space between a cell's text and its slot's edges.
const CELL_PADDING_PT: f32 = 4.0;
/// The widest value a time, an amount and a count column is sized for.
const TIME_SAMPLE: &str = "2026-12-31 23:59:59";
const AMOUNT_SAMPLE: &str = "-99,999,999,999";
const COUNT_SAMPLE: &str = "9,999,999";

/// One column on paper.
#[derive(Clone, Copy, Debug)]
pub(super) struct Placed {
    pub(super) slot: Slot,
    /// 0 for the row's first line, 1 for a column printed below another.
    pub(super) line: u32,
    /// Times and numbers, which are drawn whole even in the rare case that they overflow.
    pub(super) whole: bool,
}

#[derive(Debug)]
pub(super) struct TableLayout {
    pub(super) size_pt: f32,
    /// In the report's column order.
    pub(super) columns: Vec<Placed>,
    /// 2 if a column is printed below another, else 1.
    pub(super) lines: u32,
}

/// The columns that share one slot: a column and the one printed below it, if any.
struct Group {
    members: Vec<usize>,
    /// The text of the widest member at the size being tried, padding included.
    natural_pt: f32,
    /// Typical characters of its text members; 0 if it has only times and numbers.
    text_chars: u32,
}

pub(super) fn lay_out(columns: &[Column], regular: &Typeface, bold: &Typeface) -> TableLayout {
    let content = CONTENT_WIDTH_PT as f32;
    let smallest = TABLE_SIZES_PT[TABLE_SIZES_PT.len() - 1];
    let size_pt = TABLE_SIZES_PT
        .into_iter()
        .find(|size| {
            let needed: f32 = groups(columns, regular, bold, *size)
                .iter()
                .map(|group| group.natural_pt)
                .sum();
            needed <= content
        })
        .unwrap_or(smallest);
    let groups = groups(columns, regular, bold, size_pt);
    let widths = share(&groups, content);
    let mut placed = vec![None; columns.len()];
    let mut left = MARGIN_PT as f32;
    for (group, width) in groups.iter().zip(widths) {
        for (line, index) in (0_u32..).zip(&group.members) {
            let kind = columns[*index].kind;
            placed[*index] = Some(Placed {
                slot: Slot {
                    left: left + CELL_PADDING_PT,
                    width: (width - 2.0 * CELL_PADDING_PT).max(0.0),
                    align: align(kind),
                },
                line,
                whole: kind != ColumnKind::Text,
            });
        }
        left += width;
    }
    TableLayout {
        size_pt,
        columns: placed
            .into_iter()
            .map(|placed| placed.expect("every column is in one group"))
            .collect(),
        lines: if columns.iter().any(|column| column.below.is_some()) {
            2
        } else {
            1
        },
    }
}

/// The slots' widths: each group's natural width, then what is left over given to the text
/// groups in proportion to their typical length. If the natural widths do not fit, times
/// and numbers keep theirs and the text groups share what remains.
fn share(groups: &[Group], content: f32) -> Vec<f32> {
    let natural: f32 = groups.iter().map(|group| group.natural_pt).sum();
    let text_chars: u32 = groups.iter().map(|group| group.text_chars).sum();
    if text_chars == 0 {
        return groups
            .iter()
            .map(|group| group.natural_pt * content / natural)
            .collect();
    }
    let per_char = if natural <= content {
        (content - natural) / text_chars as f32
    } else {
        let fixed: f32 = groups
            .iter()
            .filter(|group| group.text_chars == 0)
            .map(|group| group.natural_pt)
            .sum();
        (content - fixed).max(0.0) / text_chars as f32
    };
    groups
        .iter()
        .map(|group| match (group.text_chars, natural <= content) {
            (0, _) => group.natural_pt,
            (chars, true) => group.natural_pt + per_char * chars as f32,
            (chars, false) => per_char * chars as f32,
        })
        .collect()
}

fn groups(columns: &[Column], regular: &Typeface, bold: &Typeface, size_pt: f32) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of = vec![0; columns.len()];
    for (index, column) in columns.iter().enumerate() {
        let natural_pt = natural_width_pt(column, regular, bold, size_pt);
        let text_chars = match column.kind {
            ColumnKind::Text => u32::from(column.width),
            ColumnKind::Amount { .. } | ColumnKind::Count | ColumnKind::Time => 0,
        };
        match column.below {
            Some(above) => {
                let group = &mut groups[group_of[above]];
                group.members.push(index);
                group.natural_pt = group.natural_pt.max(natural_pt);
                group.text_chars = group.text_chars.max(text_chars);
            }
            None => {
                group_of[index] = groups.len();
                groups.push(Group {
                    members: vec![index],
                    natural_pt,
                    text_chars,
                });
            }
        }
    }
    groups
}

/// The width the column's name in bold and its widest (or, for text, typical) value take.
fn natural_width_pt(column: &Column, regular: &Typeface, bold: &Typeface, size_pt: f32) -> f32 {
    let value_em = match column.kind {
        ColumnKind::Time => regular.width_em(TIME_SAMPLE),
        ColumnKind::Count => regular.width_em(COUNT_SAMPLE),
        ColumnKind::Amount { exponent } => {
            let decimals = if exponent == 0 { 0 } else { exponent + 1 };
            regular.width_em(AMOUNT_SAMPLE) + regular.char_width_em('9') * decimals as f32
        }
        ColumnKind::Text => regular.char_width_em('0') * f32::from(column.width),
    };
    let name_em = bold.width_em(&column.name);
    value_em.max(name_em) * size_pt + 2.0 * CELL_PADDING_PT
}

fn align(kind: ColumnKind) -> Align {
    match kind {
        ColumnKind::Amount { .. } | ColumnKind::Count => Align::Right,
        ColumnKind::Text | ColumnKind::Time => Align::Left,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces() -> (Typeface, Typeface) {
        (Typeface::regular(), Typeface::bold())
    }

    fn right_edge(placed: &Placed) -> f32 {
        placed.slot.left + placed.slot.width
    }

    #[test]
    fn slots_fill_the_content_width_in_column_order_without_overlapping() {
        let (regular, bold) = faces();
        let columns = [
            Column::new("Time", ColumnKind::Time, 19),
            Column::new("Name", ColumnKind::Text, 20),
            Column::new("Amount", ColumnKind::Amount { exponent: 2 }, 12),
            Column::new("Lines", ColumnKind::Count, 5),
        ];
        let layout = lay_out(&columns, &regular, &bold);
        assert!(
            (layout.size_pt - 8.0).abs() < f32::EPSILON,
            "four columns fit at 8 pt"
        );
        assert_eq!(layout.lines, 1);
        for pair in layout.columns.windows(2) {
            assert!(right_edge(&pair[0]) <= pair[1].slot.left);
        }
        let end = right_edge(&layout.columns[3]) + CELL_PADDING_PT;
        assert!((end - (MARGIN_PT + CONTENT_WIDTH_PT) as f32).abs() < 0.01);
    }

    #[test]
    fn times_and_amounts_always_get_the_room_their_widest_value_takes() {
        let (regular, bold) = faces();
        let mut columns = vec![
            Column::new("Time", ColumnKind::Time, 19),
            Column::new("Amount", ColumnKind::Amount { exponent: 0 }, 12),
        ];
        for _ in 0..12 {
            columns.push(Column::new("Payout id", ColumnKind::Text, 36));
        }
        let layout = lay_out(&columns, &regular, &bold);
        assert!(
            (layout.size_pt - 6.5).abs() < f32::EPSILON,
            "the smallest size"
        );
        let size = layout.size_pt;
        assert!(layout.columns[0].slot.width >= regular.width_em(TIME_SAMPLE) * size);
        assert!(layout.columns[1].slot.width >= regular.width_em(AMOUNT_SAMPLE) * size);
        assert!(layout.columns[0].whole && !layout.columns[2].whole);
    }

    #[test]
    fn a_column_below_another_shares_its_slot_on_the_second_line() {
        let (regular, bold) = faces();
        let columns = [
            Column::new("Payout id", ColumnKind::Text, 36),
            Column::new("Operator reference", ColumnKind::Text, 36).below(0),
            Column::new("Amount", ColumnKind::Amount { exponent: 0 }, 12),
        ];
        let layout = lay_out(&columns, &regular, &bold);
        assert_eq!(layout.lines, 2);
        let (above, below) = (layout.columns[0], layout.columns[1]);
        assert_eq!((above.line, below.line), (0, 1));
        assert!((above.slot.left - below.slot.left).abs() < f32::EPSILON);
        assert!((above.slot.width - below.slot.width).abs() < f32::EPSILON);
        assert!(layout.columns[2].slot.left > right_edge(&above));
    }
}
