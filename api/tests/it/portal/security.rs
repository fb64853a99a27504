//! What the portal refuses: a cross-site or tokenless POST (403), a session idle too long
//! (back to sign-in, then back to the page), another merchant's object (404); and the
//! headers every page carries.

use payrail_engine::api_key::Role;

use super::browser::Browser;
use super::people::{Office, PASSWORD};

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// The sign-in page's double-submit token: its cookie's value and the form's.
async fn sign_in_form(http: &reqwest::Client, base: &str) -> (String, String) {
    let login = http
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("the page");
    let pre = cookie(&login, "payrail_signin");
    (pre, form_token(&login.text().await.expect("a page")))
}

/// Signs in over plain HTTP; the session cookie and the form token of the dashboard.
async fn session(office: &Office, role: Role) -> (String, String) {
    let http = no_redirects();
    let base = &office.node.base;
    let (pre, token) = sign_in_form(&http, base).await;
    let signed = http
        .post(format!("{base}/login"))
        .header("cookie", format!("payrail_signin={pre}"))
        .form(&[
            ("csrf", token.as_str()),
            ("next", "/"),
            ("email", office.email(role)),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("signed in");
    assert_eq!(signed.status(), 303);
    let session = format!("payrail_session={}", cookie(&signed, "payrail_session"));
    let dashboard = http
        .get(format!("{base}/"))
        .header("cookie", &session)
        .send()
        .await
        .expect("the dashboard");
    let csrf = form_token(&dashboard.text().await.expect("a page"));
    (session, csrf)
}

fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("{name} is set"))
        .to_owned()
}

fn form_token(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form token")
        .to_owned()
}

#[tokio::test]
async fn a_cross_site_post_or_one_without_the_form_token_is_refused_and_pays_nothing() {
    let office = Office::open().await;
    let (session, csrf) = session(&office, Role::Maker).await;
    let http = no_redirects();
    let send = |origin: Option<&'static str>, site: Option<&'static str>, token: String| {
        let mut request = http
            .post(format!("{}/pay/send", office.node.base))
            .header("cookie", &session)
            .form(&[
                ("csrf", token.as_str()),
                (
                    "idempotency_key",
                    &format!("portal-{}", uuid::Uuid::new_v4()),
                ),
                ("msisdn", "0788123456"),
                ("amount", "1000"),
            ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    let other_origin = send(Some("https://evil.example"), None, csrf.clone())
        .await
        .expect("answered");
    assert_eq!(other_origin.status(), 403);
    let cross_site = send(None, Some("cross-site"), csrf.clone())
        .await
        .expect("answered");
    assert_eq!(cross_site.status(), 403);
    let no_token = send(None, None, "forged".into()).await.expect("answered");
    assert_eq!(no_token.status(), 403);
    assert!(
        no_token
            .text()
            .await
            .expect("a page")
            .contains("another site")
    );
    let client = office.node.db.client().await;
    let payouts: i64 = client
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE merchant_id = $1",
            &[&office.merchant.id],
        )
        .await
        .expect("counted")
        .get(0);
    assert_eq!(payouts, 0);
    let same_site = send(Some("http://localhost"), Some("same-origin"), csrf)
        .await
        .expect("answered");
    assert_eq!(
        same_site.status(),
        403,
        "an Origin that is not this host's is refused too"
    );
}

#[tokio::test]
async fn an_idle_session_sends_the_person_to_sign_in_and_then_back_where_they_were() {
    let office = Office::open().await;
    let browser = Browser::open(&office.node.base).await;
    browser.go("/").await;
    browser.sign_in(office.email(Role::Viewer), PASSWORD).await;
    assert_eq!(browser.path().await, "/");
    // Half an hour passes without a request (the default idle timeout).
    office
        .node
        .db
        .client()
        .await
        .execute(
            "UPDATE portal_sessions SET last_seen_at = now() - interval '31 minutes'",
            &[],
        )
        .await
        .expect("the session went idle");
    browser.go("/batches?state=completed").await;
    assert_eq!(
        browser.path().await,
        "/login?next=%2Fbatches%3Fstate%3Dcompleted"
    );
    browser.sign_in(office.email(Role::Viewer), PASSWORD).await;
    assert_eq!(browser.path().await, "/batches?state=completed");
    browser.close().await;
}

#[tokio::test]
async fn another_merchants_objects_are_not_found_and_pages_carry_their_protections() {
    let office = Office::open().await;
    let (session, _) = session(&office, Role::Admin).await;
    let http = reqwest::Client::new();
    let others = office.node.merchant("1000").await;
    let batch = office
        .node
        .post_json(
            "/v1/payouts",
            others.key(Role::Maker),
            &serde_json::json!({ "msisdn": "0788123456", "amount": "100", "currency": "RWF" }),
        )
        .await;
    let payout = batch.body["id"].as_str().expect("a payout id").to_owned();
    for path in [
        format!("/payouts/{payout}"),
        format!("/batches/{}", uuid::Uuid::now_v7()),
    ] {
        let answer = http
            .get(format!("{}{path}", office.node.base))
            .header("cookie", &session)
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), 404, "{path}");
    }
    let page = http
        .get(format!("{}/", office.node.base))
        .header("cookie", &session)
        .send()
        .await
        .expect("the dashboard");
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let policy = header("content-security-policy");
    assert!(
        policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_email_and_answered_alike_for_unknown_emails() {
    let office = Office::open().await;
    let http = no_redirects();
    let base = &office.node.base;
    let (pre, token) = sign_in_form(&http, base).await;
    let attempt = |email: &'static str| {
        http.post(format!("{base}/login"))
            .header("cookie", format!("payrail_signin={pre}"))
            .form(&[
                ("csrf", token.as_str()),
                ("next", "/"),
                ("email", email),
                ("password", "wrong password"),
            ])
            .send()
    };
    let unknown = attempt("nobody@example.rw").await.expect("answered");
    assert_eq!(unknown.status(), 200);
    let unknown = unknown.text().await.expect("a page");
    let known = attempt("viewer@kigalicoffee.rw").await.expect("answered");
    assert_eq!(known.status(), 200);
    let known = known.text().await.expect("a page");
    let message = "The email or password is not right.";
    assert!(unknown.contains(message) && known.contains(message));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            attempt("viewer@kigalicoffee.rw")
                .await
                .expect("answered")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429],
        "five a minute per email"
    );
}
