//! [`refline_store::AffiliateStore`]: affiliates, their memberships and fingerprints.

use async_trait::async_trait;
use refline_domain::{MembershipStatus, Mode};
use refline_store::{
    render, Affiliate, AffiliateFilter, AffiliateFingerprints, AffiliateSort, AffiliateStore,
    CreateAffiliateOutcome, Membership, MembershipView, OutboxEvent, Page, PageRequest, StoreResult,
};

use sqlx::Executor;

use super::{webhook::emit_events, Conn};
use crate::{Db, Engine};

/// Columns of a membership view; memberships `m`, affiliates `a`, campaigns `c`, `$1` = merchant,
/// `$2` = is_test (the mode). A macro so it can sit inside `concat!`.
macro_rules! membership_view_select {
    () => {
        concat!(
            "SELECT a.id AS affiliate_id, a.email, a.name, a.created_via, c.id AS campaign_id, \
            c.name AS campaign_name, c.tracking_code, c.currency, m.status, m.joined_at, \
            (SELECT ",
            sum_minor!("v.commission_minor"),
            " FROM conversions v \
               WHERE v.campaign_id = m.campaign_id AND v.affiliate_id = m.affiliate_id \
               AND v.is_test = $2 AND v.status NOT IN ('rejected', 'refunded')) AS earnings_minor, \
            COALESCE(t.clicks, 0) AS clicks, COALESCE(t.unique_clicks, 0) AS unique_clicks, \
            COALESCE(t.bot_clicks, 0) AS bot_clicks, COALESCE(t.head_requests, 0) AS head_requests \
         FROM memberships m JOIN affiliates a ON a.id = m.affiliate_id \
         JOIN campaigns c ON c.id = m.campaign_id \
         LEFT JOIN (SELECT campaign_id, affiliate_id, \
                CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(unique_clicks) AS BIGINT) AS unique_clicks, \
                CAST(SUM(bot_clicks) AS BIGINT) AS bot_clicks, CAST(SUM(head_requests) AS BIGINT) AS head_requests \
              FROM click_totals WHERE merchant_id = $1 GROUP BY campaign_id, affiliate_id) t \
            ON t.campaign_id = m.campaign_id AND t.affiliate_id = m.affiliate_id "
        )
    };
}

/// Filter of membership lists: `$1` merchant, `$3` campaign or NULL, `$4` status or NULL,
/// `$5` a `LIKE` pattern on the affiliate's email or name, or NULL.
macro_rules! membership_filter {
    () => {
        "WHERE m.merchant_id = $1 AND ($3 IS NULL OR m.campaign_id = $3) \
         AND ($4 IS NULL OR m.status = $4) \
         AND ($5 IS NULL OR LOWER(a.email) LIKE $5 ESCAPE '\\' \
              OR LOWER(COALESCE(a.name, '')) LIKE $5 ESCAPE '\\')"
    };
}

/// Inserts affiliate `a` unless the merchant already has one with its email: the id the email
/// belongs to, and whether it was inserted now. One rule for the API's create and the importer.
pub(super) async fn insert_or_find_affiliate(conn: &mut Conn, a: &Affiliate) -> StoreResult<(String, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO affiliates (id, merchant_id, email, name, created_via, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (merchant_id, email) DO NOTHING",
    )
    .bind(&a.id)
    .bind(&a.merchant_id)
    .bind(&a.email)
    .bind(&a.name)
    .bind(&a.created_via)
    .bind(a.created_at)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() > 0 {
        return Ok((a.id.clone(), true));
    }
    let existing: String =
        sqlx::query_scalar("SELECT id FROM affiliates WHERE merchant_id = $1 AND email = $2")
            .bind(&a.merchant_id)
            .bind(&a.email)
            .fetch_one(&mut *conn)
            .await?;
    Ok((existing, false))
}

