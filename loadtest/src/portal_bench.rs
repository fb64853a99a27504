//! `payrail-loadtest portal`: the portal's pages under people's load. Other merchants hold
//! millions of lines (written in SQL); one merchant has a completed payroll, a few single
//! payouts and a funding; `--users` people signed in to the portal of a node it starts
//! open its dashboard, transactions, statement and batch pages in turn. Prints each page's
//! latency percentiles (on loopback: the server's time) and its weight with its CSS and JS.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use payrail_engine::api_key::Role;
use payrail_engine::app::users::Inviter;
use payrail_engine::app::{App, AppSettings};

use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;
use crate::{api_merchant, transactions_bench};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lines other merchants hold.
    #[arg(long, default_value_t = 5_000_000)]
    others: u32,
    /// Lines of the merchant's completed payroll.
    #[arg(long, default_value_t = 10_000)]
    batch_lines: i32,
    /// People using the portal at once.
    #[arg(long, default_value_t = 20)]
    users: usize,
    /// Pages each person opens.
    #[arg(long, default_value_t = 200)]
    pages: usize,
    /// Milliseconds each person waits after a page before opening the next (0: none, so
    /// that `--users` requests are always in flight).
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
}

const PASSWORD: &str = "benchmark password 1";

pub async fn run(args: Args) -> anyhow::Result<()> {
    let database = BenchDatabase::open(args.database_url.as_deref(), 4).await?;
    transactions_bench::fill_others(&database, args.others).await?;
    let merchant = api_merchant::create(&database.pool, 100_000_000, false).await?;
    transactions_bench::completed_batch(&database, merchant.id, args.batch_lines).await?;
    let node = SpawnedNode::start(&database.url, "").await?;
    let http = reqwest::Client::new();
    transactions_bench::pay_singles(&http, &node.base, &merchant.maker, 20).await?;
    let batch: uuid::Uuid = database
        .pool
        .get()
        .await?
        .query_one(
            "SELECT id FROM batches WHERE merchant_id = $1 AND kind = 'batch'",
            &[&merchant.id],
        )
        .await?
        .get(0);
    let app = App::detached(database.pool.clone(), AppSettings::rwanda());
    let mut sessions = Vec::with_capacity(args.users);
    for person in 0..args.users {
        let email = format!("person{person}.{}@bench.example", merchant.id);
        let invited = app
            .invite_user(Inviter::Operator(merchant.id), &email, Role::Viewer)
            .await?;
        app.set_password_by_link(&invited.setup_token, PASSWORD)
            .await?;
        sessions.push(sign_in(&node.base, &email).await?);
    }
    let pages = [
        ("dashboard", "/".to_owned()),
        ("transactions", "/transactions".to_owned()),
        ("statement", "/statement".to_owned()),
        ("batch", format!("/batches/{batch}")),
    ];
    let weights = weigh(&node.base, &sessions[0], &pages).await?;
    let mut people = Vec::new();
    for cookie in sessions {
        let base = node.base.clone();
        let pages = pages.clone();
        let (count, think) = (args.pages, Duration::from_millis(args.think_ms));
        people.push(tokio::spawn(async move {
            browse(&base, &cookie, &pages, count, think).await
        }));
    }
    let mut latency: Vec<Histogram<u64>> = (0..pages.len())
        .map(|_| Histogram::new(3))
        .collect::<Result<_, _>>()?;
    for person in people {
        for (page, histogram) in person.await??.into_iter().enumerate() {
            latency[page].add(histogram)?;
        }
    }
    let ms = |histogram: &Histogram<u64>, q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    let mut report = format!(
        "portal: {} people opening pages at once, {} pages each, {} ms between pages, with {} other lines in the database\n",
        args.users, args.pages, args.think_ms, args.others
    );
    for ((name, _), (histogram, weight)) in pages.iter().zip(latency.iter().zip(&weights)) {
        report.push_str(&format!(
            "  {name:<13} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} requests)  weight {:.1} KB (HTML {:.1} KB + CSS and JS)\n",
            ms(histogram, 0.5),
            ms(histogram, 0.99),
            histogram.max() as f64 / 1000.0,
            histogram.len(),
            weight.0 as f64 / 1000.0,
            weight.1 as f64 / 1000.0,
        ));
    }
    report.push_str(&format!(
        "command: payrail-loadtest portal --others {} --batch-lines {} --users {} --pages {} --think-ms {}\nmachine: {}\ndatabase: {}\n",
        args.others,
        args.batch_lines,
        args.users,
        args.pages,
        args.think_ms,
        machine::describe(),
        database.describe().await?,
    ));
    node.stop().await?;
    database.close().await?;
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    Ok(())
}

/// Signs in as a browser does: the sign-in page's token and cookie, then the form.
async fn sign_in(base: &str, email: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = http.get(format!("{base}/login")).send().await?;
    let pre = set_cookie(&login, "payrail_signin")?;
    let page = login.text().await?;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the sign-in form's token")?;
    let signed = http
        .post(format!("{base}/login"))
        .header("cookie", format!("payrail_signin={pre}"))
        .form(&[
            ("csrf", token),
            ("next", "/"),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    Ok(format!(
        "payrail_session={}",
        set_cookie(&signed, "payrail_session")?
    ))
}

fn set_cookie(response: &reqwest::Response, name: &str) -> anyhow::Result<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("no {name} cookie"))
}

/// Each page's whole weight (HTML, stylesheet and scripts it links) and its HTML's.
async fn weigh(
    base: &str,
    cookie: &str,
    pages: &[(&str, String)],
) -> anyhow::Result<Vec<(usize, usize)>> {
    let http = reqwest::Client::new();
    let mut weights = Vec::new();
    for (_, path) in pages {
        let html = http
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .send()
            .await?
            .text()
            .await?;
        let mut total = html.len();
        for link in html.split("/assets/").skip(1) {
            let asset = link.split('"').next().unwrap_or_default();
            total += http
                .get(format!("{base}/assets/{asset}"))
                .send()
                .await?
                .bytes()
                .await?
                .len();
        }
        weights.push((total, html.len()));
    }
    Ok(weights)
}

/// One person opening the pages in turn, `count` times; each page's latencies (µs).
async fn browse(
    base: &str,
    cookie: &str,
    pages: &[(&str, String)],
    count: usize,
    think: Duration,
) -> anyhow::Result<Vec<Histogram<u64>>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut latency: Vec<Histogram<u64>> = (0..pages.len())
        .map(|_| Histogram::new(3))
        .collect::<Result<_, _>>()?;
    for opened in 0..count {
        let page = opened % pages.len();
        let started = Instant::now();
        let answer = http
            .get(format!("{base}{}", pages[page].1))
            .header("cookie", cookie)
            .send()
            .await?;
        let status = answer.status();
        answer.bytes().await?;
        if !status.is_success() {
            bail!("{} answered {status}", pages[page].1);
        }
        latency[page].record(u64::try_from(started.elapsed().as_micros())?)?;
        tokio::time::sleep(think).await;
    }
    Ok(latency)
}
