//! What one claimed batch of deliveries reads and remembers, shared by its deliveries.
//!
//! Processing a delivery one statement at a time cost about ten round trips (the
//! already-credited lookup, the remembered subscription, the tracking link, the attribution,
//! the plan, then remembering the payment and the subscription). The batch instead reads what
//! its deliveries will ask for with one query per kind ([`super::prefetch`]) and keeps it here;
//! what a delivery remembers (payments credited, subscriptions) is kept here too, for the
//! deliveries after it, and written with its result when the batch finishes, in one transaction
//! for the whole batch (`finish_inbox_batch`). A question the prefetch did not foresee is asked
//! of the store and its answer kept.
//!
//! A delivery therefore sees the memory of every delivery processed before it in its batch (a
//! refund after its sale finds the sale) and, since a batch is claimed only after the previous
//! one finished, of every earlier batch. What another node writes meanwhile is decided by the
//! database as before: one conversion per order key.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use refline_domain::{Currency, Plan};
use refline_store::{
    Attribution, AttributionQuery, ProcessorKey, ProcessorPayment, ProcessorSubscription, Store, StoreResult,
    TrackingTarget,
};

/// The attribution asked for: merchant, campaign, affiliate, click, order id, mode.
type AttributionKey = (String, String, String, Option<String>, Option<String>, bool);

fn attribution_key(q: &AttributionQuery<'_>) -> AttributionKey {
    (
        q.merchant_id.to_string(),
        q.campaign_id.to_string(),
        q.affiliate_id.to_string(),
        q.click_id.map(str::to_string),
        q.order_id.map(str::to_string),
        q.mode.is_live(),
    )
}

fn key(merchant: &str, provider: &str, key: &str) -> ProcessorKey {
    ProcessorKey { merchant_id: merchant.to_string(), provider: provider.to_string(), key: key.to_string() }
}

/// Known answers; a key that is absent was not asked yet (`Some(None)`: asked, nothing there).
#[derive(Default)]
struct Known {
    payments: HashMap<ProcessorKey, Option<String>>,
    subscriptions: HashMap<ProcessorKey, Option<ProcessorSubscription>>,
    links: HashMap<(String, String), Option<TrackingTarget>>,
    attributions: HashMap<AttributionKey, Option<Attribution>>,
    plans: HashMap<String, (Plan, Currency)>,
}

/// The memory of one claimed batch.
pub struct BatchMemo {
    store: Arc<dyn Store>,
    known: Mutex<Known>,
}

/// What one delivery remembered, written with its result.
#[derive(Debug, Default)]
pub struct Remembered {
    /// Payments credited (and pending links).
    pub payments: Vec<ProcessorPayment>,
    /// Subscriptions remembered.
    pub subscriptions: Vec<ProcessorSubscription>,
}

