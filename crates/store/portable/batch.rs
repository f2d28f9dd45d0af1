//! Recording a batch of sales: the reads and writes around [`refline_store::batch`], which
//! decides. Each attempt is one write transaction: lock the volumes and recurring chains it
//! depends on (engines with parallel writers only), read what the plan needs, insert its rows
//! letting the order-key unique index arbitrate (no read-then-write race), then either roll back
//! and plan again knowing which order ids were taken, or add the monthly tallies, write the
//! `conversion.created` events, the ledger's accrued entries, the digests and the rollups (one
//! [`Script`]: on SQLite one round trip to the connection's thread for all of them), and commit.

use std::collections::{HashMap, HashSet};

use refline_domain::AffiliateVolume;
use refline_store::{
    affiliate_mail::digest_delta,
    batch::{self, BatchPlan, BatchReads, BatchState, LockKey, OrderSlot, PlannedInsert},
    outbox,
    rollup::RollupDelta,
    AffiliateFingerprints, ClickEvidence, Conversion, OutboxEvent, PendingConversion, RecordOutcome,
    StoreError, StoreResult,
};

use sqlx::Connection;

use super::{
    affiliate_mail, ledger, rollup,
    script::Script,
    webhook::{deliveries_of, insert_deliveries},
    Conn,
};
use crate::Engine;

/// Records `sales` in order, with the outcome of recording them one by one (see
/// [`refline_store::ConversionStore::record_conversions`]).
pub(super) async fn record_batch(
    store: &Engine,
    sales: &[PendingConversion],
) -> StoreResult<Vec<RecordOutcome>> {
    // One connection for the whole batch, every attempt and answer included (on SQLite, the one
    // writer connection).
    let mut conn = store.writer().acquire().await?;
    record_on(&mut conn, sales).await
}

async fn record_on(conn: &mut Conn, sales: &[PendingConversion]) -> StoreResult<Vec<RecordOutcome>> {
    let reads = batch::reads_for(sales);
    // Order ids found taken by an earlier attempt of this batch.
    let mut taken: HashMap<OrderSlot, String> = HashMap::new();
    let mut attempt = 1;
    loop {
        let mut tx = conn.begin_with(crate::BEGIN_WRITE).await?;
        let state = read_state(&mut tx, &reads, taken.clone()).await?;
        let plan = batch::plan(sales, state);
        let inserted = insert_rows(&mut tx, &plan.inserts).await?;
        let conflicted = batch::not_inserted(&plan.inserts, &inserted);
        if batch::should_replan(attempt, conflicted.len()) {
            tx.rollback().await?;
            learn_taken(conn, &conflicted, &mut taken).await?;
            attempt += 1;
            continue;
        }
        let written: Vec<&PlannedInsert> =
            plan.inserts.iter().filter(|p| inserted.contains(&p.conversion.id)).collect();
        let sales: Vec<&Conversion> = written.iter().map(|p| &p.conversion).collect();
        let created: Vec<OutboxEvent> =
            written.iter().filter_map(|p| outbox::conversion_created(&p.conversion)).collect();
        // The one read left before the writes: the endpoints the new sales' events go to (none
        // without events).
        let deliveries = deliveries_of(&mut tx, &created).await?;
        let tallies = batch::tallies(written.iter().copied());
        let digests = digest_delta(sales.iter().copied());
        let shard = written.first().map_or(0, |p| p.shard);
        let rollups = RollupDelta::inserted(sales.iter().copied());
        // Everything else the batch writes, as one script (one round trip on SQLite).
        let mut script = Script::new();
        add_tallies(&mut script, &tallies);
        ledger::accrue_into(&mut script, &sales);
        insert_deliveries(&mut script, &deliveries);
        // The affiliates' next "new commission credited" mail: one upsert for the batch.
        affiliate_mail::add_to_digests(&mut script, &digests, shard);
        // Last, so rollup rows are the last locks taken (see `rollup`).
        rollup::apply_into(&mut script, &rollups, shard);
        script.run(&mut tx).await?;
        tx.commit().await?;
        return Ok(answer(conn, plan, &inserted).await);
    }
}

