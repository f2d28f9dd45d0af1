//! The dashboard in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromedriver`, through fantoccini), against the real server on port 0. The journeys a
//! merchant takes: sign up, generate a key (shown once, working on `GET /api/v1/me`, gone on
//! reload), refusals of a revoked session and a forged form, names with `<script>` shown as text,
//! and the pages at 360 px. With `REFLINE_SCREENSHOTS=<dir>` the journey also saves the
//! screenshots the README shows (`scripts/screenshots.sh`).
//!
//! Without Chromium or chromedriver the tests print a notice and are skipped. SQLite only: the
//! pages are the subject, the engines are covered over HTTP.

use std::{io::Write, path::PathBuf, process::Stdio, sync::OnceLock, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::support::{Engine, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// Chromium and chromedriver, or `None` (with a notice, once).
fn tools() -> Option<(PathBuf, PathBuf)> {
    static FOUND: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let chromium = std::env::var_os("REFLINE_CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
            let driver = std::env::var_os("REFLINE_CHROMEDRIVER").map_or_else(|| "/usr/bin/chromedriver".into(), PathBuf::from);
            if chromium.is_file() && driver.exists() {
                return Some((chromium, driver));
            }
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: chromium or chromedriver not found ({}, {}; run scripts/install-browser.sh); dashboard browser tests are SKIPPED.",
                chromium.display(),
                driver.display()
            );
            None
        })
        .clone()
}