/// One delivery's view of its batch's memory.
pub struct Memo {
    batch: Arc<BatchMemo>,
    remembered: Mutex<Remembered>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl BatchMemo {
    /// An empty memory over `store`.
    pub fn new(store: Arc<dyn Store>) -> Arc<BatchMemo> {
        Arc::new(BatchMemo { store, known: Mutex::new(Known::default()) })
    }

    /// The view of one delivery.
    pub fn for_delivery(self: &Arc<Self>) -> Memo {
        Memo { batch: self.clone(), remembered: Mutex::new(Remembered::default()) }
    }

    /// The store behind the memory.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Reads the credited payments under `keys` (one query) and keeps the answers.
    pub async fn load_payments(&self, keys: Vec<ProcessorKey>) -> StoreResult<()> {
        let keys: Vec<ProcessorKey> = {
            let known = lock(&self.known);
            keys.into_iter().filter(|k| !known.payments.contains_key(k)).collect()
        };
        if keys.is_empty() {
            return Ok(());
        }
        let found = self.store.find_processor_payments(&keys).await?;
        let mut known = lock(&self.known);
        for k in keys {
            known.payments.entry(k).or_insert(None);
        }
        for p in found {
            // Found in the database: that is the answer, whatever was assumed.
            known.payments.insert(key(&p.merchant_id, &p.provider, &p.object_key), Some(p.conversion_id));
        }
        Ok(())
    }

    /// Reads the subscriptions remembered under `keys` (one query) and keeps the answers.
    pub async fn load_subscriptions(&self, keys: Vec<ProcessorKey>) -> StoreResult<()> {
        let keys: Vec<ProcessorKey> = {
            let known = lock(&self.known);
            keys.into_iter().filter(|k| !known.subscriptions.contains_key(k)).collect()
        };
        if keys.is_empty() {
            return Ok(());
        }
        let found = self.store.find_subscriptions(&keys).await?;
        let mut known = lock(&self.known);
        for k in keys {
            known.subscriptions.entry(k).or_insert(None);
        }
        for s in found {
            known.subscriptions.insert(key(&s.merchant_id, &s.provider, &s.subscription_key), Some(s));
        }
        Ok(())
    }

    /// Resolves `(tracking code, affiliate)` pairs (one query) and keeps the answers.
    pub async fn load_links(&self, pairs: Vec<(String, String)>) -> StoreResult<()> {
        let pairs: Vec<(String, String)> = {
            let known = lock(&self.known);
            pairs.into_iter().filter(|p| !known.links.contains_key(p)).collect()
        };
        if pairs.is_empty() {
            return Ok(());
        }
        let found = self.store.resolve_tracking_links(&pairs).await?;
        let mut known = lock(&self.known);
        for (pair, target) in pairs.into_iter().zip(found) {
            known.links.insert(pair, target);
        }
        Ok(())
    }

    /// Reads attributions (one query) and keeps the answers.
    pub async fn load_attributions(&self, queries: &[AttributionQuery<'_>]) -> StoreResult<()> {
        let queries: Vec<AttributionQuery<'_>> = {
            let known = lock(&self.known);
            queries
                .iter()
                .filter(|q| !known.attributions.contains_key(&attribution_key(q)))
                .copied()
                .collect()
        };
        if queries.is_empty() {
            return Ok(());
        }
        let found = self.store.find_attributions(&queries).await?;
        let mut known = lock(&self.known);
        for (q, attribution) in queries.iter().zip(found) {
            known.attributions.insert(attribution_key(q), attribution);
        }
        Ok(())
    }

    /// The tracking link, if it was resolved already.
    pub fn known_link(&self, code: &str, affiliate: &str) -> Option<Option<TrackingTarget>> {
        lock(&self.known).links.get(&(code.to_string(), affiliate.to_string())).cloned()
    }

    /// Reads a merchant's plan and currency, once per batch.
    pub async fn merchant_plan(&self, merchant_id: &str) -> StoreResult<(Plan, Currency)> {
        if let Some(plan) = lock(&self.known).plans.get(merchant_id) {
            return Ok(*plan);
        }
        let plan = super::process::merchant_plan(self.store.as_ref(), merchant_id).await?;
        lock(&self.known).plans.insert(merchant_id.to_string(), plan);
        Ok(plan)
    }
}

impl Memo {
    /// The store, for everything the batch does not keep.
    pub fn store(&self) -> &dyn Store {
        self.batch.store.as_ref()
    }

    /// What this delivery remembered (emptied).
    pub fn take_remembered(&self) -> Remembered {
        std::mem::take(&mut *lock(&self.remembered))
    }

    /// The conversion credited for any of `keys` (as `find_processor_payment`).
    pub async fn find_processor_payment(
        &self,
        merchant: &str,
        provider: &str,
        keys: &[String],
    ) -> StoreResult<Option<String>> {
        let wanted: Vec<ProcessorKey> = keys.iter().map(|k| key(merchant, provider, k)).collect();
        self.batch.load_payments(wanted.clone()).await?;
        let known = lock(&self.batch.known);
        Ok(wanted.iter().find_map(|k| known.payments.get(k).cloned().flatten()))
    }

