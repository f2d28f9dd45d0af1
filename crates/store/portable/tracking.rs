//! [`refline_store::TrackingStore`]: what tracking links resolve to, clicks and their totals,
//! short links, visitor salts.

use async_trait::async_trait;
use refline_store::{
    tracking, Click, ClickFilter, ClickTally, ClickTotals, Link, LinkFilter, LinkView, Page, PageRequest,
    StoreResult, TrackingStore, TrackingTarget,
};

use sqlx::QueryBuilder;

use super::rollup;
use crate::{Db, Engine};

/// Columns of a tracking target; campaigns `c`, memberships `m`. A macro so it can sit inside
/// `concat!`.
macro_rules! tracking_target_select {
    () => {
        "SELECT c.merchant_id, c.id AS campaign_id, c.tracking_code, m.affiliate_id, c.target_url, \
            c.cookie_window_days, c.status AS campaign_status, m.status AS membership_status"
    };
}

/// A target with the index of the pair it answers (batched lookups).
#[derive(sqlx::FromRow)]
struct IndexedTarget {
    i: i64,
    #[sqlx(flatten)]
    target: TrackingTarget,
}

/// Columns of a link view; links `l`, campaigns `c`. A macro so it can sit inside `concat!`.
macro_rules! link_view_select {
    () => {
        "SELECT l.*, c.tracking_code, \
            COALESCE(t.clicks, 0) AS clicks, COALESCE(t.unique_clicks, 0) AS unique_clicks, \
            COALESCE(t.bot_clicks, 0) AS bot_clicks, COALESCE(t.head_requests, 0) AS head_requests \
         FROM links l JOIN campaigns c ON c.id = l.campaign_id \
         LEFT JOIN click_totals t ON t.campaign_id = l.campaign_id \
            AND t.affiliate_id = l.affiliate_id AND t.link_id = l.id "
    };
}

/// An INSERT of the click rows `chunk` that skips ids already stored; with `returning`, it
/// returns the ids of the rows it wrote.
fn insert_clicks<'a>(chunk: &[&'a Click], returning: bool) -> QueryBuilder<'a, Db> {
    let mut query = QueryBuilder::new(
        "INSERT INTO clicks (merchant_id, id, campaign_id, affiliate_id, link_id, source, \
            kind, is_unique, ip, device_hash, landing_url, referrer, created_at) ",
    );
    query.push_values(chunk.iter().copied(), |mut row, k| {
        // Borrowed `&str` binds: SQLite copies an owned String per bind.
        row.push_bind(k.merchant_id.as_str())
            .push_bind(k.id.as_str())
            .push_bind(k.campaign_id.as_str())
            .push_bind(k.affiliate_id.as_str())
            .push_bind(k.link_id.as_deref())
            .push_bind(k.source.as_str())
            .push_bind(k.kind.as_str())
            .push_bind(k.is_unique)
            .push_bind(k.ip.as_deref())
            .push_bind(k.device_hash.as_deref())
            .push_bind(k.landing_url.as_deref())
            .push_bind(k.referrer.as_deref())
            .push_bind(k.created_at);
    });
    query.push(" ON CONFLICT (merchant_id, id) DO NOTHING");
    if returning {
        query.push(" RETURNING id");
    }
    query
}

/// How a click write learns which rows it stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Learn {
    /// Ids this server made ([`tracking::id_made_here`]) are taken as new and checked by the
    /// count of rows written; the others are returned by the insert.
    TrustMadeIds,
    /// Every insert returns the ids it wrote.
    AskForEach,
}

