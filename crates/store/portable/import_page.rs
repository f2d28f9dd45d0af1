//! Writing a page of new imported commissions with a few multi-row statements instead of five
//! to ten statements a commission: what each one stores is decided first, without the database
//! (`refline_store::import_page::new_imported_rows`, the same rows the row-by-row write stores),
//! then each table gets its rows in fixed-size chunks. Any refusal fails the whole call; the
//! caller then rolls back and writes the page row by row, so the refused row fails alone.

use std::collections::{HashMap, HashSet};

use refline_domain::ledger::PayoutStatus;
use refline_store::{
    import_page::{fixed_chunks, new_imported_rows, NewImportedRows, PAGE_CHUNKS},
    Conversion, ImportedConversionWrite, ImportedObject, ProcessorSubscription, StoreError, StoreResult,
};

use super::Conn;

/// Writes `writes` inside the caller's transaction: answers each one's conversion id, in order
/// (the conversion already holding its order id when that was taken), and the rows inserted
/// (for the rollups).
pub(super) async fn write_page(
    conn: &mut Conn,
    writes: &[ImportedConversionWrite],
) -> StoreResult<(Vec<String>, Vec<Conversion>)> {
    let planned: Vec<NewImportedRows> =
        writes.iter().map(|w| new_imported_rows(&w.conversion, w.paid.as_ref())).collect();
    let inserted = insert_conversions(conn, &planned).await?;
    let taken: Vec<String> = planned
        .iter()
        .filter(|p| !inserted.contains(&p.conversion.id))
        .filter_map(|p| p.conversion.order_key())
        .collect();
    let holders = holders_of(conn, &taken).await?;
    let mut ids = Vec::with_capacity(writes.len());
    let mut new = Vec::new();
    for p in &planned {
        if inserted.contains(&p.conversion.id) {
            ids.push(p.conversion.id.clone());
            new.push(p);
            continue;
        }
        match p.conversion.order_key().and_then(|key| holders.get(&key)) {
            Some(holder) => ids.push(holder.clone()),
            None => return Err(StoreError::Other(format!("conversion {} was not written", p.conversion.id))),
        }
    }
    insert_payouts(conn, &new).await?;
    insert_entries(conn, &new).await?;
    let memories: Vec<(&ProcessorSubscription, &str)> =
        writes.iter().zip(&ids).filter_map(|(w, id)| w.memory.as_ref().map(|m| (m, id.as_str()))).collect();
    remember_customers(conn, &memories).await?;
    let objects: Vec<(&ImportedObject, &str)> =
        writes.iter().zip(&ids).map(|(w, id)| (&w.object, id.as_str())).collect();
    save_objects(conn, &objects).await?;
    Ok((ids, new.into_iter().map(|p| p.conversion.clone()).collect()))
}

/// Inserts the conversions as they end up (a conversion whose order id is taken is skipped);
/// answers the ids inserted.
async fn insert_conversions(conn: &mut Conn, planned: &[NewImportedRows]) -> StoreResult<HashSet<String>> {
    let mut inserted = HashSet::with_capacity(planned.len());
    for chunk in fixed_chunks(planned, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, amount_minor, \
                commission_minor, currency, status, order_id, order_key, click_id, customer_email, \
                customer_name, conversion_type, parent_conversion_id, payment_number, source, is_test, \
                fraud_score, fraud_signals, created_at, updated_at, approved_at, earned_minor, paid_minor) ",
        );
        q.push_values(chunk, |mut row, p| {
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
                .push_bind(c.approved_at)
                .push_bind(c.earned_minor)
                .push_bind(c.paid_minor);
        });
        q.push(" ON CONFLICT (order_key) DO NOTHING RETURNING id");
        inserted.extend(
            q.build_query_scalar::<String>()
                .persistent(keep_batch_statements!())
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(inserted)
}

