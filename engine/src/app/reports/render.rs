//! Each report as a file: its header, columns, rows and totals described for
//! `crate::export`, and the rows streamed from the database to the format's writer on a
//! blocking thread, a bounded batch at a time, so memory holds a few thousand rows whatever
//! the report's size.

use futures_util::{Stream, StreamExt};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::mpsc;

use super::period::Period;
use crate::app::AppError;
use crate::export::{self, Cell, Format, Report};
use crate::money::{Amount, Currency};
use crate::store::merchants::Merchant;

/// Rows handed to the writer thread at a time.
const ROWS_PER_BATCH: usize = 1_000;

/// Batches in flight between the database and the writer: enough to keep both busy.
const BATCHES_IN_FLIGHT: usize = 4;

/// Writes `report` in `format` to `out`, its rows from `rows` (in batches); `progress` is
/// told how many rows were written so far. Returns the rows written.
pub async fn write<S, W>(
    format: Format,
    report: Report,
    rows: S,
    out: W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, AppError>
where
    S: Stream<Item = Result<Vec<Vec<Cell>>, AppError>> + Send,
    W: std::io::Write + Send + 'static,
{
    let (sender, mut receiver) = mpsc::channel::<Vec<Vec<Cell>>>(BATCHES_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || -> Result<u64, export::ExportError> {
        let mut writer = export::writer(format, &report, std::io::BufWriter::new(out))?;
        let mut written = 0;
        while let Some(batch) = receiver.blocking_recv() {
            for row in batch {
                writer.row(&row)?;
                written += 1;
            }
        }
        writer.finish()?;
        Ok(written)
    });
    let mut rows = std::pin::pin!(rows);
    let mut sent = 0_u64;
    let mut failure = None;
    while let Some(batch) = rows.next().await {
        match batch {
            Ok(batch) => {
                sent += u64::try_from(batch.len()).unwrap_or(u64::MAX);
                if sender.send(batch).await.is_err() {
                    break;
                }
                progress(sent);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    drop(sender);
    let written = writer.await.map_err(AppError::internal)?;
    if let Some(error) = failure {
        return Err(error);
    }
    written.map_err(AppError::internal)
}

/// Groups a stream of rows into the writer's batches.
pub fn batched<S, T>(
    rows: S,
    cells: impl Fn(&T) -> Vec<Cell> + Send + 'static,
) -> impl Stream<Item = Result<Vec<Vec<Cell>>, AppError>> + Send
where
    S: Stream<Item = Result<T, AppError>> + Send,
    T: Send,
{
    rows.chunks(ROWS_PER_BATCH).map(move |chunk| {
        chunk
            .into_iter()
            .map(|row| row.map(|row| cells(&row)))
            .collect()
    })
}

/// The header fields every report starts with.
pub fn header(
    merchant: &Merchant,
    period: Option<&Period>,
    generated_at: Timestamp,
) -> Vec<export::Field> {
    let zone = &merchant.time_zone;
    let mut fields = vec![
        export::Field::new("Merchant", format!("{} ({})", merchant.name, merchant.id)),
        export::Field::new(
            "Period",
            period.map_or_else(|| "all time".to_owned(), Period::describe),
        ),
        export::Field::new("Currency", merchant.currency.code()),
        export::Field::new("Time zone", zone.clone()),
    ];
    let generated = generated_at
        .in_tz(zone)
        .map(|at| at.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| generated_at.to_string());
    fields.push(export::Field::new("Generated at", generated));
    fields
}

/// An amount with thousands separators, as a person reads it: "1,500,000", "12.50".
pub fn grouped(minor: i64, currency: Currency) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let text = Amount::from_minor(minor.saturating_abs())
        .map(|amount| amount.format(currency))
        .unwrap_or_else(|_| minor.to_string());
    let (whole, decimals) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(w, d)| (w, Some(d)));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    match decimals {
        Some(decimals) => format!("{sign}{out}.{decimals}"),
        None => format!("{sign}{out}"),
    }
}

/// A count and a sum: "12 · 1,500,000".
pub fn count_and_sum(count: i64, sum: i64, currency: Currency) -> String {
    format!("{count} · {}", grouped(sum, currency))
}

/// A time in the report's zone, as a cell.
pub fn time_cell(at: Timestamp, zone: &TimeZone) -> Cell {
    Cell::Time(at.to_zoned(zone.clone()).datetime())
}

/// Free text as a cell, or nothing.
pub fn text_cell(text: Option<&str>) -> Cell {
    text.map_or(Cell::Empty, Cell::free_text)
}

/// An amount as a cell, empty at zero (a debit column where money came in).
pub fn amount_cell(minor: i64) -> Cell {
    if minor == 0 {
        Cell::Empty
    } else {
        Cell::Amount(minor)
    }
}

/// The file name a report is offered under.
pub fn file_name(stem: &str, format: Format) -> String {
    format!("{stem}.{}", format.extension())
}

/// Reads a format name, or says which there are.
pub fn format(text: &str) -> Result<Format, AppError> {
    text.parse().map_err(|_| {
        AppError::invalid_field(
            "format",
            format!("{text:?} is not a format; formats: json, csv, xlsx, pdf"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(grouped(1_500_000, Currency::Rwf), "1,500,000");
        assert_eq!(grouped(150, Currency::Rwf), "150");
        assert_eq!(grouped(123_456_789, Currency::Eur), "1,234,567.89");
        assert_eq!(grouped(-1_000, Currency::Rwf), "-1,000");
        assert_eq!(grouped(0, Currency::Eur), "0.00");
    }
}
