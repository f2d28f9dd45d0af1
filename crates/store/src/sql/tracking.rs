//! Shared SQL for [`crate::TrackingStore`].

/// Columns of a tracking target; campaigns `c`, memberships `m`.
#[doc(hidden)]
#[macro_export]
macro_rules! __tracking_target_select {
    () => {
        "SELECT c.merchant_id, c.id AS campaign_id, c.tracking_code, m.affiliate_id, c.target_url, \
            c.cookie_window_days, c.status AS campaign_status, m.status AS membership_status"
    };
}

/// Columns of a link view; links `l`, campaigns `c`.
#[doc(hidden)]
#[macro_export]
macro_rules! __link_view_select {
    () => {
        "SELECT l.*, c.tracking_code, \
            COALESCE(t.clicks, 0) AS clicks, COALESCE(t.unique_clicks, 0) AS unique_clicks, \
            COALESCE(t.bot_clicks, 0) AS bot_clicks, COALESCE(t.head_requests, 0) AS head_requests \
         FROM links l JOIN campaigns c ON c.id = l.campaign_id \
         LEFT JOIN click_totals t ON t.campaign_id = l.campaign_id \
            AND t.affiliate_id = l.affiliate_id AND t.link_id = l.id "
    };
}

/// Click rows per INSERT: 14 columns stay far below SQLite's 32,766 bound parameters.
#[doc(hidden)]
pub const CLICK_ROWS_PER_STATEMENT: usize = 1_000;

