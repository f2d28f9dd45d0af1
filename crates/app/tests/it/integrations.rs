//! Payment-processor connections and coupons: the storage contract on each engine, the
//! `/api/v1/integrations` and `/api/v1/coupons` resources over HTTP, and the `refline
//! integration` commands.

use std::process::Command;

use refline_server::secrets::SecretBox;
use refline_store::{Coupon, CouponFilter, Integration, PageRequest, StoreError};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp, TestMerchant},
};

const KEY: [u8; 32] = [9; 32];
const STRIPE_SECRET: &str = "whsec_refline_integration_test_0123";

async fn start(engine: &Engine) -> TestApp {
    TestApp::start_with(engine, |c| c.secret_key = KEY).await
}

fn page(limit: i64) -> PageRequest<()> {
    PageRequest { limit, offset: 0, sort: (), descending: false }
}

/// A merchant with a campaign and an approved affiliate on it: (merchant, campaign, affiliate).
async fn shop(app: &TestApp) -> (TestMerchant, String, String) {
    let m = app.merchant("ultimate").await;
    let campaign = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
    let email = format!("{}@aff.test", refline_server::ids::new_id("a").to_lowercase());
    let affiliate = app.affiliate(&m.key, &campaign, &email).await;
    (m, campaign, affiliate)
}

fn integration(id: &str, merchant: &str, provider: &str, status: &str, at: i64) -> Integration {
    Integration {
        id: id.into(),
        merchant_id: merchant.into(),
        provider: provider.into(),
        status: status.into(),
        label: None,
        secret_sealed: "v1:sealed".into(),
        secret_hint: "abcd".into(),
        previous_secret_sealed: None,
        settings: "{}".into(),
        credentials_sealed: None,
        created_at: at,
        updated_at: at,
    }
}

fn coupon(id: &str, merchant: &str, campaign: &str, affiliate: &str, code: &str) -> Coupon {
    Coupon {
        id: id.into(),
        merchant_id: merchant.into(),
        campaign_id: campaign.into(),
        affiliate_id: affiliate.into(),
        code: code.into(),
        code_key: Coupon::key_of(code),
        provider: Some("stripe".into()),
        provider_coupon_id: None,
        provider_promotion_code_id: None,
        percent_off: None,
        amount_off_minor: None,
        currency: None,
        duration: None,
        duration_in_months: None,
        created_at: 1,
    }
}

fn unique(prefix: &str) -> String {
    refline_server::ids::new_id(prefix)
}

/// The store: connections per merchant, active ones oldest first, updates and deletes.
async fn store_keeps_integrations(engine: Engine) {
    let app = start(&engine).await;
    let store = app.store.as_ref();
    let (a, b) = (app.merchant("ultimate").await, app.merchant("ultimate").await);
    let (newer, older, off, paddle) = (unique("int"), unique("int"), unique("int"), unique("int"));
    store.insert_integration(&integration(&newer, &a.id, "stripe", "active", 20)).await.unwrap();
    store.insert_integration(&integration(&older, &a.id, "stripe", "active", 10)).await.unwrap();
    store.insert_integration(&integration(&off, &a.id, "stripe", "disabled", 5)).await.unwrap();
    store.insert_integration(&integration(&paddle, &a.id, "paddle", "active", 5)).await.unwrap();
    store.insert_integration(&integration(&unique("int"), &b.id, "stripe", "active", 1)).await.unwrap();

    let active: Vec<String> =
        store.active_integrations(&a.id, "stripe").await.unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(active, vec![older.clone(), newer.clone()]);
    assert_eq!(store.active_integrations(&a.id, "gumroad").await.unwrap().len(), 0);
    assert_eq!(store.active_integrations(&b.id, "stripe").await.unwrap().len(), 1);

    let listed = store.list_integrations(&a.id, page(2)).await.unwrap();
    assert_eq!((listed.total, listed.items.len()), (4, 2));
    assert!(store.get_integration(&b.id, &newer).await.unwrap().is_none(), "another merchant's id");

    let mut changed = store.get_integration(&a.id, &newer).await.unwrap().unwrap();
    changed.status = "disabled".into();
    changed.label = Some("old account".into());
    changed.previous_secret_sealed = Some("v1:previous".into());
    changed.credentials_sealed = Some("v1:creds".into());
    changed.settings = r#"{"goid":"1"}"#.into();
    changed.updated_at = 30;
    assert!(store.update_integration(&changed).await.unwrap());
    assert_eq!(store.get_integration(&a.id, &newer).await.unwrap().unwrap(), changed);
    assert_eq!(store.active_integrations(&a.id, "stripe").await.unwrap().len(), 1);
    let mut foreign = changed.clone();
    foreign.merchant_id = b.id.clone();
    assert!(!store.update_integration(&foreign).await.unwrap(), "update through another merchant");

    assert!(!store.delete_integration(&b.id, &newer).await.unwrap());
    assert!(store.delete_integration(&a.id, &newer).await.unwrap());
    assert!(!store.delete_integration(&a.id, &newer).await.unwrap());
    assert!(store.get_integration(&a.id, &newer).await.unwrap().is_none());
}

