//! `payrail-loadtest reports`: the reports of one large merchant, through the HTTP API of a
//! node it starts. The merchant's payrolls are paid by the node (a reconciliation batch,
//! then the rest of the statement's movements) on the in-process simulator, and the rest of
//! its transaction rows are written in SQL over the past month, with their analytics.
//! Then it times a statement exported to CSV and to XLSX and the reconciliation batch to
//! PDF (each on a freshly started node, whose peak memory is the export's), the first page
//! of a filtered transaction report, and a month of daily analytics.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use reqwest::Body;
use serde_json::{Value, json};

use payrail_engine::ids::MerchantId;
use payrail_engine::store::payout_numbers;
use payrail_engine::store::transactions::{TransactionFilter, TransactionType};

use crate::api_merchant::{self, ApiMerchant};
use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;
use crate::transactions_bench;
use crate::upload_bench::csv_chunks;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Payouts the node pays today: the statement's movements.
    #[arg(long, default_value_t = 1_000_000)]
    movements: u32,
    /// Lines of the batch whose reconciliation is exported to PDF (part of the movements).
    #[arg(long, default_value_t = 100_000)]
    reconciliation_lines: u32,
    /// The merchant's transaction rows in all; those beyond the movements are written in
    /// SQL over the past 30 days.
    #[arg(long, default_value_t = 5_000_000)]
    rows: u32,
    /// Requests timed for the transaction report and for the analytics.
    #[arg(long, default_value_t = 200)]
    requests: u32,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
}

const NODE_CONFIG: &str = "
[engine]
sends_per_second = 100000
queries_per_second = 1000
max_in_flight = 1024

[api]
requests_per_second = 100000
burst = 100000
";

/// Rows written per SQL statement.
const SEED_CHUNK: u32 = 200_000;

/// Past payouts, spread evenly over the 30 days before today's midnight (UTC): mostly
/// succeeded, one in twenty failed, a third on Airtel; each with its own number.
const PAST_LINES: &str = "
    WITH batch AS (
        INSERT INTO batches (id, merchant_id, state, currency, line_count)
        VALUES (gen_random_uuid(), $1, 'completed', 'RWF', $3) RETURNING id),
    line AS (
        SELECT n, date_trunc('day', now()) - interval '30 days'
                  + (interval '30 days') * ((($2::bigint + n) % $4)::float8 / $4) AS at
          FROM generate_series(1, $3) AS n)
    INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route,
                              state, failure_code, client_reference, created_at, updated_at,
                              sent_at)
    SELECT gen_random_uuid(), $1, batch.id, n,
           CASE WHEN n % 3 = 0 THEN '25073' ELSE '25078' END || lpad(($2 + n)::text, 7, '0'),
           5000 + (n % 1000) * 100, 100,
           CASE WHEN n % 3 = 0 THEN 'airtel-rw' ELSE 'mtn-rw' END,
           CASE WHEN n % 20 = 0 THEN 'failed' ELSE 'succeeded' END,
           CASE WHEN n % 20 = 0 THEN 'PAYEE_NOT_FOUND' END,
           'past-' || ($2 + n), at, at + interval '2 seconds', at
      FROM batch, line";

