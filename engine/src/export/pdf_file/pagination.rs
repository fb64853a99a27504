//! Where things go down an A4 landscape page, in whole points, and so how many rows each
//! page holds and how many pages the document has: known before the first row is drawn,
//! so that every page can say "Page N of M".

/// A4 landscape.
pub(super) const PAGE_WIDTH_PT: u32 = 842;
pub(super) const PAGE_HEIGHT_PT: u32 = 595;
/// Left and right margins.
pub(super) const MARGIN_PT: u32 = 36;
pub(super) const CONTENT_WIDTH_PT: u32 = PAGE_WIDTH_PT - 2 * MARGIN_PT;

/// The header band on every page (title, reference, the first two header fields) ends here.
pub(super) const BAND_BOTTOM_PT: u32 = 82;
/// One line of the header fields block on the first page, which holds two fields a line.
pub(super) const FIELD_LINE_PT: u32 = 15;
/// Space between the header fields block and the table.
pub(super) const FIELDS_GAP_PT: u32 = 10;
/// A line of text in the table header or in a row; a row has one or two.
pub(super) const TABLE_LINE_PT: u32 = 10;
/// Above and below the table header's lines.
const TABLE_HEADER_PADDING_PT: u32 = 8;
/// Above and below a row's lines.
const ROW_PADDING_PT: u32 = 4;
/// Rows and totals stop here; the footer is below.
pub(super) const TABLE_BOTTOM_PT: u32 = PAGE_HEIGHT_PT - 40;
/// Space between the last row and the totals, and between the totals and the end note.
pub(super) const TOTALS_GAP_PT: u32 = 10;
pub(super) const TOTAL_LINE_PT: u32 = 15;

/// The heights of the table header and of one row, from the lines of text a row has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RowHeights {
    pub(super) header_pt: u32,
    pub(super) row_pt: u32,
}

impl RowHeights {
    pub(super) fn for_lines(lines: u32) -> RowHeights {
        RowHeights {
            header_pt: TABLE_HEADER_PADDING_PT + lines * TABLE_LINE_PT,
            row_pt: ROW_PADDING_PT + lines * TABLE_LINE_PT,
        }
    }
}

/// The page count and what each page holds. Pages are numbered from 0 here, from 1 on paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pagination {
    first_page_rows: u64,
    later_page_rows: u64,
    row_count: u64,
    /// The page the totals and end note go on: the last one with rows, or one after it.
    totals_page: u64,
}

impl Pagination {
    /// `validate` has bounded the header fields and totals so that the first page holds at
    /// least one row and a page holds the totals.
    pub(super) fn new(
        row_count: u64,
        header_fields: usize,
        totals_height_pt: u32,
        heights: RowHeights,
    ) -> Pagination {
        let fields_block_pt = header_fields_height_pt(header_fields);
        let rows_in = |height_pt: u32| u64::from(height_pt / heights.row_pt);
        let table_top_pt = BAND_BOTTOM_PT + heights.header_pt;
        let first_page_rows = rows_in(TABLE_BOTTOM_PT - table_top_pt - fields_block_pt);
        let later_page_rows = rows_in(TABLE_BOTTOM_PT - table_top_pt);
        assert!(
            first_page_rows > 0,
            "the header fields leave no room for rows"
        );

        let (last_row_page, rows_on_last) = if row_count <= first_page_rows {
            (0, row_count)
        } else {
            let later_rows = row_count - first_page_rows;
            let later_pages = later_rows.div_ceil(later_page_rows);
            (
                later_pages,
                later_rows - (later_pages - 1) * later_page_rows,
            )
        };
        let capacity = if last_row_page == 0 {
            first_page_rows
        } else {
            later_page_rows
        };
        let space_left_pt = (capacity - rows_on_last) * u64::from(heights.row_pt);
        let totals_fit = space_left_pt >= u64::from(totals_height_pt);
        Pagination {
            first_page_rows,
            later_page_rows,
            row_count,
            totals_page: last_row_page + u64::from(!totals_fit),
        }
    }

