//! Making a source by name, for every door that offers a choice of sources (the CLI, the
//! dashboard's Migrate page): a new source module adds its arm to [`api_source`] and its name to
//! [`crate::SOURCES`], and appears everywhere without changes to the doors.

use crate::{client::RetryPolicy, rewardful::Rewardful, ImportError, Source};

/// What an API source needs to be read.
#[derive(Debug, Clone, Default)]
pub struct ApiAccess {
    /// The source's API key (kept in memory only, for the run).
    pub api_key: String,
    /// The source's account id (FirstPromoter's `ACCOUNT-ID`).
    pub account_id: Option<String>,
    /// The API's base URL (its public API when `None`).
    pub base_url: Option<String>,
    /// Timeouts and retries.
    pub policy: RetryPolicy,
}

/// The API source called `name` (one of [`crate::SOURCES`]).
pub fn api_source(name: &str, access: &ApiAccess) -> Result<Box<dyn Source>, ImportError> {
    if access.api_key.trim().is_empty() {
        return Err(ImportError::Usage(format!("{name} needs its API key")));
    }
    match name {
        "rewardful" => {
            if access.account_id.is_some() {
                return Err(ImportError::Usage(
                    "--account-id is FirstPromoter's ACCOUNT-ID; Rewardful has none".into(),
                ));
            }
            Ok(Box::new(Rewardful::new(&access.api_key, access.base_url.as_deref(), access.policy.clone())?))
        }
        other => Err(ImportError::Usage(format!("unknown source {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_source_is_made_and_others_are_refused() {
        let access = ApiAccess { api_key: "k".into(), ..ApiAccess::default() };
        for name in crate::SOURCES {
            assert!(api_source(name, &access).is_ok(), "{name}");
        }
        assert!(matches!(api_source("nope", &access), Err(ImportError::Usage(_))));
        let keyless = ApiAccess::default();
        assert!(matches!(api_source("rewardful", &keyless), Err(ImportError::Usage(_))));
    }
}