/// The conversions holding `order_keys`: order key → id.
async fn holders_of(conn: &mut Conn, order_keys: &[String]) -> StoreResult<HashMap<String, String>> {
    let mut holders = HashMap::with_capacity(order_keys.len());
    for chunk in fixed_chunks(order_keys, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new("SELECT order_key, id FROM conversions WHERE order_key IN (");
        let mut list = q.separated(", ");
        for key in chunk {
            list.push_bind(key);
        }
        q.push(")");
        holders.extend(
            q.build_query_as::<(String, String)>()
                .persistent(keep_batch_statements!())
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(holders)
}

/// The completed `imported` payouts settling the paid ones, and their (closed) items.
async fn insert_payouts(conn: &mut Conn, new: &[&NewImportedRows]) -> StoreResult<()> {
    let paid: Vec<(&Conversion, &refline_store::import_page::PlannedPayout)> =
        new.iter().filter_map(|p| p.payout.as_ref().map(|po| (&p.conversion, po))).collect();
    for chunk in fixed_chunks(&paid, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO payouts (id, merchant_id, affiliate_id, currency, status, method, destination, \
                amount_minor, is_test, reference, export_id, transfer_id, failure_reason, created_at, \
                updated_at, completed_at) ",
        );
        q.push_values(chunk, |mut row, (c, p)| {
            row.push_bind(&p.payout.id)
                .push_bind(&c.merchant_id)
                .push_bind(&c.affiliate_id)
                .push_bind(&c.currency)
                .push_bind(PayoutStatus::Completed)
                .push_bind("imported")
                .push_bind(None::<String>)
                .push_bind(p.amount_minor)
                .push_bind(c.mode)
                .push_bind(&p.payout.reference)
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind(None::<String>)
                .push_bind(p.payout.paid_at)
                .push_bind(p.payout.paid_at)
                .push_bind(p.payout.paid_at);
        });
        q.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO payout_items (payout_id, conversion_id, amount_minor, is_open) ",
        );
        q.push_values(chunk, |mut row, (c, p)| {
            row.push_bind(&p.payout.id).push_bind(&c.id).push_bind(p.amount_minor).push_bind(false);
        });
        q.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Every new conversion's ledger entries, in the order the row-by-row write appends them.
async fn insert_entries(conn: &mut Conn, new: &[&NewImportedRows]) -> StoreResult<()> {
    let entries: Vec<_> =
        new.iter().flat_map(|p| p.entries.iter().map(move |e| (&p.conversion, e))).collect();
    for chunk in fixed_chunks(&entries, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, payout_id, \
                currency, kind, amount_minor, is_test, created_at) ",
        );
        q.push_values(chunk, |mut row, (c, e)| {
            row.push_bind(&c.merchant_id)
                .push_bind(&c.affiliate_id)
                .push_bind(&c.campaign_id)
                .push_bind(&c.id)
                .push_bind(&e.payout_id)
                .push_bind(&c.currency)
                .push_bind(e.kind)
                .push_bind(e.amount_minor)
                .push_bind(c.mode)
                .push_bind(e.created_at);
        });
        q.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The customers' memories, each pointing at its first imported sale (a memory already holding
/// one keeps it). One row per key, the page's first: as upserting them one by one leaves it
/// (and PostgreSQL refuses one statement updating a row twice).
async fn remember_customers(conn: &mut Conn, memories: &[(&ProcessorSubscription, &str)]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    let firsts: Vec<_> = memories
        .iter()
        .filter(|(m, _)| seen.insert((&m.merchant_id, &m.provider, &m.subscription_key)))
        .collect();
    for chunk in fixed_chunks(&firsts, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO processor_subscriptions (merchant_id, provider, subscription_key, \
                campaign_id, affiliate_id, click_id, first_conversion_id, trial_conversion_id, created_at) ",
        );
        q.push_values(chunk, |mut row, (m, id)| {
            row.push_bind(&m.merchant_id)
                .push_bind(&m.provider)
                .push_bind(&m.subscription_key)
                .push_bind(&m.campaign_id)
                .push_bind(&m.affiliate_id)
                .push_bind(&m.click_id)
                .push_bind(*id)
                .push_bind(&m.trial_conversion_id)
                .push_bind(m.created_at);
        });
        q.push(
            " ON CONFLICT (merchant_id, provider, subscription_key) DO UPDATE SET \
                first_conversion_id = COALESCE(processor_subscriptions.first_conversion_id, \
                excluded.first_conversion_id)",
        );
        q.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// What each source object became. One row per object: the page's last for it, created when
/// its first was (as saving them one by one leaves it).
pub(super) async fn save_objects(conn: &mut Conn, objects: &[(&ImportedObject, &str)]) -> StoreResult<()> {
    let mut at: HashMap<(&str, &str, &str, &str), usize> = HashMap::with_capacity(objects.len());
    let mut rows: Vec<(ImportedObject, &str)> = Vec::with_capacity(objects.len());
    for (o, id) in objects {
        let key = (o.merchant_id.as_str(), o.source.as_str(), o.kind.as_str(), o.source_id.as_str());
        match at.get(&key) {
            Some(&i) => {
                let created_at = rows[i].0.created_at;
                rows[i] = (ImportedObject { created_at, ..(*o).clone() }, *id);
            }
            None => {
                at.insert(key, rows.len());
                rows.push(((*o).clone(), *id));
            }
        }
    }
    for chunk in fixed_chunks(&rows, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO import_objects (merchant_id, source, kind, source_id, refline_id, fingerprint, \
                created_at, updated_at) ",
        );
        q.push_values(chunk, |mut row, (o, id)| {
            row.push_bind(&o.merchant_id)
                .push_bind(&o.source)
                .push_bind(&o.kind)
                .push_bind(&o.source_id)
                .push_bind(*id)
                .push_bind(&o.fingerprint)
                .push_bind(o.created_at)
                .push_bind(o.updated_at);
        });
        q.push(
            " ON CONFLICT (merchant_id, source, kind, source_id) DO UPDATE SET \
                refline_id = excluded.refline_id, fingerprint = excluded.fingerprint, \
                updated_at = excluded.updated_at",
        );
        q.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
    }
    Ok(())
}
