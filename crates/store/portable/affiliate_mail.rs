//! [`refline_store::AffiliateMailStore`]: commission digests and mail unsubscribes.

use async_trait::async_trait;
use refline_store::{
    affiliate_mail::DigestAddition, AffiliateMailStore, DigestItem, OutgoingMail, Person, StoreResult,
};

use super::{mail::insert_mail, script::Script};
use crate::Engine;

/// Rows per upsert: 8 binds a row, far below both engines' parameter limits.
const ROWS: usize = 200;

/// Adds a batch's credited sales (`delta`: `refline_store::affiliate_mail::digest_delta` of
/// them) to their affiliates' next digest, as a statement of the batch's script: one multi-row
/// upsert per batch (one row per affiliate, campaign and currency,
/// on the writer's `shard`), so the hot path pays one statement, not one per sale. Deriving
/// digests later from the conversions table instead would need a watermark over rows whose
/// commit order differs from their `created_at`, which can skip a sale.
pub(super) fn add_to_digests<'q>(script: &mut Script<'q>, delta: &'q [DigestAddition], shard: i64) {
    for chunk in delta.chunks(ROWS) {
        let q = script.statement(
            "INSERT INTO commission_digest_items (merchant_id, affiliate_id, campaign_id, currency, shard, \
                conversions, commission_minor, first_at) ",
        );
        q.push_values(chunk, |mut row, add| {
            let (merchant, affiliate, campaign, currency) = &add.key;
            row.push_bind(merchant.as_str())
                .push_bind(affiliate.as_str())
                .push_bind(campaign.as_str())
                .push_bind(currency.as_str())
                .push_bind(shard)
                .push_bind(add.conversions)
                .push_bind(add.commission_minor)
                .push_bind(add.first_at);
        });
        q.push(
            " ON CONFLICT (merchant_id, affiliate_id, campaign_id, currency, shard) DO UPDATE SET \
                conversions = commission_digest_items.conversions + excluded.conversions, \
                commission_minor = commission_digest_items.commission_minor + excluded.commission_minor",
        );
    }
}

#[async_trait]
impl AffiliateMailStore for Engine {
    async fn claim_commission_digests(
        &self,
        now: i64,
        mailed_before: i64,
        settled_before: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let candidates: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.merchant_id, i.affiliate_id FROM commission_digest_items i \
             LEFT JOIN commission_digests d \
                ON d.merchant_id = i.merchant_id AND d.affiliate_id = i.affiliate_id \
             WHERE (d.last_mailed_at IS NULL OR d.last_mailed_at <= $1) \
               AND (d.lease_until IS NULL OR d.lease_until <= $2) \
             GROUP BY i.merchant_id, i.affiliate_id HAVING MIN(i.first_at) <= $4 \
             ORDER BY i.merchant_id, i.affiliate_id LIMIT $3",
        )
        .bind(mailed_before)
        .bind(now)
        .bind(limit)
        .bind(settled_before)
        .fetch_all(self.reader())
        .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for (merchant_id, affiliate_id) in candidates {
            // Claimed only if, at the moment of writing, no other node holds it and it is still
            // due: the conditional upsert decides, so two nodes never both win.
            let won: Option<String> = sqlx::query_scalar(
                "INSERT INTO commission_digests (merchant_id, affiliate_id, last_mailed_at, lease_until) \
                 VALUES ($1, $2, NULL, $3) \
                 ON CONFLICT (merchant_id, affiliate_id) DO UPDATE SET lease_until = excluded.lease_until \
                 WHERE (commission_digests.lease_until IS NULL OR commission_digests.lease_until <= $4) \
                   AND (commission_digests.last_mailed_at IS NULL OR commission_digests.last_mailed_at <= $5) \
                 RETURNING merchant_id",
            )
            .bind(&merchant_id)
            .bind(&affiliate_id)
            .bind(lease_until)
            .bind(now)
            .bind(mailed_before)
            .fetch_optional(self.writer())
            .await?;
            if won.is_some() {
                claimed.push((merchant_id, affiliate_id));
            }
        }
        Ok(claimed)
    }

    async fn commission_digest_items(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
    ) -> StoreResult<Vec<DigestItem>> {
        Ok(sqlx::query_as(
            "SELECT campaign_id, currency, shard, conversions, commission_minor, first_at \
             FROM commission_digest_items WHERE merchant_id = $1 AND affiliate_id = $2 \
             ORDER BY campaign_id, currency, shard",
        )
        .bind(merchant_id)
        .bind(affiliate_id)
        .fetch_all(self.writer())
        .await?)
    }

    async fn finish_commission_digest(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        items: &[DigestItem],
        mail: Option<&OutgoingMail>,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // In key order, as the batch writer upserts them.
        for item in items {
            sqlx::query(
                "UPDATE commission_digest_items SET conversions = conversions - $6, \
                    commission_minor = commission_minor - $7 \
                 WHERE merchant_id = $1 AND affiliate_id = $2 AND campaign_id = $3 AND currency = $4 \
                   AND shard = $5",
            )
            .bind(merchant_id)
            .bind(affiliate_id)
            .bind(&item.campaign_id)
            .bind(&item.currency)
            .bind(item.shard)
            .bind(item.conversions)
            .bind(item.commission_minor)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM commission_digest_items \
             WHERE merchant_id = $1 AND affiliate_id = $2 AND conversions <= 0",
        )
        .bind(merchant_id)
        .bind(affiliate_id)
        .execute(&mut *tx)
        .await?;
        if let Some(mail) = mail {
            insert_mail(&mut *tx, mail).await?;
        }
        sqlx::query(
            "UPDATE commission_digests SET last_mailed_at = $3, lease_until = NULL \
             WHERE merchant_id = $1 AND affiliate_id = $2",
        )
        .bind(merchant_id)
        .bind(affiliate_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn person_of_affiliate(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
    ) -> StoreResult<Option<Person>> {
        Ok(sqlx::query_as(
            "SELECT p.* FROM affiliates a JOIN affiliate_people p ON p.id = a.person_id \
             WHERE a.merchant_id = $1 AND a.id = $2",
        )
        .bind(merchant_id)
        .bind(affiliate_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn mail_unsubscribed(&self, person_id: &str, merchant_id: &str, kind: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT created_at FROM mail_unsubscribes \
             WHERE person_id = $1 AND merchant_id = $2 AND kind = $3",
        )
        .bind(person_id)
        .bind(merchant_id)
        .bind(kind)
        .fetch_optional(self.reader())
        .await?;
        Ok(found.is_some())
    }

    async fn set_mail_subscription(
        &self,
        person_id: &str,
        merchant_id: &str,
        kind: &str,
        subscribed: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let done = if subscribed {
            sqlx::query(
                "DELETE FROM mail_unsubscribes WHERE person_id = $1 AND merchant_id = $2 AND kind = $3",
            )
            .bind(person_id)
            .bind(merchant_id)
            .bind(kind)
            .execute(self.writer())
            .await?
        } else {
            sqlx::query(
                "INSERT INTO mail_unsubscribes (person_id, merchant_id, kind, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, merchant_id, kind) DO NOTHING",
            )
            .bind(person_id)
            .bind(merchant_id)
            .bind(kind)
            .bind(now)
            .execute(self.writer())
            .await?
        };
        Ok(done.rows_affected() > 0)
    }

    async fn mail_unsubscribes(&self, person_id: &str) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT merchant_id, kind FROM mail_unsubscribes WHERE person_id = $1 ORDER BY merchant_id, kind",
        )
        .bind(person_id)
        .fetch_all(self.reader())
        .await?)
    }
}
