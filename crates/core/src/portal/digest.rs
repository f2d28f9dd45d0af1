//! The "new commission credited" mail: what counts is a new live sale with a commission above
//! zero that is not rejected ([`refline_store::affiliate_mail::credits_commission`]), on an
//! affiliate row that has a portal login (the mail links to the portal). The conversion batch
//! writer adds each such sale to its affiliate's pending digest in the sale's own transaction;
//! this step, run by a worker on every node, sends each affiliate row (one per business) at most
//! one mail an hour summarising everything credited since the last one, the first a minute after
//! the sale that starts it ([`DIGEST_DELAY_MS`]). Test-key sales are
//! never added, so never mailed. A person who unsubscribed from the business's commission
//! mails gets none (what was pending is dropped, not saved for later).

use refline_store::{affiliate_mail::COMMISSION_MAIL, DigestItem, OutgoingMail};

use crate::{Core, CoreResult};

/// At most one digest per affiliate row in this time.
pub const DIGEST_INTERVAL_MS: i64 = 60 * 60 * 1000;
/// How long a first sale waits before its digest goes out, so a burst of sales (a launch, a
/// batch import) makes one mail rather than a mail for the first sale and another an hour later.
pub const DIGEST_DELAY_MS: i64 = 60 * 1000;
/// How long a node may take to write a digest before another may.
const LEASE_MS: i64 = 5 * 60 * 1000;

/// One line of a digest: sales on one campaign in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    campaign_id: String,
    currency: String,
    conversions: i64,
    commission_minor: i64,
}

impl Core {
    /// Writes the digests that are due (up to `limit` affiliates); answers how many affiliates
    /// were handled. One that fails keeps its lease until it lapses and is tried again then.
    pub async fn send_commission_digests(&self, limit: i64) -> CoreResult<usize> {
        let now = self.now();
        let due = self
            .store
            .claim_commission_digests(
                now,
                now - DIGEST_INTERVAL_MS,
                now - DIGEST_DELAY_MS,
                now + LEASE_MS,
                limit,
            )
            .await?;
        for (merchant_id, affiliate_id) in &due {
            if let Err(err) = self.send_commission_digest(merchant_id, affiliate_id).await {
                tracing::warn!(%err, merchant_id, affiliate_id, "commission digest not written; retried later");
            }
        }
        Ok(due.len())
    }

    async fn send_commission_digest(&self, merchant_id: &str, affiliate_id: &str) -> CoreResult<()> {
        let items = self.store.commission_digest_items(merchant_id, affiliate_id).await?;
        let mail = match lines_of(&items) {
            lines if lines.is_empty() => None,
            lines => self.commission_mail(merchant_id, affiliate_id, &lines).await?,
        };
        self.store
            .finish_commission_digest(merchant_id, affiliate_id, &items, mail.as_ref(), self.now())
            .await?;
        if mail.is_some() {
            self.effects.mail_written();
        }
        Ok(())
    }

    /// The mail, or `None` when the row has no login or its person stopped these mails.
    async fn commission_mail(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        lines: &[Line],
    ) -> CoreResult<Option<OutgoingMail>> {
        let Some(person) = self.store.person_of_affiliate(merchant_id, affiliate_id).await? else {
            return Ok(None);
        };
        if self.store.mail_unsubscribed(&person.id, merchant_id, COMMISSION_MAIL).await? {
            return Ok(None);
        }
        let business = self.business_name(merchant_id).await?;
        let mut listed = String::new();
        for line in lines {
            let campaign = self
                .store
                .get_campaign(merchant_id, &line.campaign_id)
                .await?
                .map_or_else(|| line.campaign_id.clone(), |c| c.name);
            let sales = if line.conversions == 1 {
                "1 sale".to_string()
            } else {
                format!("{} sales", line.conversions)
            };
            listed.push_str(&format!("- \"{campaign}\": {sales}, {} commission\n", money(line)));
        }
        let count: i64 = lines.iter().map(|l| l.conversions).sum();
        let subject = match lines {
            [only] if only.conversions == 1 => format!("New commission from {business}: {}", money(only)),
            [only] => format!("{count} new commissions from {business}: {}", money(only)),
            _ => format!("{count} new commissions from {business}"),
        };
        let unsubscribe = self.unsubscribe_url(&person.id, merchant_id, COMMISSION_MAIL);
        let stop = unsubscribe
            .as_deref()
            .map(|url| format!("Stop these mails from {business}:\n{url}\n"))
            .unwrap_or_default();
        let body = format!(
            "New commission credited to you for promoting {business}:\n\n{listed}\n\
             Commissions are pending until {business} approves them, and paid in its payout runs.\n\n\
             Your performance and every commission:\n{}/portal/performance\n\n\
             You get at most one of these mails an hour.\n\n{stop}",
            self.public_url
        );
        let mail = self
            .affiliate_mail(Some(merchant_id), COMMISSION_MAIL, &business, &person.email, &subject, body)
            .unsubscribable(unsubscribe);
        Ok(Some(mail))
    }
}

/// `12.50 USD`.
fn money(line: &Line) -> String {
    format!(
        "{} {}",
        refline_domain::format_amount_in(line.commission_minor, &line.currency),
        line.currency.to_uppercase()
    )
}

/// The digest's lines: the shards of each campaign and currency added up, items in key order.
fn lines_of(items: &[DigestItem]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for item in items.iter().filter(|i| i.conversions > 0) {
        match lines.last_mut() {
            Some(last) if last.campaign_id == item.campaign_id && last.currency == item.currency => {
                last.conversions += item.conversions;
                last.commission_minor = last.commission_minor.saturating_add(item.commission_minor);
            }
            _ => lines.push(Line {
                campaign_id: item.campaign_id.clone(),
                currency: item.currency.clone(),
                conversions: item.conversions,
                commission_minor: item.commission_minor,
            }),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use refline_store::DigestItem;

    use super::lines_of;

    fn item(campaign: &str, currency: &str, shard: i64, n: i64, minor: i64) -> DigestItem {
        DigestItem {
            campaign_id: campaign.into(),
            currency: currency.into(),
            shard,
            conversions: n,
            commission_minor: minor,
            first_at: 0,
        }
    }

    #[test]
    fn shards_add_up_and_currencies_stay_apart() {
        let lines = lines_of(&[
            item("c1", "usd", 0, 1, 100),
            item("c1", "usd", 3, 2, 250),
            item("c2", "eur", 0, 1, 70),
            item("c2", "usd", 0, 0, 0),
        ]);
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].conversions, lines[0].commission_minor), (3, 350));
        assert_eq!((lines[1].currency.as_str(), lines[1].commission_minor), ("eur", 70));
    }
}
