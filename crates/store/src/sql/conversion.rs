//! Shared SQL for [`crate::ConversionStore`].

/// Implements [`crate::ConversionStore`].
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_conversion_store {
    ($engine:ty) => {
        #[$crate::async_trait]
        impl $crate::ConversionStore for $engine {
            async fn record_conversion(
                &self,
                request: $crate::conversion::RecordRequest,
                price: &(dyn Fn($crate::__domain::AffiliateVolume) -> $crate::PricedConversion
                      + Send
                      + Sync),
            ) -> Result<$crate::Conversion, $crate::RecordError> {
                let mut c = request.conversion;
                let mut tx = self.begin_write().await?;
                if let Some(order_id) = &c.order_id {
                    let existing: Option<String> = $crate::sqlx::query_scalar(
                        "SELECT id FROM conversions \
                         WHERE merchant_id = $1 AND is_test = $2 AND order_id = $3",
                    )
                    .bind(&c.merchant_id)
                    .bind(c.is_test)
                    .bind(order_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(existing_id) = existing {
                        tx.rollback().await?;
                        return Err($crate::RecordError::Duplicate { existing_id });
                    }
                }
                if !c.is_test {
                    if let Some(cap) = request.monthly_cap_minor {
                        let tracked: i64 = $crate::sqlx::query_scalar(
                            "SELECT COALESCE(CAST(SUM(amount_minor) AS BIGINT), 0) \
                             FROM monthly_sales WHERE merchant_id = $1 AND month = $2",
                        )
                        .bind(&c.merchant_id)
                        .bind(request.month)
                        .fetch_one(&mut *tx)
                        .await?;
                        if tracked >= cap {
                            tx.rollback().await?;
                            return Err($crate::RecordError::CapReached);
                        }
                    }
                }
                let volume = if request.needs_volume {
                    let (sales_count, revenue_minor): (i64, i64) = $crate::sqlx::query_as(
                        "SELECT COUNT(*), COALESCE(CAST(SUM(amount_minor) AS BIGINT), 0) \
                         FROM conversions WHERE campaign_id = $1 AND affiliate_id = $2 \
                         AND is_test = $3 AND created_at >= $4 \
                         AND status NOT IN ('rejected', 'refunded')",
                    )
                    .bind(&c.campaign_id)
                    .bind(&c.affiliate_id)
                    .bind(c.is_test)
                    .bind(request.month_start)
                    .fetch_one(&mut *tx)
                    .await?;
                    $crate::__domain::AffiliateVolume { sales_count, revenue_minor }
                } else {
                    $crate::__domain::AffiliateVolume::default()
                };
                c.commission_minor = price(volume);
                let inserted = $crate::sqlx::query(
                    "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, \
                        amount_minor, commission_minor, currency, status, order_id, click_id, \
                        customer_email, customer_name, conversion_type, parent_conversion_id, \
                        payment_number, source, is_test, fraud_score, fraud_signals, created_at, \
                        updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                        $16, $17, $18, $19, $20, $21)",
                )
                .bind(&c.id)
                .bind(&c.merchant_id)
                .bind(&c.campaign_id)
                .bind(&c.affiliate_id)
                .bind(c.amount_minor)
                .bind(c.commission_minor)
                .bind(&c.currency)
                .bind(&c.status)
                .bind(&c.order_id)
                .bind(&c.click_id)
                .bind(&c.customer_email)
                .bind(&c.customer_name)
                .bind(&c.conversion_type)
                .bind(&c.parent_conversion_id)
                .bind(c.payment_number)
                .bind(&c.source)
                .bind(c.is_test)
                .bind(c.fraud_score)
                .bind(&c.fraud_signals)
                .bind(c.created_at)
                .bind(c.updated_at)
                .execute(&mut *tx)
                .await;
                if let Err(err) = inserted {
                    let err = $crate::StoreError::from(err);
                    tx.rollback().await?;
                    // A concurrent writer took the order id between our check and insert.
                    if let (true, Some(order_id)) = (err.is_conflict_on("order"), &c.order_id) {
                        let existing_id: String = $crate::sqlx::query_scalar(
                            "SELECT id FROM conversions \
                             WHERE merchant_id = $1 AND is_test = $2 AND order_id = $3",
                        )
                        .bind(&c.merchant_id)
                        .bind(c.is_test)
                        .bind(order_id)
                        .fetch_one(self.writer())
                        .await?;
                        return Err($crate::RecordError::Duplicate { existing_id });
                    }
                    return Err(err.into());
                }
                if !c.is_test {
                    $crate::sqlx::query(
                        "INSERT INTO monthly_sales (merchant_id, month, shard, amount_minor) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id, month, shard) \
                         DO UPDATE SET amount_minor = monthly_sales.amount_minor + excluded.amount_minor",
                    )
                    .bind(&c.merchant_id)
                    .bind(request.month)
                    .bind(request.tally_shard)
                    .bind(c.amount_minor)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(c)
            }

            async fn get_conversion(
                &self,
                merchant_id: &str,
                id: &str,
            ) -> $crate::StoreResult<Option<$crate::Conversion>> {
                Ok($crate::sqlx::query_as(
                    "SELECT * FROM conversions WHERE merchant_id = $1 AND id = $2",
                )
                .bind(merchant_id)
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn list_conversions(
                &self,
                merchant_id: &str,
                f: &$crate::ConversionFilter,
                page: $crate::PageRequest<$crate::ConversionSort>,
            ) -> $crate::StoreResult<$crate::Page<$crate::Conversion>> {
                const FILTER: &str = "WHERE merchant_id = $1 AND is_test = $2 \
                    AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR campaign_id = $4) \
                    AND ($5 IS NULL OR affiliate_id = $5) AND ($6 IS NULL OR created_at >= $6) \
                    AND ($7 IS NULL OR created_at <= $7)";
                let column = match page.sort {
                    $crate::ConversionSort::CreatedAt => "created_at",
                    $crate::ConversionSort::Amount => "amount_minor",
                };
                let sql = format!(
                    "SELECT * FROM conversions {FILTER} ORDER BY {column} {dir}, id {dir} \
                     LIMIT $8 OFFSET $9",
                    dir = page.direction()
                );
                let items = $crate::sqlx::query_as(&sql)
                    .bind(merchant_id)
                    .bind(f.is_test)
                    .bind(f.status.as_deref())
                    .bind(f.campaign_id.as_deref())
                    .bind(f.affiliate_id.as_deref())
                    .bind(f.from)
                    .bind(f.to)
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all(self.reader())
                    .await?;
                let total: i64 =
                    $crate::sqlx::query_scalar(&format!("SELECT COUNT(*) FROM conversions {FILTER}"))
                        .bind(merchant_id)
                        .bind(f.is_test)
                        .bind(f.status.as_deref())
                        .bind(f.campaign_id.as_deref())
                        .bind(f.affiliate_id.as_deref())
                        .bind(f.from)
                        .bind(f.to)
                        .fetch_one(self.reader())
                        .await?;
                Ok($crate::Page { items, total })
            }

            async fn update_conversion_status(
                &self,
                merchant_id: &str,
                id: &str,
                from: &str,
                to: &str,
                now: i64,
            ) -> $crate::StoreResult<bool> {
                let done = $crate::sqlx::query(
                    "UPDATE conversions SET status = $4, updated_at = $5 \
                     WHERE merchant_id = $1 AND id = $2 AND status = $3",
                )
                .bind(merchant_id)
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn count_chain_payments(
                &self,
                merchant_id: &str,
                parent_id: &str,
            ) -> $crate::StoreResult<i64> {
                Ok($crate::sqlx::query_scalar(
                    "SELECT COUNT(*) FROM conversions WHERE merchant_id = $1 \
                     AND (id = $2 OR parent_conversion_id = $2)",
                )
                .bind(merchant_id)
                .bind(parent_id)
                .fetch_one(self.reader())
                .await?)
            }
        }
    };
}
