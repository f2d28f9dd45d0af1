//! The people who run a brand: their roles and grantable rights, seats per plan, brands per
//! plan, the password rule and the login throttle. Pure rules; the core applies them.

use crate::Plan;

/// A team member's role on one brand (spec §1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Owns the account: everything, including the team, brands and billing.
    Owner,
    /// Runs the program: everything but the team, brands and billing; payouts and API keys
    /// included.
    Admin,
    /// Works the program (campaigns, affiliates, commissions, integrations, webhooks); payouts
    /// and API keys only when granted.
    Member,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Inverse of [`Role::as_str`], ignoring ASCII case.
    pub fn parse(text: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// A right that is checked beyond plain program work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Run payouts, mark them paid, change payout settings.
    ManagePayouts,
    /// Create and revoke API keys.
    ManageKeys,
    /// Invite and remove team members, create and archive brands (owner only).
    ManageTeam,
    /// Change the brand's business details (owners and admins).
    ManageBusiness,
}

/// What one person may do on one brand: their role and the rights granted at invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants {
    /// Role on the brand.
    pub role: Role,
    /// "Manage payouts" was granted (always true for owners and admins).
    pub manage_payouts: bool,
    /// "Manage API keys" was granted (always true for owners and admins).
    pub manage_keys: bool,
}

impl Grants {
    /// The owner's grants: everything.
    pub const OWNER: Grants = Grants { role: Role::Owner, manage_payouts: true, manage_keys: true };

    /// Whether these grants include `grant`.
    pub fn allows(&self, grant: Grant) -> bool {
        match (self.role, grant) {
            (Role::Owner, _) => true,
            (_, Grant::ManageTeam) => false,
            (Role::Admin, _) => true,
            (Role::Member, Grant::ManageBusiness) => false,
            (Role::Member, Grant::ManagePayouts) => self.manage_payouts,
            (Role::Member, Grant::ManageKeys) => self.manage_keys,
        }
    }
}

/// Team seats (people besides the owner) a plan includes (spec §2): Starter 0, Pro 2,
/// Ultimate 20, Scale 20 (the spec does not say; Scale is sold above Ultimate).
pub fn default_seats(plan: Plan) -> u32 {
    match plan {
        Plan::Starter => 0,
        Plan::Pro => 2,
        Plan::Ultimate | Plan::Scale => 20,
    }
}

/// Whether an account on `plan` may run more than one brand (spec §1.2: Starter and Scale are
/// single-brand).
pub fn allows_several_brands(plan: Plan) -> bool {
    matches!(plan, Plan::Pro | Plan::Ultimate)
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (Argon2 takes any length; this bounds the work one request asks).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a password is refused, or `None` when it is acceptable: 10 to 256 characters and not
/// the email address itself. Length is what matters (NIST SP 800-63B); no composition rules.
pub fn password_problem(password: &str, email: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some("password must be at least 10 characters");
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some("password must be at most 256 characters");
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Some("password must not be your email address");
    }
    None
}

/// How far back failed logins count.
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed logins for one account within the window before further attempts are refused.
pub const LOGIN_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins from one IP address within the window before further attempts are refused
/// (higher: offices share addresses).
pub const LOGIN_FAILURES_PER_IP: i64 = 30;

/// Whether another login attempt may be tried, given the failures within [`LOGIN_WINDOW_MS`]
/// for the account and for the address.
pub fn login_allowed(account_failures: i64, ip_failures: i64) -> bool {
    account_failures < LOGIN_FAILURES_PER_ACCOUNT && ip_failures < LOGIN_FAILURES_PER_IP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse(" ADMIN "), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn grants_follow_the_role_and_what_was_granted() {
        let member = Grants { role: Role::Member, manage_payouts: false, manage_keys: true };
        assert!(!member.allows(Grant::ManagePayouts));
        assert!(member.allows(Grant::ManageKeys));
        assert!(!member.allows(Grant::ManageTeam));
        let admin = Grants { role: Role::Admin, manage_payouts: false, manage_keys: false };
        assert!(admin.allows(Grant::ManagePayouts) && admin.allows(Grant::ManageKeys));
        assert!(!admin.allows(Grant::ManageTeam));
        assert!(Grants::OWNER.allows(Grant::ManageTeam));
    }

    #[test]
    fn passwords_need_length_not_composition() {
        assert!(password_problem("short", "a@b.co").is_some());
        assert!(password_problem("correct horse battery", "a@b.co").is_none());
        assert!(password_problem("someone@example.com", "Someone@example.com").is_some());
        assert!(password_problem(&"x".repeat(257), "a@b.co").is_some());
    }

    #[test]
    fn the_throttle_counts_account_and_address_separately() {
        assert!(login_allowed(4, 29));
        assert!(!login_allowed(5, 0));
        assert!(!login_allowed(0, 30));
    }

    #[test]
    fn seats_and_brands_per_plan() {
        assert_eq!(default_seats(Plan::Starter), 0);
        assert_eq!(default_seats(Plan::Pro), 2);
        assert_eq!(default_seats(Plan::Ultimate), 20);
        assert!(!allows_several_brands(Plan::Starter));
        assert!(allows_several_brands(Plan::Ultimate));
    }
}