/// What the plan needs from the database: tracked sales of capped months, affiliate volumes of
/// tiered campaigns and payments of recurring chains, with the order ids already known `taken`.
/// Volumes and chains are read after their locks are held, so they include every committed
/// sale that touched them and no other writer adds one before this transaction ends.
async fn read_state(
    conn: &mut Conn,
    reads: &BatchReads,
    taken: HashMap<OrderSlot, String>,
) -> StoreResult<BatchState> {
    take_locks(conn, &reads.locks).await?;
    let mut state = BatchState { existing_orders: taken, ..Default::default() };
    for (merchant_id, parent_id) in &reads.chains {
        let payments: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversions WHERE merchant_id = $1 \
             AND (id = $2 OR parent_conversion_id = $2)",
        )
        .bind(merchant_id)
        .bind(parent_id)
        .fetch_one(&mut *conn)
        .await?;
        state.chains.insert(parent_id.clone(), payments);
    }
    for (merchant_id, month) in &reads.capped_months {
        let tracked: i64 = sqlx::query_scalar(concat!(
            "SELECT ",
            sum_minor!("amount_minor"),
            " \
             FROM monthly_sales WHERE merchant_id = $1 AND month = $2"
        ))
        .bind(merchant_id)
        .bind(month)
        .fetch_one(&mut *conn)
        .await?;
        state.tracked.insert((merchant_id.clone(), *month), tracked);
    }
    for key in &reads.volumes {
        let (sales_count, revenue_minor): (i64, i64) = sqlx::query_as(concat!(
            "SELECT COUNT(*), ",
            sum_minor!("amount_minor"),
            " \
             FROM conversions WHERE campaign_id = $1 AND affiliate_id = $2 \
             AND is_test = $3 AND created_at >= $4 \
             AND status NOT IN ('rejected', 'refunded')"
        ))
        .bind(&key.campaign_id)
        .bind(&key.affiliate_id)
        .bind(key.mode)
        .bind(key.month_start)
        .fetch_one(&mut *conn)
        .await?;
        state.volumes.insert(key.clone(), AffiliateVolume { sales_count, revenue_minor });
    }
    read_clicks(conn, &reads.clicks, &mut state).await?;
    Ok(state)
}

/// The clicks of sales scored in the batch (`refline_store::ClickCheck`), and the
/// fingerprints of the affiliates whose click exists: one read each for the whole batch.
async fn read_clicks(
    conn: &mut Conn,
    clicks: &[(String, String, String)],
    state: &mut BatchState,
) -> StoreResult<()> {
    let mut affiliates: Vec<&str> = Vec::new();
    // 2 binds a click; the primary key (merchant_id, id) serves each term.
    for chunk in clicks.chunks(400) {
        let mut query = sqlx::QueryBuilder::new("SELECT merchant_id, id, ip, device_hash FROM clicks WHERE ");
        for (i, (merchant_id, click_id, _)) in chunk.iter().enumerate() {
            query.push(if i == 0 { "(merchant_id = " } else { " OR (merchant_id = " });
            query.push_bind(merchant_id.as_str()).push(" AND id = ").push_bind(click_id.as_str()).push(")");
        }
        let found: Vec<(String, String, Option<String>, Option<String>)> =
            query.build_query_as().persistent(keep_batch_statements!()).fetch_all(&mut *conn).await?;
        for (merchant_id, id, ip, device_hash) in found {
            let key = (merchant_id, id.clone());
            affiliates.extend(
                chunk.iter().filter(|(m, c, _)| *m == key.0 && *c == key.1).map(|(_, _, a)| a.as_str()),
            );
            state.clicks.insert(key, ClickEvidence { id, ip, device_hash });
        }
    }
    affiliates.sort_unstable();
    affiliates.dedup();
    for chunk in affiliates.chunks(500) {
        let mut query = sqlx::QueryBuilder::new(
            "SELECT affiliate_id, kind, value FROM affiliate_fingerprints WHERE affiliate_id IN (",
        );
        let mut list = query.separated(", ");
        for affiliate_id in chunk {
            list.push_bind(*affiliate_id);
        }
        query.push(")");
        let rows: Vec<(String, String, String)> =
            query.build_query_as().persistent(keep_batch_statements!()).fetch_all(&mut *conn).await?;
        let mut by_affiliate: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (affiliate_id, kind, value) in rows {
            by_affiliate.entry(affiliate_id).or_default().push((kind, value));
        }
        for affiliate_id in chunk {
            let rows = by_affiliate.remove(*affiliate_id).unwrap_or_default();
            state.fingerprints.insert((*affiliate_id).to_string(), AffiliateFingerprints::from_rows(rows));
        }
    }
    Ok(())
}

