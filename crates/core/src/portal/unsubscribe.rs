//! One-click unsubscribe from the non-essential affiliate mails (RFC 8058), and the account
//! page's switches that undo it.
//!
//! Essential mails (invitation, password reset, approval, payout sent) always go out. The
//! non-essential ones ([`OPTIONAL_MAILS`]) carry a link `/portal/unsubscribe/<token>`: the token
//! names the person, the business and the mail kind and is signed with a key derived from the
//! server's secret key, so it needs no table and cannot be made up for someone else. A GET shows
//! a page with a button; only a POST unsubscribes (mail scanners follow links). Stored per
//! person, business and kind (`mail_unsubscribes`); the mail producers ask
//! [`Core::wants_mail`] before queueing.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use refline_store::affiliate_mail::COMMISSION_MAIL;
use sha2::Sha256;

use super::PortalSignedIn;
use crate::{Core, CoreError, CoreResult, Issue};

/// The mails a person may stop, per business: (kind, what the portal calls it).
pub const OPTIONAL_MAILS: &[(&str, &str)] = &[
    (COMMISSION_MAIL, "New commission credited (at most one an hour)"),
    (REJECTED_MAIL, "Your application was declined"),
];

/// The kind of the "application declined" mail.
pub const REJECTED_MAIL: &str = "affiliate_rejected";

/// Bytes of the HMAC kept in a link: 128 bits, plenty against guessing.
const SIGNATURE_BYTES: usize = 16;

/// What an unsubscribe link names, checked.
#[derive(Debug, Clone)]
pub struct UnsubscribeLink {
    /// The person.
    pub person_id: String,
    /// The business.
    pub merchant_id: String,
    /// Its name.
    pub business_name: String,
    /// The mail kind.
    pub kind: String,
    /// What the mail is called.
    pub label: String,
    /// Whether the person still gets it.
    pub subscribed: bool,
}

/// One switch of the account page.
#[derive(Debug, Clone)]
pub struct MailPreference {
    /// The business.
    pub merchant_id: String,
    /// Its name.
    pub business_name: String,
    /// The mail kind.
    pub kind: String,
    /// What it is called.
    pub label: String,
    /// Whether the person gets it.
    pub subscribed: bool,
}

