//! The mails of the affiliate side. Each is written once as plain text; its HTML part is the
//! same text, escaped, one paragraph per blank-line block, with its links made clickable, so
//! the two parts can never say different things. Sent in the brand's name (the server's From
//! address with the business name in front). The team's mails are in [`crate::team::mail`].
//!
//! None of these is ever written for test-key activity: test invitations are recorded without
//! a mail, and the portal itself only sees live data. The non-essential ones (rejected, and the
//! commission digest of [`super::digest`]) carry a one-click unsubscribe link
//! ([`super::unsubscribe`]).

use refline_domain::MembershipStatus;
use refline_store::{Campaign, OutgoingMail, Person};

use crate::{ids::new_id, terms, Core};

impl Core {
    /// An invitation to `campaign`, with the link that accepts it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn affiliate_invitation_mail(
        &self,
        merchant_id: &str,
        business: &str,
        to: &str,
        name: Option<&str>,
        campaign: &Campaign,
        token: &str,
    ) -> OutgoingMail {
        let link = format!("{}/portal/invite/{token}", self.public_url);
        let greeting = name.map_or_else(|| "Hello,".to_string(), |n| format!("Hello {n},"));
        let description = description_block(campaign);
        let body = format!(
            "{greeting}\n\n{business} invites you to promote \"{}\" as an affiliate.\n\n{description}\
             Commission: {}.\n\nAccept the invitation (the link works for 14 days):\n{link}\n\n\
             If you did not expect this, ignore this mail; nothing happens until you accept.\n",
            campaign.name,
            terms::summary(campaign),
        );
        let subject = format!("{business} invites you to its affiliate program");
        self.affiliate_mail(Some(merchant_id), "affiliate_invite", business, to, &subject, body)
    }

    /// To the brand's owner: someone applied through a join page (or joined, auto-approved).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn application_mail(
        &self,
        merchant_id: &str,
        business: &str,
        to: &str,
        campaign: &Campaign,
        person: &Person,
        affiliate_id: &str,
        status: MembershipStatus,
    ) -> OutgoingMail {
        let who = match &person.name {
            Some(name) => format!("{name} <{}>", person.email),
            None => person.email.clone(),
        };
        let link = format!("{}/merchant/affiliates/{affiliate_id}", self.public_url);
        let what = match status {
            MembershipStatus::Approved => "joined (the campaign approves affiliates automatically)",
            _ => "applied and waits for your review",
        };
        let body = format!("{who} {what} on \"{}\".\n\nReview the affiliate:\n{link}\n", campaign.name);
        let subject = format!("New affiliate application: {}", campaign.name);
        self.affiliate_mail(Some(merchant_id), "affiliate_application", business, to, &subject, body)
    }

    /// The affiliate was approved: their tracking link, and their coupon when they have one.
    pub(crate) fn approved_mail(
        &self,
        merchant_id: &str,
        business: &str,
        to: &str,
        campaign: &Campaign,
        tracking_link: &str,
        coupon: Option<String>,
    ) -> OutgoingMail {
        let coupon =
            coupon.map_or_else(String::new, |c| format!("Your coupon code for your audience: {c}\n\n"));
        let portal = format!("{}/portal", self.public_url);
        let body = format!(
            "You are approved to promote \"{}\" for {business}.\n\nCommission: {}.\n\n\
             Your tracking link:\n{tracking_link}\n\n{coupon}Your programs, links and earnings:\n{portal}\n",
            campaign.name,
            terms::summary(campaign),
        );
        let subject = format!("You are approved: {}", campaign.name);
        self.affiliate_mail(Some(merchant_id), "affiliate_approved", business, to, &subject, body)
    }

    /// The affiliate's application was declined (only when the merchant chose to tell them, to
    /// a person with a portal login, with its unsubscribe link).
    pub(crate) fn rejected_mail(
        &self,
        merchant_id: &str,
        business: &str,
        to: &str,
        campaign: &Campaign,
        unsubscribe: &str,
    ) -> OutgoingMail {
        let stop = format!("\n\nStop these mails from {business}:\n{unsubscribe}");
        let body = format!(
            "{business} reviewed your application to \"{}\" and did not accept it this time.\n\n\
             Thank you for your interest.{stop}\n",
            campaign.name
        );
        let subject = format!("Your application to {}", campaign.name);
        self.affiliate_mail(Some(merchant_id), "affiliate_rejected", business, to, &subject, body)
    }

    /// A portal password-reset link.
    pub(crate) fn portal_reset_mail(&self, to: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/portal/reset/{token}", self.public_url);
        let body = format!(
            "Someone (hopefully you) asked to reset the password of your affiliate login.\n\n\
             Choose a new password (the link works for one hour, once):\n{link}\n\n\
             If you did not ask for this, ignore this mail; your password stays as it is.\n"
        );
        self.affiliate_mail(
            None,
            "affiliate_password_reset",
            "Refline",
            to,
            "Reset your affiliate password",
            body,
        )
    }

    /// The mail a change of membership status sends, in live mode: approved (with the
    /// tracking link and coupon), or rejected when the merchant chose to tell rejected
    /// affiliates, the row has a portal login and the person did not unsubscribe from it.
    /// Built before the change, so the store queues it in the change's own transaction (no
    /// change without its mail, nor the reverse).
    pub(crate) async fn membership_mail(
        &self,
        actor: &crate::Actor,
        affiliate_id: &str,
        campaign_id: &str,
        status: MembershipStatus,
    ) -> crate::CoreResult<Option<OutgoingMail>> {
        if actor.is_test() {
            return Ok(None);
        }
        let merchant_id = actor.merchant_id.as_str();
        let wanted = match status {
            MembershipStatus::Approved => true,
            MembershipStatus::Rejected => self.store.mails_rejected_affiliates(merchant_id).await?,
            MembershipStatus::Pending => false,
        };
        let (true, Some(affiliate), Some(campaign)) = (
            wanted,
            self.store.get_affiliate(merchant_id, affiliate_id).await?,
            self.store.get_campaign(merchant_id, campaign_id).await?,
        ) else {
            return Ok(None);
        };
        let business = self.business_name(merchant_id).await?;
        if status == MembershipStatus::Approved {
            let coupon = self.coupon_of(merchant_id, campaign_id, affiliate_id).await?;
            let link =
                crate::affiliates::tracking_link(&self.public_url, &campaign.tracking_code, affiliate_id);
            return Ok(Some(self.approved_mail(
                merchant_id,
                &business,
                &affiliate.email,
                &campaign,
                &link,
                coupon,
            )));
        }
        let kind = super::unsubscribe::REJECTED_MAIL;
        let Some(unsubscribe) = self.wants_mail(merchant_id, affiliate_id, kind).await? else {
            return Ok(None);
        };
        let mail = self.rejected_mail(merchant_id, &business, &affiliate.email, &campaign, &unsubscribe);
        Ok(Some(mail.unsubscribable(Some(unsubscribe))))
    }

    /// "Payout sent" to the affiliate of a live payout being completed (with the completion's
    /// `reference`, else the payout's): the amount, the business and the reference. Essential
    /// (it is about their money), so it has no unsubscribe. Built before the completion, so the
    /// store writes it in the completion's own transaction, as the membership mails are.
    pub(crate) async fn payout_sent_mail(
        &self,
        payout: &refline_store::Payout,
        reference: Option<&str>,
    ) -> crate::CoreResult<Option<OutgoingMail>> {
        if payout.mode.is_test() {
            return Ok(None);
        }
        let merchant_id = payout.merchant_id.as_str();
        let Some(affiliate) = self.store.get_affiliate(merchant_id, &payout.affiliate_id).await? else {
            return Ok(None);
        };
        let business = self.business_name(merchant_id).await?;
        let amount = format!(
            "{} {}",
            refline_domain::format_amount_in(payout.amount_minor, &payout.currency),
            payout.currency.to_uppercase()
        );
        let reference = reference
            .or(payout.reference.as_deref())
            .map(|r| format!("Reference: {r}\n\n"))
            .unwrap_or_default();
        let body = format!(
            "{business} has paid you {amount}.\n\n{reference}Your balance and payout history:\n{}/portal/payouts\n",
            self.public_url
        );
        let subject = format!("{business} paid you {amount}");
        Ok(Some(self.affiliate_mail(
            Some(merchant_id),
            "payout_sent",
            &business,
            &affiliate.email,
            &subject,
            body,
        )))
    }

    pub(crate) fn affiliate_mail(
        &self,
        merchant_id: Option<&str>,
        kind: &str,
        sender: &str,
        to: &str,
        subject: &str,
        body: String,
    ) -> OutgoingMail {
        let html = html_of(&body);
        OutgoingMail::new(new_id("mail"), merchant_id, kind, to, subject, body, self.now())
            .branded(html, sender)
    }
}

