//! A real headless Chromium driven through WebDriver (Debian's `chromedriver`, one per
//! test on a free port), with what the portal tests need: sign in, fill forms, wait for a
//! live part to change, run axe-core on a page, and take screenshots for docs/portal.md
//! when `PAYRAIL_SCREENSHOTS` names a directory.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// axe-core, vendored (see api/tests/fixtures/axe.LICENSE).
const AXE: &str = include_str!("../../fixtures/axe.min.js");

/// A browser and its driver, stopped when dropped.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Child,
}

impl Browser {
    /// A desktop-sized browser (1280×800) opening pages of the node at `base`.
    pub async fn open(base: &str) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts (Debian package chromium-driver)");
        let capabilities = json!({
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--window-size=1280,800",
                         "--lang=en-GB", "--accept-lang=en-GB,en"]
            }
        });
        let capabilities = capabilities.as_object().cloned().unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}");
        let mut attempts = 0;
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    attempts += 1;
                    assert!(attempts < 100, "chromedriver did not start: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        client
            .set_window_size(1280, 800)
            .await
            .expect("a window size");
        Browser {
            client,
            base: base.to_owned(),
            driver,
        }
    }

    /// Opens a path of the node.
    pub async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("the page opens");
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("a URL");
        url[url::Position::BeforePath..].to_owned()
    }

    /// Types into the field with this id (after clearing it).
    pub async fn fill(&self, id: &str, text: &str) {
        let field = self.find(&format!("#{id}")).await;
        field.clear().await.expect("cleared");
        field.send_keys(text).await.expect("typed");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("clicked");
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css} is on the page: {error}"))
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("its text")
    }

    /// The text of `css` now, if it is there and not replaced while read (a live part
    /// swapped by htmx).
    async fn current_text(&self, css: &str) -> Option<String> {
        let found = self.client.find(Locator::Css(css)).await.ok()?;
        found.text().await.ok()
    }

    /// Whether an element matches `css` now.
    pub async fn has(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// Waits (without reloading) until the text of `css` is `wanted`.
    pub async fn wait_for_text(&self, css: &str, wanted: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let now = self.current_text(css).await.unwrap_or_default();
            if now == wanted {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} still reads {now:?}, not {wanted:?}, after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Signs in at the sign-in page and lands where it sends the person.
    pub async fn sign_in(&self, email: &str, password: &str) {
        if !self.path().await.starts_with("/login") {
            self.go("/login").await;
        }
        self.fill("email", email).await;
        self.fill("password", password).await;
        self.click_to_leave("form.stack button[type=submit]").await;
        self.find("main").await;
    }

    /// Clicks `css` and waits until the browser has left the page it was on (the sign-in
    /// page that answers may have the same elements as the one it replaces).
    pub async fn click_to_leave(&self, css: &str) {
        let page = self.find("html").await;
        self.click(css).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while page.tag_name().await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "clicking {css} did not leave {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs out with the top bar's button.
    pub async fn sign_out(&self) {
        self.click("form[action='/logout'] button").await;
        self.find("#email").await;
    }

    /// The session cookie's value, to fetch files with reqwest as this person.
    pub async fn session_cookie(&self) -> String {
        let cookie = self
            .client
            .get_named_cookie("payrail_session")
            .await
            .expect("signed in");
        format!("payrail_session={}", cookie.value())
    }

    /// Runs axe-core on the page: the serious and critical violations, as text.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        self.client
            .execute(AXE, vec![])
            .await
            .expect("axe-core loads");
        let results = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3) }))))
                    .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        results
            .as_array()
            .into_iter()
            .flatten()
            .filter(|violation| {
                matches!(violation["impact"].as_str(), Some("serious" | "critical"))
            })
            .map(Value::to_string)
            .collect()
    }

    /// Asserts the page has no serious or critical accessibility problem.
    pub async fn assert_accessible(&self) {
        let problems = self.accessibility_problems().await;
        let path = self.path().await;
        assert!(problems.is_empty(), "{path}: {problems:#?}");
    }

    /// Saves a screenshot at desktop and phone widths as `<name>.png` and
    /// `<name>-phone.png`, when `PAYRAIL_SCREENSHOTS` names a directory.
    pub async fn screenshot(&self, name: &str) {
        let Ok(directory) = std::env::var("PAYRAIL_SCREENSHOTS") else {
            return;
        };
        for (suffix, width, height) in [("", 1280, 800), ("-phone", 390, 844)] {
            self.client
                .set_window_size(width, height)
                .await
                .expect("resized");
            tokio::time::sleep(Duration::from_millis(150)).await;
            let png = self.client.screenshot().await.expect("a screenshot");
            std::fs::write(format!("{directory}/{name}{suffix}.png"), png).expect("saved");
        }
        self.client
            .set_window_size(1280, 800)
            .await
            .expect("resized");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
