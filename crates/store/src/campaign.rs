//! Campaigns.

use refline_domain::Mode;

use crate::{Campaign, CampaignSort, CampaignStats, CampaignWithStats, Page, PageRequest, StoreResult};

/// Campaigns of a merchant.
#[async_trait::async_trait]
pub trait CampaignStore {
    /// Inserts a campaign; a taken tracking code is a `Conflict` on `tracking_code`.
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()>;
    /// Replaces the mutable fields of a campaign; false when it does not exist.
    async fn update_campaign(&self, campaign: &Campaign) -> StoreResult<bool>;
    /// A merchant's campaign by id.
    async fn get_campaign(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Campaign>>;
    /// Aggregates of one campaign, live or test.
    async fn campaign_stats(&self, campaign_id: &str, mode: Mode) -> StoreResult<CampaignStats>;
    /// A page of a merchant's campaigns with aggregates.
    async fn list_campaigns(
        &self,
        merchant_id: &str,
        mode: Mode,
        page: PageRequest<CampaignSort>,
    ) -> StoreResult<Page<CampaignWithStats>>;
}
