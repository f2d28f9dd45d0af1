//! Small pieces every source's mapping uses: a coded skip, a person's name from its parts, the
//! source's id of a related object given either nested (`partner: {id}`) or flat
//! (`partner_id`), and the sign rule of commission amounts.

use serde_json::Value;

use crate::{
    values::{obj, text},
    Record,
};

/// A skipped object of `kind` with the source's `source_id`.
pub fn skip(
    kind: &'static str,
    source_id: Option<String>,
    code: &'static str,
    message: impl Into<String>,
) -> Record {
    Record::Skipped { kind, source_id: source_id.unwrap_or_default(), code, message: message.into() }
}

/// `first last` from the parts present; `None` when there are none.
pub fn full_name(item: &Value, first: &str, last: &str) -> Option<String> {
    let name = [text(item, first), text(item, last)].into_iter().flatten().collect::<Vec<_>>().join(" ");
    (!name.is_empty()).then_some(name)
}

/// The id of the related `object` (`partner`), nested as `{object: {id_key}}` when expanded or
/// flat as `<object>_<id_key>` (`partner_id`).
pub fn related(item: &Value, object: &str, id_key: &str) -> Option<String> {
    text(obj(item, object), id_key).or_else(|| text(item, &format!("{object}_{id_key}")))
}

/// A negative commission is a source's own clawback of an earlier one (Tolt and FirstPromoter
/// write refunds that way): Refline reverses the commission itself instead, so these are
/// skipped with `negative_commission` rather than imported as money owed back twice.
pub fn negative(kind: &'static str, source_id: &str, amount: i64) -> Option<Record> {
    (amount < 0).then(|| {
        skip(
            kind,
            Some(source_id.to_string()),
            "negative_commission",
            format!("a negative commission ({amount}) is the source's clawback of another; not imported"),
        )
    })
}