/// The store: coupon codes are unique per merchant whatever their case, and `find_coupon`
/// follows LinkJolt's order (processor coupon id, promotion-code id, code text).
async fn store_finds_coupons_in_order(engine: Engine) {
    let app = start(&engine).await;
    let store = app.store.as_ref();
    let (m, camp, aff) = shop(&app).await;
    let (other, other_camp, other_aff) = shop(&app).await;

    let alpha = Coupon {
        provider_coupon_id: Some("co_1".into()),
        ..coupon(&unique("cpn"), &m.id, &camp, &aff, "Alpha")
    };
    let beta = Coupon {
        provider_promotion_code_id: Some("promo_1".into()),
        ..coupon(&unique("cpn"), &m.id, &camp, &aff, "BETA")
    };
    let gamma = Coupon { provider: None, ..coupon(&unique("cpn"), &m.id, &camp, &aff, "gamma") };
    let paddle =
        Coupon { provider: Some("paddle".into()), ..coupon(&unique("cpn"), &m.id, &camp, &aff, "PADDLE10") };
    for c in [&alpha, &beta, &gamma, &paddle] {
        store.insert_coupon(c).await.unwrap();
    }
    // The same text registered by another merchant is theirs alone.
    store.insert_coupon(&coupon(&unique("cpn"), &other.id, &other_camp, &other_aff, "ALPHA")).await.unwrap();
    let clash = store.insert_coupon(&coupon(&unique("cpn"), &m.id, &camp, &aff, "alpha")).await.unwrap_err();
    assert!(matches!(clash, StoreError::Conflict(_)) && clash.is_conflict_on("code_key"), "{clash:?}");

    let find = |coupon_id: Option<&'static str>, promo: Option<&'static str>, code: Option<&'static str>| {
        let merchant = m.id.clone();
        async move {
            store.find_coupon(&merchant, Some("stripe"), coupon_id, promo, code).await.unwrap().map(|c| c.id)
        }
    };
    assert_eq!(find(Some("co_1"), Some("promo_1"), Some("GAMMA")).await, Some(alpha.id.clone()));
    assert_eq!(find(Some("co_unknown"), Some("promo_1"), Some("GAMMA")).await, Some(beta.id.clone()));
    assert_eq!(find(None, Some("promo_unknown"), Some("gAmMa")).await, Some(gamma.id.clone()));
    assert_eq!(find(Some("co_unknown"), None, Some("beta")).await, Some(beta.id.clone()));
    assert_eq!(find(None, None, Some("nothing")).await, None);
    assert_eq!(find(None, None, None).await, None);
    assert_eq!(find(Some(""), Some(""), Some("")).await, None, "empty identifiers match nothing");
    // A Paddle code does not credit a Stripe sale; a code without provider credits any.
    assert_eq!(find(None, None, Some("paddle10")).await, None);
    let on_paddle = store.find_coupon(&m.id, Some("paddle"), None, None, Some("paddle10")).await.unwrap();
    assert_eq!(on_paddle.map(|c| c.id), Some(paddle.id.clone()));
    let on_polar = store.find_coupon(&m.id, Some("polar"), None, None, Some("GAMMA")).await.unwrap();
    assert_eq!(on_polar.map(|c| c.id), Some(gamma.id.clone()));
    let any = store.find_coupon(&m.id, None, None, None, Some("paddle10")).await.unwrap();
    assert_eq!(any.map(|c| c.id), Some(paddle.id.clone()));
    let theirs = store.find_coupon(&other.id, Some("stripe"), Some("co_1"), None, None).await.unwrap();
    assert!(theirs.is_none(), "another merchant's processor id");

    assert_eq!(store.get_coupon_by_code(&m.id, "ALPHA").await.unwrap().map(|c| c.id), Some(alpha.id.clone()));
    assert_eq!(store.get_coupon(&m.id, &beta.id).await.unwrap(), Some(beta.clone()));
    assert!(store.get_coupon(&other.id, &beta.id).await.unwrap().is_none());

    let all = store.list_coupons(&m.id, &CouponFilter::default(), page(100)).await.unwrap();
    assert_eq!(all.total, 4);
    let by_code = CouponFilter { code: Some("beta".into()), ..CouponFilter::default() };
    assert_eq!(store.list_coupons(&m.id, &by_code, page(100)).await.unwrap().total, 1);
    let by_provider = CouponFilter { provider: Some("paddle".into()), ..CouponFilter::default() };
    assert_eq!(store.list_coupons(&m.id, &by_provider, page(100)).await.unwrap().items[0].id, paddle.id);

    assert!(!store.delete_coupon(&other.id, &alpha.id).await.unwrap());
    assert!(store.delete_coupon(&m.id, &alpha.id).await.unwrap());
    assert_eq!(find(Some("co_1"), None, None).await, None);
}

