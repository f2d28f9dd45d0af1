//! Helpers shared by the provider tests.

use refline_processors::{
    fixtures::Delivery, parse, verify, Action, Chargeback, Parsed, Payment, Provider, Refund, Trial,
};

pub const NOW: i64 = 1_700_000_000;

/// A fixture delivery must verify with `secret` and then parse.
pub fn verified(provider: Provider, secret: &str, d: &Delivery) -> Parsed {
    let (headers, query, body) = d;
    verify(provider, &[secret], headers, query, body, NOW).unwrap();
    parse(provider, headers, query, body).unwrap()
}

/// Parse a body with no headers or query.
pub fn parse_body(provider: Provider, body: &str) -> Parsed {
    let headers: Vec<(String, String)> = Vec::new();
    parse(provider, &headers, "", body.as_bytes()).unwrap()
}

pub fn payment(p: &Parsed) -> &Payment {
    match &p.action {
        Action::Payment(pay) => pay,
        other => panic!("expected a payment, got {other:?}"),
    }
}

pub fn trial(p: &Parsed) -> &Trial {
    match &p.action {
        Action::TrialStarted(t) => t,
        other => panic!("expected a trial, got {other:?}"),
    }
}

pub fn refund(p: &Parsed) -> &Refund {
    match &p.action {
        Action::Refund(r) => r,
        other => panic!("expected a refund, got {other:?}"),
    }
}

pub fn chargeback(p: &Parsed) -> &Chargeback {
    match &p.action {
        Action::Chargeback(c) => c,
        other => panic!("expected a chargeback, got {other:?}"),
    }
}

/// The reason of an ignored event.
pub fn ignored(p: &Parsed) -> &str {
    match &p.action {
        Action::Ignored { reason } => reason,
        other => panic!("expected ignored, got {other:?}"),
    }
}

pub const REF: &str = "tc_K7PX2MQA_aff_aff_3hG9kQ2mZx81LpWv4Ty0_cid_click_123";

pub fn expected_ref() -> refline_processors::Reference {
    refline_processors::parse_reference(REF).unwrap()
}
