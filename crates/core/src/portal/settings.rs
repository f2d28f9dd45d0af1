//! The merchant's choices about the affiliate side's mails.

use crate::{Actor, Core, CoreResult};

impl Core {
    /// Whether affiliates whose application the merchant rejects get a mail (default: no).
    pub async fn rejected_affiliate_mails(&self, actor: &Actor) -> CoreResult<bool> {
        Ok(self.store.mails_rejected_affiliates(&actor.merchant_id).await?)
    }

    /// Turns the rejection mail on or off. Audited as `settings.rejected_affiliate_mails`.
    pub async fn set_rejected_affiliate_mails(&self, actor: &Actor, on: bool) -> CoreResult<()> {
        self.audited(actor, "settings.rejected_affiliate_mails", None, async {
            actor.require_write()?;
            actor.require_live("Affiliate mail settings")?;
            Ok(self.store.set_mails_rejected_affiliates(&actor.merchant_id, on).await?)
        })
        .await
    }
}
