//! The portal's pages beyond the programs list, over HTTP on both engines: links (tracking and
//! short links, creating one with a chosen code), performance (bots not counted), payouts
//! (every balance column, a completed payout in the history, the "payout sent" mail), the
//! commission statuses, account and export, with escaping, field errors that save nothing,
//! CSRF refusal and isolation (an affiliate of two merchants sees both programs and nothing
//! else; another person's campaign answers 404).

use std::sync::Arc;

use refline_core::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard_support::{brand_of, field_error, Browser, PASSWORD},
    engine_tests,
    portal_join::{address, join_new, join_path, membership, shop},
    support::{Engine, TestApp},
};

/// Two merchants, a person on a campaign of each, and a stranger on the first one only.
struct World {
    app: TestApp,
    key_a: String,
    key_b: String,
    tracking_a: String,
    campaign_a: String,
    campaign_b: String,
    me: Browser,
    email: String,
    affiliate_a: String,
    affiliate_b: String,
    stranger: Browser,
}

impl World {
    async fn open(engine: &Engine) -> World {
        let app = TestApp::start(engine).await;
        let (_, _, key_a) = shop(&app, "Alpha <script>x</script>").await;
        let (_, _, key_b) = shop(&app, "Beta Shop").await;
        let a = app
            .campaign(
                &key_a,
                json!({
                    "name": "<script>alert(1)</script> Spring",
                    "targetUrl": "https://shop.example/",
                    "autoApproveAffiliates": true
                }),
            )
            .await;
        let b = app.campaign(&key_b, json!({ "name": "Beta Summer" })).await;
        let email = address("two");
        let me = Browser::new(&app);
        let joined = join_new(&me, &join_path(&app, &a), "<script>me</script>", &email).await;
        assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.html);
        let path_b = join_path(&app, &b);
        let applied = me.submit(&path_b, &format!("{path_b}/apply"), &[]).await;
        assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.html);
        let campaign_a = a["id"].as_str().unwrap().to_string();
        let campaign_b = b["id"].as_str().unwrap().to_string();
        let affiliate_a = membership(&app, &key_a, &campaign_a, &email).await.unwrap().0;
        let affiliate_b = membership(&app, &key_b, &campaign_b, &email).await.unwrap().0;
        let stranger = Browser::new(&app);
        join_new(&stranger, &join_path(&app, &a), "Stranger", &address("stranger")).await;
        World {
            app,
            key_a,
            key_b,
            tracking_a: a["trackingCode"].as_str().unwrap().to_string(),
            campaign_a,
            campaign_b,
            me,
            email,
            affiliate_a,
            affiliate_b,
            stranger,
        }
    }

    /// The person's short links at a merchant, through the API.
    async fn api_links(&self, key: &str, affiliate: &str) -> Vec<String> {
        let list = self.app.get(key, &format!("/api/v1/links?affiliateId={affiliate}")).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        list.data().as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap().to_string()).collect()
    }
}

