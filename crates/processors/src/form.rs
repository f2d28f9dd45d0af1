//! `application/x-www-form-urlencoded` bodies as ordered pairs with last-wins lookup (PHP and
//! Rails both keep the last of repeated keys).

use crate::error::ParseError;

pub(crate) struct Form {
    pub(crate) pairs: Vec<(String, String)>,
}

impl Form {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Form, ParseError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .map(|pairs| Form { pairs })
            .map_err(|_| ParseError::Body("form"))
    }

    /// The last value of `key`, if non-empty.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub(crate) fn req(&self, key: &str) -> Result<&str, ParseError> {
        self.get(key).ok_or_else(|| ParseError::field(key))
    }

    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    /// Entries of a Rails-style nested hash: `prefix[sub]=v` → `(sub, v)`.
    pub(crate) fn nested(&self, prefix: &str) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter_map(|(k, v)| {
                let sub = k.strip_prefix(prefix)?.strip_prefix('[')?.strip_suffix(']')?;
                Some((sub.to_string(), v.clone()))
            })
            .collect()
    }
}
