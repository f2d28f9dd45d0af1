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

/// Click rows per INSERT statement, largest first. A batch is cut into these fixed sizes so the
/// few distinct statement texts stay in the driver's prepared-statement cache; preparing a
/// fresh thousand-row statement for every batch cost more than inserting the rows.
#[doc(hidden)]
pub const CLICK_CHUNKS: [usize; 4] = [512, 64, 8, 1];

/// `clicks` cut into runs of the sizes in [`CLICK_CHUNKS`].
#[doc(hidden)]
pub fn click_chunks<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    for size in CLICK_CHUNKS {
        while rows.len() >= size {
            let (chunk, rest) = rows.split_at(size);
            chunks.push(chunk);
            rows = rest;
        }
    }
    chunks
}

/// An INSERT of click rows `$chunk` (`&[&Click]`), without its conflict clause.
#[doc(hidden)]
#[macro_export]
macro_rules! __insert_clicks {
    ($chunk:expr) => {{
        let mut query = $crate::sqlx::QueryBuilder::new(
            "INSERT INTO clicks (merchant_id, id, campaign_id, affiliate_id, link_id, source, \
                kind, is_unique, ip, device_hash, landing_url, referrer, created_at) ",
        );
        query.push_values($chunk.iter(), |mut row, k| {
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
        query
    }};
}

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
                // An id already stored (a replayed beacon) is skipped; RETURNING says which rows
                // were new, so the totals count exactly the stored clicks.
                let mut stored: Vec<&$crate::Click> = Vec::with_capacity(clicks.len());
                let rows: Vec<&$crate::Click> = clicks.iter().collect();
                for chunk in $crate::sql::tracking::click_chunks(&rows) {
                    let mut query = $crate::__insert_clicks!(chunk);
                    query.push(" ON CONFLICT (merchant_id, id) DO NOTHING RETURNING id");
                    let new: Vec<(String,)> = query.build_query_as().fetch_all(&mut *tx).await?;
                    if new.len() == chunk.len() {
                        stored.extend(chunk.iter().copied());
                    } else {
                        let new: std::collections::HashSet<String> = new.into_iter().map(|(id,)| id).collect();
                        stored.extend(chunk.iter().copied().filter(|k| new.contains(&k.id)));
                    }
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
                // In slices, so a large backlog never holds the (SQLite) write lock for long.
                let mut cleared = 0;
                loop {
                    let done = $crate::sqlx::query(
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
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_are_cut_into_fixed_sizes() {
        let rows: Vec<u32> = (0..1_100).collect();
        let sizes: Vec<usize> = super::click_chunks(&rows).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [512, 512, 64, 8, 1, 1, 1, 1]);
        assert_eq!(super::click_chunks(&rows).concat(), rows);
        assert!(super::click_chunks::<u32>(&[]).is_empty());
    }
}
