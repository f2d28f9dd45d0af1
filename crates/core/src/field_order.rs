//! One order for the problems of an input, whoever found them.
//!
//! A door reports what it could not read and the operation adds the business problems after;
//! listing them in the resource's field order instead keeps answers stable (the first problem
//! is the first field's) and identical to what one pass over the fields would have said.

use crate::Issue;

/// Sorts `issues` by the position of their top-level field in `fields`, keeping the order of
/// issues on the same field (and putting fields not listed, or body-level issues, last).
pub fn in_field_order(issues: &mut [Issue], fields: &[&str]) {
    issues.sort_by_key(|issue| {
        issue
            .path
            .first()
            .and_then(|name| name.as_str())
            .and_then(|name| fields.iter().position(|f| *f == name))
            .unwrap_or(fields.len())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_field_and_keeps_ties() {
        let mut issues = vec![
            Issue::field("b", "1"),
            Issue::field("zz", "2"),
            Issue::field("a", "3"),
            Issue::field("b", "4"),
        ];
        in_field_order(&mut issues, &["a", "b"]);
        let got: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
        assert_eq!(got, ["3", "1", "4", "2"]);
    }
}
