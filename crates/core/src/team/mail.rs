//! The mails people get from the dashboard side: a team invitation, a password reset. Plain
//! text, rendered here once; the outbox delivers them (the affiliate portal will add its own).

use refline_store::OutgoingMail;

use crate::{ids::new_id, Core};

impl Core {
    /// A team invitation to `brand` from `inviter`, with the link that accepts it.
    pub(crate) fn invitation_mail(
        &self,
        merchant_id: &str,
        to: &str,
        brand: &str,
        inviter: &str,
        token: &str,
    ) -> OutgoingMail {
        let link = format!("{}/auth/invite/{token}", self.public_url);
        let body = format!(
            "{inviter} invited you to help run the affiliate program of {brand} on Refline.\n\n\
             Accept the invitation (the link works for 7 days):\n{link}\n\n\
             If you did not expect this, ignore this mail; nothing happens until you accept.\n"
        );
        OutgoingMail::new(
            new_id("mail"),
            Some(merchant_id),
            "team_invite",
            to,
            &format!("You are invited to {brand} on Refline"),
            body,
            self.now(),
        )
    }

    /// A password-reset link.
    pub(crate) fn reset_mail(&self, to: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/auth/reset/{token}", self.public_url);
        let body = format!(
            "Someone (hopefully you) asked to reset the password of your Refline login.\n\n\
             Choose a new password (the link works for one hour, once):\n{link}\n\n\
             If you did not ask for this, ignore this mail; your password stays as it is.\n"
        );
        OutgoingMail::new(
            new_id("mail"),
            None,
            "password_reset",
            to,
            "Reset your Refline password",
            body,
            self.now(),
        )
    }
}
