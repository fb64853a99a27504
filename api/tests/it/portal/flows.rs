//! The flows of a finance team, each one test: sign in, pay one person, a payroll with bad
//! lines and then fixed, four-eyes approval, a batch followed live to its end with its
//! reconciliation files, a payment collected, the statement against the dashboard, and
//! the language changed.

use std::time::Duration;

use payrail_engine::api_key::Role;

use super::browser::Browser;
use super::people::{Office, PASSWORD};

const GOOD_PAYROLL: &str = "msisdn,amount,name,reference,note
0788100001,60000,Alice Uwase,NOV-1,November
0788100002,45000,Jean Habimana,NOV-2,November
0731100003,30000,Grace Mukamana,NOV-3,November
";

/// The same file with lines 3 and 5 wrong (a number too short, an amount with letters).
const BAD_PAYROLL: &str = "msisdn,amount,name,reference,note
0788100001,60000,Alice Uwase,NOV-1,November
07881,45000,Jean Habimana,NOV-2,November
0731100003,30000,Grace Mukamana,NOV-3,November
0788100004,12abc,Eric Nshuti,NOV-4,November
";

async fn signed_in(office: &Office, role: Role) -> Browser {
    let browser = Browser::open(&office.node.base).await;
    browser.go("/").await;
    browser.sign_in(office.email(role), PASSWORD).await;
    browser
}

/// Uploads `csv` on the mass payment page (through a file, as a person would).
async fn upload(browser: &Browser, csv: &str) {
    let file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .expect("a file");
    std::fs::write(file.path(), csv).expect("written");
    browser.go("/payroll").await;
    let input = browser.find("#file").await;
    input
        .send_keys(&file.path().display().to_string())
        .await
        .expect("chosen");
    browser.click("form[action='/payroll/upload'] button").await;
    // The preview, with its errors or its totals: the mass payment page has an h1 too.
    browser.find("#line-errors, #preview-total").await;
}

#[tokio::test]
async fn a_person_signs_in_after_a_wrong_password_and_lands_on_the_dashboard() {
    let office = Office::open().await;
    let browser = Browser::open(&office.node.base).await;
    browser.go("/").await;
    assert!(
        browser.path().await.starts_with("/login"),
        "{}",
        browser.path().await
    );
    browser
        .sign_in(office.email(Role::Viewer), "not the password")
        .await;
    let refused = browser.text(".error-summary").await;
    assert!(
        refused.contains("The email or password is not right"),
        "{refused}"
    );
    browser.sign_in(office.email(Role::Viewer), PASSWORD).await;
    assert_eq!(browser.path().await, "/");
    assert_eq!(browser.text("#available-balance").await, "RWF 5,000,000");
    browser.close().await;
}

#[tokio::test]
async fn a_maker_pays_one_person_sees_the_fee_first_and_then_succeeded() {
    let office = Office::open().await;
    let browser = signed_in(&office, Role::Maker).await;
    browser.go("/pay").await;
    browser.fill("msisdn", "0788123456").await;
    browser.fill("amount", "15000").await;
    browser.fill("note", "Transport refund").await;
    browser.click("form[action='/pay'] button").await;
    assert_eq!(browser.text("#review-fee").await, "RWF 100");
    assert_eq!(browser.text("#review-total").await, "RWF 15,100");
    browser.click("#send").await;
    browser
        .wait_for_text("#payout-state", "Succeeded", Duration::from_secs(20))
        .await;
    assert!(browser.path().await.starts_with("/payouts/"));
    browser.close().await;
}

#[tokio::test]
async fn a_payroll_with_two_bad_lines_shows_both_line_numbers_and_keeps_nothing() {
    let office = Office::open().await;
    let browser = signed_in(&office, Role::Maker).await;
    upload(&browser, BAD_PAYROLL).await;
    let errors = browser.text("#line-errors").await;
    let lines: Vec<&str> = errors
        .lines()
        .skip(1)
        .filter_map(|row| row.split_whitespace().next())
        .collect();
    assert_eq!(lines, ["3", "5"], "{errors}");
    assert!(
        !browser.has("#submit-payroll").await,
        "a bad file cannot be submitted"
    );
    let client = office.node.db.client().await;
    let batches: i64 = client
        .query_one(
            "SELECT count(*) FROM batches WHERE merchant_id = $1",
            &[&office.merchant.id],
        )
        .await
        .expect("counted")
        .get(0);
    assert_eq!(batches, 0, "a refused upload keeps no batch");
    browser.close().await;
}

#[tokio::test]
async fn a_fixed_file_uploaded_again_is_previewed_with_its_totals_and_submitted() {
    let office = Office::open().await;
    let browser = signed_in(&office, Role::Maker).await;
    upload(&browser, BAD_PAYROLL).await;
    assert!(browser.has("#line-errors").await);
    upload(&browser, GOOD_PAYROLL).await;
    assert_eq!(browser.text("#preview-total").await, "RWF 135,000");
    let drafts = || async {
        let client = office.node.db.client().await;
        let row = client
            .query_one("SELECT count(*) FROM payroll_drafts", &[])
            .await
            .expect("counted");
        row.get::<_, i64>(0)
    };
    assert_eq!(drafts().await, 2, "both previews' files are kept");
    browser.click("#submit-payroll").await;
    browser.find("#batch-state").await;
    assert!(browser.path().await.starts_with("/batches/"));
    assert_eq!(browser.text("#batch-state").await, "Awaiting approval");
    browser.screenshot("payroll-submitted").await;
    assert_eq!(
        drafts().await,
        1,
        "the submitted file is forgotten; the other waits out its day"
    );
    browser.close().await;
}

