//! Writing a page of imported affiliates ([`refline_store::ImportStore::import_affiliates`]):
//! a few multi-row statements for the page (affiliates, memberships, source object rows), and
//! the same writes row by row, each in a savepoint, when the database refuses the page.

use std::collections::{HashMap, HashSet};

use refline_store::{
    import_page::{fixed_chunks, PAGE_CHUNKS},
    ImportedAffiliateWrite, ImportedAffiliateWritten, ImportedObject, StoreError, StoreResult,
};

use super::{import::save_object, Conn};
use crate::Engine;

/// Writes the page in one transaction: multi-row statements, or row by row when they are
/// refused (see the trait).
pub(super) async fn import_affiliates(
    store: &Engine,
    writes: &[ImportedAffiliateWrite],
    now: i64,
) -> StoreResult<Vec<StoreResult<ImportedAffiliateWritten>>> {
    let mut tx = store.begin_write().await?;
    match write_page(&mut tx, writes, now).await {
        Ok(written) => {
            tx.commit().await?;
            Ok(written.into_iter().map(Ok).collect())
        }
        Err(_) => {
            tx.rollback().await?;
            import_isolating(store, writes, now).await
        }
    }
}

/// The page with multi-row statements; any refusal (or two rows that are one affiliate) fails
/// the whole call.
async fn write_page(
    conn: &mut Conn,
    writes: &[ImportedAffiliateWrite],
    now: i64,
) -> StoreResult<Vec<ImportedAffiliateWritten>> {
    let new: Vec<_> = writes.iter().filter(|w| w.existing.is_none()).map(|w| &w.affiliate).collect();
    let mut inserted = HashSet::with_capacity(new.len());
    for chunk in fixed_chunks(&new, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO affiliates (id, merchant_id, email, name, created_via, created_at) ",
        );
        q.push_values(chunk, |mut row, a| {
            row.push_bind(&a.id)
                .push_bind(&a.merchant_id)
                .push_bind(&a.email)
                .push_bind(&a.name)
                .push_bind(&a.created_via)
                .push_bind(a.created_at);
        });
        q.push(" ON CONFLICT (merchant_id, email) DO NOTHING RETURNING id");
        inserted.extend(
            q.build_query_scalar::<String>()
                .persistent(keep_batch_statements!())
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    // Those whose email the merchant already had answer that affiliate.
    let taken: Vec<_> = new.iter().filter(|a| !inserted.contains(&a.id)).collect();
    let mut holders: HashMap<(String, String), String> = HashMap::with_capacity(taken.len());
    for chunk in fixed_chunks(&taken, &PAGE_CHUNKS) {
        let mut q = sqlx::QueryBuilder::new("SELECT merchant_id, email, id FROM affiliates WHERE ");
        let mut list = q.separated(" OR ");
        for a in chunk {
            list.push("(merchant_id = ").push_bind_unseparated(&a.merchant_id);
            list.push_unseparated(" AND email = ").push_bind_unseparated(&a.email).push_unseparated(")");
        }
        for (merchant, email, id) in q
            .build_query_as::<(String, String, String)>()
            .persistent(keep_batch_statements!())
            .fetch_all(&mut *conn)
            .await?
        {
            holders.insert((merchant, email), id);
        }
    }
    let mut written = Vec::with_capacity(writes.len());
    for w in writes {
        let a = &w.affiliate;
        let (id, created) = match &w.existing {
            Some(id) => (id.clone(), false),
            None if inserted.contains(&a.id) => (a.id.clone(), true),
            None => match holders.get(&(a.merchant_id.clone(), a.email.clone())) {
                Some(id) => (id.clone(), false),
                None => return Err(StoreError::Other(format!("affiliate {} was not written", a.id))),
            },
        };
        written.push(ImportedAffiliateWritten { id, created, changed: false });
    }
    // Two rows of one affiliate (one email under two source ids): one statement cannot tell
    // their memberships' changes apart, and PostgreSQL refuses a row updated twice.
    let mut ids = HashSet::with_capacity(written.len());
    if !written.iter().all(|done| ids.insert(done.id.as_str())) {
        return Err(StoreError::Other("two rows of the page are one affiliate".into()));
    }
    let memberships: Vec<(&str, &str, &str, refline_domain::MembershipStatus)> = writes
        .iter()
        .zip(&written)
        .flat_map(|(w, done)| {
            w.memberships.iter().map(move |(campaign, status)| {
                (w.affiliate.merchant_id.as_str(), campaign.as_str(), done.id.as_str(), *status)
            })
        })
        .collect();
    let mut changed = HashSet::new();
    for chunk in fixed_chunks(&memberships, &PAGE_CHUNKS) {
        // Inserted, or moved when its status differs; an unchanged row is not touched.
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO memberships (campaign_id, affiliate_id, merchant_id, status, joined_at, updated_at) ",
        );
        q.push_values(chunk, |mut row, (merchant, campaign, affiliate, status)| {
            row.push_bind(*campaign)
                .push_bind(*affiliate)
                .push_bind(*merchant)
                .push_bind(*status)
                .push_bind(now)
                .push_bind(now);
        });
        q.push(
            " ON CONFLICT (campaign_id, affiliate_id) DO UPDATE SET status = excluded.status, \
                updated_at = excluded.updated_at \
             WHERE memberships.status <> excluded.status AND memberships.merchant_id = excluded.merchant_id \
             RETURNING affiliate_id",
        );
        changed.extend(
            q.build_query_scalar::<String>()
                .persistent(keep_batch_statements!())
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    for done in &mut written {
        done.changed = changed.contains(&done.id);
    }
    let objects: Vec<(&ImportedObject, &str)> =
        writes.iter().zip(&written).map(|(w, done)| (&w.object, done.id.as_str())).collect();
    super::import_page::save_objects(conn, &objects).await?;
    Ok(written)
}

/// The page row by row, each in a savepoint: a refused row is rolled back alone and answered
/// with its error.
async fn import_isolating(
    store: &Engine,
    writes: &[ImportedAffiliateWrite],
    now: i64,
) -> StoreResult<Vec<StoreResult<ImportedAffiliateWritten>>> {
    let mut tx = store.begin_write().await?;
    let mut answers = Vec::with_capacity(writes.len());
    for write in writes {
        let mut one = sqlx::Connection::begin(&mut *tx).await?;
        match write_one(&mut one, write, now).await {
            Ok(done) => {
                one.commit().await?;
                answers.push(Ok(done));
            }
            Err(err) => {
                one.rollback().await?;
                answers.push(Err(err));
            }
        }
    }
    tx.commit().await?;
    Ok(answers)
}

/// One affiliate: created (or found by email) unless imported before, its memberships, its
/// source object row.
async fn write_one(
    conn: &mut Conn,
    w: &ImportedAffiliateWrite,
    now: i64,
) -> StoreResult<ImportedAffiliateWritten> {
    let (id, created) = match &w.existing {
        Some(id) => (id.clone(), false),
        None => super::affiliate::insert_or_find_affiliate(conn, &w.affiliate).await?,
    };
    let mut changed = false;
    for (campaign, status) in &w.memberships {
        changed |=
            super::import::upsert_membership(conn, &w.affiliate.merchant_id, campaign, &id, *status, now)
                .await?;
    }
    save_object(conn, &w.object, &id).await?;
    Ok(ImportedAffiliateWritten { id, created, changed })
}