/// Takes the transaction-scoped `locks` (already in ascending order) where the engine runs
/// several writers at once; a no-op, without a round trip, where it runs one (SQLite).
async fn take_locks(conn: &mut Conn, locks: &[LockKey]) -> StoreResult<()> {
    let (Some(function), false) = (xact_lock_function!(), locks.is_empty()) else {
        return Ok(());
    };
    // One statement for a whole batch. PostgreSQL evaluates a volatile function of the select
    // list after the ORDER BY, so the locks are taken in ascending order, as in every other
    // batch: no two batches can each hold a lock the other waits for. 2 binds a key; a batch of
    // 256 sales has at most 512 keys, far below the parameter limit, but chunks keep it so.
    for chunk in locks.chunks(1000) {
        let mut query = sqlx::QueryBuilder::new(format!("SELECT {function}(k1, k2) FROM ("));
        query.push_values(chunk, |mut row, (namespace, key)| {
            row.push_bind(*namespace).push_bind(*key);
        });
        query.push(") AS v (k1, k2) ORDER BY k1, k2");
        query.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts the planned rows, skipping any whose order id is used; the ids of the rows written.
async fn insert_rows(conn: &mut Conn, inserts: &[PlannedInsert]) -> StoreResult<HashSet<String>> {
    let mut inserted = HashSet::new();
    // 22 binds a row; 200 rows stay far below both engines' parameter limits.
    for chunk in inserts.chunks(200) {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, \
                amount_minor, commission_minor, currency, status, order_id, order_key, click_id, \
                customer_email, customer_name, conversion_type, parent_conversion_id, \
                payment_number, source, is_test, fraud_score, fraud_signals, created_at, \
                updated_at, earned_minor) ",
        );
        query.push_values(chunk, |mut row, p| {
            let c = &p.conversion;
            row.push_bind(&c.id)
                .push_bind(&c.merchant_id)
                .push_bind(&c.campaign_id)
                .push_bind(&c.affiliate_id)
                .push_bind(c.amount_minor)
                .push_bind(c.commission_minor)
                .push_bind(&c.currency)
                .push_bind(c.status)
                .push_bind(&c.order_id)
                .push_bind(c.order_key())
                .push_bind(&c.click_id)
                .push_bind(&c.customer_email)
                .push_bind(&c.customer_name)
                .push_bind(c.conversion_type)
                .push_bind(&c.parent_conversion_id)
                .push_bind(c.payment_number)
                .push_bind(&c.source)
                .push_bind(c.mode)
                .push_bind(c.fraud_score)
                .push_bind(&c.fraud_signals)
                .push_bind(c.created_at)
                .push_bind(c.updated_at)
                // What it earns starts as its commission, as its accrued entry says.
                .push_bind(c.commission_minor);
        });
        // The unique index arbitrates used order ids; no read-then-write race.
        query.push(" ON CONFLICT (order_key) DO NOTHING RETURNING id");
        let ids: Vec<String> =
            query.build_query_scalar().persistent(keep_batch_statements!()).fetch_all(&mut *conn).await?;
        inserted.extend(ids);
    }
    Ok(inserted)
}

/// Adds the written sales to the monthly tallies (per merchant, month and shard): one upsert
/// for the batch, however many merchants it names. `tallies` holds each row once, sorted, so
/// concurrent writers lock tally rows in one order.
fn add_tallies<'q>(script: &mut Script<'q>, tallies: &'q [(String, i64, i64, i64)]) {
    // 4 binds a row.
    for chunk in tallies.chunks(500) {
        let query = script.statement("INSERT INTO monthly_sales (merchant_id, month, shard, amount_minor) ");
        query.push_values(chunk, |mut row, (merchant_id, month, shard, amount)| {
            row.push_bind(merchant_id.as_str()).push_bind(*month).push_bind(*shard).push_bind(*amount);
        });
        query.push(
            " ON CONFLICT (merchant_id, month, shard) \
             DO UPDATE SET amount_minor = monthly_sales.amount_minor + excluded.amount_minor",
        );
    }
}

/// Learns which conversions hold the order ids of the `conflicted` rows, into `taken`. Run
/// after the attempt rolled back, outside any transaction.
async fn learn_taken(
    conn: &mut Conn,
    conflicted: &[&PlannedInsert],
    taken: &mut HashMap<OrderSlot, String>,
) -> StoreResult<()> {
    for p in conflicted {
        let c = &p.conversion;
        if let (Some(id), Some(slot)) = (holder_of_order(conn, c).await?, batch::order_slot(c)) {
            taken.insert(slot, id);
        }
    }
    Ok(())
}

/// One outcome per sale of the committed batch. A planned row the last attempt did not insert
/// lost its order id to another writer after that attempt was planned; its answer names the
/// conversion now holding it.
async fn answer(conn: &mut Conn, plan: BatchPlan, inserted: &HashSet<String>) -> Vec<RecordOutcome> {
    let mut answers = Vec::with_capacity(plan.inserts.len());
    for p in plan.inserts {
        let index = p.index;
        let outcome = if inserted.contains(&p.conversion.id) {
            Ok(p.conversion)
        } else {
            batch::late_conflict(holder_of_order(conn, &p.conversion).await.map_err(StoreError::from))
        };
        answers.push((index, outcome));
    }
    batch::outcomes(plan.decided, answers)
}

/// The id of the committed conversion holding `c`'s order id, if any (read outside the batch's
/// transaction, by the full order key so the unique index serves it).
async fn holder_of_order(conn: &mut Conn, c: &Conversion) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM conversions WHERE order_key = $1")
        .bind(c.order_key())
        .fetch_optional(&mut *conn)
        .await
}
