//! The audit trail of operations: every write operation, successful or refused, says who did
//! what to which object through which door — whichever door called it.
//!
//! An operation wraps its work in [`Core::audited`], which hands one [`AuditRecord`] to
//! [`crate::Effects::audited`] when the work ends. The runner decides where the record goes: the
//! server folds an API request's record into that request's entry (so a request is one line of
//! the log, with its method, path and status as well), and stores every other door's record as
//! its own entry; the command line stores its records before it exits.

use std::future::Future;

use refline_store::{AuditEntry, AuditFilter};

use crate::{Actor, Core, CoreResult, Door};

/// The most entries one read of the log answers.
pub const AUDIT_PAGE_MAX: i64 = 200;

/// One write operation as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The merchant whose data the operation touched (or tried to).
    pub merchant_id: Option<String>,
    /// Which way it came in, with the key or user where there is one.
    pub door: Door,
    /// What was done, `<object>.<verb>` (`campaign.create`, `conversion.status`…).
    pub operation: &'static str,
    /// The object acted on, when one is known (the new object's id for a creation).
    pub target_id: Option<String>,
    /// The error code when the operation was refused; `None` when it succeeded.
    pub error_code: Option<&'static str>,
    /// When it ended (unix ms, from the core's clock).
    pub at: i64,
}

/// What an operation's result names as the object it made, for the audit log.
pub trait AuditTarget {
    /// The id of the object the operation produced, if it produced one.
    fn audit_target(&self) -> Option<String> {
        None
    }
}

impl AuditTarget for () {}
impl AuditTarget for String {}
impl AuditTarget for (String, String) {}
impl AuditTarget for crate::accounts::CreatedMerchant {}

impl Door {
    /// The door's name as the audit log stores it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Door::ApiKey { .. } => "api",
            Door::Dashboard { .. } => "dashboard",
            Door::Mcp { .. } => "mcp",
            Door::Cli => "cli",
            Door::Processor { .. } => "processor",
            Door::Import { .. } => "import",
            Door::System { .. } => "system",
            Door::Portal { .. } => "portal",
        }
    }

    /// The signed-in person behind a dashboard door, or the affiliate person behind the portal
    /// door (an empty id, as a login for an unknown email reports, is no one). The audit log
    /// keeps either in `user_id`; the door tells which kind it is.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Door::Dashboard { user_id, .. } if !user_id.is_empty() => Some(user_id),
            Door::Portal { person_id } if !person_id.is_empty() => Some(person_id),
            _ => None,
        }
    }

    /// The API key behind the door, for the doors that authenticate with one.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Door::ApiKey { key_id } | Door::Mcp { key_id } => Some(key_id),
            _ => None,
        }
    }
}

impl Core {
    /// The actor's brand's audit entries matching `filter`, newest first, at most `limit`
    /// (kept within 1..=[`AUDIT_PAGE_MAX`]). Blank filter texts filter nothing. A read any team
    /// member may make: it shows what was done to the brand, by whom and through which door.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        limit: i64,
    ) -> CoreResult<Vec<AuditEntry>> {
        let blank_is_none = |text: &Option<String>| {
            text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
        };
        let filter = AuditFilter {
            door: blank_is_none(&filter.door),
            operation: blank_is_none(&filter.operation),
            failed_only: filter.failed_only,
            before: filter.before,
        };
        let limit = limit.clamp(1, AUDIT_PAGE_MAX);
        Ok(self.store.filtered_audit_entries(&actor.merchant_id, &filter, limit).await?)
    }

    /// Runs `work`, then records it in the audit log as `operation` on `target` (or on the object
    /// the result names), succeeded or refused with its code. Every write operation goes through
    /// here, so no door can skip the log.
    pub async fn audited<T: AuditTarget>(
        &self,
        actor: &Actor,
        operation: &'static str,
        target: Option<&str>,
        work: impl Future<Output = CoreResult<T>>,
    ) -> CoreResult<T> {
        let result = work.await;
        self.record_audit(Some(&actor.merchant_id), &actor.door, operation, target, &result).await;
        result
    }

    /// The audit record of one operation of `actor` that ended with `result` (for operations
    /// that keep a page of records and hand them over together).
    pub(crate) fn audit_record<T: AuditTarget>(
        &self,
        actor: &Actor,
        operation: &'static str,
        result: &CoreResult<T>,
    ) -> AuditRecord {
        AuditRecord {
            merchant_id: Some(actor.merchant_id.clone()),
            door: actor.door.clone(),
            operation,
            target_id: result.as_ref().ok().and_then(AuditTarget::audit_target),
            error_code: result.as_ref().err().map(|e| e.code),
            at: self.now(),
        }
    }

    /// Records an operation that has no merchant actor yet (creating a merchant, managing keys
    /// from the command line): the merchant is the one acted on, when known.
    pub(crate) async fn record_audit<T: AuditTarget>(
        &self,
        merchant_id: Option<&str>,
        door: &Door,
        operation: &'static str,
        target: Option<&str>,
        result: &CoreResult<T>,
    ) {
        let target_id = match (target, result) {
            (Some(id), _) => Some(id.to_string()),
            (None, Ok(value)) => value.audit_target(),
            (None, Err(_)) => None,
        };
        let record = AuditRecord {
            merchant_id: merchant_id.map(str::to_string),
            door: door.clone(),
            operation,
            target_id,
            error_code: result.as_ref().err().map(|e| e.code),
            at: self.now(),
        };
        self.effects.audited(record).await;
    }
}

/// The objects write operations answer, and the id each names for the log.
mod targets {
    use refline_store::{Conversion, InboxEntry};

    use super::AuditTarget;
    use crate::{
        affiliates::{AffiliateDetail, CreatedAffiliate},
        campaigns::CampaignView,
        connections::ConnectionOut,
        coupons::Registered,
        links::LinkOut,
        outbound::{DeliveryOut, EndpointOut, TestDispatch},
    };

    macro_rules! target {
        ($($t:ty => |$v:ident| $id:expr;)*) => {$(
            impl AuditTarget for $t {
                fn audit_target(&self) -> Option<String> {
                    let $v = self;
                    Some($id.clone())
                }
            }
        )*};
    }

    impl AuditTarget for Vec<crate::payouts::render::PayoutView> {}
    impl AuditTarget for crate::payouts::settings::SettingsView {}

    target! {
        crate::payouts::render::PayoutView => |v| v.payout.id;
        crate::payouts::export::ExportFile => |v| v.export_id;
        CampaignView => |v| v.campaign.id;
        CreatedAffiliate => |v| v.affiliate.id;
        AffiliateDetail => |v| v.affiliate.id;
        ConnectionOut => |v| v.integration.id;
        Registered => |v| v.coupon.id;
        LinkOut => |v| v.view.link.id;
        EndpointOut => |v| v.endpoint.id;
        TestDispatch => |v| v.attempt.delivery_id;
        DeliveryOut => |v| v.delivery.id;
        Conversion => |v| v.id;
        InboxEntry => |v| v.id;
    }
}