impl Core {
    /// The core with the key of its unsubscribe links, derived from the server's secret key
    /// (a separate key, so a signature can never be mistaken for anything else the secret key
    /// protects).
    pub fn with_unsubscribe_key(mut self, secret_key: &[u8; 32]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key).expect("HMAC takes any key length");
        mac.update(b"refline unsubscribe links v1");
        let derived: [u8; 32] = mac.finalize().into_bytes().into();
        self.unsubscribe_key = Some(std::sync::Arc::new(derived));
        self
    }

    /// The one-click unsubscribe URL of `kind` mails of the business for the person, when this
    /// core can sign one.
    pub fn unsubscribe_url(&self, person_id: &str, merchant_id: &str, kind: &str) -> Option<String> {
        let key = self.unsubscribe_key.as_deref()?;
        let payload = URL_SAFE_NO_PAD.encode(format!("{person_id}\n{merchant_id}\n{kind}"));
        let signature = URL_SAFE_NO_PAD.encode(&sign(key, &payload)[..SIGNATURE_BYTES]);
        Some(format!("{}/portal/unsubscribe/{payload}.{signature}", self.public_url))
    }

    /// The unsubscribe URL to put in a `kind` mail of the business to the affiliate row's
    /// person, or `None` when no such mail goes: the person stopped it, or the row has no
    /// portal login. A non-essential mail always carries its one-click unsubscribe, and only a
    /// login can hold that choice; a row without one (an API-created affiliate, who never
    /// applied) hears from the business's own system instead.
    pub(crate) async fn wants_mail(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        kind: &str,
    ) -> CoreResult<Option<String>> {
        let Some(person) = self.store.person_of_affiliate(merchant_id, affiliate_id).await? else {
            return Ok(None);
        };
        if self.store.mail_unsubscribed(&person.id, merchant_id, kind).await? {
            return Ok(None);
        }
        Ok(self.unsubscribe_url(&person.id, merchant_id, kind))
    }

    /// What an unsubscribe link names: 404 for a token that is malformed, not signed by this
    /// server, or about a mail that cannot be stopped.
    pub async fn unsubscribe_link(&self, token: &str) -> CoreResult<UnsubscribeLink> {
        let (person_id, merchant_id, kind) = self.open_token(token).ok_or_else(not_found)?;
        let label = label_of(&kind).ok_or_else(not_found)?;
        let merchant = self.store.get_merchant(&merchant_id).await?.ok_or_else(not_found)?;
        self.store.get_person(&person_id).await?.ok_or_else(not_found)?;
        let subscribed = !self.store.mail_unsubscribed(&person_id, &merchant_id, &kind).await?;
        Ok(UnsubscribeLink {
            person_id,
            merchant_id,
            business_name: merchant.name,
            kind,
            label: label.to_string(),
            subscribed,
        })
    }

    /// Unsubscribes through a link (the page's button, or a mail client's RFC 8058 one-click
    /// POST). Audited as `portal.unsubscribe` under the business, door `portal` with the person.
    pub async fn unsubscribe(&self, token: &str) -> CoreResult<UnsubscribeLink> {
        let mut link = self.unsubscribe_link(token).await?;
        let result = self
            .store
            .set_mail_subscription(&link.person_id, &link.merchant_id, &link.kind, false, self.now())
            .await
            .map(|_| ())
            .map_err(CoreError::from);
        let door = super::door(&link.person_id);
        self.record_audit(
            Some(&link.merchant_id),
            &door,
            "portal.unsubscribe",
            Some(&link.person_id),
            &result,
        )
        .await;
        result?;
        link.subscribed = false;
        Ok(link)
    }

    /// The account page's switches: each optional mail of each business the person is in.
    pub async fn mail_preferences(&self, signed_in: &PortalSignedIn) -> CoreResult<Vec<MailPreference>> {
        let stopped = self.store.mail_unsubscribes(&signed_in.person.id).await?;
        let mut businesses: Vec<(String, String)> = Vec::new();
        for m in self.store.person_memberships(&signed_in.person.id).await? {
            if !businesses.iter().any(|(id, _)| *id == m.merchant_id) {
                businesses.push((m.merchant_id, m.business_name));
            }
        }
        let mut out = Vec::new();
        for (merchant_id, business_name) in businesses {
            for (kind, label) in OPTIONAL_MAILS {
                let subscribed = !stopped.iter().any(|(m, k)| *m == merchant_id && k == kind);
                out.push(MailPreference {
                    merchant_id: merchant_id.clone(),
                    business_name: business_name.clone(),
                    kind: (*kind).to_string(),
                    label: (*label).to_string(),
                    subscribed,
                });
            }
        }
        Ok(out)
    }

    /// Turns one optional mail of one of the person's businesses on or off (another business's
    /// id answers 404). Audited as `portal.mail_preference` under that business.
    pub async fn set_mail_preference(
        &self,
        signed_in: &PortalSignedIn,
        merchant_id: &str,
        kind: &str,
        subscribed: bool,
    ) -> CoreResult<()> {
        let person_id = signed_in.person.id.as_str();
        let theirs =
            self.store.person_memberships(person_id).await?.iter().any(|m| m.merchant_id == merchant_id);
        if !theirs {
            return Err(CoreError::not_found("Business"));
        }
        let result = async {
            if label_of(kind).is_none() {
                return Err(CoreError::validation(vec![Issue::field(
                    "kind",
                    "this mail cannot be turned off",
                )]));
            }
            self.store.set_mail_subscription(person_id, merchant_id, kind, subscribed, self.now()).await?;
            Ok(())
        }
        .await;
        self.record_audit(
            Some(merchant_id),
            &signed_in.door(),
            "portal.mail_preference",
            Some(person_id),
            &result,
        )
        .await;
        result
    }

    /// The (person, business, kind) a token names, if this server signed it.
    fn open_token(&self, token: &str) -> Option<(String, String, String)> {
        let key = self.unsubscribe_key.as_deref()?;
        let (payload, signature) = token.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
        mac.update(payload.as_bytes());
        // Constant time, over the truncated length the links carry.
        if signature.len() != SIGNATURE_BYTES || mac.verify_truncated_left(&signature).is_err() {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let mut parts = text.splitn(3, '\n');
        let (person, merchant, kind) = (parts.next()?, parts.next()?, parts.next()?);
        Some((person.to_string(), merchant.to_string(), kind.to_string()))
    }
}

/// HMAC-SHA256 of `payload` under `key`.
fn sign(key: &[u8; 32], payload: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().into()
}

/// What an optional mail is called; `None` for a kind that cannot be stopped.
fn label_of(kind: &str) -> Option<&'static str> {
    OPTIONAL_MAILS.iter().find(|(k, _)| *k == kind).map(|(_, label)| *label)
}

fn not_found() -> CoreError {
    CoreError::not_found("Unsubscribe link")
}
