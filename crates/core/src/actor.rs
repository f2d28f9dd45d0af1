//! Who is asking: every operation takes an [`Actor`], and decides rights from it, whichever door
//! the request came through.

pub use refline_domain::Mode;
use refline_domain::{ApiAccess, Grant, Grants, Plan};

use crate::error::{CoreError, CoreResult, ErrorKind};

/// What the actor may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rights {
    /// Reads only (a Pro plan's API keys).
    ReadOnly,
    /// Reads and writes.
    ReadWrite,
}

/// Which way a request came in, for the audit log and for door-specific rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Door {
    /// The REST API with an API key.
    ApiKey {
        /// The key's id.
        key_id: String,
    },
    /// The merchant dashboard, as a signed-in user.
    Dashboard {
        /// The user's id.
        user_id: String,
        /// Their role and granted rights on the brand.
        grants: Grants,
    },
    /// The MCP server with an API key.
    Mcp {
        /// The key's id.
        key_id: String,
    },
    /// The command line, run by the operator.
    Cli,
    /// A payment processor's webhook.
    Processor {
        /// `stripe`, `paddle`, …
        provider: String,
    },
    /// An importer from another platform.
    Import {
        /// `rewardful`, `tolt`, …
        source: String,
    },
    /// The affiliate portal and the public join pages, as an affiliate person (an empty id
    /// before one is known, as a login for an unknown email reports).
    Portal {
        /// The person's id (`per_…`).
        person_id: String,
    },
    /// Refline itself, on a schedule (automatic payouts).
    System {
        /// What ran, e.g. `automatic_payouts`.
        task: String,
    },
}

/// The merchant an operation acts for, in which mode, with which rights, through which door.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The merchant (brand) whose data the operation may touch; nothing else is visible.
    pub merchant_id: String,
    /// Live or test.
    pub mode: Mode,
    /// What it may do.
    pub rights: Rights,
    /// The merchant's default currency (new campaigns use it).
    pub currency: String,
    /// Which way the request came in.
    pub door: Door,
}

impl Actor {
    /// The rights a plan gives an API key: `None` when the plan has no API access at all.
    pub fn api_rights(plan: Plan) -> Option<Rights> {
        match plan.api_access() {
            ApiAccess::None => None,
            ApiAccess::ReadOnly => Some(Rights::ReadOnly),
            ApiAccess::ReadWrite => Some(Rights::ReadWrite),
        }
    }

    /// True in test mode.
    pub fn is_test(&self) -> bool {
        self.mode.is_test()
    }

    /// `403 insufficient_permissions` unless the actor may write.
    pub fn require_write(&self) -> CoreResult<()> {
        match self.rights {
            Rights::ReadWrite => Ok(()),
            Rights::ReadOnly => Err(CoreError::new(
                ErrorKind::Forbidden,
                "insufficient_permissions",
                "This key is read-only (Pro plan); writes need an Ultimate or Scale key",
            )),
        }
    }

    /// `403 insufficient_permissions` when a team member's grants lack `grant` (managing
    /// payouts or API keys, or the team itself). Keys and the operator's own doors are governed by
    /// plan rights alone.
    pub fn require_grant(&self, grant: Grant) -> CoreResult<()> {
        match &self.door {
            Door::Dashboard { grants, .. } if !grants.allows(grant) => Err(CoreError::new(
                ErrorKind::Forbidden,
                "insufficient_permissions",
                match grant {
                    Grant::ManagePayouts => {
                        "Managing payouts needs the \"manage payouts\" right; ask the owner"
                    }
                    Grant::ManageKeys => {
                        "Managing API keys needs the \"manage API keys\" right; ask the owner"
                    }
                    Grant::ManageTeam => "Only the account owner manages the team and brands",
                    Grant::ManageBusiness => "Only the owner and admins change business details",
                },
            )),
            _ => Ok(()),
        }
    }

    /// Write rights plus, for a team member, the "manage payouts" right: what every operation
    /// that moves or routes money needs.
    pub fn require_payout_write(&self) -> CoreResult<()> {
        self.require_write()?;
        self.require_grant(Grant::ManagePayouts)
    }

    /// The signed-in person behind a dashboard request.
    pub fn user_id(&self) -> Option<&str> {
        self.door.user_id()
    }

    /// `403 live_key_required` in test mode: what `what` names is shared by live and test
    /// traffic, so a test integration must not be able to alter the real program.
    pub fn require_live(&self, what: &str) -> CoreResult<()> {
        if self.is_test() {
            return Err(CoreError::new(
                ErrorKind::Forbidden,
                "live_key_required",
                format!("{what} can only be created or changed with a live key"),
            ));
        }
        Ok(())
    }
}
