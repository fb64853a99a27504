//! Every page of the portal, with data in it, through axe-core (no serious or critical
//! violation) at desktop and phone widths; with `PAYRAIL_SCREENSHOTS` set, each page's
//! screenshots for docs/portal.md.

use std::time::Duration;

use payrail_engine::api_key::Role;
use payrail_engine::app::users::Inviter;

use super::browser::Browser;
use super::people::{Office, PASSWORD};

/// Checks the page at both widths, and keeps its screenshots.
async fn check(browser: &Browser, name: &str) {
    browser.find("main").await;
    browser.assert_accessible().await;
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("resized");
    browser.assert_accessible().await;
    browser
        .client
        .set_window_size(1280, 800)
        .await
        .expect("resized");
    browser.screenshot(name).await;
}

#[tokio::test]
async fn every_page_passes_axe_core_with_data_in_it() {
    let office = Office::open().await;
    let node = &office.node;
    let maker = office.merchant.key(Role::Maker);
    for (msisdn, amount) in [
        ("0788123456", "15000"),
        ("0731234567", "8200"),
        ("0788000111", "43000"),
    ] {
        let paid = node
            .post_json("/v1/payouts", maker, &serde_json::json!({ "msisdn": msisdn, "amount": amount, "currency": "RWF", "note": "Field allowance" }))
            .await;
        assert!(paid.status < 300, "{}", paid.text);
    }
    let collected = node
        .post_json(
            "/v1/collections",
            maker,
            &serde_json::json!({ "msisdn": "0788123456", "amount": "2500", "currency": "RWF" }),
        )
        .await;
    let collection = collected.body["id"]
        .as_str()
        .expect("a collection")
        .to_owned();
    let invited = node
        .app
        .invite_user(
            Inviter::Operator(office.merchant.id),
            "new.accountant@example.rw",
            Role::Viewer,
        )
        .await
        .expect("invited");

    let browser = Browser::open(&node.base).await;
    browser.go(&format!("/setup/{}", invited.setup_token)).await;
    check(&browser, "setup").await;
    browser.go("/login").await;
    check(&browser, "login").await;
    browser.sign_in(office.email(Role::Admin), PASSWORD).await;
    check(&browser, "dashboard").await;

    browser.go("/pay").await;
    check(&browser, "pay").await;
    browser.fill("msisdn", "0788123456").await;
    browser.fill("amount", "abc").await;
    browser.click("form[action='/pay'] button").await;
    browser.find(".field-error").await;
    check(&browser, "pay-refused").await;
    browser.fill("amount", "12500").await;
    browser.click("form[action='/pay'] button").await;
    check(&browser, "pay-review").await;
    browser.click("#send").await;
    browser
        .wait_for_text("#payout-state", "Succeeded", Duration::from_secs(20))
        .await;
    check(&browser, "payout").await;

    browser.go("/payroll").await;
    check(&browser, "payroll").await;
    browser
        .fill("lines", "0788100001,60000,Alice Uwase,NOV-1,November\n07881,45000,Jean Habimana,NOV-2,November\n0788100004,12abc,Eric Nshuti,NOV-4,November")
        .await;
    browser.click("form[action='/payroll/typed'] button").await;
    browser.find("#line-errors").await;
    check(&browser, "payroll-refused").await;
    browser.go("/payroll").await;
    browser
        .fill("lines", "0788100001,60000,Alice Uwase,NOV-1,November\n0788100002,45000,Jean Habimana,NOV-2,November\n0731100003,30000,Grace Mukamana,NOV-3,November")
        .await;
    browser.click("form[action='/payroll/typed'] button").await;
    check(&browser, "payroll-preview").await;
    browser.click("#submit-payroll").await;
    browser.find("#batch-state").await;
    check(&browser, "batch-awaiting-approval").await;
    browser.go("/approvals").await;
    check(&browser, "approvals").await;
    browser.go("/batches").await;
    check(&browser, "batches").await;

    browser.go("/collect").await;
    check(&browser, "collect").await;
    browser.go(&format!("/collections/{collection}")).await;
    browser
        .wait_for_text("#collection-state", "Paid", Duration::from_secs(20))
        .await;
    check(&browser, "collection").await;

    for (path, name) in [
        ("/transactions", "transactions"),
        ("/statement", "statement"),
        ("/analytics", "analytics"),
        ("/exports", "exports"),
        ("/settings", "settings"),
    ] {
        browser.go(path).await;
        check(&browser, name).await;
    }
    browser.close().await;
}