/// Implements [`crate::TrackingStore`].
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tracking_store {
    ($engine:ty) => {
        #[$crate::async_trait]
        impl $crate::TrackingStore for $engine {
            async fn resolve_tracking_link(
                &self,
                tracking_code: &str,
                affiliate_id: &str,
            ) -> $crate::StoreResult<Option<$crate::TrackingTarget>> {
                Ok($crate::sqlx::query_as(concat!(
                    $crate::__tracking_target_select!(),
                    ", NULL AS link_id FROM campaigns c JOIN memberships m \
                       ON m.campaign_id = c.id AND m.affiliate_id = $2 \
                     WHERE c.tracking_code = $1"
                ))
                .bind(tracking_code)
                .bind(affiliate_id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn resolve_short_link(
                &self,
                code: &str,
            ) -> $crate::StoreResult<Option<$crate::TrackingTarget>> {
                Ok($crate::sqlx::query_as(concat!(
                    $crate::__tracking_target_select!(),
                    ", l.id AS link_id FROM links l JOIN campaigns c ON c.id = l.campaign_id \
                     JOIN memberships m ON m.campaign_id = l.campaign_id AND m.affiliate_id = l.affiliate_id \
                     WHERE l.code = $1"
                ))
                .bind(code)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn record_clicks(
                &self,
                clicks: &[$crate::Click],
                heads: &[$crate::ClickTally],
            ) -> $crate::StoreResult<usize> {
                if clicks.is_empty() && heads.is_empty() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let mut stored: Vec<$crate::StoredClick> = Vec::with_capacity(clicks.len());
                for chunk in clicks.chunks($crate::sql::tracking::CLICK_ROWS_PER_STATEMENT) {
                    let mut query = $crate::sqlx::QueryBuilder::new(
                        "INSERT INTO clicks (id, merchant_id, campaign_id, affiliate_id, ip, \
                            device_hash, created_at, link_id, source, kind, is_unique, visitor_hash, \
                            landing_url, referrer) ",
                    );
                    query.push_values(chunk, |mut row, k| {
                        row.push_bind(&k.id)
                            .push_bind(&k.merchant_id)
                            .push_bind(&k.campaign_id)
                            .push_bind(&k.affiliate_id)
                            .push_bind(&k.ip)
                            .push_bind(&k.device_hash)
                            .push_bind(k.created_at)
                            .push_bind(&k.link_id)
                            .push_bind(&k.source)
                            .push_bind(&k.kind)
                            .push_bind(k.is_unique)
                            .push_bind(&k.visitor_hash)
                            .push_bind(&k.landing_url)
                            .push_bind(&k.referrer);
                    });
                    query.push(
                        " ON CONFLICT (id) DO NOTHING \
                          RETURNING merchant_id, campaign_id, affiliate_id, link_id, kind, is_unique",
                    );
                    stored.extend(query.build_query_as().fetch_all(&mut *tx).await?);
                }
                let tallies = $crate::tracking::tally_clicks(&stored, heads);
                if !tallies.is_empty() {
                    let mut query = $crate::sqlx::QueryBuilder::new(
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
                    query.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(stored.len())
            }

            async fn find_click(
                &self,
                merchant_id: &str,
                click_id: &str,
            ) -> $crate::StoreResult<Option<$crate::Click>> {
                Ok($crate::sqlx::query_as("SELECT * FROM clicks WHERE merchant_id = $1 AND id = $2")
                    .bind(merchant_id)
                    .bind(click_id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn list_clicks(
                &self,
                merchant_id: &str,
                f: &$crate::ClickFilter,
                page: $crate::PageRequest<()>,
            ) -> $crate::StoreResult<$crate::Page<$crate::Click>> {
                const FILTER: &str = "WHERE merchant_id = $1 AND ($2 IS NULL OR campaign_id = $2) \
                    AND ($3 IS NULL OR affiliate_id = $3) AND ($4 IS NULL OR link_id = $4) \
                    AND ($5 IS NULL OR kind = $5) AND ($6 IS NULL OR is_unique = $6) \
                    AND ($7 IS NULL OR created_at >= $7) AND ($8 IS NULL OR created_at <= $8)";
                let items = $crate::sqlx::query_as(&format!(
                    "SELECT * FROM clicks {FILTER} ORDER BY created_at {dir}, id {dir} LIMIT $9 OFFSET $10",
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
                let total: i64 = $crate::sqlx::query_scalar(&format!("SELECT COUNT(*) FROM clicks {FILTER}"))
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
                Ok($crate::Page { items, total })
            }

            async fn click_totals(
                &self,
                merchant_id: &str,
                campaign_id: Option<&str>,
                affiliate_id: Option<&str>,
            ) -> $crate::StoreResult<$crate::ClickTotals> {
                Ok($crate::sqlx::query_as(
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

            async fn insert_link(&self, l: &$crate::Link) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
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

            async fn get_link(
                &self,
                merchant_id: &str,
                id: &str,
            ) -> $crate::StoreResult<Option<$crate::LinkView>> {
                Ok($crate::sqlx::query_as(concat!(
                    $crate::__link_view_select!(),
                    "WHERE l.merchant_id = $1 AND l.id = $2"
                ))
                .bind(merchant_id)
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn list_links(
                &self,
                merchant_id: &str,
                f: &$crate::LinkFilter,
                page: $crate::PageRequest<()>,
            ) -> $crate::StoreResult<$crate::Page<$crate::LinkView>> {
                const FILTER: &str = "WHERE l.merchant_id = $1 AND ($2 IS NULL OR l.campaign_id = $2) \
                    AND ($3 IS NULL OR l.affiliate_id = $3)";
                let items = $crate::sqlx::query_as(&format!(
                    "{} {FILTER} ORDER BY l.created_at {dir}, l.id {dir} LIMIT $4 OFFSET $5",
                    $crate::__link_view_select!(),
                    dir = page.direction()
                ))
                .bind(merchant_id)
                .bind(f.campaign_id.as_deref())
                .bind(f.affiliate_id.as_deref())
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(self.reader())
                .await?;
                let total: i64 = $crate::sqlx::query_scalar(&format!("SELECT COUNT(*) FROM links l {FILTER}"))
                    .bind(merchant_id)
                    .bind(f.campaign_id.as_deref())
                    .bind(f.affiliate_id.as_deref())
                    .fetch_one(self.reader())
                    .await?;
                Ok($crate::Page { items, total })
            }

            async fn delete_link(&self, merchant_id: &str, id: &str) -> $crate::StoreResult<bool> {
                let done = $crate::sqlx::query("DELETE FROM links WHERE merchant_id = $1 AND id = $2")
                    .bind(merchant_id)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn visitor_salt(&self, day: i64, candidate: &str) -> $crate::StoreResult<String> {
                let mut tx = self.begin_write().await?;
                $crate::sqlx::query("DELETE FROM visitor_salts WHERE day < $1")
                    .bind(day - 1)
                    .execute(&mut *tx)
                    .await?;
                $crate::sqlx::query(
                    "INSERT INTO visitor_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
                )
                .bind(day)
                .bind(candidate)
                .execute(&mut *tx)
                .await?;
                let salt: String = $crate::sqlx::query_scalar("SELECT salt FROM visitor_salts WHERE day = $1")
                    .bind(day)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(salt)
            }

            async fn cookie_windows(
                &self,
                merchant_id: &str,
                default_days: i64,
            ) -> $crate::StoreResult<Vec<(String, i64)>> {
                Ok($crate::sqlx::query_as(
                    "SELECT tracking_code, cookie_window_days FROM campaigns \
                     WHERE merchant_id = $1 AND cookie_window_days <> $2 ORDER BY tracking_code",
                )
                .bind(merchant_id)
                .bind(default_days)
                .fetch_all(self.reader())
                .await?)
            }

            async fn mark_tracking_seen(&self, merchant_id: &str, now: i64) -> $crate::StoreResult<bool> {
                let done = $crate::sqlx::query(
                    "UPDATE merchants SET tracking_seen_at = $2 WHERE id = $1 AND tracking_seen_at IS NULL",
                )
                .bind(merchant_id)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn scrub_click_ips(&self, before: i64) -> $crate::StoreResult<u64> {
                let done = $crate::sqlx::query(
                    "UPDATE clicks SET ip = NULL WHERE created_at < $1 AND ip IS NOT NULL",
                )
                .bind(before)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
