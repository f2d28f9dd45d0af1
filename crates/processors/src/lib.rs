//! Verification and parsing of inbound payment-processor webhooks: Stripe, Paddle Billing,
//! Paddle Classic, Lemon Squeezy, Gumroad, GoPay, Creem and Polar. Pure: no I/O, no clock
//! (callers pass `now`), no floats for money.
//!
//! The server calls [`verify`] over the raw request bytes first, then [`parse`] to turn the
//! delivery into one normalized [`Parsed`] event whose [`Action`] says what happened to money:
//! a [`Payment`], a [`Trial`] start, a [`Refund`], a [`Chargeback`], a [`Link`] (more ids of a
//! payment, or the subscription it started, reported in an event of its own), nothing
//! ([`Action::Ignored`] with a reason for the delivery log), or — GoPay only — a payment id to
//! look up ([`Action::NeedsLookup`], then [`parse_gopay_payment`]).
//!
//! # Duplicates
//!
//! Processors deliver at least once and out of order, and several event types often report the
//! same money. Two keys make that safe:
//! - [`Parsed::event_id`]: the processor's event id (derived from the payload where it has
//!   none) — dedupe deliveries on `(provider, connection, event_id)`;
//! - [`Payment::object_id`]: the business object paid (invoice, transaction, order, sale) —
//!   credit at most one conversion per `(provider, object_id)`. Where two event types report the
//!   same payment both map to the same `object_id` (e.g. Stripe's `checkout.session.completed`
//!   uses the first invoice's id, which `invoice.paid` also reports). Refunds and chargebacks
//!   name the payment by `object_id` plus `aliases` (payment intent, charge, transaction …).
//!
//! Refund amounts: prefer [`Refund::total_refunded_minor`] (cumulative, idempotent) where
//! present; `full` means the whole payment is refunded.
//!
//! Event types reporting money we take from elsewhere answer `Ignored` with a reason naming the
//! canonical event. Per-provider choices are documented on each module: [`stripe`], [`paddle`],
//! [`paddle_classic`], [`lemonsqueezy`], [`gumroad`], [`gopay`], [`creem`], [`polar`].
//!
//! # Attribution
//!
//! [`parse_reference`] reads `tc_<CODE>_aff_<AFFILIATE>[_cid_<CLICK>]`. It is looked for in
//! Stripe's `client_reference_id` and metadata (session, subscription snapshot on invoices,
//! invoice lines), Paddle `custom_data`, Paddle Classic `passthrough`, Lemon Squeezy
//! `meta.custom_data`, Gumroad `url_params[…]` / `custom_fields[…]`, GoPay `additional_params` /
//! `order_number`, Creem `metadata` / `request_id`, Polar `metadata`: first under the keys of
//! [`REFERENCE_KEYS`], then as link parameters `tc` + `aff` (+ `cid`), then in any value.
//! Without a reference, [`Payment::coupon`] carries whatever identifies the discount.

mod error;
mod event;
mod form;
mod headers;
mod json;
mod money;
mod provider;
mod reference;
mod standard_webhooks;
mod time;
mod verify_common;

pub mod creem;
pub mod gopay;
pub mod gumroad;
pub mod lemonsqueezy;
pub mod paddle;
pub mod paddle_classic;
pub mod polar;
pub mod stripe;

#[cfg(feature = "fixtures")]
pub mod fixtures;

pub use error::{ParseError, VerifyError};
pub use event::{
    Action, BillingReason, Chargeback, CouponRef, Link, Parsed, Payment, Reference, Refund, Trial,
};
pub use gopay::parse_payment as parse_gopay_payment;
pub use headers::{Headers, NoHeaders};
pub use money::{decimal_to_minor, exponent as currency_exponent};
pub use provider::Provider;
pub use reference::{parse_reference, REFERENCE_KEYS};
pub use standard_webhooks::verify_standard_webhooks;
pub use time::parse_rfc3339_ms;
pub use verify_common::{Trust, Verification, DEFAULT_TOLERANCE_S};

/// Authenticate a delivery exactly as `provider` signs it, over the raw `body`, with the
/// default timestamp tolerance ([`DEFAULT_TOLERANCE_S`]). See [`verify_with_tolerance`].
pub fn verify(
    provider: Provider,
    secrets: &[&str],
    headers: &dyn Headers,
    query: &str,
    body: &[u8],
    now_unix_s: i64,
) -> Result<Verification, VerifyError> {
    verify_with_tolerance(provider, secrets, headers, query, body, now_unix_s, DEFAULT_TOLERANCE_S)
}

/// Authenticate a delivery. `secrets` are the connection's active secrets (two during a
/// rotation; empty strings are skipped): any may match, and [`Verification::secret_index`] says
/// which did. For Paddle Classic the secrets are the vendor's RSA public keys (PEM). `query` is
/// the raw URL query (Gumroad's `token`, GoPay's `id`). Where the processor signs a timestamp
/// (Stripe, Paddle Billing, Polar) it must be within `tolerance_s` of `now_unix_s` either way,
/// except that Stripe's may be ahead by any amount (as Stripe's SDKs allow); `0` disables the
/// check. Signatures are compared in constant time.
pub fn verify_with_tolerance(
    provider: Provider,
    secrets: &[&str],
    headers: &dyn Headers,
    query: &str,
    body: &[u8],
    now_unix_s: i64,
    tolerance_s: i64,
) -> Result<Verification, VerifyError> {
    match provider {
        Provider::Stripe => {
            stripe::verify(secrets, headers.get(stripe::SIGNATURE_HEADER), body, now_unix_s, tolerance_s)
        }
        Provider::Paddle => {
            paddle::verify(secrets, headers.get(paddle::SIGNATURE_HEADER), body, now_unix_s, tolerance_s)
        }
        Provider::PaddleClassic => paddle_classic::verify(secrets, body),
        Provider::LemonSqueezy => {
            lemonsqueezy::verify(secrets, headers.get(lemonsqueezy::SIGNATURE_HEADER), body)
        }
        Provider::Gumroad => gumroad::verify(secrets, headers, query),
        Provider::GoPay => gopay::verify(query),
        Provider::Creem => creem::verify(secrets, headers.get(creem::SIGNATURE_HEADER), body),
        Provider::Polar => polar::verify(secrets, headers, body, now_unix_s, tolerance_s),
    }
}

/// Parse a verified delivery into a normalized event.
pub fn parse(
    provider: Provider,
    headers: &dyn Headers,
    query: &str,
    body: &[u8],
) -> Result<Parsed, ParseError> {
    match provider {
        Provider::Stripe => stripe::parse(body),
        Provider::Paddle => paddle::parse(body),
        Provider::PaddleClassic => paddle_classic::parse(body),
        Provider::LemonSqueezy => lemonsqueezy::parse(headers, body),
        Provider::Gumroad => gumroad::parse(headers, body),
        Provider::GoPay => gopay::parse(query),
        Provider::Creem => creem::parse(body),
        Provider::Polar => polar::parse(headers, body),
    }
}