    /// Remembers that `keys` name the object credited by `conversion_id` (a key already
    /// remembered keeps its conversion, as in the database).
    pub async fn remember_processor_payment(
        &self,
        merchant: &str,
        provider: &str,
        keys: &[String],
        conversion_id: &str,
    ) -> StoreResult<()> {
        let wanted: Vec<ProcessorKey> = keys.iter().map(|k| key(merchant, provider, k)).collect();
        self.batch.load_payments(wanted.clone()).await?;
        let mut rows = Vec::new();
        {
            let mut known = lock(&self.batch.known);
            for k in wanted {
                let slot = known.payments.entry(k.clone()).or_insert(None);
                if slot.is_none() {
                    *slot = Some(conversion_id.to_string());
                    rows.push(ProcessorPayment {
                        merchant_id: k.merchant_id,
                        provider: k.provider,
                        object_key: k.key,
                        conversion_id: conversion_id.to_string(),
                    });
                }
            }
        }
        lock(&self.remembered).payments.extend(rows);
        Ok(())
    }

    /// Notes payment keys another transaction wrote (a converted trial's), so the rest of the
    /// batch finds them.
    pub fn note_payment(&self, merchant: &str, provider: &str, keys: &[String], conversion_id: &str) {
        let mut known = lock(&self.batch.known);
        for k in keys {
            known.payments.insert(key(merchant, provider, k), Some(conversion_id.to_string()));
        }
    }

    /// A remembered subscription (as `find_subscription`).
    pub async fn find_subscription(
        &self,
        merchant: &str,
        provider: &str,
        subscription_key: &str,
    ) -> StoreResult<Option<ProcessorSubscription>> {
        let k = key(merchant, provider, subscription_key);
        self.batch.load_subscriptions(vec![k.clone()]).await?;
        Ok(lock(&self.batch.known).subscriptions.get(&k).cloned().flatten())
    }

    /// Remembers a subscription (as `remember_subscription`: an existing one keeps its
    /// attribution and only its missing conversion ids are filled in).
    pub async fn remember_subscription(&self, s: &ProcessorSubscription) -> StoreResult<()> {
        let k = key(&s.merchant_id, &s.provider, &s.subscription_key);
        self.batch.load_subscriptions(vec![k.clone()]).await?;
        {
            let mut known = lock(&self.batch.known);
            let slot = known.subscriptions.entry(k).or_insert(None);
            match slot {
                Some(existing) => {
                    existing.first_conversion_id =
                        existing.first_conversion_id.take().or_else(|| s.first_conversion_id.clone());
                    existing.trial_conversion_id =
                        existing.trial_conversion_id.take().or_else(|| s.trial_conversion_id.clone());
                }
                None => *slot = Some(s.clone()),
            }
        }
        lock(&self.remembered).subscriptions.push(s.clone());
        Ok(())
    }

    /// What `tc` + `aff` lead to (as `resolve_tracking_link`).
    pub async fn resolve_tracking_link(
        &self,
        code: &str,
        affiliate: &str,
    ) -> StoreResult<Option<TrackingTarget>> {
        if let Some(known) = self.batch.known_link(code, affiliate) {
            return Ok(known);
        }
        self.batch.load_links(vec![(code.to_string(), affiliate.to_string())]).await?;
        Ok(self.batch.known_link(code, affiliate).flatten())
    }

    /// The attribution of a sale (as `find_attribution`).
    pub async fn find_attribution(&self, q: &AttributionQuery<'_>) -> StoreResult<Option<Attribution>> {
        let k = attribution_key(q);
        if let Some(known) = lock(&self.batch.known).attributions.get(&k) {
            return Ok(known.clone());
        }
        self.batch.load_attributions(std::slice::from_ref(q)).await?;
        Ok(lock(&self.batch.known).attributions.get(&k).cloned().flatten())
    }

    /// The merchant's plan and currency.
    pub async fn merchant_plan(&self, merchant_id: &str) -> StoreResult<(Plan, Currency)> {
        self.batch.merchant_plan(merchant_id).await
    }
}
