//! Header lookup without depending on an HTTP crate.

/// Case-insensitive header lookup. Where a name repeats, the first value wins.
pub trait Headers {
    /// The value of header `name` (any case), if present and valid text.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Headers for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

impl Headers for Vec<(&str, &str)> {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

/// No headers at all (e.g. GoPay's bare GET).
pub struct NoHeaders;

impl Headers for NoHeaders {
    fn get(&self, _name: &str) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_takes_the_first() {
        let h: Vec<(String, String)> =
            vec![("Stripe-Signature".into(), "a".into()), ("stripe-signature".into(), "b".into())];
        assert_eq!(Headers::get(&h, "STRIPE-SIGNATURE"), Some("a"));
        assert_eq!(Headers::get(&h, "x"), None);
        let s: &[(&str, &str)] = &[("X-Signature", "c")];
        assert_eq!(Headers::get(s, "x-signature"), Some("c"));
        assert_eq!(NoHeaders.get("x"), None);
    }
}