/// Writes `clicks` and the tallies of those stored (and `heads`) in one transaction; the number
/// stored, or `None` (everything rolled back) when a made id was found already stored.
///
/// Why two ways: `RETURNING` sends every written id back from SQLite's thread one row at a time
/// through sqlx's bounded row channel, and at a redirect peak that hand-over (the worker blocked
/// on a full channel, woken per few dozen rows) took about as much of the click writer's thread
/// as the inserts (issue 18). A made id is new, so the count of rows written says it all.
async fn write_clicks(
    store: &Engine,
    clicks: &[Click],
    heads: &[ClickTally],
    learn: Learn,
) -> StoreResult<Option<usize>> {
    let mut tx = store.begin_write().await?;
    let (made, asked): (Vec<&Click>, Vec<&Click>) =
        clicks.iter().partition(|k| learn == Learn::TrustMadeIds && tracking::id_made_here(k));
    let mut stored: Vec<&Click> = Vec::with_capacity(clicks.len());
    // Fixed chunk sizes (`click_chunks`): a few statement texts, which stay prepared.
    for chunk in tracking::click_chunks(&made) {
        let written = insert_clicks(chunk, false).build().execute(&mut *tx).await?.rows_affected();
        if usize::try_from(written).ok() != Some(chunk.len()) {
            tx.rollback().await?;
            return Ok(None);
        }
        stored.extend(chunk.iter().copied());
    }
    // An id already stored (a replayed beacon) is skipped; RETURNING says which rows were new,
    // so the totals count exactly the stored clicks.
    for chunk in tracking::click_chunks(&asked) {
        let new: Vec<(String,)> = insert_clicks(chunk, true).build_query_as().fetch_all(&mut *tx).await?;
        if new.len() == chunk.len() {
            stored.extend(chunk.iter().copied());
        } else {
            let new: std::collections::HashSet<String> = new.into_iter().map(|(id,)| id).collect();
            stored.extend(chunk.iter().copied().filter(|k| new.contains(&k.id)));
        }
    }
    let tallies = tracking::tally_clicks(&stored, heads);
    if !tallies.is_empty() {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO click_totals (merchant_id, campaign_id, affiliate_id, link_id, \
                clicks, unique_clicks, bot_clicks, head_requests) ",
        );
        query.push_values(&tallies, |mut row, t| {
            row.push_bind(&t.merchant_id)
                .push_bind(&t.campaign_id)
                .push_bind(&t.affiliate_id)
                .push_bind(&t.link_id)
                .push_bind(t.totals.clicks)
                .push_bind(t.totals.unique_clicks)
                .push_bind(t.totals.bot_clicks)
                .push_bind(t.totals.head_requests);
        });
        query.push(
            " ON CONFLICT (campaign_id, affiliate_id, link_id) DO UPDATE SET \
                clicks = click_totals.clicks + excluded.clicks, \
                unique_clicks = click_totals.unique_clicks + excluded.unique_clicks, \
                bot_clicks = click_totals.bot_clicks + excluded.bot_clicks, \
                head_requests = click_totals.head_requests + excluded.head_requests",
        );
        query.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
    }
    rollup::add_click_days(&mut tx, &refline_store::rollup::click_days(stored.iter().copied())).await?;
    tx.commit().await?;
    Ok(Some(stored.len()))
}