    pub(super) fn page_count(&self) -> u64 {
        self.totals_page + 1
    }

    /// How many rows `page` holds.
    pub(super) fn rows_on_page(&self, page: u64) -> u64 {
        let before = if page == 0 {
            0
        } else {
            self.first_page_rows + (page - 1) * self.later_page_rows
        };
        let capacity = if page == 0 {
            self.first_page_rows
        } else {
            self.later_page_rows
        };
        self.row_count.saturating_sub(before).min(capacity)
    }

    pub(super) fn totals_page(&self) -> u64 {
        self.totals_page
    }
}

/// The height of the first page's block of header fields, two to a line.
pub(super) fn header_fields_height_pt(header_fields: usize) -> u32 {
    if header_fields == 0 {
        return 0;
    }
    let lines = u32::try_from(header_fields.div_ceil(2)).expect("header fields are bounded");
    lines * FIELD_LINE_PT + FIELDS_GAP_PT
}

/// The height the totals and end note take after the last row.
pub(super) fn totals_height_pt(totals: usize, has_end_note: bool) -> u32 {
    let lines = u32::try_from(totals).expect("totals are bounded");
    TOTALS_GAP_PT
        + lines * TOTAL_LINE_PT
        + u32::from(has_end_note) * (TOTALS_GAP_PT + TOTAL_LINE_PT)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: usize = 5;

    fn pages(row_count: u64, totals: usize) -> Pagination {
        Pagination::new(
            row_count,
            FIELDS,
            totals_height_pt(totals, true),
            RowHeights::for_lines(1),
        )
    }

    #[test]
    fn the_first_page_holds_fewer_rows_than_the_others() {
        let pagination = pages(1000, 2);
        assert!(pagination.rows_on_page(0) < pagination.rows_on_page(1));
        assert_eq!(pagination.rows_on_page(0), 28);
        assert_eq!(pagination.rows_on_page(1), 32);
    }

    #[test]
    fn every_row_is_on_exactly_one_page_and_the_page_count_says_so() {
        for row_count in [0, 1, 27, 28, 29, 60, 250, 1000, 100_000] {
            let pagination = pages(row_count, 3);
            let placed: u64 = (0..pagination.page_count())
                .map(|page| pagination.rows_on_page(page))
                .sum();
            assert_eq!(placed, row_count, "{row_count} rows");
            let last = pagination.page_count() - 1;
            assert!(last == 0 || pagination.rows_on_page(last - 1) > 0);
        }
    }

    #[test]
    fn totals_that_do_not_fit_under_the_last_row_get_a_page_of_their_own() {
        let full_first_page = pages(28, 2);
        assert_eq!(full_first_page.page_count(), 2);
        assert_eq!(full_first_page.totals_page(), 1);
        assert_eq!(full_first_page.rows_on_page(1), 0);

        let room_left = pages(20, 2);
        assert_eq!(room_left.page_count(), 1);
        assert_eq!(room_left.totals_page(), 0);
    }

    #[test]
    fn rows_of_two_lines_take_more_pages() {
        let one_line = pages(1000, 2).page_count();
        let two_lines = Pagination::new(
            1000,
            FIELDS,
            totals_height_pt(2, true),
            RowHeights::for_lines(2),
        )
        .page_count();
        assert!(
            two_lines > one_line + one_line / 2,
            "{two_lines} pages, {one_line}"
        );
    }

    #[test]
    fn an_empty_report_is_one_page() {
        assert_eq!(pages(0, 4).page_count(), 1);
    }

    #[test]
    fn two_hundred_and_fifty_rows_take_eight_pages_and_their_totals_a_ninth() {
        // 28 on the first page, then 32 a page: 28 + 6 * 32 = 220, and 30 rows on page 8
        // leave 28 points: room for nothing after them, not for three totals and a note.
        let no_totals = Pagination::new(250, FIELDS, 0, RowHeights::for_lines(1));
        assert_eq!(no_totals.page_count(), 8);
        assert_eq!(pages(250, 3).page_count(), 9);
        assert_eq!(pages(250, 3).rows_on_page(7), 30);
    }
}