/// Create, read, list, change and delete a connection; the secret never comes back.
async fn integrations_crud_with_write_only_secrets(engine: Engine) {
    let app = start(&engine).await;
    let m = app.merchant("ultimate").await;
    let created = app
        .post(
            &m.key,
            "/api/v1/integrations",
            json!({ "provider": "stripe", "webhookSecret": STRIPE_SECRET, "label": "Main" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let data = created.data().clone();
    let id = data["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("int_"));
    assert_eq!(data["provider"], "stripe");
    assert_eq!(data["status"], "active");
    assert_eq!(data["label"], "Main");
    assert_eq!(data["secretHint"], "…0123");
    assert_eq!(data["hasPreviousSecret"], false);
    assert_eq!(data["settings"], json!({}));
    assert_eq!(data["webhookUrl"], format!("{}/api/webhooks/stripe/merchant/{}", app.base, m.id));
    assert!(data["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(!created.text.contains(STRIPE_SECRET), "{}", created.text);

    let stored = app.store.get_integration(&m.id, &id).await.unwrap().unwrap();
    assert!(
        !stored.secret_sealed.contains(STRIPE_SECRET)
            && !stored.secret_sealed.contains("refline_integration")
    );
    assert_eq!(SecretBox::new(KEY).open(&stored.secret_sealed).unwrap(), STRIPE_SECRET);

    let fetched = app.get(&m.key, &format!("/api/v1/integrations/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.data(), &data);
    let listed = app.get(&m.key, "/api/v1/integrations").await;
    assert_eq!(listed.body["pagination"]["total"], 1);
    assert_eq!(listed.data()[0]["id"], id.as_str());
    assert!(!listed.text.contains(STRIPE_SECRET));

    let path = format!("/api/v1/integrations/{id}");
    let changed = app.patch(&m.key, &path, json!({ "status": "disabled", "label": "Old" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        (changed.data()["status"].as_str(), changed.data()["label"].as_str()),
        (Some("disabled"), Some("Old"))
    );
    assert!(app.store.active_integrations(&m.id, "stripe").await.unwrap().is_empty());
    let cleared = app.patch(&m.key, &path, json!({ "label": null, "status": "active" })).await;
    assert_eq!(
        (cleared.data()["label"].clone(), cleared.data()["status"].clone()),
        (Value::Null, json!("active"))
    );
    let bad =
        app.patch(&m.key, &path, json!({ "status": "paused", "provider": "paddle", "goid": "1" })).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "validation_error"));
    assert_eq!(bad.body["error"]["details"].as_array().unwrap().len(), 3, "{}", bad.text);

    let deleted = app.send(Method::DELETE, Some(&m.key), &path, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.data(), &json!({ "id": id, "deleted": true }));
    assert_eq!(app.get(&m.key, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, Some(&m.key), &path, None).await.status, StatusCode::NOT_FOUND);
}

/// A new secret rotates: both verify until the previous one is dropped.
async fn secrets_rotate_and_the_previous_one_is_dropped(engine: Engine) {
    let app = start(&engine).await;
    let m = app.merchant("ultimate").await;
    let first = "polar_whs_first_secret_value";
    let created = app
        .post(&m.key, "/api/v1/integrations", json!({ "provider": "polar", "webhookSecret": first }))
        .await;
    let id = created.data()["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/integrations/{id}");
    let second = "polar_whs_second_secret_wxyz";
    let rotated = app.patch(&m.key, &path, json!({ "webhookSecret": second })).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_eq!(rotated.data()["hasPreviousSecret"], true);
    assert_eq!(rotated.data()["secretHint"], "…wxyz");
    assert!(!rotated.text.contains(first) && !rotated.text.contains(second));
    let active = app.store.active_integrations(&m.id, "polar").await.unwrap();
    let secrets = SecretBox::new(KEY);
    assert_eq!(secrets.open(&active[0].secret_sealed).unwrap(), second);
    assert_eq!(secrets.open(active[0].previous_secret_sealed.as_deref().unwrap()).unwrap(), first);

    let dropped = app.patch(&m.key, &path, json!({ "dropPreviousSecret": true })).await;
    assert_eq!(dropped.data()["hasPreviousSecret"], false);
    let stored = app.store.get_integration(&m.id, &id).await.unwrap().unwrap();
    assert_eq!(
        (stored.previous_secret_sealed, secrets.open(&stored.secret_sealed).unwrap()),
        (None, second.into())
    );
}

/// Provider-specific checks: unknown providers, secret forms and lengths, GoPay's fields.
async fn provider_fields_are_validated(engine: Engine) {
    let app = start(&engine).await;
    let m = app.merchant("ultimate").await;
    let post = |body: Value| app.post(&m.key, "/api/v1/integrations", body);
    let unknown = post(json!({ "provider": "paypal", "webhookSecret": "x" })).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::BAD_REQUEST, "validation_error"));
    for name in ["stripe", "paddle_classic", "lemonsqueezy", "gumroad", "gopay", "creem", "polar"] {
        assert!(unknown.text.contains(name), "{name}: {}", unknown.text);
    }
    let missing = post(json!({ "provider": "stripe" })).await;
    assert!(missing.text.contains("webhookSecret is required"), "{}", missing.text);
    let long = post(json!({ "provider": "stripe", "webhookSecret": "x".repeat(4097) })).await;
    assert!(long.text.contains("at most 4096"), "{}", long.text);
    let not_pem = post(json!({ "provider": "paddle_classic", "webhookSecret": "pdl_secret" })).await;
    assert!(not_pem.text.contains("BEGIN PUBLIC KEY"), "{}", not_pem.text);
    let pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAv1k2\n-----END PUBLIC KEY-----";
    let classic = post(json!({ "provider": "paddle_classic", "webhookSecret": pem })).await;
    assert_eq!(classic.status, StatusCode::CREATED, "{}", classic.text);
    assert_eq!(classic.data()["secretHint"], "…v1k2");

    let gopay = post(json!({ "provider": "gopay", "apiBaseUrl": "gate.gopay.cz/api" })).await;
    assert_eq!(gopay.status, StatusCode::BAD_REQUEST);
    let paths: Vec<&str> = gopay.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"][0].as_str())
        .collect();
    assert_eq!(paths, ["goid", "apiBaseUrl", "clientId", "clientSecret"], "{}", gopay.text);
    let ok = post(json!({ "provider": "gopay", "goid": "8123456789", "clientId": "cid-1", "clientSecret": "csecret-xyz" })).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(
        ok.data()["settings"],
        json!({ "goid": "8123456789", "apiBaseUrl": "https://gate.gopay.cz/api" })
    );
    assert_eq!(ok.data()["hasCredentials"], true);
    assert!(!ok.text.contains("csecret-xyz") && !ok.text.contains("cid-1"), "{}", ok.text);
    let id = ok.data()["id"].as_str().unwrap().to_string();
    let stored = app.store.get_integration(&m.id, &id).await.unwrap().unwrap();
    let sealed = stored.credentials_sealed.clone().unwrap();
    assert!(!sealed.contains("csecret-xyz"));
    let creds: Value = serde_json::from_str(&SecretBox::new(KEY).open(&sealed).unwrap()).unwrap();
    assert_eq!(creds, json!({ "clientId": "cid-1", "clientSecret": "csecret-xyz" }));

    let path = format!("/api/v1/integrations/{id}");
    let half = app.patch(&m.key, &path, json!({ "clientSecret": "only-half" })).await;
    assert!(half.text.contains("clientId is required"), "{}", half.text);
    let moved = app.patch(&m.key, &path, json!({ "apiBaseUrl": "https://gw.sandbox.gopay.com/api/" })).await;
    assert_eq!(moved.data()["settings"]["apiBaseUrl"], "https://gw.sandbox.gopay.com/api");
    assert_eq!(moved.data()["settings"]["goid"], "8123456789");
}

/// Another merchant's connection is not found; test keys and read-only plans cannot write.
async fn tenants_and_keys_are_enforced(engine: Engine) {
    let app = start(&engine).await;
    let (a, b) = (app.merchant("ultimate").await, app.merchant("ultimate").await);
    let created = app
        .post(
            &a.key,
            "/api/v1/integrations",
            json!({ "provider": "creem", "webhookSecret": "whsec_creem_a" }),
        )
        .await;
    let path = format!("/api/v1/integrations/{}", created.data()["id"].as_str().unwrap());
    assert_eq!(app.get(&b.key, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.patch(&b.key, &path, json!({ "label": "x" })).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, Some(&b.key), &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&b.key, "/api/v1/integrations").await.body["pagination"]["total"], 0);

    let test_post = app
        .post(
            &a.test_key,
            "/api/v1/integrations",
            json!({ "provider": "stripe", "webhookSecret": "whsec_t" }),
        )
        .await;
    assert_eq!((test_post.status, test_post.code()), (StatusCode::FORBIDDEN, "live_key_required"));
    assert!(test_post.text.contains("live key"));
    let test_patch = app.patch(&a.test_key, &path, json!({ "label": "x" })).await;
    assert_eq!((test_patch.status, test_patch.code()), (StatusCode::FORBIDDEN, "live_key_required"));
    let test_delete = app.send(Method::DELETE, Some(&a.test_key), &path, None).await;
    assert_eq!(test_delete.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&a.test_key, &path).await.status, StatusCode::OK, "test keys may read");

    let pro = app.merchant("pro").await;
    let read_only = app
        .post(&pro.key, "/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": "whsec_p" }))
        .await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN);
}

/// Registering coupons: idempotent for the same credit, 409 for another, 404 off the campaign.
async fn coupons_register_idempotently(engine: Engine) {
    let app = start(&engine).await;
    let (m, camp, aff) = shop(&app).await;
    let other_aff = app.affiliate(&m.key, &camp, &format!("{}@aff.test", unique("o").to_lowercase())).await;
    let body = json!({ "code": "Sarah20", "campaignId": camp, "affiliateId": aff, "providerPromotionCodeId": "promo_s20",
                       "percentOff": 20, "duration": "repeating", "durationInMonths": 3 });
    let created = app.post(&m.key, "/api/v1/coupons", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let c = created.data().clone();
    assert!(c["id"].as_str().unwrap().starts_with("cpn_"));
    assert_eq!(c["code"], "Sarah20");
    assert_eq!(c["provider"], "stripe", "LinkJolt's default provider");
    assert_eq!((c["percentOff"].clone(), c["amountOff"].clone()), (json!(20), Value::Null));
    assert_eq!((c["duration"].as_str(), c["durationInMonths"].as_i64()), (Some("repeating"), Some(3)));
    assert_eq!(c["providerPromotionCodeId"], "promo_s20");

    let mut again_body = body.clone();
    again_body["code"] = json!("SARAH20");
    let again = app.post(&m.key, "/api/v1/coupons", again_body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.data()["id"], c["id"]);
    let taken = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "sarah20", "campaignId": camp, "affiliateId": other_aff }),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "duplicate"));
    assert_eq!(taken.body["error"]["details"]["id"], c["id"]);

    let other_camp =
        app.campaign(&m.key, json!({ "name": "Other" })).await["id"].as_str().unwrap().to_string();
    let off = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "OFF", "campaignId": other_camp, "affiliateId": aff }),
        )
        .await;
    assert_eq!(off.status, StatusCode::NOT_FOUND, "{}", off.text);
    let (stranger, _, _) = shop(&app).await;
    let foreign = app
        .post(
            &stranger.key,
            "/api/v1/coupons",
            json!({ "code": "FOREIGN", "campaignId": camp, "affiliateId": aff }),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let create = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "NEW", "campaignId": camp, "affiliateId": aff, "createInProvider": true }),
        )
        .await;
    assert_eq!(create.status, StatusCode::BAD_REQUEST);
    assert!(create.text.contains("not supported yet"), "{}", create.text);
    let both = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "X1", "campaignId": camp, "affiliateId": aff, "percentOff": 5, "amountOff": 5 }),
        )
        .await;
    assert!(both.text.contains("not both"), "{}", both.text);
    let months = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "X2", "campaignId": camp, "affiliateId": aff, "duration": "repeating" }),
        )
        .await;
    assert!(months.text.contains("durationInMonths is required"), "{}", months.text);
    let spaced = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "TWO WORDS", "campaignId": camp, "affiliateId": aff }),
        )
        .await;
    assert_eq!(spaced.status, StatusCode::BAD_REQUEST);
    let bad_provider = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "X3", "campaignId": camp, "affiliateId": aff, "provider": "paypal" }),
        )
        .await;
    assert!(bad_provider.text.contains("lemonsqueezy"), "{}", bad_provider.text);

    let amount = app.post(&m.test_key, "/api/v1/coupons",
        json!({ "code": "FIVE", "campaignId": camp, "affiliateId": other_aff, "amountOff": 5.5, "currency": "eur",
                "provider": "paddle", "providerCouponId": "dsc_5" }),
    )
    .await;
    assert_eq!(amount.status, StatusCode::CREATED, "test keys may register: {}", amount.text);
    assert!(amount.text.contains(r#""amountOff":5.50"#), "{}", amount.text);
    assert_eq!(amount.data()["currency"], "eur");

    // What a receiver does with a Paddle sale carrying discount dsc_5:
    let found =
        app.store.find_coupon(&m.id, Some("paddle"), Some("dsc_5"), None, Some("SARAH20")).await.unwrap();
    assert_eq!(found.map(|c| c.code), Some("FIVE".into()));
    let found = app.store.find_coupon(&m.id, Some("stripe"), None, Some("promo_s20"), None).await.unwrap();
    assert_eq!(found.map(|c| c.affiliate_id), Some(aff.clone()));
}

/// Listing coupons by code (any case), provider, campaign and affiliate; reading and deleting.
async fn coupons_are_listed_read_and_deleted(engine: Engine) {
    let app = start(&engine).await;
    let (m, camp, aff) = shop(&app).await;
    let other_aff = app.affiliate(&m.key, &camp, &format!("{}@aff.test", unique("o").to_lowercase())).await;
    let mut ids = Vec::new();
    for (code, affiliate, provider) in
        [("ONE", &aff, "stripe"), ("TWO", &aff, "polar"), ("THREE", &other_aff, "stripe")]
    {
        let r = app
            .post(
                &m.key,
                "/api/v1/coupons",
                json!({ "code": code, "campaignId": camp, "affiliateId": affiliate, "provider": provider }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.data()["id"].as_str().unwrap().to_string());
        // Lists order by creation time (milliseconds), then by random id: coupons made within one
        // millisecond would have no defined order, and the assertions below name one.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let codes = |reply: &crate::support::Reply| -> Vec<String> {
        reply.data().as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_string()).collect()
    };
    let all = app.get(&m.key, "/api/v1/coupons").await;
    assert_eq!(all.body["pagination"]["total"], 3);
    assert_eq!(codes(&app.get(&m.key, "/api/v1/coupons?code=two").await), ["TWO"]);
    assert_eq!(codes(&app.get(&m.key, "/api/v1/coupons?provider=polar").await), ["TWO"]);
    let mine = app
        .get(&m.key, &format!("/api/v1/coupons?affiliateId={aff}&campaignId={camp}&sort=createdAt:asc"))
        .await;
    assert_eq!(codes(&mine), ["ONE", "TWO"]);
    let paged = app.get(&m.key, "/api/v1/coupons?limit=1&page=2&sort=createdAt:asc").await;
    assert_eq!(
        (codes(&paged), paged.body["pagination"]["totalPages"].as_i64()),
        (vec!["TWO".to_string()], Some(3))
    );
    let bad = app.get(&m.key, "/api/v1/coupons?provider=paypal").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let path = format!("/api/v1/coupons/{}", ids[0]);
    assert_eq!(app.get(&m.key, &path).await.data()["code"], "ONE");
    let (stranger, _, _) = shop(&app).await;
    assert_eq!(app.get(&stranger.key, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&stranger.key, "/api/v1/coupons").await.body["pagination"]["total"], 0);
    assert_eq!(
        app.send(Method::DELETE, Some(&stranger.key), &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let deleted = app.send(Method::DELETE, Some(&m.key), &path, None).await;
    assert_eq!(deleted.data(), &json!({ "id": ids[0], "deleted": true }));
    assert_eq!(app.get(&m.key, &path).await.status, StatusCode::NOT_FOUND);
    // The code is free again.
    let again = app
        .post(
            &m.key,
            "/api/v1/coupons",
            json!({ "code": "one", "campaignId": camp, "affiliateId": other_aff }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
}

fn refline(database_url: &str, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_refline"));
    command
        .args(args)
        .env("REFLINE_DATABASE_URL", database_url)
        .env_remove("REFLINE_SECRET_KEY")
        .env_remove("REFLINE_SECRET_KEY_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run refline")
}

fn stdout_json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// `refline integration add|list|remove` against the database of a running server, sealing
/// with the configured key or a key file it creates.
async fn integration_commands_work(engine: Engine) {
    let app = start(&engine).await;
    let m = app.merchant("ultimate").await;
    let url = app.database_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("refline.key");
    let (merchant, key_path) = (m.id.clone(), key_file.display().to_string());
    let (added, listed, gopay, bad, removed, after) = tokio::task::spawn_blocking(move || {
        let with_key = [("REFLINE_SECRET_KEY", hex_key(KEY))];
        let with_key: Vec<(&str, &str)> = with_key.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let add = ["integration", "add", "--merchant", &merchant, "--provider", "stripe"];
        let added = refline(
            &url,
            &with_key,
            &[&add[..], &["--webhook-secret", STRIPE_SECRET, "--label", "CLI", "--json"]].concat(),
        );
        let listed = refline(&url, &with_key, &["integration", "list", "--merchant", &merchant, "--json"]);
        let file_env = [("REFLINE_SECRET_KEY_FILE", key_path.as_str())];
        let gopay = refline(
            &url,
            &file_env,
            &[
                "integration",
                "add",
                "--merchant",
                &merchant,
                "--provider",
                "gopay",
                "--goid",
                "8123456789",
                "--client-id",
                "c",
                "--client-secret",
                "s",
                "--json",
            ],
        );
        let bad = refline(
            &url,
            &with_key,
            &["integration", "add", "--merchant", &merchant, "--provider", "paypal", "--webhook-secret", "x"],
        );
        let id = stdout_json(&added)["id"].as_str().unwrap().to_string();
        let removed =
            refline(&url, &with_key, &["integration", "remove", "--merchant", &merchant, "--id", &id]);
        let after = refline(&url, &with_key, &["integration", "list", "--merchant", &merchant, "--json"]);
        (added, listed, gopay, bad, removed, after)
    })
    .await
    .unwrap();

    let added = stdout_json(&added);
    assert_eq!((added["provider"].as_str(), added["label"].as_str()), (Some("stripe"), Some("CLI")));
    assert_eq!(added["webhookPath"], format!("/api/webhooks/stripe/merchant/{}", m.id));
    let listed = stdout_json(&listed);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(STRIPE_SECRET));

    // The key file was created (owner-only) and the GoPay secrets are sealed with its key.
    let gopay = stdout_json(&gopay);
    let text = std::fs::read_to_string(&key_file).unwrap();
    let file_key = refline_server::secrets::parse_key(&text).expect("64 hex characters");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let stored = app.store.get_integration(&m.id, gopay["id"].as_str().unwrap()).await.unwrap().unwrap();
    let creds = SecretBox::new(file_key).open(stored.credentials_sealed.as_deref().unwrap()).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&creds).unwrap(),
        json!({ "clientId": "c", "clientSecret": "s" })
    );

    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("paddle_classic"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    let after = stdout_json(&after);
    assert_eq!(after.as_array().unwrap().len(), 1, "only the GoPay connection is left: {after}");
    assert_eq!(after[0]["provider"], "gopay");
}

fn hex_key(key: [u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

engine_tests!(
    store_keeps_integrations,
    store_finds_coupons_in_order,
    integrations_crud_with_write_only_secrets,
    secrets_rotate_and_the_previous_one_is_dropped,
    provider_fields_are_validated,
    tenants_and_keys_are_enforced,
    coupons_register_idempotently,
    coupons_are_listed_read_and_deleted,
    integration_commands_work,
);
