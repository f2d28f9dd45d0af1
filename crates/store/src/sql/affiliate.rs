//! Shared SQL for [`crate::AffiliateStore`].

/// Columns of a membership view; memberships `m`, affiliates `a`, campaigns `c`, `$1` = merchant,
/// `$2` = is_test.
#[doc(hidden)]
#[macro_export]
macro_rules! __membership_view_select {
    () => {
        concat!("SELECT a.id AS affiliate_id, a.email, a.name, a.created_via, c.id AS campaign_id, \
            c.name AS campaign_name, c.tracking_code, c.currency, m.status, m.joined_at, \
            (SELECT ", $crate::__sum_minor!("v.commission_minor"), " FROM conversions v \
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
            ON t.campaign_id = m.campaign_id AND t.affiliate_id = m.affiliate_id ")
    };
}

/// Filter of membership lists: `$1` merchant, `$3` campaign or NULL, `$4` status or NULL.
#[doc(hidden)]
#[macro_export]
macro_rules! __membership_filter {
    () => {
        "WHERE m.merchant_id = $1 AND ($3 IS NULL OR m.campaign_id = $3) \
         AND ($4 IS NULL OR m.status = $4)"
    };
}

/// Writes an affiliate event about membership `$m` (now `$status`) into the outbox of `$tx`.
#[doc(hidden)]
#[macro_export]
macro_rules! __announce_membership {
    ($tx:expr, $m:expr, $event:expr, $status:expr, $now:expr) => {{
        let affiliate: Option<(String, Option<String>)> =
            $crate::sqlx::query_as("SELECT email, name FROM affiliates WHERE id = $1")
                .bind(&$m.affiliate_id)
                .fetch_optional(&mut *$tx)
                .await?;
        let (email, name) = affiliate.unwrap_or_default();
        let event = $crate::OutboxEvent {
            merchant_id: $m.merchant_id.clone(),
            event: $event,
            data: $crate::outbox::affiliate_data(
                &$m.affiliate_id,
                &$m.campaign_id,
                &email,
                name.as_deref(),
                $status,
                $now,
            ),
            at: $now,
        };
        $crate::__emit_events!($tx, std::slice::from_ref(&event));
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __insert_membership {
    ($m:expr) => {
        $crate::sqlx::query(
            "INSERT INTO memberships (campaign_id, affiliate_id, merchant_id, status, joined_at, \
                updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&$m.campaign_id)
        .bind(&$m.affiliate_id)
        .bind(&$m.merchant_id)
        .bind(&$m.status)
        .bind($m.joined_at)
        .bind($m.updated_at)
    };
}

/// Implements [`crate::AffiliateStore`].
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_affiliate_store {
    ($engine:ty) => {
        #[$crate::async_trait]
        impl $crate::AffiliateStore for $engine {
            async fn create_affiliate(
                &self,
                a: &$crate::Affiliate,
                m: &$crate::Membership,
                announce: bool,
            ) -> $crate::StoreResult<$crate::affiliate::CreateAffiliateOutcome> {
                let mut tx = self.begin_write().await?;
                let inserted = $crate::sqlx::query(
                    "INSERT INTO affiliates (id, merchant_id, email, name, created_via, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (merchant_id, email) DO NOTHING",
                )
                .bind(&a.id)
                .bind(&a.merchant_id)
                .bind(&a.email)
                .bind(&a.name)
                .bind(&a.created_via)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    let existing_id: String = $crate::sqlx::query_scalar(
                        "SELECT id FROM affiliates WHERE merchant_id = $1 AND email = $2",
                    )
                    .bind(&a.merchant_id)
                    .bind(&a.email)
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.rollback().await?;
                    return Ok($crate::affiliate::CreateAffiliateOutcome::EmailTaken { existing_id });
                }
                $crate::__insert_membership!(m).execute(&mut *tx).await?;
                if announce {
                    let event = $crate::OutboxEvent {
                        merchant_id: a.merchant_id.clone(),
                        event: "affiliate.joined",
                        data: $crate::outbox::affiliate_data(&a.id, &m.campaign_id, &a.email, a.name.as_deref(), &m.status, m.joined_at),
                        at: m.joined_at,
                    };
                    $crate::__emit_events!(tx, std::slice::from_ref(&event));
                }
                tx.commit().await?;
                Ok($crate::affiliate::CreateAffiliateOutcome::Created)
            }

            async fn insert_membership(&self, m: &$crate::Membership) -> $crate::StoreResult<()> {
                $crate::__insert_membership!(m).execute(self.writer()).await?;
                Ok(())
            }

            async fn get_affiliate(
                &self,
                merchant_id: &str,
                id: &str,
            ) -> $crate::StoreResult<Option<$crate::Affiliate>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM affiliates WHERE merchant_id = $1 AND id = $2",
                )
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
            ) -> $crate::StoreResult<Option<$crate::Membership>> {
                Ok($crate::sqlx::query_as(
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
                m: &$crate::Membership,
                from: &str,
                to: &str,
                now: i64,
                announce: bool,
            ) -> $crate::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = $crate::sqlx::query(
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
                if announce {
                    $crate::__announce_membership!(tx, m, $crate::__domain::membership_status_event(to), to, now);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn remove_membership(
                &self,
                m: &$crate::Membership,
                now: i64,
                announce: bool,
            ) -> $crate::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = $crate::sqlx::query(
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
                if announce {
                    $crate::__announce_membership!(tx, m, "affiliate.removed", "removed", now);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn affiliate_memberships(
                &self,
                merchant_id: &str,
                affiliate_id: &str,
                is_test: bool,
            ) -> $crate::StoreResult<Vec<$crate::MembershipView>> {
                Ok($crate::sqlx::query_as(concat!(
                    $crate::__membership_view_select!(),
                    "WHERE m.merchant_id = $1 AND m.affiliate_id = $3 ORDER BY m.joined_at, c.id"
                ))
                .bind(merchant_id)
                .bind(is_test)
                .bind(affiliate_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn list_memberships(
                &self,
                merchant_id: &str,
                filter: &$crate::AffiliateFilter,
                is_test: bool,
                page: $crate::PageRequest<$crate::AffiliateSort>,
            ) -> $crate::StoreResult<$crate::Page<$crate::MembershipView>> {
                let column = match page.sort {
                    $crate::AffiliateSort::JoinedAt => "m.joined_at",
                    $crate::AffiliateSort::Name => "a.name",
                    $crate::AffiliateSort::Email => "a.email",
                };
                let sql = format!(
                    "{}{} ORDER BY {column} {dir}, a.id {dir}, c.id {dir} LIMIT $5 OFFSET $6",
                    $crate::__membership_view_select!(),
                    $crate::__membership_filter!(),
                    dir = page.direction(),
                );
                let items = $crate::sqlx::query_as(&sql)
                    .bind(merchant_id)
                    .bind(is_test)
                    .bind(filter.campaign_id.as_deref())
                    .bind(filter.status.as_deref())
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all(self.reader())
                    .await?;
                // $2 is unused by the count but keeps the placeholder numbering shared.
                let total: i64 = $crate::sqlx::query_scalar(concat!(
                    "SELECT COUNT(*) FROM memberships m ",
                    $crate::__membership_filter!(),
                    " AND ($2 IS NULL OR TRUE)"
                ))
                .bind(merchant_id)
                .bind(is_test)
                .bind(filter.campaign_id.as_deref())
                .bind(filter.status.as_deref())
                .fetch_one(self.reader())
                .await?;
                Ok($crate::Page { items, total })
            }

            async fn record_fingerprint(
                &self,
                affiliate_id: &str,
                kind: &str,
                value: &str,
                now: i64,
            ) -> $crate::StoreResult<()> {
                $crate::sqlx::query(
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

            async fn affiliate_fingerprints(
                &self,
                affiliate_id: &str,
            ) -> $crate::StoreResult<$crate::AffiliateFingerprints> {
                let rows: Vec<(String, String)> = $crate::sqlx::query_as(
                    "SELECT kind, value FROM affiliate_fingerprints WHERE affiliate_id = $1",
                )
                .bind(affiliate_id)
                .fetch_all(self.reader())
                .await?;
                let mut prints = $crate::AffiliateFingerprints::default();
                for (kind, value) in rows {
                    match kind.as_str() {
                        "ip" => prints.ips.push(value),
                        "device" => prints.devices.push(value),
                        _ => {}
                    }
                }
                Ok(prints)
            }
        }
    };
}
