//! Integration tests: the real server on port 0, spoken to over HTTP, on SQLite and PostgreSQL.
//! One binary (modules below) so the suite links once.

// Tests fail loudly on anything unexpected; unwrap is the point here.
#![allow(clippy::unwrap_used)]

mod dashboard_support;
mod portal_browser;
mod portal_join;
mod portal_pages;
mod support;

mod affiliate_invite;
mod balances_paging;
mod binary;
mod browser;
mod cluster;
mod cluster_store;
mod cluster_wake;
mod conversions;
mod core_affiliate_search;
mod core_audit;
mod core_campaigns;
mod core_connections;
mod core_coupons;
mod core_links;
mod core_outbound;
mod core_support;
mod crash;
mod dashboard_affiliates;
mod dashboard_affiliates_return;
mod dashboard_auth;
mod dashboard_browser;
mod dashboard_campaigns;
mod dashboard_commissions;
mod dashboard_integrations;
mod dashboard_migrate;
mod dashboard_overview;
mod dashboard_payout_settings;
mod dashboard_payouts;
mod dashboard_settings;
mod hostile_input;
mod idempotency;
mod integrations;
mod ledger_properties;
mod mcp;
mod mcp_access;
mod mcp_sdk;
mod money;
mod openapi;
mod ops_backup;
mod ops_client_ip;
mod ops_config;
mod ops_deploy;
mod ops_metrics;
mod ops_probes;
mod payouts;
mod payouts_stripe;
mod poisoned_batches;
mod portal_mails;
mod processor_amounts;
mod processor_batches;
mod processor_kits;
mod processor_sdks;
mod processor_streams;
mod processors;
mod receiver;
mod seed;
mod store_contract;
mod store_digests;
mod tracking;
mod trial_modes;
mod webhooks;

mod import_csv;
mod import_fake_rewardful;
mod import_fake_sources;
mod import_fixture_sources;
mod import_rewardful;
mod import_sources;
