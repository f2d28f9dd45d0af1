//! Integration tests: the real server on port 0, spoken to over HTTP, on SQLite and PostgreSQL.
//! One binary (modules below) so the suite links once.

mod support;

mod binary;
mod conversions;
mod idempotency;
mod seed;
mod store_contract;
