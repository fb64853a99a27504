//! A payroll file in CSV, read strictly and as a stream, so that a file is either read the
//! way its writer meant it or refused with the line that is wrong. The rules (also in
//! docs/api.md):
//! - UTF-8, with or without a byte-order mark; UTF-16 and other encodings are refused.
//! - LF, CRLF and a lone CR each end a line; lines are numbered from 1, the header's.
//! - The first line that is not blank is the header (see `header`).
//! - Fields as in `fields`: commas, optional quotes, a quoted field ends on its own line.
//! - Every other line has exactly as many fields as the header, and at most
//!   `LINE_MAX_BYTES` bytes. A blank line (nothing but commas and spaces) is skipped.
//!
//! A fault in the file as a whole (encoding, header) refuses it; a fault in one line is
//! that line's error, and reading goes on so that every bad line is reported.

mod fields;
mod header;
mod line_reader;

use std::borrow::Cow;
use std::io;

use tokio::io::AsyncBufRead;

pub use self::fields::FieldFault;
pub use self::header::{COLUMNS, Columns, HeaderFault};
pub use self::line_reader::LINE_MAX_BYTES;
use self::line_reader::{Line, LineReader};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a whole file is refused; nothing of it is kept.
#[derive(Debug, thiserror::Error)]
pub enum FileFault {
    #[error("the file is empty")]
    Empty,
    #[error("the file is UTF-16 (\"Unicode text\"); save it as CSV UTF-8 and upload it again")]
    Utf16,
    #[error(
        "line {line} is not UTF-8: the file looks like Latin-1 or Windows-1252; save it as CSV UTF-8 and upload it again"
    )]
    NotUtf8 { line: u64 },
    #[error(
        "line {line} contains NUL bytes, as UTF-16 files do; save it as CSV UTF-8 and upload it again"
    )]
    Nul { line: u64 },
    #[error("the header (line {line}): {fault}")]
    Header { line: u64, fault: HeaderFault },
    #[error("the header (line {line}) is longer than {LINE_MAX_BYTES} bytes")]
    HeaderTooLong { line: u64 },
    #[error("the header (line {line}): {fault}")]
    HeaderFields { line: u64, fault: FieldFault },
    #[error("more lines than a file may have")]
    TooManyLines,
    #[error("the file could not be read: {0}")]
    Read(#[from] io::Error),
}

/// Why one line is refused; the rest of the file is still read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineFault {
    pub line: i32,
    pub reason: String,
}

/// One line of the file, split into the header's columns.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    pub line: i32,
    fields: Vec<Cow<'a, str>>,
    columns: Columns,
}

impl Row<'_> {
    pub fn msisdn(&self) -> &str {
        &self.fields[self.columns.msisdn]
    }

    pub fn amount(&self) -> &str {
        &self.fields[self.columns.amount]
    }

    pub fn name(&self) -> Option<&str> {
        self.optional(self.columns.name)
    }

    pub fn reference(&self) -> Option<&str> {
        self.optional(self.columns.reference)
    }

    pub fn note(&self) -> Option<&str> {
        self.optional(self.columns.note)
    }

    fn optional(&self, at: Option<usize>) -> Option<&str> {
        at.map(|at| &*self.fields[at])
    }
}

/// A payroll CSV being read, its header already checked.
#[derive(Debug)]
pub struct PayrollCsv<R> {
    lines: LineReader<R>,
    columns: Columns,
}

impl<R: AsyncBufRead + Unpin> PayrollCsv<R> {
    /// Reads up to the header and checks it.
    pub async fn open(reader: R) -> Result<PayrollCsv<R>, FileFault> {
        let mut lines = LineReader::new(reader);
        let line = loop {
            match lines.next().await? {
                None => return Err(FileFault::Empty),
                Some(Line::TooLong(line)) => return Err(FileFault::HeaderTooLong { line }),
                Some(Line::Whole(line)) => {
                    let text = lines.text();
                    if text.starts_with(b"\xFF\xFE") || text.starts_with(b"\xFE\xFF") {
                        return Err(FileFault::Utf16);
                    }
                    if !is_blank(without_bom(text, line)) {
                        break line;
                    }
                }
            }
        };
        let text = utf8(without_bom(lines.text(), line), line)?;
        let mut fields = Vec::new();
        fields::split(text, &mut fields)
            .map_err(|fault| FileFault::HeaderFields { line, fault })?;
        let columns =
            Columns::from_header(&fields).map_err(|fault| FileFault::Header { line, fault })?;
        Ok(PayrollCsv { lines, columns })
    }

    /// The next row or the next line's fault; `None` at the end of the file.
    pub async fn next(&mut self) -> Result<Option<Result<Row<'_>, LineFault>>, FileFault> {
        let read = loop {
            match self.lines.next().await? {
                None => return Ok(None),
                Some(Line::Whole(_)) if is_blank(self.lines.text()) => continue,
                Some(read) => break read,
            }
        };
        let (line, too_long) = match read {
            Line::Whole(line) => (line, false),
            Line::TooLong(line) => (line, true),
        };
        let fault = |reason: String| {
            let line = i32::try_from(line).map_err(|_| FileFault::TooManyLines)?;
            Ok(Some(Err(LineFault { line, reason })))
        };
        if too_long {
            return fault(format!("the line is longer than {LINE_MAX_BYTES} bytes"));
        }
        let text = utf8(self.lines.text(), line)?;
        let mut fields = Vec::with_capacity(self.columns.count);
        if let Err(split) = fields::split(text, &mut fields) {
            return fault(split.to_string());
        }
        if fields.len() != self.columns.count {
            return fault(format!(
                "{} fields where the header has {}",
                fields.len(),
                self.columns.count
            ));
        }
        Ok(Some(Ok(Row {
            line: i32::try_from(line).map_err(|_| FileFault::TooManyLines)?,
            fields,
            columns: self.columns,
        })))
    }
}

