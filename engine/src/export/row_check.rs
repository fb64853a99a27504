//! The checks every writer makes on the rows it is given, so that the three formats accept
//! and refuse the same input: one cell per column, each of its column's kind, and exactly
//! the number of rows the report announced.

use super::{Cell, ColumnKind, ExportError, Report};

#[derive(Debug)]
pub(super) struct RowCheck {
    kinds: Vec<ColumnKind>,
    announced: u64,
    written: u64,
}

impl RowCheck {
    pub(super) fn new(report: &Report) -> RowCheck {
        RowCheck {
            kinds: report.columns.iter().map(|column| column.kind).collect(),
            announced: report.row_count,
            written: 0,
        }
    }

    /// Admits the next row, or says why it cannot be written. Rows are numbered from 1.
    pub(super) fn admit(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        let row = self.written + 1;
        if row > self.announced {
            return Err(ExportError::RowCount {
                announced: self.announced,
                written: row,
            });
        }
        if cells.len() != self.kinds.len() {
            return Err(ExportError::InvalidRow {
                row,
                reason: format!("{} cells for {} columns", cells.len(), self.kinds.len()),
            });
        }
        if let Some(column) = cells
            .iter()
            .zip(&self.kinds)
            .position(|(cell, kind)| !cell.fits(*kind))
        {
            return Err(ExportError::InvalidRow {
                row,
                reason: format!(
                    "cell {} is {:?} in a {:?} column",
                    column + 1,
                    cells[column],
                    self.kinds[column]
                ),
            });
        }
        self.written = row;
        Ok(())
    }

    /// Refuses to complete a file with fewer rows than announced.
    pub(super) fn finish(&self) -> Result<(), ExportError> {
        if self.written == self.announced {
            Ok(())
        } else {
            Err(ExportError::RowCount {
                announced: self.announced,
                written: self.written,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Column;

    fn report(row_count: u64) -> Report {
        Report {
            title: "T".to_owned(),
            reference: "R".to_owned(),
            header: vec![],
            columns: vec![
                Column::new("Name", ColumnKind::Text, 2),
                Column::new("Amount", ColumnKind::Amount { exponent: 0 }, 1),
            ],
            totals: vec![],
            end_note: None,
            row_count,
        }
    }

    #[test]
    fn a_row_of_the_right_kinds_is_admitted_and_empty_fits_any_column() {
        let mut check = RowCheck::new(&report(2));
        check
            .admit(&[Cell::Text("a".to_owned()), Cell::Amount(-5)])
            .expect("right kinds");
        check.admit(&[Cell::Empty, Cell::Empty]).expect("empties");
        check.finish().expect("two of two rows");
    }

    #[test]
    fn a_cell_of_another_kind_than_its_column_is_refused() {
        let mut check = RowCheck::new(&report(1));
        let refused = check.admit(&[Cell::Amount(1), Cell::Amount(2)]);
        assert!(matches!(
            refused,
            Err(ExportError::InvalidRow { row: 1, .. })
        ));
    }

    #[test]
    fn a_row_with_a_missing_cell_is_refused() {
        let mut check = RowCheck::new(&report(1));
        let refused = check.admit(&[Cell::Text("a".to_owned())]);
        assert!(matches!(
            refused,
            Err(ExportError::InvalidRow { row: 1, .. })
        ));
    }

    #[test]
    fn more_or_fewer_rows_than_announced_are_refused() {
        let mut check = RowCheck::new(&report(1));
        check.finish().expect_err("no row of one");
        check.admit(&[Cell::Empty, Cell::Empty]).expect("first row");
        let refused = check.admit(&[Cell::Empty, Cell::Empty]);
        assert!(matches!(
            refused,
            Err(ExportError::RowCount {
                announced: 1,
                written: 2
            })
        ));
    }
}
