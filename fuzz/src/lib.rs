//! What the fuzz targets share: how one input spells a processor delivery, the secrets and
//! clock the verifiers are given, and the invariants every parsed event must hold.
//!
//! A delivery input reads like a small HTTP message, so seeds are readable and the fuzzer's
//! mutations land in the part that matters:
//!
//! ```text
//! stripe                                  ← provider name (or any line: its first byte picks one)
//! Stripe-Signature: t=1700000000,v1=…     ← header lines, up to an empty line
//!
//! token=…                                 ← the raw URL query (one line)
//! {"id": "evt_…", …}                      ← the body: every byte after that line
//! ```

use refline_processors::{parse_reference, Action, Parsed, Provider, Reference};

/// The clock the verifiers are given; seeds are signed at this time.
pub const NOW: i64 = 1_700_000_000;

/// The connection secret of every HMAC provider and Gumroad's token.
pub const SECRET: &str = "whsec_fuzz_secret";

/// A second, never-matching secret (a rotation in progress).
pub const OTHER_SECRET: &str = "whsec_other_secret";

/// One processor delivery read from fuzz input.
#[derive(Debug)]
pub struct Delivery<'a> {
    pub provider: Provider,
    pub headers: Vec<(String, String)>,
    pub query: String,
    pub body: &'a [u8],
}

/// Reads the format above. Never fails: a missing part is empty, an unknown provider line is
/// picked by its first byte, so every input reaches some parser.
pub fn delivery(data: &[u8]) -> Delivery<'_> {
    let (first, mut rest) = line(data);
    let name = String::from_utf8_lossy(first);
    let provider = Provider::parse(name.trim()).unwrap_or_else(|| {
        let index = usize::from(first.first().copied().unwrap_or(0)) % Provider::ALL.len();
        Provider::ALL[index]
    });
    let mut headers = Vec::new();
    loop {
        let (header, after) = line(rest);
        rest = after;
        if header.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(header);
        let (name, value) = text.split_once(':').unwrap_or((&text, ""));
        headers.push((name.trim().to_string(), value.trim_start().to_string()));
    }
    let (query, body) = line(rest);
    Delivery { provider, headers, query: String::from_utf8_lossy(query).into_owned(), body }
}

/// The bytes up to the first `\n` (without it) and the bytes after it.
fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// Writes a delivery in the format [`delivery`] reads (for seeds and regression inputs).
pub fn encode(provider: Provider, headers: &[(String, String)], query: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{provider}\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    out.extend_from_slice(format!("\n{query}\n").as_bytes());
    out.extend_from_slice(body);
    out
}

/// What every parsed event promises its consumer (the core's inbound worker), whatever bytes
/// it came from.
pub fn check_parsed(parsed: &Parsed) {
    assert!(!parsed.event_id.is_empty(), "an event needs an id to be deduplicated: {parsed:?}");
    match &parsed.action {
        Action::Payment(p) => {
            check_id(&p.object_id, parsed);
            check_aliases(&p.object_id, &p.aliases);
            check_currency(&p.currency);
            check_reference(p.reference.as_ref());
        }
        Action::TrialStarted(t) => {
            check_id(&t.object_id, parsed);
            check_reference(t.reference.as_ref());
            if let Some(c) = &t.expected_currency {
                check_currency(c);
            }
        }
        Action::Refund(r) => {
            check_id(&r.object_id, parsed);
            check_aliases(&r.object_id, &r.aliases);
            if let Some(c) = &r.currency {
                check_currency(c);
            }
        }
        Action::Chargeback(c) => {
            check_id(&c.object_id, parsed);
            check_aliases(&c.object_id, &c.aliases);
            if let Some(code) = &c.currency {
                check_currency(code);
            }
        }
        Action::Link(l) => check_id(&l.object_id, parsed),
        Action::TransferReversed { transfer_id } => check_id(transfer_id, parsed),
        Action::Ignored { .. } => {}
        Action::NeedsLookup { payment_id } => check_id(payment_id, parsed),
    }
}

fn check_id(id: &str, parsed: &Parsed) {
    assert!(!id.is_empty(), "an object needs an id to be credited once: {parsed:?}");
}

/// Aliases are other ids of the same payment: distinct, and never the primary id itself.
fn check_aliases(primary: &str, aliases: &[String]) {
    for (i, alias) in aliases.iter().enumerate() {
        assert_ne!(alias, primary, "alias repeats the object id");
        assert!(!aliases[..i].contains(alias), "alias listed twice: {aliases:?}");
    }
}

/// Currencies come out as ISO 4217 codes: three upper-case ASCII letters.
pub fn check_currency(code: &str) {
    assert!(
        code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
        "currency `{code}` is not an upper-case ISO 4217 code"
    );
}

/// A reference found in a payload is one the reference parser reads back unchanged.
pub fn check_reference(reference: Option<&Reference>) {
    if let Some(r) = reference {
        assert_eq!(parse_reference(&r.format()).as_ref(), Some(r), "reference does not round-trip");
    }
}