/// The first line without its UTF-8 byte-order mark.
fn without_bom(text: &[u8], line: u64) -> &[u8] {
    match line {
        1 => text.strip_prefix(UTF8_BOM).unwrap_or(text),
        _ => text,
    }
}

/// A line with nothing but commas and spaces: an empty row a spreadsheet left behind.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|byte| matches!(byte, b',' | b' ' | b'\t'))
}

fn utf8(bytes: &[u8], line: u64) -> Result<&str, FileFault> {
    let text = std::str::from_utf8(bytes).map_err(|_| FileFault::NotUtf8 { line })?;
    if text.contains('\0') {
        return Err(FileFault::Nul { line });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of `file` as its fields, or every line's fault.
    async fn read(file: &[u8]) -> Result<Vec<Result<(i32, Vec<String>), LineFault>>, FileFault> {
        let mut csv = PayrollCsv::open(file).await?;
        let mut out = Vec::new();
        while let Some(row) = csv.next().await? {
            out.push(row.map(|row| {
                let fields = [
                    Some(row.msisdn()),
                    Some(row.amount()),
                    row.name(),
                    row.reference(),
                ]
                .into_iter()
                .map(|f| f.unwrap_or("-").to_owned())
                .collect();
                (row.line, fields)
            }));
        }
        Ok(out)
    }

    fn row(line: i32, fields: &[&str]) -> Result<(i32, Vec<String>), LineFault> {
        Ok((line, fields.iter().map(|f| (*f).to_owned()).collect()))
    }

    fn fault(line: i32, reason: &str) -> Result<(i32, Vec<String>), LineFault> {
        Err(LineFault {
            line,
            reason: reason.into(),
        })
    }

    #[tokio::test]
    async fn extra_or_missing_fields_are_a_fault_of_their_line() {
        let file = b"msisdn,amount,name,reference\n0788123456,1,000,Alice,ref-1\n0788123457,5\n0788123458,7,Bo,r\n";
        assert_eq!(
            read(file).await.expect("the file reads"),
            [
                fault(2, "5 fields where the header has 4"),
                fault(3, "2 fields where the header has 4"),
                row(4, &["0788123458", "7", "Bo", "r"]),
            ]
        );
    }

    #[tokio::test]
    async fn an_unclosed_quote_is_its_own_line_s_fault_and_swallows_nothing() {
        let file = b"msisdn,amount,name,reference\n0788123456,100,\"Alice,u-1\n0722123456,250000,Bob,u-2\n";
        assert_eq!(
            read(file).await.expect("the file reads"),
            [
                fault(2, "field 3 opens a quote that is not closed on this line"),
                row(3, &["0722123456", "250000", "Bob", "u-2"]),
            ]
        );
    }

    #[tokio::test]
    async fn cr_only_files_are_read_line_by_line_with_their_own_numbers() {
        let file = b"msisdn,amount,reference\r0788123456,100,a\r0788123457,100,b\r";
        assert_eq!(
            read(file).await.expect("the file reads"),
            [
                row(2, &["0788123456", "100", "-", "a"]),
                row(3, &["0788123457", "100", "-", "b"]),
            ]
        );
    }

    #[tokio::test]
    async fn a_bom_and_blank_lines_are_skipped_but_keep_the_numbering() {
        let file = b"\xEF\xBB\xBF\nmsisdn,amount\r\n\r\n,,\r\n0788123456,100\r\n";
        assert_eq!(
            read(file).await.expect("the file reads"),
            [row(5, &["0788123456", "100", "-", "-"])]
        );
    }

    #[tokio::test]
    async fn whole_file_faults_refuse_the_file() {
        assert!(matches!(read(b"").await, Err(FileFault::Empty)));
        assert!(matches!(read(b"\n ,\n").await, Err(FileFault::Empty)));
        assert!(matches!(
            read(b"\xFF\xFEm\0s\0").await,
            Err(FileFault::Utf16)
        ));
        assert!(matches!(
            read(b"msisdn,amount,name\n0788123456,1,Ren\xE9\n").await,
            Err(FileFault::NotUtf8 { line: 2 })
        ));
        assert!(matches!(
            read(b"msisdn,amount,amount\n").await,
            Err(FileFault::Header {
                line: 1,
                fault: HeaderFault::Repeated("amount")
            })
        ));
    }

    #[tokio::test]
    async fn an_overlong_line_is_its_own_fault() {
        let mut file = b"msisdn,amount,name\n0788123456,1,".to_vec();
        file.extend(vec![b'x'; LINE_MAX_BYTES]);
        file.extend_from_slice(b"\n0788123457,2,Al\n");
        let read = read(&file).await.expect("the file reads");
        assert_eq!(
            read[0],
            fault(
                2,
                &format!("the line is longer than {LINE_MAX_BYTES} bytes")
            )
        );
        assert_eq!(read[1], row(3, &["0788123457", "2", "Al", "-"]));
    }
}
