//! The API's JSON bodies: `http::body::parse_object` (the one reader of every `/api/v1` body),
//! then the resource reader the first byte picks, which turns the object into the core's typed
//! input. A body that parses holds no forbidden character anywhere; a refusal is a 400
//! `validation_error`; readers never panic; and what the conversion reader hands the core
//! obeys its limits (trimmed, within length, amounts that are JSON number text, an email whose
//! canonical form is stable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use refline_domain::{canonical_email, first_forbidden_char, is_valid_email, parse_amount};
use refline_server::api;
use refline_server::http::body::{parse_object, parse_optional_object};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let parsed = if which & 0x80 == 0 { parse_object(body) } else { parse_optional_object(body) };
    let map = match parsed {
        Ok(map) => map,
        Err(err) => {
            assert_eq!((err.status.as_u16(), err.code), (400, "validation_error"), "{err:?}");
            return;
        }
    };
    for (key, value) in &map {
        no_forbidden(key, value);
    }
    read(which & 0x7f, &map);
});

/// Runs one resource reader over the object (Debug-formatted so nothing is optimised away).
/// Readers that refuse a body themselves must refuse it as a 400 `validation_error`.
fn read(which: u8, map: &Map<String, Value>) {
    let out = match which % 18 {
        0 => return conversion(map),
        1 => format!("{:?}", api::campaigns::read_input(map, true)),
        2 => format!("{:?}", api::campaigns::read_input(map, false)),
        3 => format!("{:?}", api::affiliates::read_new_affiliate(map)),
        4 => format!("{:?}", api::coupons::read_input(map)),
        5 => format!("{:?}", api::links::read_input(map)),
        6 => format!("{:?}", api::webhooks::read_input(map, true)),
        7 => format!("{:?}", api::webhooks::read_input(map, false)),
        8 => format!("{:?}", api::integration_input::read_new(map)),
        9 => format!("{:?}", api::integration_input::read_change(map)),
        10 => format!("{:?}", api::invitations::read_invite(map)),
        11 => format!("{:?}", api::settings::read_input(map)),
        12 => format!("{:?}", api::payouts::read_run(map)),
        13 => refused_as_400(api::affiliates::read_change(map)),
        14 => refused_as_400(api::conversions::read_status_change(map)),
        15 => refused_as_400(api::payouts::read_send(map)),
        16 => refused_as_400(api::payouts::read_complete_export(map)),
        _ => format!(
            "{:?}",
            refline_core::payouts::method::PayoutMethod::from_json(
                &Value::Object(map.clone()),
                "payoutMethod"
            )
        ),
    };
    std::hint::black_box(out);
}

/// A reader's own refusal is a 400 `validation_error`, never an internal error.
fn refused_as_400<T: std::fmt::Debug>(read: Result<T, refline_server::error::ApiError>) -> String {
    if let Err(err) = &read {
        assert_eq!((err.status.as_u16(), err.code), (400, "validation_error"), "{err:?}");
    }
    format!("{read:?}")
}

/// `POST /api/v1/conversions`: the seed's body into `NewConversion`.
fn conversion(map: &Map<String, Value>) {
    let input = api::conversions::read_new_conversion(map);
    let within = |value: &Option<String>, max: usize| {
        if let Some(v) = value {
            assert!(!v.is_empty() && v.trim() == v.as_str() && v.chars().count() <= max, "{v:?}");
        }
    };
    within(&input.campaign_id, 100);
    within(&input.affiliate_id, 100);
    within(&input.order_id, 255);
    within(&input.click_id, 255);
    within(&input.customer_email, 254);
    within(&input.customer_name, 200);
    within(&input.currency, 3);
    within(&input.parent_conversion_id, 100);
    if let Some(amount) = &input.amount {
        assert!(amount.parse::<serde_json::Number>().is_ok(), "amount `{amount}` is not a JSON number");
        for exponent in 0..=3 {
            let _ = parse_amount(amount, exponent);
        }
    }
    if let Some(email) = &input.customer_email {
        let canonical = canonical_email(email);
        assert_eq!(canonical_email(&canonical), canonical, "canonical email of {email:?} is not stable");
        let _ = is_valid_email(&canonical);
    }
}

/// No string or key anywhere in an accepted body holds a character stored text may not.
fn no_forbidden(key: &str, value: &Value) {
    assert_eq!(first_forbidden_char(key), None, "key {key:?}");
    match value {
        Value::String(s) => assert_eq!(first_forbidden_char(s), None, "value {s:?}"),
        Value::Array(items) => items.iter().for_each(|v| no_forbidden("", v)),
        Value::Object(map) => map.iter().for_each(|(k, v)| no_forbidden(k, v)),
        _ => {}
    }
}
