//! A file's lines, one at a time, from any async reader: LF, CRLF and a lone CR each end a
//! line, lines are numbered as a text editor numbers them, and no line is held past
//! `LINE_MAX_BYTES`: the rest of an overlong line is read and dropped, never buffered.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest line kept. A payroll line's longest fields (name, reference, note) come to
/// about 1,900 bytes of UTF-8, twice that if every character were a doubled quote.
pub const LINE_MAX_BYTES: usize = 8 * 1024;

/// What `LineReader::next` read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A line, numbered from 1; `LineReader::text` holds it without its line end.
    Whole(u64),
    /// A line longer than `LINE_MAX_BYTES`: its bytes were dropped as they were read.
    TooLong(u64),
}

/// Reads lines from `R` into one buffer of `LINE_MAX_BYTES`, allocated once.
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    line: Vec<u8>,
    /// The number of the last line returned (the first line is 1).
    line_no: u64,
    /// The last line ended with CR: an LF right after it belongs to that line end.
    after_cr: bool,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub fn new(reader: R) -> LineReader<R> {
        LineReader {
            reader,
            line: Vec::with_capacity(LINE_MAX_BYTES),
            line_no: 0,
            after_cr: false,
        }
    }

    /// Reads the next line, or returns `None` at the end of the file.
    pub async fn next(&mut self) -> io::Result<Option<Line>> {
        self.line.clear();
        let mut too_long = false;
        let mut started = false;
        loop {
            let buffer = self.reader.fill_buf().await?;
            if buffer.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            if std::mem::take(&mut self.after_cr) && buffer[0] == b'\n' {
                self.reader.consume(1);
                continue;
            }
            started = true;
            let (content, used, ended) = match memchr::memchr2(b'\n', b'\r', buffer) {
                Some(at) => {
                    self.after_cr = buffer[at] == b'\r';
                    (&buffer[..at], at + 1, true)
                }
                None => (buffer, buffer.len(), false),
            };
            if !too_long && self.line.len() + content.len() <= LINE_MAX_BYTES {
                self.line.extend_from_slice(content);
            } else {
                too_long = true;
                self.line.clear();
            }
            self.reader.consume(used);
            if ended {
                break;
            }
        }
        self.line_no += 1;
        Ok(Some(if too_long {
            Line::TooLong(self.line_no)
        } else {
            Line::Whole(self.line_no)
        }))
    }

    /// The last whole line read, without its line end (empty after an overlong one).
    pub fn text(&self) -> &[u8] {
        &self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input`, read through a buffer of `capacity` bytes.
    async fn lines(input: &[u8], capacity: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        let buffered = tokio::io::BufReader::with_capacity(capacity, input);
        let mut reader = LineReader::new(buffered);
        let mut out = Vec::new();
        while let Some(line) = reader.next().await.expect("reads") {
            out.push(match line {
                Line::Whole(no) => (no, Some(reader.text().to_vec())),
                Line::TooLong(no) => (no, None),
            });
        }
        out
    }

    fn text(lines: &[(u64, &str)]) -> Vec<(u64, Option<Vec<u8>>)> {
        lines
            .iter()
            .map(|(no, text)| (*no, Some(text.as_bytes().to_vec())))
            .collect()
    }

    #[tokio::test]
    async fn lf_crlf_and_a_lone_cr_each_end_one_line_whatever_the_buffer() {
        for capacity in [1, 2, 3, 64] {
            assert_eq!(
                lines(b"a,1\nb,2\r\nc,3\rd,4", capacity).await,
                text(&[(1, "a,1"), (2, "b,2"), (3, "c,3"), (4, "d,4")]),
                "buffer of {capacity}"
            );
            assert_eq!(
                lines(b"h\r\r\nx\r", capacity).await,
                text(&[(1, "h"), (2, ""), (3, "x")])
            );
        }
    }

    #[tokio::test]
    async fn a_final_line_end_adds_no_line_and_an_empty_file_has_none() {
        assert_eq!(lines(b"a\n", 8).await, text(&[(1, "a")]));
        assert_eq!(lines(b"", 8).await, vec![]);
        assert_eq!(lines(b"\n\n", 8).await, text(&[(1, ""), (2, "")]));
    }

    #[tokio::test]
    async fn an_overlong_line_is_dropped_and_the_next_one_is_read() {
        let mut input = vec![b'x'; LINE_MAX_BYTES + 1];
        input.extend_from_slice(b"\nok\n");
        input.extend(vec![b'y'; LINE_MAX_BYTES]);
        let read = lines(&input, 1024).await;
        assert_eq!(read[0], (1, None));
        assert_eq!(read[1], (2, Some(b"ok".to_vec())));
        assert_eq!(read[2].1.as_ref().map(Vec::len), Some(LINE_MAX_BYTES));
    }

    #[tokio::test]
    async fn memory_stays_bounded_by_one_line_however_long_the_line() {
        let input = vec![b'z'; 50 * LINE_MAX_BYTES];
        let buffered = tokio::io::BufReader::with_capacity(4096, &input[..]);
        let mut reader = LineReader::new(buffered);
        let line = reader.next().await.expect("reads").expect("a line");
        assert_eq!(line, Line::TooLong(1));
        assert!(reader.line.capacity() <= LINE_MAX_BYTES);
    }
}