async fn links_page_shows_and_creates_short_links(engine: Engine) {
    let w = World::open(&engine).await;
    let shown = w.me.get("/portal/links").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    // Both programs, escaped, each with its own tracking link and a copy button.
    assert!(shown.html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Spring"), "{}", shown.html);
    assert!(!shown.html.contains("<script>alert(1)"));
    assert!(shown.html.contains("Alpha &#60;script&#62;x&#60;/script&#62;"));
    assert!(shown.html.contains("Beta Summer"));
    assert!(shown.html.contains(&format!("aff={}", w.affiliate_a)));
    assert!(shown.html.contains(&format!("aff={}", w.affiliate_b)));
    assert!(shown.html.contains(r#"data-copy="track-1""#));
    assert!(shown.html.contains(r#"src="/assets/dashboard.js""#));

    // A short link with a chosen code: created for the person's row at that merchant.
    let created = w
        .me
        .submit("/portal/links", "/portal/links", &[("campaign_id", &w.campaign_a), ("code", "my-spring")])
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    assert_eq!(created.location.as_deref(), Some("/portal/links?notice=created"));
    let after = w.me.get("/portal/links?notice=created").await;
    assert!(after.html.contains("/l/my-spring"), "{}", after.html);
    assert!(after.html.contains("Your short link is ready."));
    assert_eq!(w.api_links(&w.key_a, &w.affiliate_a).await, vec!["my-spring".to_string()]);
    assert!(w.api_links(&w.key_b, &w.affiliate_b).await.is_empty());
    // A generated code when none is given, on the other merchant's program.
    let generated =
        w.me.submit("/portal/links", "/portal/links", &[("campaign_id", &w.campaign_b), ("code", " ")]).await;
    assert_eq!(generated.status, StatusCode::SEE_OTHER, "{}", generated.html);
    assert_eq!(w.api_links(&w.key_b, &w.affiliate_b).await.len(), 1);

    // A bad code: the field's error, the typed value escaped, nothing saved.
    let bad = w
        .me
        .submit("/portal/links", "/portal/links", &[("campaign_id", &w.campaign_a), ("code", "<b>no</b>")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
    assert!(field_error(&bad.html, "code").unwrap().contains("3 to 32"), "{}", bad.html);
    assert!(bad.html.contains("&#60;b&#62;no&#60;/b&#62;") && !bad.html.contains("<b>no</b>"));
    // A taken code: refused, said so.
    let taken = w
        .me
        .submit("/portal/links", "/portal/links", &[("campaign_id", &w.campaign_b), ("code", "my-spring")])
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.html);
    assert!(taken.html.contains("taken"));
    // Without the form's token: refused.
    let forged = w.me.post_raw("/portal/links", &[("campaign_id", &w.campaign_a), ("code", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(w.api_links(&w.key_a, &w.affiliate_a).await, vec!["my-spring".to_string()]);

    // The stranger sees their one program, none of the person's links, and cannot create a
    // link on a campaign they are not on (404, as if it did not exist).
    let theirs = w.stranger.get("/portal/links").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.html.contains("Beta Summer") && !theirs.html.contains("my-spring"));
    assert!(!theirs.html.contains(&w.affiliate_a));
    for campaign in [&w.campaign_b, &"cmp_nope".to_string()] {
        let refused = w
            .stranger
            .submit("/portal/links", "/portal/links", &[("campaign_id", campaign), ("code", "sneaky")])
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.html);
    }
    // Signed out: to the login.
    let anonymous = Browser::new(&w.app).get("/portal/links").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    w.app.stop().await;
}

/// A click on the tracking link and a sale recorded through the API show in the portal's
/// numbers; the customer's email is masked; the stranger sees none of it.
async fn performance_shows_clicks_conversions_and_masked_commissions(engine: Engine) {
    let w = World::open(&engine).await;
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) PortalVisitor/1.0")
        .build()
        .unwrap();
    let url = w.app.url(&format!("/redirect?tc={}&aff={}", w.tracking_a, w.affiliate_a));
    // A link preview bot's click first: recorded as a bot, never counted as a person's.
    let bot = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
        .build()
        .unwrap();
    assert!(bot.get(&url).send().await.unwrap().status().is_redirection());
    let click = visitor.get(url).send().await.unwrap();
    assert!(click.status().is_redirection(), "{}", click.status());
    let query = format!("/api/v1/clicks?affiliateId={}", w.affiliate_a);
    for _ in 0..100 {
        let stored = w.app.get(&w.key_a, &query).await;
        if stored.data().as_array().map_or(0, Vec::len) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let bots = w.app.get(&w.key_a, &format!("{query}&kind=bot")).await;
    assert_eq!(bots.data().as_array().unwrap().len(), 1, "{}", bots.text);
    let sale = w
        .app
        .convert(
            &w.key_a,
            &w.campaign_a,
            &w.affiliate_a,
            json!(50),
            json!({ "customerEmail": "jane.doe@example.com", "orderId": "<script>o</script>" }),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);

    let shown = w.me.get("/portal/performance").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    let html = &shown.html;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Spring") && !html.contains("<script>alert")
    );
    assert!(html.contains("Beta Summer"), "both programs");
    // The program row: 1 click (the bot's is not a person's), 1 unique, 1 conversion,
    // 10.00 USD (20% of 50).
    assert!(
        html.contains(r#"<td class="num">1</td><td class="num">1</td><td class="num">1</td><td class="num">10.00 USD</td>"#),
        "{html}"
    );
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("Earnings by day (USD)"));
    // The charts' table, per day: today has the click, the unique visitor, the sale and its
    // earnings (a column per currency).
    let days = html.split("<table class=\"days\">").nth(1).unwrap_or_default();
    let days = days.split("</table>").next().unwrap_or_default();
    assert!(days.contains("<th scope=\"col\" class=\"num\">Earnings (USD)</th>"), "{days}");
    assert!(
        days.contains(r#"<td class="num">1</td><td class="num">1</td><td class="num">1</td><td class="num">10.00 USD</td></tr>"#),
        "{days}"
    );
    // The commission: masked customer, status, amount; never the email itself.
    assert!(html.contains("j***@example.com"), "{html}");
    assert!(!html.contains("jane.doe"));
    assert!(html.contains("status-pending"));

    let theirs = w.stranger.get("/portal/performance").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.html.contains("j***@example.com") && !theirs.html.contains("10.00 USD"));
    assert!(!theirs.html.contains("Beta Summer"));
    let _ = (&w.key_b, &w.campaign_b);
    w.app.stop().await;
}

/// The payout method the merchant's API shows for an affiliate.
async fn payout_method(w: &World, key: &str, affiliate: &str) -> serde_json::Value {
    let detail = w.app.get(key, &format!("/api/v1/affiliates/{affiliate}")).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    detail.data()["payoutMethod"].clone()
}

/// Balances per merchant, and payout details set on the person's own row at one merchant (the
/// field the payouts code reads), with field errors that save nothing.
async fn payouts_page_shows_balances_and_sets_payout_details(engine: Engine) {
    let w = World::open(&engine).await;
    let sale = w.app.convert(&w.key_a, &w.campaign_a, &w.affiliate_a, json!(50), json!({})).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let shown = w.me.get("/portal/payouts").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    assert!(
        shown.html.contains("Alpha &#60;script&#62;x&#60;/script&#62;") && shown.html.contains("Beta Shop")
    );
    assert!(shown.html.contains("<td>USD</td><td class=\"num\">10.00 USD</td>"), "{}", shown.html);
    assert!(shown.html.contains("No payouts yet."));

    let page = "/portal/payouts";
    let action = "/portal/payouts/method";
    let a = w.affiliate_a.as_str();
    let saved = w
        .me
        .submit(page, action, &[("affiliate_id", a), ("type", "paypal"), ("paypal_email", "Pay@Example.com")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(saved.location.as_deref(), Some("/portal/payouts?notice=saved"));
    assert_eq!(payout_method(&w, &w.key_a, a).await, json!({ "type": "paypal", "email": "pay@example.com" }));
    assert_eq!(payout_method(&w, &w.key_b, &w.affiliate_b).await, serde_json::Value::Null);
    let again = w.me.get("/portal/payouts?notice=saved").await;
    assert!(again.html.contains(r#"value="pay@example.com""#) && again.html.contains("saved"));

    // Field errors, the typed values escaped, nothing saved.
    let bad =
        w.me.submit(
            page,
            action,
            &[
                ("affiliate_id", a),
                ("type", "wise"),
                ("wise_name", "<script>w</script>"),
                ("wise_email", "nope"),
                ("wise_currency", "XXX1"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
    assert!(field_error(&bad.html, "wise_email").is_some(), "{}", bad.html);
    assert!(field_error(&bad.html, "wise_currency").is_some());
    assert!(bad.html.contains("&#60;script&#62;w&#60;/script&#62;") && !bad.html.contains("<script>w"));
    let stripe =
        w.me.submit(
            page,
            action,
            &[("affiliate_id", a), ("type", "stripe_connect"), ("stripe_account_id", "x;y")],
        )
        .await;
    assert_eq!(stripe.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&stripe.html, "stripe_account_id").unwrap().contains("acct_"));
    let manual = w.me.submit(page, action, &[("affiliate_id", a), ("type", "manual")]).await;
    assert_eq!(manual.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&manual.html, "type").is_some());
    let forged = w.me.post_raw(action, &[("affiliate_id", a), ("type", "none")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(payout_method(&w, &w.key_a, a).await["type"], "paypal");

    // Wise on the other merchant, then cleared there: the first is untouched.
    let wise =
        w.me.submit(
            page,
            action,
            &[
                ("affiliate_id", &w.affiliate_b),
                ("type", "wise"),
                ("wise_name", "Jo Doe"),
                ("wise_email", "jo@example.com"),
                ("wise_currency", "EUR"),
            ],
        )
        .await;
    assert_eq!(wise.status, StatusCode::SEE_OTHER, "{}", wise.html);
    assert_eq!(payout_method(&w, &w.key_b, &w.affiliate_b).await["currency"], "eur");
    let cleared = w.me.submit(page, action, &[("affiliate_id", &w.affiliate_b), ("type", "none")]).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert_eq!(payout_method(&w, &w.key_b, &w.affiliate_b).await, serde_json::Value::Null);
    assert_eq!(payout_method(&w, &w.key_a, a).await["type"], "paypal");

    // The stranger: not the person's balances, and another's row answers 404.
    let theirs = w.stranger.get(page).await;
    assert!(!theirs.html.contains("10.00 USD") && !theirs.html.contains("pay@example.com"));
    let hijack = w
        .stranger
        .submit(
            page,
            action,
            &[("affiliate_id", a), ("type", "paypal"), ("paypal_email", "evil@example.com")],
        )
        .await;
    assert_eq!(hijack.status, StatusCode::NOT_FOUND, "{}", hijack.html);
    assert_eq!(payout_method(&w, &w.key_a, a).await["email"], "pay@example.com");
    w.app.stop().await;
}

/// Coupons, the name and a password change (current password required, other sessions end).
async fn account_page_coupons_name_and_password(engine: Engine) {
    let w = World::open(&engine).await;
    let coupon = w
        .app
        .post(
            &w.key_a,
            "/api/v1/coupons",
            json!({ "code": "SPRING20", "campaignId": w.campaign_a, "affiliateId": w.affiliate_a }),
        )
        .await;
    assert_eq!(coupon.status, StatusCode::CREATED, "{}", coupon.text);
    let shown = w.me.get("/portal/account").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    assert!(shown.html.contains("SPRING20") && shown.html.contains(r#"data-copy="coupon-1""#));
    assert!(shown.html.contains("&#60;script&#62;me&#60;/script&#62;"), "the name, escaped");
    assert!(!w.stranger.get("/portal/account").await.html.contains("SPRING20"));

    // The name: saved, escaped; bad names refused with nothing saved.
    let page = "/portal/account";
    let saved = w.me.submit(page, "/portal/account/profile", &[("name", "<script>n</script> Jo")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let after = w.me.get("/portal/account?notice=profile").await;
    assert!(
        after.html.contains("&#60;script&#62;n&#60;/script&#62; Jo") && !after.html.contains("<script>n")
    );
    for bad in [" ", "bell\u{7}"] {
        let refused = w.me.submit(page, "/portal/account/profile", &[("name", bad)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
        assert!(field_error(&refused.html, "name").is_some());
    }
    assert!(w.me.get(page).await.html.contains("&#60;script&#62;n&#60;/script&#62; Jo"));
    let forged = w.me.post_raw("/portal/account/profile", &[("name", "Forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A second browser of the same person, signed in before the change.
    let other = Browser::new(&w.app);
    let login =
        other.submit("/portal/login", "/portal/login", &[("email", &w.email), ("password", PASSWORD)]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.html);
    let action = "/portal/account/password";
    let new = "a-much-newer-passphrase";
    let wrong =
        w.me.submit(page, action, &[("current_password", "not-the-password"), ("new_password", new)]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.html);
    assert!(field_error(&wrong.html, "current_password").is_some());
    let short = w.me.submit(page, action, &[("current_password", PASSWORD), ("new_password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&short.html, "new_password").unwrap().contains("at least 10"));
    let forged = w.me.post_raw(action, &[("current_password", PASSWORD), ("new_password", new)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(other.get(page).await.status, StatusCode::OK, "nothing changed yet");
    let changed = w.me.submit(page, action, &[("current_password", PASSWORD), ("new_password", new)]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.html);
    assert_eq!(w.me.get(page).await.status, StatusCode::OK, "this session stays");
    assert_eq!(other.get(page).await.status, StatusCode::SEE_OTHER, "the other one ends");
    let fresh = Browser::new(&w.app);
    let old =
        fresh.submit("/portal/login", "/portal/login", &[("email", &w.email), ("password", PASSWORD)]).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let ok = fresh.submit("/portal/login", "/portal/login", &[("email", &w.email), ("password", new)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    w.app.stop().await;
}

/// The person's data as JSON and CSV: theirs only, customers masked, CSV cells formula-guarded.
async fn export_holds_the_persons_own_data(engine: Engine) {
    let w = World::open(&engine).await;
    let formula =
        w.app.campaign(&w.key_b, json!({ "name": "=HYPERLINK(\"x\")", "autoApproveAffiliates": true })).await;
    let path = join_path(&w.app, &formula);
    assert_eq!(w.me.submit(&path, &format!("{path}/apply"), &[]).await.status, StatusCode::SEE_OTHER);
    let sale = w
        .app
        .convert(
            &w.key_a,
            &w.campaign_a,
            &w.affiliate_a,
            json!(50),
            json!({ "customerEmail": "jane.doe@example.com" }),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let link = w
        .me
        .submit("/portal/links", "/portal/links", &[("campaign_id", &w.campaign_a), ("code", "export-me")])
        .await;
    assert_eq!(link.status, StatusCode::SEE_OTHER);

    let fetch = |browser: &Browser, path: &str| {
        let request = browser.client.get(format!("{}{path}", browser.base));
        async move { request.send().await.unwrap() }
    };
    let json_reply = fetch(&w.me, "/portal/export.json").await;
    assert_eq!(json_reply.status(), StatusCode::OK);
    assert_eq!(json_reply.headers()["content-type"], "application/json");
    assert!(json_reply.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let body = json_reply.text().await.unwrap();
    let data: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(data["email"], w.email.as_str());
    assert_eq!(data["programs"].as_array().unwrap().len(), 3, "{data}");
    assert_eq!(data["commissions"][0]["customer"], "j***@example.com");
    assert_eq!(data["commissions"][0]["commission"], "10.00");
    assert_eq!(data["shortLinks"][0]["code"], "export-me");
    assert!(!body.contains("jane.doe"));

    let csv_reply = fetch(&w.me, "/portal/export.csv").await;
    assert_eq!(csv_reply.status(), StatusCode::OK);
    assert_eq!(csv_reply.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv_reply.text().await.unwrap();
    assert!(csv.starts_with("section,business,campaign,date,status,amount,currency,detail\r\n"), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "formula guarded: {csv}");
    assert!(csv.contains(",10.00,usd,j***@example.com"), "{csv}");
    assert!(!csv.contains("jane.doe"));

    // The stranger's export: their own data only.
    let theirs = fetch(&w.stranger, "/portal/export.json").await.text().await.unwrap();
    assert!(!theirs.contains(&w.email) && !theirs.contains("export-me") && !theirs.contains("j***@"));
    let anonymous = fetch(&Browser::new(&w.app), "/portal/export.csv").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    w.app.stop().await;
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A commission in each status, a balance in each column and a completed payout, as the person
/// sees them: the performance page lists paid, approved, pending, rejected and refunded
/// commissions; the payouts page shows pending, on hold, payable and paid, and the payout in
/// its history; the "payout sent" mail links there.
async fn portal_shows_each_status_balance_and_payout(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    let shared = clock.clone();
    let app = TestApp::start_with(&engine, move |c| c.clock = shared).await;
    let (_, owner, key) = shop(&app, "Ledger Shop").await;
    let merchant = brand_of(app.store.as_ref(), &owner).await;
    let settings =
        app.patch(&key, "/api/v1/settings", json!({ "payoutHoldDays": 7, "minimumPayout": "0.00" })).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
    let campaign = app.campaign(&key, json!({ "name": "Ledger", "autoApproveAffiliates": true })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let email = address("ledger");
    let me = Browser::new(&app);
    assert_eq!(
        join_new(&me, &join_path(&app, &campaign), "Led Ger", &email).await.status,
        StatusCode::SEE_OTHER
    );
    let (affiliate, _) = membership(&app, &key, &id, &email).await.unwrap();
    let sale = |amount: i64, status: Option<&'static str>| {
        let (app, key, id, affiliate) = (&app, key.clone(), id.clone(), affiliate.clone());
        async move {
            let made = app.convert(&key, &id, &affiliate, json!(amount), json!({})).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
            let conversion = made.data()["id"].as_str().unwrap().to_string();
            if let Some(status) = status {
                let path = format!("/api/v1/conversions/{conversion}");
                let changed = app.patch(&key, &path, json!({ "status": status })).await;
                assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
            }
            conversion
        }
    };

    // Paid: approved, past the hold, paid out and completed.
    sale(100, Some("approved")).await; // 20.00
    clock.advance(8 * DAY_MS);
    let run = app.post(&key, "/api/v1/payouts", json!({})).await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    let payout = run.data()[0]["id"].as_str().unwrap().to_string();
    let done = app
        .post(&key, &format!("/api/v1/payouts/{payout}/complete"), json!({ "reference": "BATCH-9" }))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    // Payable: approved, then past the hold.
    sale(150, Some("approved")).await; // 30.00
    clock.advance(8 * DAY_MS);
    // On hold: approved just now. Pending, rejected, and refunded (as the processor worker
    // applies a full refund).
    sale(50, Some("approved")).await; // 10.00
    sale(25, None).await; // 5.00
    sale(35, Some("rejected")).await;
    let refunded = sale(45, None).await;
    let store = app.store.as_ref();
    let c = store.get_conversion(&merchant, &refunded).await.unwrap().unwrap();
    let applied = store
        .apply_refund(&refline_store::RefundApplication {
            merchant_id: &merchant,
            provider: "stripe",
            conversion_id: &refunded,
            refund_key: None,
            before: refline_store::RefundState {
                refunded_minor: 0,
                original_commission_minor: c.commission_minor,
            },
            refunded_after: c.amount_minor,
            change: refline_store::RefundChange::Reverse { from: c.status },
            now: refline_core::clock::Clock::now(clock.as_ref()),
        })
        .await
        .unwrap();
    assert_eq!(applied, refline_store::RefundApplied::Applied);

    // Sixteen days on, the join's session has lapsed (14 days unused): log in again.
    let me = Browser::new(&app);
    let login =
        me.submit("/portal/login", "/portal/login", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.html);
    let performance = me.get("/portal/performance").await;
    assert_eq!(performance.status, StatusCode::OK, "{}", performance.html);
    for status in ["paid", "approved", "pending", "rejected", "refunded"] {
        assert!(
            performance.html.contains(&format!("<span class=\"status status-{status}\">{status}</span>")),
            "{status}: {}",
            performance.html
        );
    }

    let payouts = me.get("/portal/payouts").await;
    assert_eq!(payouts.status, StatusCode::OK, "{}", payouts.html);
    let columns = ["5.00 USD", "10.00 USD", "30.00 USD", "0.00 USD", "20.00 USD"]
        .map(|v| format!("<td class=\"num\">{v}</td>"))
        .concat();
    assert!(
        payouts.html.contains(&format!("<td>USD</td>{columns}")),
        "pending, on hold, payable, being paid, paid: {}",
        payouts.html
    );
    let history = payouts.html.split("payout-history").nth(1).unwrap_or_default();
    assert!(
        history.contains("20.00 USD") && history.contains("status-completed"),
        "the completed payout: {}",
        payouts.html
    );
    assert!(!payouts.html.contains("No payouts yet."));

    // (A commission digest may have been written meanwhile: the clock moved days.)
    let mails = app.store.recent_mail(Some(&email), 20).await.unwrap();
    let sent: Vec<_> = mails.iter().filter(|m| m.kind == "payout_sent").collect();
    assert_eq!(sent.len(), 1, "{mails:?}");
    let told = sent[0];
    assert_eq!(told.from_name.as_deref(), Some("Ledger Shop"));
    assert!(told.body_text.contains("20.00 USD") && told.body_text.contains("BATCH-9"), "{}", told.body_text);
    assert!(told.body_text.contains(&app.url("/portal/payouts")));
    assert!(told.body_html.is_some() && told.unsubscribe_url.is_none(), "essential: no unsubscribe");
    app.stop().await;
}

engine_tests!(
    portal_shows_each_status_balance_and_payout,
    export_holds_the_persons_own_data,
    account_page_coupons_name_and_password,
    payouts_page_shows_balances_and_sets_payout_details,
    links_page_shows_and_creates_short_links,
    performance_shows_clicks_conversions_and_masked_commissions,
);