#[async_trait]
impl TrackingStore for Engine {
    async fn resolve_tracking_link(
        &self,
        tracking_code: &str,
        affiliate_id: &str,
    ) -> StoreResult<Option<TrackingTarget>> {
        Ok(sqlx::query_as(concat!(
            tracking_target_select!(),
            ", NULL AS link_id FROM campaigns c JOIN memberships m \
               ON m.campaign_id = c.id AND m.affiliate_id = $2 \
             WHERE c.tracking_code = $1"
        ))
        .bind(tracking_code)
        .bind(affiliate_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn resolve_tracking_links(
        &self,
        pairs: &[(String, String)],
    ) -> StoreResult<Vec<Option<TrackingTarget>>> {
        let mut found: Vec<Option<TrackingTarget>> = vec![None; pairs.len()];
        for (chunk_no, chunk) in pairs.chunks(500).enumerate() {
            let mut query = QueryBuilder::<Db>::new("WITH q (i, code, affiliate_id) AS (");
            query.push_values(chunk.iter().enumerate(), |mut row, (i, (code, affiliate))| {
                row.push_bind(i64::try_from(chunk_no * 500 + i).unwrap_or(i64::MAX))
                    .push_bind(code.as_str())
                    .push_bind(affiliate.as_str());
            });
            query.push(concat!(
                ") ",
                tracking_target_select!(),
                ", NULL AS link_id, q.i AS i FROM q JOIN campaigns c ON c.tracking_code = q.code \
                 JOIN memberships m ON m.campaign_id = c.id AND m.affiliate_id = q.affiliate_id"
            ));
            let rows: Vec<IndexedTarget> =
                query.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?;
            for row in rows {
                if let Some(slot) = usize::try_from(row.i).ok().and_then(|i| found.get_mut(i)) {
                    *slot = Some(row.target);
                }
            }
        }
        Ok(found)
    }

    async fn resolve_short_link(&self, code: &str) -> StoreResult<Option<TrackingTarget>> {
        Ok(sqlx::query_as(concat!(
            tracking_target_select!(),
            ", l.id AS link_id FROM links l JOIN campaigns c ON c.id = l.campaign_id \
             JOIN memberships m ON m.campaign_id = l.campaign_id AND m.affiliate_id = l.affiliate_id \
             WHERE l.code = $1"
        ))
        .bind(code)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn record_clicks(&self, clicks: &[Click], heads: &[ClickTally]) -> StoreResult<usize> {
        if clicks.is_empty() && heads.is_empty() {
            return Ok(0);
        }
        if let Some(stored) = write_clicks(self, clicks, heads, Learn::TrustMadeIds).await? {
            return Ok(stored);
        }
        // A made id was already stored — a batch written again after a commit whose answer was
        // lost, say. The first try was rolled back whole; this one asks for every row's id (and
        // so never gives up: `None` only comes from trusting made ids).
        tracing::warn!("a click id made here was already stored; writing the batch again, row ids returned");
        Ok(write_clicks(self, clicks, heads, Learn::AskForEach).await?.unwrap_or(0))
    }

    async fn find_click(&self, merchant_id: &str, click_id: &str) -> StoreResult<Option<Click>> {
        Ok(sqlx::query_as("SELECT * FROM clicks WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(click_id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_clicks(
        &self,
        merchant_id: &str,
        f: &ClickFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Click>> {
        const FILTER: &str = "WHERE merchant_id = $1 AND ($2 IS NULL OR campaign_id = $2) \
            AND ($3 IS NULL OR affiliate_id = $3) AND ($4 IS NULL OR link_id = $4) \
            AND ($5 IS NULL OR kind = $5) AND ($6 IS NULL OR is_unique = $6) \
            AND ($7 IS NULL OR created_at >= $7) AND ($8 IS NULL OR created_at <= $8)";
        let items = sqlx::query_as(&format!(
            "SELECT * FROM clicks {FILTER} ORDER BY id {dir} LIMIT $9 OFFSET $10",
            dir = page.direction()
        ))
        .bind(merchant_id)
        .bind(f.campaign_id.as_deref())
        .bind(f.affiliate_id.as_deref())
        .bind(f.link_id.as_deref())
        .bind(f.kind.as_deref())
        .bind(f.unique)
        .bind(f.from)
        .bind(f.to)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.reader())
        .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM clicks {FILTER}"))
            .bind(merchant_id)
            .bind(f.campaign_id.as_deref())
            .bind(f.affiliate_id.as_deref())
            .bind(f.link_id.as_deref())
            .bind(f.kind.as_deref())
            .bind(f.unique)
            .bind(f.from)
            .bind(f.to)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn click_totals(
        &self,
        merchant_id: &str,
        campaign_id: Option<&str>,
        affiliate_id: Option<&str>,
    ) -> StoreResult<ClickTotals> {
        Ok(sqlx::query_as(
            "SELECT COALESCE(CAST(SUM(clicks) AS BIGINT), 0) AS clicks, \
                COALESCE(CAST(SUM(unique_clicks) AS BIGINT), 0) AS unique_clicks, \
                COALESCE(CAST(SUM(bot_clicks) AS BIGINT), 0) AS bot_clicks, \
                COALESCE(CAST(SUM(head_requests) AS BIGINT), 0) AS head_requests \
             FROM click_totals WHERE merchant_id = $1 \
                AND ($2 IS NULL OR campaign_id = $2) AND ($3 IS NULL OR affiliate_id = $3)",
        )
        .bind(merchant_id)
        .bind(campaign_id)
        .bind(affiliate_id)
        .fetch_one(self.reader())
        .await?)
    }

    async fn insert_link(&self, l: &Link) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO links (id, code, merchant_id, campaign_id, affiliate_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&l.id)
        .bind(&l.code)
        .bind(&l.merchant_id)
        .bind(&l.campaign_id)
        .bind(&l.affiliate_id)
        .bind(l.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn get_link(&self, merchant_id: &str, id: &str) -> StoreResult<Option<LinkView>> {
        Ok(sqlx::query_as(concat!(link_view_select!(), "WHERE l.merchant_id = $1 AND l.id = $2"))
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_links(
        &self,
        merchant_id: &str,
        f: &LinkFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<LinkView>> {
        const FILTER: &str = "WHERE l.merchant_id = $1 AND ($2 IS NULL OR l.campaign_id = $2) \
            AND ($3 IS NULL OR l.affiliate_id = $3)";
        let items = sqlx::query_as(&format!(
            "{} {FILTER} ORDER BY l.created_at {dir}, l.id {dir} LIMIT $4 OFFSET $5",
            link_view_select!(),
            dir = page.direction()
        ))
        .bind(merchant_id)
        .bind(f.campaign_id.as_deref())
        .bind(f.affiliate_id.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.reader())
        .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM links l {FILTER}"))
            .bind(merchant_id)
            .bind(f.campaign_id.as_deref())
            .bind(f.affiliate_id.as_deref())
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn delete_link(&self, merchant_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM links WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn visitor_salt(&self, day: i64, candidate: &str) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM visitor_salts WHERE day < $1").bind(day - 1).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO visitor_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
            .bind(day)
            .bind(candidate)
            .execute(&mut *tx)
            .await?;
        let salt: String = sqlx::query_scalar("SELECT salt FROM visitor_salts WHERE day = $1")
            .bind(day)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(salt)
    }

    async fn cookie_windows(&self, merchant_id: &str, default_days: i64) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT tracking_code, cookie_window_days FROM campaigns \
             WHERE merchant_id = $1 AND cookie_window_days <> $2 ORDER BY tracking_code",
        )
        .bind(merchant_id)
        .bind(default_days)
        .fetch_all(self.reader())
        .await?)
    }

    async fn mark_tracking_seen(&self, merchant_id: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE merchants SET tracking_seen_at = $2 WHERE id = $1 AND tracking_seen_at IS NULL",
        )
        .bind(merchant_id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn scrub_click_ips(&self, before: i64) -> StoreResult<u64> {
        // In slices, so a large backlog never holds the (SQLite) write lock for long.
        let mut cleared = 0;
        loop {
            let done = sqlx::query(
                "UPDATE clicks SET ip = NULL WHERE (merchant_id, id) IN \
                    (SELECT merchant_id, id FROM clicks WHERE created_at < $1 AND ip IS NOT NULL LIMIT 5000)",
            )
            .bind(before)
            .execute(self.writer())
            .await?;
            cleared += done.rows_affected();
            if done.rows_affected() == 0 {
                return Ok(cleared);
            }
        }
    }
}