/// The campaign's description as a paragraph, if it has one.
fn description_block(campaign: &Campaign) -> String {
    match campaign.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(text) => format!("{text}\n\n"),
        None => String::new(),
    }
}

/// The HTML part of a plain-text mail: escaped, paragraphs from blank-line blocks, lines that
/// are a URL made links.
pub fn html_of(text: &str) -> String {
    let mut out = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5;max-width:36em\">",
    );
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        out.push_str("<p>");
        for (i, line) in block.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            let escaped = escape(line);
            if (line.starts_with("https://") || line.starts_with("http://"))
                && !line.contains(char::is_whitespace)
            {
                out.push_str(&format!("<a href=\"{escaped}\">{escaped}</a>"));
            } else {
                out.push_str(&escaped);
            }
        }
        out.push_str("</p>");
    }
    out.push_str("</body></html>");
    out
}

/// HTML-escapes text for element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::html_of;

    #[test]
    fn the_html_part_escapes_and_links() {
        let html = html_of("Hi <b>&\n\nGo:\nhttps://x.test/a?b=1&c=\"2\"\n");
        assert!(html.contains("<p>Hi &lt;b&gt;&amp;</p>"));
        assert!(html.contains("<a href=\"https://x.test/a?b=1&amp;c=&quot;2&quot;\">"));
        assert!(!html.contains("<b>"));
    }
}