/// The analytics of the past payouts, as the node's writers would have counted them.
const PAST_ACTIVITY: &str = "
    INSERT INTO activity_stats (merchant_id, bucket, kind, route, outcome, failure_code, count,
                                amount, fee, latency)
    SELECT merchant_id, date_bin('15 minutes', updated_at, timestamptz 'epoch'), 'payout',
           route, CASE state WHEN 'succeeded' THEN 'succeeded' ELSE 'failed' END,
           coalesce(failure_code, ''), count(*),
           coalesce(sum(amount) FILTER (WHERE state = 'succeeded'), 0),
           coalesce(sum(fee) FILTER (WHERE state = 'succeeded'), 0),
           payrail_latency_histogram(array_agg(2000::bigint))
      FROM payout_lines WHERE merchant_id = $1 AND created_at < date_trunc('day', now())
     GROUP BY 1, 2, 4, 5, 6";

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.reconciliation_lines > args.movements || args.movements > args.rows {
        bail!("--reconciliation-lines ≤ --movements ≤ --rows");
    }
    let database = BenchDatabase::open(args.database_url.as_deref(), 2).await?;
    let node = SpawnedNode::start(&database.url, NODE_CONFIG).await?;
    let merchant = api_merchant::create(&database.pool, 10_000_000_000_000, false).await?;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let reconciliation = pay(&http, &node, &merchant, args.reconciliation_lines).await?;
    pay(
        &http,
        &node,
        &merchant,
        args.movements - args.reconciliation_lines,
    )
    .await?;
    let paid_in = started.elapsed();
    seed_past(&database, merchant.id, args.rows - args.movements).await?;
    node.stop().await?;

    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Africa/Kigali")?)
        .date();
    let statement =
        json!({ "report": "statement", "from": today.to_string(), "to": today.to_string() });
    let batch = json!({ "report": "batch_statement", "batch": reconciliation });
    let mut exports = Vec::new();
    for (report, format, what) in [
        (&statement, "csv", "statement"),
        (&statement, "xlsx", "statement"),
        (&batch, "pdf", "batch reconciliation"),
    ] {
        let node = SpawnedNode::start(&database.url, NODE_CONFIG).await?;
        let (seconds, bytes) = export(&http, &node, &merchant, report, format).await?;
        let (_, peak) = node.memory()?;
        node.stop().await?;
        exports.push(format!(
            "  {what} {format}: {seconds:.2} s to ready ({} MiB file), node peak memory {} MiB",
            bytes / (1024 * 1024),
            peak / (1024 * 1024)
        ));
    }

    let node = SpawnedNode::start(&database.url, NODE_CONFIG).await?;
    let month_ago = today.checked_sub(jiff::Span::new().days(30))?;
    let page_query = format!(
        "/v1/transactions?from={month_ago}&to={today}&type=payout&state=succeeded&route=mtn-rw&msisdn=4321&limit=50"
    );
    let page = time_requests(&http, &node, &merchant, &page_query, args.requests).await?;
    let broad_query = format!(
        "/v1/transactions?from={month_ago}&to={today}&type=payout&state=succeeded&route=mtn-rw&limit=50"
    );
    let broad = time_requests(&http, &node, &merchant, &broad_query, args.requests).await?;
    let analytics_query = format!("/v1/analytics?from={month_ago}&to={today}&granularity=day");
    let analytics = time_requests(&http, &node, &merchant, &analytics_query, args.requests).await?;
    node.stop().await?;
    let plan = filtered_plan(&database, merchant.id, &month_ago, &today).await?;

    let report = format!(
        "reports: one merchant with {rows} transaction rows, {movements} of them paid today by the node ({paid:.0} s)\n\
         {exports}\n\
         \x20 first page of {page_query}: {page}\n\
         \x20 first page of {broad_query}: {broad}\n\
         \x20 {analytics_query}: {analytics}\n\
         command: payrail-loadtest reports --movements {movements} --reconciliation-lines {recon} --rows {rows}\n\
         machine: {machine}\n\
         database: {database}\n\
         plan of the filtered page's query:\n{plan}\n",
        rows = args.rows,
        movements = args.movements,
        paid = paid_in.as_secs_f64(),
        exports = exports.join("\n"),
        recon = args.reconciliation_lines,
        machine = machine::describe(),
        database = database.describe().await?,
    );
    database.close().await?;
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    Ok(())
}

/// Uploads a payroll of `lines` lines and waits until the node has paid it; its id.
async fn pay(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    lines: u32,
) -> anyhow::Result<String> {
    let answer = http
        .post(format!("{}/v1/batches", node.base))
        .bearer_auth(&merchant.maker)
        .header("content-type", "text/csv")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(Body::wrap_stream(csv_chunks(lines)))
        .send()
        .await
        .context("uploading a payroll")?;
    let status = answer.status();
    let batch: Value = answer.json().await?;
    if status.as_u16() != 201 {
        bail!("the upload: {status} {batch}");
    }
    let id = batch["id"].as_str().context("the batch's id")?.to_owned();
    loop {
        let batch: Value = http
            .get(format!("{}/v1/batches/{id}", node.base))
            .bearer_auth(&merchant.maker)
            .send()
            .await?
            .json()
            .await?;
        match batch["state"].as_str() {
            Some("completed") => return Ok(id),
            Some("scheduled" | "running") => tokio::time::sleep(Duration::from_millis(500)).await,
            other => bail!("the batch ended {other:?}: {batch}"),
        }
    }
}

