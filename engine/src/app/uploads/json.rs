//! A payroll as JSON: `{"lines": [{"msisdn", "amount", "name"?, "reference"?, "note"?}]}`,
//! read as a stream. The parser runs on a blocking thread and hands each line over as soon
//! as it is read, so memory holds a few lines, never the file; a single line longer than
//! `JSON_LINE_MAX_BYTES` stops it. Each line's number in reports is its position in the
//! list, from 1.

use std::fmt;
use std::io::{self, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::io::SyncIoBridge;

use super::read_error;
use super::writer::Upload;
use crate::app::AppError;
use crate::app::lines::RawLine;

/// The longest JSON text one line may take, spaces included.
pub const JSON_LINE_MAX_BYTES: usize = 16 * 1024;
/// How much the parser reads ahead of the line it is on.
const READ_AHEAD_BYTES: usize = 64 * 1024;
/// Lines parsed and not yet checked.
const LINES_IN_HAND: usize = 256;

/// One payout of a JSON batch. An amount is a decimal string or a JSON number, kept as
/// the exact text written (never through a float).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLine {
    msisdn: String,
    amount: Box<RawValue>,
    name: Option<String>,
    reference: Option<String>,
    note: Option<String>,
}

impl JsonLine {
    /// The amount as written: a string's contents, or a number's digits.
    fn amount(&self) -> Result<String, AppError> {
        let text = self.amount.get();
        if text.starts_with('"') {
            return serde_json::from_str(text).map_err(|error| AppError::Invalid {
                detail: error.to_string(),
                errors: Vec::new(),
            });
        }
        Ok(text.to_owned())
    }
}

/// Reads every line of the JSON body into `upload`.
pub async fn read(
    file: impl AsyncRead + Send + Unpin + 'static,
    upload: &mut Upload<'_, '_>,
) -> Result<(), AppError> {
    let since_last_line = Arc::new(AtomicUsize::new(0));
    let source = Metered {
        inner: SyncIoBridge::new(file),
        since_last_line: since_last_line.clone(),
    };
    let (lines, mut parsed) = mpsc::channel(LINES_IN_HAND);
    let parser = tokio::task::spawn_blocking(move || {
        let mut json = serde_json::Deserializer::from_reader(BufReader::with_capacity(
            READ_AHEAD_BYTES,
            source,
        ));
        BatchSeed {
            lines,
            since_last_line,
        }
        .deserialize(&mut json)?;
        json.end()
    });
    let mut line_no = 0_i32;
    while let Some(line) = parsed.recv().await {
        line_no = line_no
            .checked_add(1)
            .ok_or_else(|| AppError::invalid_field("lines", "more lines than a batch may have"))?;
        let amount = line.amount()?;
        let raw = RawLine {
            msisdn: &line.msisdn,
            amount: &amount,
            name: line.name.as_deref(),
            reference: line.reference.as_deref(),
            note: line.note.as_deref(),
        };
        upload.line(line_no, raw).await?;
    }
    parser
        .await
        .map_err(AppError::internal)?
        .map_err(|error| refusal(&error, line_no))
}

/// The refusal of a body that is not a JSON batch; `lines_read` were whole.
fn refusal(error: &serde_json::Error, lines_read: i32) -> AppError {
    if let Some(io) = error.io_error_kind() {
        return match io {
            io::ErrorKind::FileTooLarge => read_error(io::Error::from(io)),
            io::ErrorKind::InvalidData => AppError::invalid_field(
                "lines",
                format!(
                    "line {} is longer than {JSON_LINE_MAX_BYTES} bytes of JSON",
                    lines_read + 1
                ),
            ),
            _ => AppError::malformed("unreadable-body", error.to_string()),
        };
    }
    if error.is_data() || (error.is_eof() && lines_read > 0) {
        AppError::Invalid {
            detail: error.to_string(),
            errors: Vec::new(),
        }
    } else {
        AppError::malformed("malformed-json", error.to_string())
    }
}

/// The body's bytes, counted since the last whole line: past the limit a read fails, so
/// no string of one line can grow without bound in the parser.
struct Metered<R> {
    inner: R,
    since_last_line: Arc<AtomicUsize>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        let pending = self.since_last_line.fetch_add(read, Ordering::Relaxed) + read;
        if pending > JSON_LINE_MAX_BYTES + READ_AHEAD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        Ok(read)
    }
}

/// `{"lines": [...]}`, handing each line to the channel as it is read.
struct BatchSeed {
    lines: mpsc::Sender<JsonLine>,
    since_last_line: Arc<AtomicUsize>,
}

impl<'de> DeserializeSeed<'de> for BatchSeed {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with `lines`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key != "lines" {
                return Err(de::Error::unknown_field(&key, &["lines"]));
            }
            if seen {
                return Err(de::Error::duplicate_field("lines"));
            }
            seen = true;
            map.next_value_seed(LinesSeed(&self))?;
        }
        if !seen {
            return Err(de::Error::missing_field("lines"));
        }
        Ok(())
    }
}

struct LinesSeed<'s>(&'s BatchSeed);

impl<'de> DeserializeSeed<'de> for LinesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LinesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of payout lines")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(line) = seq.next_element::<JsonLine>()? {
            self.0.since_last_line.store(0, Ordering::Relaxed);
            if self.0.lines.blocking_send(line).is_err() {
                return Err(de::Error::custom("the upload stopped"));
            }
        }
        Ok(())
    }
}
