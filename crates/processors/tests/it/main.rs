//! Integration tests: spec test vectors, per-provider parsing over the spec's example payloads
//! and fixtures, and property tests that nothing panics.

#![allow(clippy::unwrap_used)]

mod creem;
mod fuzz_seeds;
mod gopay;
mod gumroad;
mod lemonsqueezy;
mod paddle;
mod paddle_classic;
mod polar;
mod properties;
mod spec_payloads;
mod stripe;
mod support;
mod vectors;