/// Inserts one membership, on its own or inside a transaction.
pub(super) async fn insert_membership<'e>(
    db: impl Executor<'e, Database = Db>,
    m: &Membership,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO memberships (campaign_id, affiliate_id, merchant_id, status, joined_at, \
            updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&m.campaign_id)
    .bind(&m.affiliate_id)
    .bind(&m.merchant_id)
    .bind(m.status)
    .bind(m.joined_at)
    .bind(m.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Writes an affiliate event about membership `m` (now `status`) into the outbox of the open
/// transaction `conn`.
pub(super) async fn announce_membership(
    conn: &mut Conn,
    m: &Membership,
    event: &'static str,
    status: &str,
    now: i64,
) -> StoreResult<()> {
    let affiliate: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT email, name FROM affiliates WHERE id = $1")
            .bind(&m.affiliate_id)
            .fetch_optional(&mut *conn)
            .await?;
    let (email, name) = affiliate.unwrap_or_default();
    let event = OutboxEvent {
        merchant_id: m.merchant_id.clone(),
        event,
        data: render::membership_event(&m.affiliate_id, &m.campaign_id, &email, name.as_deref(), status, now),
        at: now,
    };
    emit_events(conn, std::slice::from_ref(&event)).await
}

#[async_trait]
impl AffiliateStore for Engine {
    async fn create_affiliate(
        &self,
        a: &Affiliate,
        m: &Membership,
        mode: Mode,
    ) -> StoreResult<CreateAffiliateOutcome> {
        let mut tx = self.begin_write().await?;
        let (existing_id, created) = insert_or_find_affiliate(&mut tx, a).await?;
        if !created {
            tx.rollback().await?;
            return Ok(CreateAffiliateOutcome::EmailTaken { existing_id });
        }
        insert_membership(&mut *tx, m).await?;
        if mode.is_live() {
            let event = OutboxEvent {
                merchant_id: a.merchant_id.clone(),
                event: "affiliate.joined",
                data: render::membership_event(
                    &a.id,
                    &m.campaign_id,
                    &a.email,
                    a.name.as_deref(),
                    m.status.as_str(),
                    m.joined_at,
                ),
                at: m.joined_at,
            };
            emit_events(&mut tx, std::slice::from_ref(&event)).await?;
        }
        tx.commit().await?;
        Ok(CreateAffiliateOutcome::Created)
    }

    async fn insert_membership(&self, m: &Membership) -> StoreResult<()> {
        insert_membership(self.writer(), m).await?;
        Ok(())
    }

    async fn get_affiliate(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Affiliate>> {
        Ok(sqlx::query_as("SELECT * FROM affiliates WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn get_membership(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
    ) -> StoreResult<Option<Membership>> {
        Ok(sqlx::query_as(
            "SELECT * FROM memberships \
             WHERE merchant_id = $1 AND campaign_id = $2 AND affiliate_id = $3",
        )
        .bind(merchant_id)
        .bind(campaign_id)
        .bind(affiliate_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn update_membership_status(
        &self,
        m: &Membership,
        from: MembershipStatus,
        to: MembershipStatus,
        now: i64,
        mode: Mode,
        mail: Option<&refline_store::OutgoingMail>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE memberships SET status = $5, updated_at = $6 \
             WHERE merchant_id = $1 AND campaign_id = $2 AND affiliate_id = $3 \
             AND status = $4",
        )
        .bind(&m.merchant_id)
        .bind(&m.campaign_id)
        .bind(&m.affiliate_id)
        .bind(from)
        .bind(to)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if mode.is_live() {
            let event = refline_domain::membership_status_event(to);
            announce_membership(&mut tx, m, event, to.as_str(), now).await?;
        }
        if let Some(mail) = mail {
            super::mail::insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_membership(&self, m: &Membership, now: i64, mode: Mode) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM memberships WHERE merchant_id = $1 AND campaign_id = $2 AND affiliate_id = $3",
        )
        .bind(&m.merchant_id)
        .bind(&m.campaign_id)
        .bind(&m.affiliate_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if mode.is_live() {
            announce_membership(&mut tx, m, "affiliate.removed", "removed", now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn affiliate_memberships(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        mode: Mode,
    ) -> StoreResult<Vec<MembershipView>> {
        Ok(sqlx::query_as(concat!(
            membership_view_select!(),
            "WHERE m.merchant_id = $1 AND m.affiliate_id = $3 ORDER BY m.joined_at, c.id"
        ))
        .bind(merchant_id)
        .bind(mode)
        .bind(affiliate_id)
        .fetch_all(self.reader())
        .await?)
    }

    async fn list_memberships(
        &self,
        merchant_id: &str,
        filter: &AffiliateFilter,
        mode: Mode,
        page: PageRequest<AffiliateSort>,
    ) -> StoreResult<Page<MembershipView>> {
        let column = match page.sort {
            AffiliateSort::JoinedAt => "m.joined_at",
            AffiliateSort::Name => "a.name",
            AffiliateSort::Email => "a.email",
        };
        // The page's memberships are chosen first (memberships and affiliates only), so the
        // earnings and click totals are computed for those rows alone, not for every membership
        // the sort passes over.
        let sql = format!(
            "{} WHERE m.merchant_id = $1 AND (m.campaign_id, m.affiliate_id) IN (\
                SELECT m.campaign_id, m.affiliate_id FROM memberships m \
                JOIN affiliates a ON a.id = m.affiliate_id {} \
                ORDER BY {column} {dir}, a.id {dir}, m.campaign_id {dir} LIMIT $6 OFFSET $7) \
             ORDER BY {column} {dir}, a.id {dir}, c.id {dir}",
            membership_view_select!(),
            membership_filter!(),
            dir = page.direction(),
        );
        let pattern = filter.search_pattern();
        let items = sqlx::query_as(&sql)
            .bind(merchant_id)
            .bind(mode)
            .bind(filter.campaign_id.as_deref())
            .bind(filter.status)
            .bind(pattern.as_deref())
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.reader())
            .await?;
        // $2 is unused by the count but keeps the placeholder numbering shared.
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM memberships m JOIN affiliates a ON a.id = m.affiliate_id ",
            membership_filter!(),
            " AND ($2 IS NULL OR TRUE)"
        ))
        .bind(merchant_id)
        .bind(mode)
        .bind(filter.campaign_id.as_deref())
        .bind(filter.status)
        .bind(pattern.as_deref())
        .fetch_one(self.reader())
        .await?;
        Ok(Page { items, total })
    }

    async fn record_fingerprint(
        &self,
        affiliate_id: &str,
        kind: &str,
        value: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO affiliate_fingerprints (affiliate_id, kind, value, seen_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (affiliate_id, kind, value) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(affiliate_id)
        .bind(kind)
        .bind(value)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn affiliate_fingerprints(&self, affiliate_id: &str) -> StoreResult<AffiliateFingerprints> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, value FROM affiliate_fingerprints WHERE affiliate_id = $1")
                .bind(affiliate_id)
                .fetch_all(self.reader())
                .await?;
        Ok(AffiliateFingerprints::from_rows(rows))
    }
}