/// Writes `rows` past payouts in SQL, then their analytics and numbers, and refreshes the
/// statistics.
async fn seed_past(
    database: &BenchDatabase,
    merchant: MerchantId,
    rows: u32,
) -> anyhow::Result<()> {
    let mut client = database.pool.get().await?;
    let total = i64::from(rows.max(1));
    let mut written = 0;
    while written < rows {
        let chunk = SEED_CHUNK.min(rows - written);
        let (first, count) = (i64::from(written), i32::try_from(chunk)?);
        client
            .execute(PAST_LINES, &[&merchant, &first, &count, &total])
            .await
            .context("writing past payouts")?;
        written += chunk;
    }
    client.execute(PAST_ACTIVITY, &[&merchant]).await?;
    payout_numbers::index_pending(&mut client).await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(())
}

/// Asks for an export and follows it until it is ready; seconds and the file's size.
async fn export(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    report: &Value,
    format: &str,
) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let job: Value = http
        .post(format!("{}/v1/exports", node.base))
        .bearer_auth(&merchant.maker)
        .json(&json!({ "report": report, "format": format }))
        .send()
        .await?
        .json()
        .await?;
    let id = job["id"]
        .as_str()
        .with_context(|| format!("an export: {job}"))?;
    loop {
        let job: Value = http
            .get(format!("{}/v1/exports/{id}", node.base))
            .bearer_auth(&merchant.maker)
            .send()
            .await?
            .json()
            .await?;
        match job["state"].as_str() {
            Some("ready") => {
                let seconds = started.elapsed().as_secs_f64();
                let link = job["download_url"].as_str().context("a download link")?;
                let file = http
                    .get(format!("{}{link}", node.base))
                    .bearer_auth(&merchant.maker)
                    .send()
                    .await?
                    .bytes()
                    .await?;
                return Ok((seconds, u64::try_from(file.len())?));
            }
            Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(20)).await,
            other => bail!("the export ended {other:?}: {job}"),
        }
    }
}

/// Times `requests` GETs of `path`: "p50 … ms, p99 … ms".
async fn time_requests(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    path: &str,
    requests: u32,
) -> anyhow::Result<String> {
    let mut latency = Histogram::<u64>::new(3)?;
    for _ in 0..requests {
        let started = Instant::now();
        let answer = http
            .get(format!("{}{path}", node.base))
            .bearer_auth(&merchant.maker)
            .send()
            .await?;
        let status = answer.status();
        let body = answer.bytes().await?;
        latency.record(u64::try_from(started.elapsed().as_micros())?)?;
        if !status.is_success() {
            bail!("{path}: {status} {}", String::from_utf8_lossy(&body));
        }
    }
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    Ok(format!(
        "p50 {:.1} ms, p99 {:.1} ms ({requests} requests)",
        ms(0.5),
        ms(0.99)
    ))
}

/// The plan of the filtered page's query (the first of the two timed), indented.
async fn filtered_plan(
    database: &BenchDatabase,
    merchant: MerchantId,
    from: &jiff::civil::Date,
    to: &jiff::civil::Date,
) -> anyhow::Result<String> {
    let zone = jiff::tz::TimeZone::get("Africa/Kigali")?;
    let filter = TransactionFilter {
        from: Some(from.to_zoned(zone.clone())?.timestamp()),
        until: Some(to.tomorrow()?.to_zoned(zone)?.timestamp()),
        types: vec![TransactionType::Payout],
        state: Some("succeeded".to_owned()),
        routes: Some(vec!["mtn-rw".to_owned()]),
        msisdn_suffix: Some("4321".to_owned()),
        ..TransactionFilter::default()
    };
    let client = database.pool.get().await?;
    transactions_bench::plan(&client, merchant, &filter).await
}
