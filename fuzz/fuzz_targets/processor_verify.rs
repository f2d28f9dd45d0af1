//! Every payment processor's signature check (`refline_processors::verify`) over arbitrary
//! headers, queries and bodies, with two invariants beyond "no panic":
//! - a delivery that verifies really depends on the secret: with the matching secret swapped
//!   for another, the same delivery is refused (GoPay, which verifies nothing, says so);
//! - the fuzzed body signed the way the processor signs (`fixtures::*::sign`) verifies, and the
//!   same signature over a body with one byte more does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_fuzz::{NOW, OTHER_SECRET, SECRET};
use refline_processors::fixtures::{self, paddle_classic};
use refline_processors::{verify, Provider, Trust, VerifyError};

fuzz_target!(|data: &[u8]| {
    let d = refline_fuzz::delivery(data);
    let secrets = secrets(d.provider, SECRET);
    if let Ok(verified) = verify(d.provider, &secrets, &d.headers, &d.query, d.body, NOW) {
        match verified.trust {
            Trust::LookupRequired => assert_eq!(d.provider, Provider::GoPay),
            Trust::Signature | Trust::SharedSecret => {
                let index = verified.secret_index.expect("a signature names the secret it matched");
                let mut wrong = secrets.clone();
                wrong[index] = "not-the-secret";
                let again = verify(d.provider, &wrong, &d.headers, &d.query, d.body, NOW);
                assert!(again.is_err(), "verified without its secret: {again:?}");
            }
        }
    }
    round_trip(d.provider, d.body);
});

/// The configured secrets: a rotation of two for HMAC providers; the public key for Paddle
/// Classic.
fn secrets(provider: Provider, secret: &'static str) -> Vec<&'static str> {
    match provider {
        Provider::PaddleClassic => vec![paddle_classic::TEST_PUBLIC_KEY_PEM],
        _ => vec![OTHER_SECRET, secret],
    }
}

/// Signs `body` as `provider` would, checks it verifies, then that one byte more does not.
fn round_trip(provider: Provider, body: &[u8]) {
    let Some((headers, query, body)) = signed(provider, body) else { return };
    let secrets = secrets(provider, SECRET);
    let verified = verify(provider, &secrets, &headers, &query, &body, NOW);
    assert!(verified.is_ok(), "a correctly signed {provider} delivery was refused: {verified:?}");
    let mut tampered = body;
    // Paddle Classic signs form fields, so the byte more is a field more.
    tampered.extend_from_slice(if provider == Provider::PaddleClassic { b"&fuzz=1" } else { b" " });
    let refused = verify(provider, &secrets, &headers, &query, &tampered, NOW);
    assert!(
        matches!(refused, Err(VerifyError::BadSignature | VerifyError::Malformed(_))),
        "a tampered {provider} delivery was not refused: {refused:?}"
    );
}

/// `body` as a correctly signed delivery `(headers, query, body)`; `None` where the provider
/// signs no body (Gumroad authenticates the URL, GoPay nothing) or, for Paddle Classic, the
/// input is not one of the sampled small forms.
fn signed(provider: Provider, body: &[u8]) -> Option<fixtures::Delivery> {
    let one = |name: &str, value: String| vec![(name.to_string(), value)];
    let headers = match provider {
        Provider::Stripe => one("Stripe-Signature", fixtures::stripe::sign(SECRET, NOW, body)),
        Provider::Paddle => one("Paddle-Signature", fixtures::paddle::sign(SECRET, NOW, body)),
        Provider::LemonSqueezy => one("X-Signature", fixtures::lemonsqueezy::sign(SECRET, body)),
        Provider::Creem => one("creem-signature", fixtures::creem::sign(SECRET, body)),
        Provider::Polar => return Some(fixtures::polar::delivery(SECRET, "msg_fuzz", NOW, body.to_vec())),
        Provider::Gumroad | Provider::GoPay => return None,
        Provider::PaddleClassic => {
            // An RSA signature takes milliseconds: sign one form in 32 (picked by a hash of the
            // bytes, so a crash reproduces), which keeps the target near its HMAC speed.
            if body.iter().fold(0u8, |h, b| h.wrapping_mul(31).wrapping_add(*b)) % 32 != 0 {
                return None;
            }
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
            if fields.len() > 40 || fields.iter().any(|(k, _)| k == "p_signature") {
                return None;
            }
            return Some(paddle_classic::delivery(paddle_classic::TEST_PRIVATE_KEY_PEM, fields));
        }
    };
    Some((headers, String::new(), body.to_vec()))
}
