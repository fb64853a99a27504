//! The report as a PDF with krilla: A4 landscape pages laid out as `stationery` shows, with
//! the bundled fonts embedded (subset) and all text extractable. Rows are kept until their
//! page is full and then drawn; the document is written out at `finish`.

mod pagination;
mod pen;
mod stationery;
mod table_layout;
mod typeface;

use std::io::Write;

use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;

use self::pagination::{PAGE_HEIGHT_PT, PAGE_WIDTH_PT, Pagination};
use self::stationery::{PageContent, Stationery, Typefaces};
use self::typeface::Typeface;
use super::row_check::RowCheck;
use super::{Cell, ExportError, Report, ReportWriter};

pub(super) struct PdfWriter<W: Write> {
    document: Document,
    faces: Typefaces,
    stationery: Stationery,
    pagination: Pagination,
    /// The page being filled, from 0.
    page: u64,
    /// Its rows so far.
    rows: Vec<Vec<Cell>>,
    out: W,
    check: RowCheck,
}

impl<W: Write> PdfWriter<W> {
    pub(super) fn new(report: &Report, out: W, check: RowCheck) -> Self {
        let faces = Typefaces {
            regular: Typeface::regular(),
            bold: Typeface::bold(),
        };
        let stationery = Stationery::new(report, &faces);
        let pagination = Pagination::new(
            report.row_count,
            stationery.first_page_fields().len(),
            pagination::totals_height_pt(stationery.totals_count(), stationery.has_end_note()),
            stationery.row_heights(),
        );
        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(stationery.title().to_owned())
                .creator("Payrail".to_owned()),
        );
        PdfWriter {
            document,
            faces,
            stationery,
            pagination,
            page: 0,
            rows: Vec::new(),
            out,
            check,
        }
    }

    /// Draws the page being filled with the rows kept for it, and starts the next one.
    fn paint_page(&mut self) {
        let size = PageSettings::from_wh(PAGE_WIDTH_PT as f32, PAGE_HEIGHT_PT as f32)
            .expect("A4 is a valid page size");
        let mut page = self.document.start_page_with(size);
        let mut surface = page.surface();
        let content = PageContent {
            number: self.page + 1,
            count: self.pagination.page_count(),
            rows: &self.rows,
            with_totals: self.page == self.pagination.totals_page(),
        };
        self.stationery.paint(&mut surface, &self.faces, &content);
        surface.finish();
        page.finish();
        self.rows.clear();
        self.page += 1;
    }
}

impl<W: Write> ReportWriter for PdfWriter<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        self.check.admit(cells)?;
        self.rows.push(cells.to_vec());
        if self.rows.len() as u64 == self.pagination.rows_on_page(self.page) {
            self.paint_page();
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.check.finish()?;
        while self.page < self.pagination.page_count() {
            self.paint_page();
        }
        let PdfWriter {
            document, mut out, ..
        } = *self;
        let pdf = document.finish().map_err(|failed| ExportError::Pdf {
            detail: failed.to_string(),
        })?;
        out.write_all(&pdf)?;
        out.flush()?;
        Ok(())
    }
}
