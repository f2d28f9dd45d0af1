//! Test support for the dashboard: a cookie-keeping HTTP client that signs up, reads each page's
//! CSRF token and posts forms the way a browser does, and helpers that read pages.

#![allow(dead_code)]

use std::time::Duration;

use refline_store::Store;
use reqwest::{header, redirect::Policy, StatusCode};

use crate::support::TestApp;

/// A password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// One browser: its own cookie jar, redirects not followed (tests look at them).
pub struct Browser {
    /// The client with the jar.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

/// A page as answered.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Body.
    pub html: String,
    /// `Location`, for redirects.
    pub location: Option<String>,
}

impl Browser {
    /// A fresh browser on `app`.
    pub fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Browser { client, base: app.url("") }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        answer(response).await
    }

    /// `POST path` with `fields` as a form, exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let response = self.client.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap();
        answer(response).await
    }

    /// Opens `page`, takes its CSRF token and posts `fields` (plus the token) to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let shown = self.get(page).await;
        assert_eq!(shown.status, StatusCode::OK, "GET {page}: {}", shown.html);
        let token = csrf_of(&shown.html).unwrap_or_else(|| panic!("no csrf_token on {page}"));
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// Signs up a new account with `email` and business `name`; answers the browser (signed in)
    /// and the first brand's merchant id.
    pub async fn sign_up(app: &TestApp, email: &str, name: &str) -> (Browser, String) {
        let browser = Browser::new(app);
        let done = browser
            .submit(
                "/auth/sign-up",
                "/auth/sign-up",
                &[("email", email), ("password", PASSWORD), ("businessName", name)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "sign-up refused: {}", done.html);
        let merchant_id = brand_of(app.store.as_ref(), email).await;
        (browser, merchant_id)
    }

    /// Generates an API key (`live` or `test`) on `/merchant/api-keys` and answers its plaintext,
    /// for tests that seed data through the REST API.
    pub async fn api_key(&self, kind: &str) -> String {
        let made = self.submit("/merchant/api-keys", "/merchant/api-keys", &[("kind", kind)]).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
        let marker = r#"id="new-key-value">"#;
        let at = made.html.find(marker).expect("new key shown");
        made.html[at + marker.len()..].split('<').next().unwrap().to_string()
    }

    /// Logs in; answers the response (303 on success).
    pub async fn log_in(&self, email: &str, password: &str) -> Answer {
        self.submit("/auth/login", "/auth/login", &[("email", email), ("password", password)]).await
    }
}

/// The first brand of the login `email`.
pub async fn brand_of(store: &dyn Store, email: &str) -> String {
    let user = store.find_user_by_email(email).await.unwrap().expect("user");
    store.brands_of_user(&user.id).await.unwrap().first().expect("brand").merchant.id.clone()
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    Answer { status, html: response.text().await.unwrap(), location }
}

/// The first `csrf_token` value in a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find(r#"name="csrf_token" value=""#)?;
    let rest = &html[at + r#"name="csrf_token" value=""#.len()..];
    rest.split('"').next().map(str::to_string)
}

/// The error shown next to `field` (`<p class="error" id="e-<field>">…</p>`), if any.
pub fn field_error(html: &str, field: &str) -> Option<String> {
    let marker = format!(r#"id="e-{field}">"#);
    let at = html.find(&marker)?;
    html[at + marker.len()..].split("</p>").next().map(str::to_string)
}

/// The newest mail to `to` in the outbox (its body has the link).
pub async fn last_mail_to(store: &dyn Store, to: &str) -> refline_store::OutgoingMail {
    store.recent_mail(Some(to), 1).await.unwrap().into_iter().next().expect("a mail")
}

/// The first `<public url>/auth/...` link in a mail body, as a path.
pub fn link_in(body: &str, base: &str) -> String {
    let start = body.find(base).expect("link in mail");
    let rest = &body[start + base.len()..];
    rest.split_whitespace().next().unwrap().to_string()
}

/// A signed-up brand with a live key, a 20 % campaign and one approved affiliate named `name`.
pub struct Shop {
    pub app: TestApp,
    pub browser: Browser,
    pub merchant_id: String,
    pub key: String,
    pub camp: String,
    pub aff: String,
    pub aff_email: String,
}

impl Shop {
    pub async fn open(engine: &crate::support::Engine, affiliate_name: &str) -> Shop {
        let app = TestApp::start(engine).await;
        let unique = || refline_server::ids::new_id("d").to_lowercase();
        let (browser, merchant_id) = Browser::sign_up(&app, &format!("{}@shop.test", unique()), "Shop").await;
        let key = browser.api_key("live").await;
        let camp = app.campaign(&key, serde_json::json!({})).await["id"].as_str().unwrap().to_string();
        let email = format!("{}@partner.test", unique());
        let r = app
            .post(
                &key,
                "/api/v1/affiliates",
                serde_json::json!({ "email": email, "name": affiliate_name, "campaignId": camp }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let aff = r.data()["id"].as_str().unwrap().to_string();
        Shop { app, browser, merchant_id, key, camp, aff, aff_email: email }
    }

    /// A sale recorded through the API; its id.
    pub async fn sale(&self, amount: serde_json::Value, extra: serde_json::Value) -> String {
        let r = self.app.convert(&self.key, &self.camp, &self.aff, amount, extra).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.data()["id"].as_str().unwrap().to_string()
    }

    /// An approved sale of `amount` (20 % commission); its id.
    pub async fn approved_sale(&self, amount: serde_json::Value) -> String {
        let id = self.sale(amount, serde_json::json!({})).await;
        let r = self
            .app
            .patch(
                &self.key,
                &format!("/api/v1/conversions/{id}"),
                serde_json::json!({ "status": "approved" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        id
    }

    /// The conversion's status as the API shows it.
    pub async fn status_of(&self, id: &str) -> String {
        let r = self.app.get(&self.key, &format!("/api/v1/conversions/{id}")).await;
        r.data()["status"].as_str().unwrap_or("").to_string()
    }
}
