//! Importing referred customers: each is remembered under its payment processor's customer id
//! (`cus:<id>`, as the processor receivers remember a first sale's customer), so the processor's
//! next renewal for that customer is credited to the imported affiliate.

use refline_store::ProcessorSubscription;

use super::{kind, skip, Change, Earlier, Imported};
use crate::{inbound::attribution::memory_keys, Actor, Core, CoreResult};

/// A referred customer at the source.
#[derive(Debug, Clone)]
pub struct ImportedCustomer {
    /// The source's id.
    pub source_id: String,
    /// The affiliate's source id.
    pub affiliate_source_id: String,
    /// The campaign's source id; the affiliate's first campaign when `None`.
    pub campaign_source_id: Option<String>,
    /// The payment processor (`stripe`, `paddle`, …) the customer id belongs to.
    pub provider: String,
    /// The processor's customer id (`cus_…`); without one renewals cannot be matched.
    pub processor_customer_id: Option<String>,
    /// The customer's email, for the report.
    pub email: Option<String>,
}

impl Core {
    /// Remembers the customer for the processor's renewals (an existing memory is kept).
    pub async fn import_customer(&self, actor: &Actor, input: ImportedCustomer) -> CoreResult<Imported> {
        self.audited(actor, "customer.import", None, self.import_customer_work(actor, input)).await
    }

    async fn import_customer_work(&self, actor: &Actor, input: ImportedCustomer) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::CUSTOMER, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, found: before } = earlier;
        let Some(customer_id) = input.processor_customer_id.as_deref().filter(|c| !c.trim().is_empty())
        else {
            return Err(skip(
                "no_processor_customer",
                "the source knows no payment-processor customer id for this customer: renewals cannot be matched",
            ));
        };
        let affiliate = self
            .imported_id(
                actor,
                &source,
                kind::AFFILIATE,
                &input.affiliate_source_id,
                "affiliate_not_imported",
            )
            .await?;
        let campaign =
            self.campaign_for(actor, &source, input.campaign_source_id.as_deref(), &affiliate).await?;
        let key = memory_keys(None, Some(customer_id)).concat();
        let memory = ProcessorSubscription {
            merchant_id: actor.merchant_id.clone(),
            provider: input.provider.clone(),
            subscription_key: key.clone(),
            campaign_id: campaign,
            affiliate_id: affiliate,
            click_id: None,
            first_conversion_id: None,
            trial_conversion_id: None,
            created_at: self.now(),
        };
        self.store.remember_subscription(&memory).await?;
        let id = format!("{}:{key}", input.provider);
        let change = if before.is_some() { Change::Updated } else { Change::Created };
        self.remember_import(actor, &source, kind::CUSTOMER, &input.source_id, &id, print).await?;
        Ok(Imported { id, change })
    }
}