#[tokio::test]
async fn the_maker_cannot_approve_a_checker_approves_and_the_batch_completes_live_with_its_files() {
    let office = Office::open().await;
    let maker = signed_in(&office, Role::Maker).await;
    upload(&maker, GOOD_PAYROLL).await;
    maker.click("#submit-payroll").await;
    maker.find("#own-batch").await;
    assert!(
        !maker.has("#approve").await,
        "no approve button for the batch's maker"
    );
    let batch_path = maker.path().await;
    maker.close().await;

    let checker = signed_in(&office, Role::Checker).await;
    checker.go(&batch_path).await;
    checker.fill("note", "Checked against the HR list").await;
    checker.click("#approve").await;
    checker
        .wait_for_text("#batch-state", "Completed", Duration::from_secs(30))
        .await;
    assert_eq!(
        checker.path().await,
        batch_path,
        "followed live, without leaving the page"
    );
    assert_eq!(checker.text("#batch-total").await, "RWF 135,000");
    checker.assert_accessible().await;
    checker.screenshot("batch-completed").await;

    let cookie = checker.session_cookie().await;
    let batch = batch_path.trim_start_matches("/batches/");
    let http = reqwest::Client::new();
    let file = |format: &'static str| {
        let request = http
            .get(format!(
                "{}/batches/{batch}/statement.{format}",
                office.node.base
            ))
            .header("cookie", cookie.clone());
        async move {
            let response = request.send().await.expect("downloaded");
            assert_eq!(response.status(), 200);
            response.bytes().await.expect("a file").to_vec()
        }
    };
    let workbook = file("xlsx").await;
    let mut sheets =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(workbook))
            .expect("an XLSX file");
    let names = calamine::Reader::sheet_names(&sheets);
    let range = calamine::Reader::worksheet_range(&mut sheets, &names[0]).expect("a sheet");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(ToString::to_string).collect())
        .collect();
    let header = rows
        .iter()
        .position(|row| row.first().is_some_and(|cell| cell == "Line"))
        .expect("the lines' header");
    let amount = rows[header]
        .iter()
        .position(|cell| cell == "Amount")
        .expect("an Amount column");
    let paid: f64 = rows[header + 1..]
        .iter()
        .take_while(|row| row.first().is_some_and(|cell| !cell.is_empty()))
        .map(|row| row[amount].parse::<f64>().expect("an amount"))
        .sum();
    assert_eq!(paid, 135_000.0, "the lines add up to the batch's total");
    let all_lines = rows
        .iter()
        .find(|row| row.first().is_some_and(|cell| cell == "All lines"))
        .expect("a totals row");
    assert_eq!(all_lines[1], "3 lines · 135,000 · fees 300");
    let pdf = file("pdf").await;
    let text = pdf_text(&pdf);
    assert!(text.contains("3 lines · 135,000 · fees 300"), "{text}");
    checker.close().await;
}

fn pdf_text(pdf: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(file.path(), pdf).expect("written");
    let output = std::process::Command::new("pdftotext")
        .args(["-layout", &file.path().display().to_string(), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_payment_requested_in_the_portal_is_seen_paid() {
    let office = Office::open().await;
    let browser = signed_in(&office, Role::Maker).await;
    browser.go("/collect").await;
    browser.fill("msisdn", "0788123456").await;
    browser.fill("amount", "2500").await;
    browser.fill("message", "Order 42").await;
    browser.click("#request-payment").await;
    browser
        .wait_for_text("#collection-state", "Paid", Duration::from_secs(20))
        .await;
    browser.close().await;
}

#[tokio::test]
async fn the_statements_closing_balance_is_the_dashboards_balance() {
    let office = Office::open().await;
    let browser = signed_in(&office, Role::Maker).await;
    browser.go("/pay").await;
    browser.fill("msisdn", "0788123456").await;
    browser.fill("amount", "7000").await;
    browser.click("form[action='/pay'] button").await;
    browser.click("#send").await;
    browser
        .wait_for_text("#payout-state", "Succeeded", Duration::from_secs(20))
        .await;
    browser.go("/").await;
    let balance = browser.text("#available-balance").await;
    assert_eq!(balance, "RWF 4,992,900");
    browser.go("/statement").await;
    assert_eq!(browser.text("#closing-balance").await, balance);
    browser.close().await;
}

#[tokio::test]
async fn a_person_reads_the_portal_in_french_once_chosen() {
    let office = Office::open().await;
    let browser = signed_in(&office, Role::Viewer).await;
    let select = browser.find("#language").await;
    select.select_by_value("fr").await.expect("French chosen");
    browser.click("form[action='/language'] button").await;
    browser.find("html[lang=fr]").await;
    assert_eq!(
        browser.text("nav.sidebar a[aria-current=page]").await,
        "Tableau de bord"
    );
    assert_eq!(
        browser.text("#available-balance").await,
        "5\u{202f}000\u{202f}000 RWF"
    );
    browser.go("/transactions").await;
    assert_eq!(browser.text("h1").await, "Transactions");
    browser.sign_out().await;
    assert_eq!(
        browser.text("h1").await,
        "Connexion",
        "the choice outlives the session"
    );
    browser.close().await;
}
