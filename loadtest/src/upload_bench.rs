//! `payrail-loadtest upload`: a payroll CSV of N lines (1,000,000 by default) posted to a
//! node's `POST /v1/batches` as a stream; reports the seconds until the node answered with
//! the batch validated and stored, and the node's peak memory. With `--field-mib M`, the
//! file is one line whose name is M MiB long instead, which the node must refuse without
//! holding it.

use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use reqwest::Body;

use crate::api_merchant;
use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lines in the file.
    #[arg(long, default_value_t = 1_000_000)]
    lines: u32,
    /// Instead of N lines, one line whose name field is this many MiB.
    #[arg(long)]
    field_mib: Option<u32>,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
}

/// Lines generated per chunk of the body.
const CHUNK_LINES: u32 = 10_000;

pub async fn run(args: Args) -> anyhow::Result<()> {
    let database = BenchDatabase::open(args.database_url.as_deref(), 2).await?;
    let node = SpawnedNode::start(&database.url, "").await?;
    // Every batch waits for approval, so nothing is paid while the figures are taken.
    let merchant = api_merchant::create(&database.pool, 1, true).await?;
    let (before, _) = node.memory()?;
    let started = Instant::now();
    let body = match args.field_mib {
        None => Body::wrap_stream(csv_chunks(args.lines)),
        Some(mib) => Body::wrap_stream(huge_field(mib)),
    };
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/batches", node.base))
        .bearer_auth(&merchant.maker)
        .header("content-type", "text/csv")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(body)
        .send()
        .await
        .context("uploading")?;
    let status = answer.status();
    let batch: serde_json::Value = answer.json().await.context("the node's answer")?;
    let elapsed = started.elapsed();
    let (_, peak) = node.memory()?;
    let mib = |bytes: u64| bytes / (1024 * 1024);
    let seconds = elapsed.as_secs_f64();
    let outcome = match args.field_mib {
        None if status.as_u16() == 201 && batch["line_count"] == args.lines => format!(
            "{} lines validated and stored in {seconds:.1} s ({:.0} lines/s)",
            args.lines,
            f64::from(args.lines) / seconds
        ),
        Some(field) if status.is_client_error() => {
            format!("a line with a {field} MiB field refused ({status}) in {seconds:.1} s")
        }
        _ => bail!("the node answered {status} {batch}"),
    };
    let command = match args.field_mib {
        None => format!("payrail-loadtest upload --lines {}", args.lines),
        Some(field) => format!("payrail-loadtest upload --field-mib {field}"),
    };
    let report = format!(
        "upload: {outcome}; node peak memory {} MiB (before the upload {} MiB)\n\
         command: {command}\n\
         machine: {}\n\
         database: {}\n",
        mib(peak),
        mib(before),
        machine::describe(),
        database.describe().await?,
    );
    node.stop().await?;
    database.close().await?;
    print(&report)
}

/// The CSV, made as it is sent: a header, then MTN and Airtel numbers with varied amounts,
/// names and references.
pub fn csv_chunks(lines: u32) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks = lines.div_ceil(CHUNK_LINES);
    stream::iter((0..chunks).map(move |chunk| {
        let mut text = String::with_capacity(CHUNK_LINES as usize * 48);
        if chunk == 0 {
            text.push_str("msisdn,amount,name,reference\r\n");
        }
        let first = chunk * CHUNK_LINES;
        for i in first..(first + CHUNK_LINES).min(lines) {
            let prefix = if i % 3 == 0 { "25073" } else { "25078" };
            let amount = 5_000 + (i % 1_000) * 100;
            text.push_str(&format!(
                "{prefix}{:07},{amount},Employee {i},salary-2026-11-{i}\r\n",
                i % 10_000_000
            ));
        }
        Ok(text.into_bytes())
    }))
}

/// A header, then one line whose name is `mib` MiB of letters, sent a MiB at a time.
fn huge_field(mib: u32) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let start = stream::once(async { Ok(b"msisdn,amount,name\n0788123456,1500,".to_vec()) });
    let name = stream::iter((0..mib).map(|_| Ok(vec![b'x'; 1024 * 1024])));
    let end = stream::once(async { Ok(b"\n".to_vec()) });
    start.chain(name).chain(end)
}

fn print(report: &str) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    Ok(())
}
