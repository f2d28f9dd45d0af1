//! Deliveries signed by the processors' official SDKs (Python: `stripe`, `paddle-python-sdk`,
//! `standardwebhooks` + `polar-sdk`), posted to a real server: Refline accepts exactly what the
//! SDK's own verifier accepts — a fresh signature, a rotation's two signatures (and, for Stripe,
//! a timestamp ahead of the clock) — and refuses what it refuses: a tampered body, another
//! secret, a timestamp an hour old (or, for Paddle and Polar, an hour ahead).
//!
//! The SDKs live in a virtualenv made by `scripts/install-sdk-tools.sh` (`target/sdk-venv`), or
//! `$REFLINE_SDK_PYTHON`; without it these tests print a notice and are skipped.

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
};

use base64::Engine as _;
use refline_processors::fixtures::{self, Delivery, Sale};
use refline_server::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{engine_tests, processors::Shop, support::Engine};

const PYTHON_ENV: &str = "REFLINE_SDK_PYTHON";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter with the SDKs, or `None` (with a notice) when they are not installed.
fn sdk_python() -> Option<PathBuf> {
    let python = std::env::var_os(PYTHON_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/sdk-venv/bin/python"));
    if python.exists() {
        Some(python)
    } else {
        eprintln!(
            "NOTICE: processor SDKs not installed ({} missing; run scripts/install-sdk-tools.sh or set {PYTHON_ENV}); SDK signing tests skipped",
            python.display()
        );
        None
    }
}

/// Runs `scripts/sdk_sign.py batch` over `requests`.
fn batch(python: &PathBuf, requests: &[Value]) -> Vec<Value> {
    let mut child = Command::new(python)
        .arg(repo_root().join("scripts/sdk_sign.py"))
        .arg("batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child.stdin.take().unwrap().write_all(&serde_json::to_vec(requests).unwrap()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "sdk_sign.py failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

struct Case {
    name: &'static str,
    /// Secrets the SDK signs with (two: a rotation).
    signed_with: Vec<&'static str>,
    /// Seconds added to now for the signed timestamp.
    age_s: i64,
    /// The body is changed after signing.
    tampered: bool,
    /// What both sides must say.
    accepted: bool,
}

/// `future_accepted`: Stripe's SDK checks only a timestamp's age; Paddle's and Polar's check
/// both ways.
fn cases(secret: &'static str, other: &'static str, future_accepted: bool) -> Vec<Case> {
    let case = |name, signed_with: Vec<&'static str>, age_s, tampered, accepted| Case {
        name,
        signed_with,
        age_s,
        tampered,
        accepted,
    };
    vec![
        case("fresh", vec![secret], 0, false, true),
        case("rotation", vec![other, secret], 0, false, true),
        case("tampered body", vec![secret], 0, true, false),
        case("another secret", vec![other], 0, false, false),
        case("an hour old", vec![secret], -3_600, false, false),
        case("an hour ahead", vec![secret], 3_600, false, future_accepted),
    ]
}

/// Which SDK signs, with what, and how it treats timestamps ahead of the clock.
struct Signer {
    /// `sdk_sign.py`'s provider name.
    sdk: &'static str,
    /// The connection's secret.
    secret: &'static str,
    /// A secret the connection does not know.
    other: &'static str,
    /// The SDK accepts a timestamp an hour ahead.
    future_accepted: bool,
}

/// Signs each case's body with the SDK, asks the SDK's verifier, posts it, and compares.
async fn compare(
    python: &PathBuf,
    shop: &Shop,
    provider: &str,
    signer: Signer,
    body: impl Fn(&str) -> Vec<u8>,
) {
    let Signer { sdk, secret, other, future_accepted } = signer;
    let now = shop.clock.now() / 1000;
    let cases = cases(secret, other, future_accepted);
    let bodies: Vec<Vec<u8>> =
        cases.iter().map(|c| body(&format!("evt_sdk_{}", c.name.replace(' ', "_")))).collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let signs: Vec<Value> = cases
        .iter()
        .zip(&bodies)
        .map(|(c, b)| {
            json!({ "op": "sign", "provider": sdk, "secrets": c.signed_with, "timestamp": now + c.age_s,
                    "msg_id": format!("msg_{}", c.name.replace(' ', "_")), "body_b64": b64(b) })
        })
        .collect();
    let signed = batch(python, &signs);
    let sent: Vec<(Value, Vec<u8>)> = cases
        .iter()
        .zip(bodies)
        .zip(&signed)
        .map(|((c, b), s)| {
            let body = if c.tampered { tamper(&b) } else { b };
            (s["headers"].clone(), body)
        })
        .collect();
    let verifies: Vec<Value> = sent
        .iter()
        .map(|(h, b)| json!({ "op": "verify", "provider": sdk, "secret": secret, "headers": h, "body_b64": b64(b) }))
        .collect();
    let verdicts = batch(python, &verifies);
    for ((case, (headers, body)), verdict) in cases.iter().zip(sent).zip(verdicts) {
        let mut all = vec![("Content-Type".to_string(), "application/json".to_string())];
        for (name, value) in headers.as_object().unwrap() {
            all.push((name.clone(), value.as_str().unwrap().to_string()));
        }
        let delivery: Delivery = (all, String::new(), body);
        let reply = shop.deliver(provider, &delivery).await;
        assert!(
            reply.status == StatusCode::OK || reply.status == StatusCode::UNAUTHORIZED,
            "{sdk} {}: {} {}",
            case.name,
            reply.status,
            reply.text
        );
        let refline = reply.status == StatusCode::OK;
        assert_eq!(verdict["accepts"], case.accepted, "{sdk} {}: the SDK's verdict: {verdict}", case.name);
        assert_eq!(
            refline, case.accepted,
            "{sdk} {}: Refline's verdict ({}): {}",
            case.name, reply.status, reply.text
        );
    }
}

/// Changes the first digit of the sale amount: same length, different money.
fn tamper(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("1800"), "the fixture body names the amount");
    text.replacen("1800", "9800", 1).into_bytes()
}

fn sale(event_id: &str) -> Sale {
    Sale {
        event_id: event_id.into(),
        object_id: format!("obj_{event_id}"),
        subscription_id: Some("sub_sdk".into()),
        ..Sale::default()
    }
}

async fn stripe_sdk(engine: Engine) {
    let Some(python) = sdk_python() else { return };
    const SECRET: &str = "whsec_sdk_stripe_secret";
    let shop = Shop::open(&engine, json!({ "provider": "stripe", "webhookSecret": SECRET })).await;
    let signer =
        Signer { sdk: "stripe", secret: SECRET, other: "whsec_sdk_other_secret", future_accepted: true };
    compare(&python, &shop, "stripe", signer, |id| {
        fixtures::stripe::invoice_paid(&sale(id), "subscription_cycle")
    })
    .await;
}

async fn paddle_sdk(engine: Engine) {
    let Some(python) = sdk_python() else { return };
    const SECRET: &str = "pdl_ntfset_01sdk_secret_text";
    let shop = Shop::open(&engine, json!({ "provider": "paddle", "webhookSecret": SECRET })).await;
    let signer =
        Signer { sdk: "paddle", secret: SECRET, other: "pdl_ntfset_01sdk_other", future_accepted: false };
    compare(&python, &shop, "paddle", signer, |id| {
        fixtures::paddle::transaction_completed(&sale(id), "subscription_recurring")
    })
    .await;
}

async fn polar_sdk(engine: Engine) {
    let Some(python) = sdk_python() else { return };
    // As Polar's dashboard shows it: used as text.
    const SECRET: &str = "polar_whs_sdk_secret_text";
    let shop = Shop::open(&engine, json!({ "provider": "polar", "webhookSecret": SECRET })).await;
    let body = |id: &str| fixtures::polar::order_paid(&sale(id), "subscription_cycle");
    let signer =
        Signer { sdk: "polar", secret: SECRET, other: "polar_whs_sdk_other", future_accepted: false };
    compare(&python, &shop, "polar", signer, body).await;

    // The Standard Webhooks form: `whsec_` + base64 of a 32-byte key, signed with the key.
    const WHSEC: &str = "whsec_cmVmbGluZS1zZGstc3RhbmRhcmQtd2ViaG9va3MtayE=";
    const WHSEC_OTHER: &str = "whsec_YW5vdGhlci1zdGFuZGFyZC13ZWJob29rcy1rZXktMzI=";
    let shop = Shop::open(&engine, json!({ "provider": "polar", "webhookSecret": WHSEC })).await;
    let signer = Signer { sdk: "polar-whsec", secret: WHSEC, other: WHSEC_OTHER, future_accepted: false };
    compare(&python, &shop, "polar", signer, body).await;
}

engine_tests!(stripe_sdk, paddle_sdk, polar_sdk);
