//! The node's memory of what `POST /conversions` attributes a sale to: a campaign, one of the
//! merchant's affiliates and the affiliate's membership on it, as the attribution read found
//! them, kept for [`TTL`].
//!
//! With it a sale's request reads nothing before the batch writer: the campaign's terms and
//! the membership come from here, a used order id is found by the batch's insert (the same
//! `duplicate` answer), and the customer's click is read by the batch (`ClickCheck`). The
//! operation uses it only where that gives exactly the answer of the full read (see
//! `Core::record_conversion`); anything else takes the read.
//!
//! Staleness is bounded like the link cache's: a change through this node (campaign terms or
//! status, a membership) clears it at once (`Effects::links_changed`, whose server side clears
//! this too), other nodes on the same PostgreSQL clear theirs on the `links` announcement, and a
//! change nobody announces (the command line) is seen within [`TTL`]. Affiliates' emails and
//! creation facts never change once created.

use refline_domain::MembershipStatus;
use refline_store::{Affiliate, Campaign};

use crate::memory::Memory;

pub use crate::memory::TTL;

/// A campaign and one affiliate of its merchant, as the attribution read found them.
#[derive(Debug, Clone)]
pub struct Attributed {
    /// The campaign.
    pub campaign: Campaign,
    /// The affiliate, when the merchant has one with the id asked for.
    pub affiliate: Option<Affiliate>,
    /// Its membership on the campaign.
    pub membership_status: Option<MembershipStatus>,
}

/// (merchant, campaign id, affiliate id) → what was found.
type Key = (String, String, String);

/// See the module documentation.
#[derive(Default)]
pub struct AttributionCache {
    memory: Memory<Key, Attributed>,
}

impl AttributionCache {
    /// What was found for this merchant's campaign and affiliate less than [`TTL`] ago.
    pub fn get(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
    ) -> Option<std::sync::Arc<Attributed>> {
        self.memory.get(&(merchant_id.to_string(), campaign_id.to_string(), affiliate_id.to_string()))
    }

    /// The generation to hand back to [`Self::put`] with what a read started now finds.
    pub fn generation(&self) -> u64 {
        self.memory.generation()
    }

    /// Remembers `found`, read since `generation`: not if the cache was cleared meanwhile (the
    /// read may predate the change that cleared it).
    pub fn put(&self, generation: u64, merchant_id: &str, affiliate_id: &str, found: Attributed) {
        let key = (merchant_id.to_string(), found.campaign.id.clone(), affiliate_id.to_string());
        self.memory.put(generation, key, found);
    }

    /// Forgets everything: a campaign or membership changed.
    pub fn clear(&self) {
        self.memory.clear();
    }
}