/// A chromedriver process and a browser session on it (the portal's browser tests use it too).
pub(crate) struct Session {
    /// The WebDriver client.
    pub(crate) client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Session {
    pub(crate) async fn start() -> Option<Session> {
        let (chromium, driver_path) = tools()?;
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-extensions", "--no-first-run", "--disable-quic", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..50 {
            // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => return Some(Session { client, _driver: driver, _profile: profile }),
                Err(err) => last = Some(err),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("chromedriver did not start: {last:?}");
    }

    pub(crate) async fn open(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.unwrap();
    }

    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub(crate) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks a control that submits a form and waits until the answering page has loaded (a
    /// WebDriver click may return before the navigation it starts has finished).
    pub(crate) async fn submit(&self, css: &str) {
        self.client.execute("window.__before_submit = true", vec![]).await.unwrap();
        self.click(css).await;
        for _ in 0..200 {
            let loaded = self
                .client
                .execute(
                    "return window.__before_submit === undefined && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not load after submitting {css}");
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    pub(crate) async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub(crate) async fn cookie(&self, name: &str) -> Option<String> {
        self.client.get_named_cookie(name).await.ok().map(|c| c.value().to_string())
    }

    /// Saves a screenshot as `<REFLINE_SCREENSHOTS>/<name>.png` when that variable is set.
    async fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("REFLINE_SCREENSHOTS") {
            let png = self.client.screenshot().await.unwrap();
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    pub(crate) async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Signs up through the form, as a person types it.
async fn sign_up(browser: &Session, app: &TestApp, email: &str, business: &str) {
    browser.open(app, "/auth/sign-up").await;
    browser.fill("#f-businessName", business).await;
    browser.fill("#f-email", email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, "/merchant", "{}", browser.source().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_signs_up_and_generates_a_key_shown_once() {
    let Some(browser) = Session::start().await else { return };
    let app = TestApp::start(&Engine::Sqlite).await;
    let email = format!("owner-{}@example.com", refline_server::ids::new_id("b").to_lowercase());
    sign_up(&browser, &app, &email, "Acme Analytics").await;
    assert!(browser.text(".checklist").await.contains("Create a campaign"));

    browser.open(&app, "/merchant/api-keys").await;
    assert!(browser.source().await.contains("read and write keys"));
    browser.client.find(Locator::Css("#f-kind")).await.unwrap().select_by_value("live").await.unwrap();
    browser.submit("form[action='/merchant/api-keys'] button[type=submit]").await;
    let key = browser.text("#new-key-value").await;
    assert!(key.starts_with("lj_pk_"), "{key}");
    let me = app.get(&key, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    browser.client.refresh().await.unwrap();
    browser.open(&app, "/merchant/api-keys").await;
    assert!(!browser.source().await.contains(&key), "the full key is shown once");

    // A campaign made on its page is the API's campaign.
    browser.open(&app, "/merchant/campaigns/new").await;
    browser.fill("#f-name", "Launch partners").await;
    browser.fill("#f-commissionValue", "20").await;
    browser.submit("form.box button.primary").await;
    let campaigns = app.get(&key, "/api/v1/campaigns").await;
    let campaign = campaigns.body["data"][0].clone();
    assert_eq!(campaign["name"], "Launch partners");
    let campaign_id = campaign["id"].as_str().unwrap().to_string();

    // Connecting Stripe on the Integration Hub: the webhook URL to paste, the secret stored
    // (never shown back), the connection in the API.
    browser.open(&app, "/merchant/integrations").await;
    assert!(browser.source().await.contains("/api/webhooks/stripe/merchant/"));
    browser.fill("#f-stripe-secret", "whsec_browser_journey_secret_123").await;
    browser.submit("form[action='/merchant/integrations'] input[value=stripe] ~ button.primary").await;
    assert!(!browser.source().await.contains("whsec_browser_journey_secret_123"));
    let connected = app.get(&key, "/api/v1/integrations").await;
    assert_eq!(connected.body["data"][0]["provider"], "stripe", "{}", connected.text);

    // A sale recorded through the API waits in the review queue; approving it there is what the
    // API then shows.
    let affiliate = app.affiliate(&key, &campaign_id, "partner@example.com").await;
    let sale = app.convert(&key, &campaign_id, &affiliate, json!(120), json!({})).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let conversion = sale.body["data"]["id"].as_str().unwrap().to_string();
    browser.open(&app, "/merchant/commissions").await;
    assert!(browser.source().await.contains(&conversion));
    browser.screenshot("review-queue").await;
    browser
        .submit(&format!("form[action='/merchant/commissions/{conversion}/status'] button[value=approved]"))
        .await;
    let shown = app.get(&key, &format!("/api/v1/conversions/{conversion}")).await;
    assert_eq!(shown.body["data"]["status"], "approved", "{}", shown.text);
    browser.open(&app, "/merchant").await;
    browser.screenshot("overview").await;

    // Logging out ends the session: its cookie, replayed, is refused.
    let token = browser.cookie("refline_session").await.expect("session cookie");
    browser.submit("form.logout button").await;
    assert_eq!(browser.path().await, "/auth/login");
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/merchant"))
        .header("cookie", format!("refline_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);

    // Logging in again lands on the page asked for.
    browser.open(&app, "/merchant/api-keys").await;
    assert_eq!(browser.path().await, "/auth/login");
    browser.fill("#f-email", &email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, "/merchant/api-keys");
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_forms_and_hostile_names_are_harmless() {
    let Some(browser) = Session::start().await else { return };
    let app = TestApp::start(&Engine::Sqlite).await;
    let email = format!("csrf-{}@example.com", refline_server::ids::new_id("b").to_lowercase());
    sign_up(&browser, &app, &email, "<script>window.pwned=1</script>Acme").await;
    // Names are shown as text on every page, never run.
    assert!(browser.client.title().await.unwrap().contains("<script>window.pwned=1</script>Acme"));
    browser.open(&app, "/merchant/campaigns/new").await;
    browser.fill("#f-name", "<img src=x onerror=\"window.pwned=2\">Launch").await;
    browser.fill("#f-commissionValue", "10").await;
    browser.submit("form.box button.primary").await;
    for path in ["/merchant", "/merchant/campaigns", "/merchant/api-keys", "/merchant/commissions"] {
        browser.open(&app, path).await;
        let clean = browser.client.execute("return window.pwned === undefined", vec![]).await.unwrap();
        assert_eq!(clean, Value::Bool(true), "a name ran as script on {path}");
    }
    browser.open(&app, "/merchant/campaigns").await;
    assert!(browser.text("main").await.contains("<img src=x onerror=\"window.pwned=2\">Launch"));
    browser.open(&app, "/merchant/api-keys").await;
    // A page elsewhere could post this form, but not its token: strip it and submit.
    browser
        .client
        .execute(
            "document.querySelector(\"form[action='/merchant/api-keys'] input[name=csrf_token]\").remove()",
            vec![],
        )
        .await
        .unwrap();
    browser.submit("form[action='/merchant/api-keys'] button[type=submit]").await;
    assert!(browser.source().await.contains("Form expired"));
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_and_work_by_keyboard() {
    let Some(browser) = Session::start().await else { return };
    let app = TestApp::start(&Engine::Sqlite).await;
    let email = format!("phone-{}@example.com", refline_server::ids::new_id("b").to_lowercase());
    sign_up(&browser, &app, &email, "Phone Co").await;
    browser.client.set_window_size(360, 800).await.unwrap();
    for path in [
        "/merchant",
        "/merchant/api-keys",
        "/merchant/campaigns",
        "/merchant/campaigns/new",
        "/merchant/affiliates",
        "/merchant/commissions",
        "/merchant/payouts",
        "/merchant/integrations",
        "/merchant/webhooks",
        "/merchant/audit",
        "/merchant/settings",
        "/merchant/team",
    ] {
        browser.open(&app, path).await;
        // Whatever sticks out past the screen's right edge (outside scrolling tables), named.
        let wide = browser
            .client
            .execute(
                "var out = []; document.querySelectorAll('body *').forEach(function (e) { \
                   if (e.closest('.table-wrap')) return; \
                   var r = e.getBoundingClientRect(); \
                   if (r.right > window.innerWidth + 1) out.push(e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(r.right)); }); \
                 return out.slice(0, 5).join(', ')",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(wide, Value::String(String::new()), "{path} is wider than 360 px");
        let page_width = browser
            .client
            .execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![])
            .await
            .unwrap();
        assert_eq!(page_width, Value::Bool(true), "{path} scrolls sideways at 360 px");
    }
    // The skip link is the first stop of the keyboard and leads to the content.
    browser.open(&app, "/merchant").await;
    let first = browser
        .client
        .execute(
            "document.body.focus(); return document.querySelector('a.skip').getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(first, Value::String("#main".into()));
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teammate_is_invited_and_brands_stay_apart() {
    let Some(owner) = Session::start().await else { return };
    let app = TestApp::start(&Engine::Sqlite).await;
    let tag = refline_server::ids::new_id("b").to_lowercase();
    let owner_email = format!("owner-{tag}@example.com");
    let mate_email = format!("mate-{tag}@example.com");
    sign_up(&owner, &app, &owner_email, "Owner Brand").await;
    owner.open(&app, "/merchant/campaigns/new").await;
    owner.fill("#f-name", "Owner-only campaign").await;
    owner.fill("#f-commissionValue", "15").await;
    owner.submit("form.box button.primary").await;

    // The owner invites a member who may manage keys.
    owner.open(&app, "/merchant/team").await;
    owner.fill("#f-email", &mate_email).await;
    owner.client.find(Locator::Css("#f-role")).await.unwrap().select_by_value("member").await.unwrap();
    owner.click("input[name=manageKeys]").await;
    owner.submit("form[action='/merchant/team'] button.primary").await;
    assert!(owner.source().await.contains(&mate_email));
    let mail = app.store.recent_mail(Some(&mate_email), 1).await.unwrap().remove(0);
    let link = mail.body_text.split_whitespace().find(|w| w.contains("/auth/invite/")).unwrap().to_string();

    // They accept in their own browser, choosing a password, and land on the brand.
    let Some(mate) = Session::start().await else { return };
    mate.client.goto(&link).await.unwrap();
    assert!(mate.source().await.contains("Owner Brand"));
    mate.fill("#f-password", "teammate passphrase 1").await;
    mate.submit("button[type=submit]").await;
    assert_eq!(mate.path().await, "/merchant");
    mate.open(&app, "/merchant/campaigns").await;
    assert!(mate.source().await.contains("Owner-only campaign"));

    // A brand of their own (another account) never shows the owner's data, and the owner's
    // brand is not theirs to switch to from it.
    let Some(other) = Session::start().await else { return };
    sign_up(&other, &app, &format!("other-{tag}@example.com"), "Other Brand").await;
    for path in [
        "/merchant",
        "/merchant/campaigns",
        "/merchant/affiliates",
        "/merchant/commissions",
        "/merchant/team",
    ] {
        other.open(&app, path).await;
        let page = other.source().await;
        assert!(
            !page.contains("Owner-only campaign")
                && !page.contains(&owner_email)
                && !page.contains("Owner Brand"),
            "{path}"
        );
    }
    let owner_brand = crate::dashboard_support::brand_of(app.store.as_ref(), &owner_email).await;
    other
        .client
        .execute(
            "var s = document.querySelector('#brand-switch'); var o = document.createElement('option'); \
             o.value = arguments[0]; s.appendChild(o); s.value = arguments[0];",
            vec![Value::String(owner_brand)],
        )
        .await
        .unwrap();
    other.submit("form.switcher button").await;
    assert!(other.source().await.contains("brand not found"), "{}", other.source().await);
    other.open(&app, "/merchant/campaigns").await;
    assert!(!other.source().await.contains("Owner-only campaign"));
    owner.close().await;
    mate.close().await;
    other.close().await;
    app.stop().await;
}
