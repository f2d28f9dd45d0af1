//! Reading a page of the list answers sources give, whatever their envelope: a bare array
//! (FirstPromoter), `{data: [...]}` (Rewardful, Tolt v1 and v2, FirstPromoter's promoters),
//! `{data: {data: [...]}}` (Tolt's customers) and `{data: {items: [...]}}` (PartnerStack); and
//! where the next page starts, by cursor or by page number.

use serde_json::Value;

use crate::values::{int, obj, text};

/// The page's objects.
pub fn items(answer: &Value) -> &[Value] {
    if let Some(list) = answer.as_array() {
        return list;
    }
    let data = obj(answer, "data");
    if let Some(list) = data.as_array() {
        return list;
    }
    ["data", "items"]
        .into_iter()
        .find_map(|key| data.get(key).and_then(Value::as_array))
        .map_or(&[], Vec::as_slice)
}

/// A field of the envelope, at its top or inside an object `data`.
fn envelope<'a>(answer: &'a Value, key: &str) -> Option<&'a Value> {
    answer.get(key).or_else(|| answer.get("data").filter(|d| d.is_object()).and_then(|d| d.get(key)))
}

/// The cursor of the next page of a `starting_after` list: the envelope's `next_cursor` when it
/// gives one (Tolt v2), else the last object's `id_key` when `has_more` says there is more
/// (Tolt v1, PartnerStack, Stripe's convention). `None` after the last page, and for an empty
/// page whatever it claims (so a source that keeps saying `has_more` cannot loop forever).
pub fn next_cursor(answer: &Value, id_key: &str) -> Option<String> {
    let list = items(answer);
    let last = list.last()?;
    let more = envelope(answer, "has_more").and_then(Value::as_bool);
    if more == Some(false) {
        return None;
    }
    if let Some(cursor) = envelope(answer, "next_cursor").and_then(Value::as_str) {
        return Some(cursor.to_string()).filter(|c| !c.is_empty());
    }
    if more == Some(true) {
        return text(last, id_key);
    }
    None
}

/// The next page number of a `page`/`per_page` list: the envelope's
/// `meta.pagination.next_page` when it has one, else the next page while pages come exactly
/// full (a page holding more than asked means the list ignores paging: it was all of it).
pub fn next_page(answer: &Value, page: i64, per_page: usize) -> Option<String> {
    let list = items(answer);
    if list.is_empty() {
        return None;
    }
    let pagination = obj(obj(answer, "meta"), "pagination");
    if pagination.get("next_page").is_some() {
        return int(pagination, "next_page").map(|n| n.to_string());
    }
    (list.len() == per_page).then(|| (page + 1).to_string())
}

/// The number of objects in all, when the envelope says.
pub fn total(answer: &Value) -> Option<u64> {
    let n = match envelope(answer, "total_count") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => int(obj(obj(answer, "meta"), "pagination"), "total_count"),
    }?;
    u64::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_envelope_gives_its_items() {
        let one = json!([{"id": 1}]);
        assert_eq!(items(&one).len(), 1);
        assert_eq!(items(&json!({"data": [{"id": 1}, {"id": 2}]})).len(), 2);
        assert_eq!(items(&json!({"data": {"data": [{"id": 1}]}})).len(), 1);
        assert_eq!(items(&json!({"data": {"items": [{"key": "a"}], "has_more": false}})).len(), 1);
        assert!(items(&json!({"success": false})).is_empty());
    }

    #[test]
    fn cursors_follow_has_more_or_next_cursor() {
        let v1 =
            json!({"success": true, "has_more": true, "total_count": 5, "data": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(next_cursor(&v1, "id").as_deref(), Some("b"));
        assert_eq!(total(&v1), Some(5));
        let v2 = json!({"success": true, "data": [{"id": "a"}], "has_more": true, "next_cursor": "cur_x"});
        assert_eq!(next_cursor(&v2, "id").as_deref(), Some("cur_x"));
        let last = json!({"data": [{"id": "a"}], "has_more": false, "next_cursor": null});
        assert_eq!(next_cursor(&last, "id"), None);
        let ps = json!({"data": {"items": [{"key": "k1"}, {"key": "k2"}], "has_more": true}});
        assert_eq!(next_cursor(&ps, "key").as_deref(), Some("k2"));
        assert_eq!(next_cursor(&json!({"data": [], "has_more": true}), "id"), None);
    }

    #[test]
    fn pages_follow_meta_or_fullness() {
        let full = json!([{"id": 1}, {"id": 2}]);
        assert_eq!(next_page(&full, 1, 2).as_deref(), Some("2"));
        assert_eq!(next_page(&full, 1, 3), None);
        assert_eq!(next_page(&full, 1, 1), None, "more than asked: paging is ignored");
        let meta =
            json!({"data": [{"id": 1}], "meta": {"pagination": {"next_page": null, "total_count": 9}}});
        assert_eq!(next_page(&meta, 4, 1), None);
        assert_eq!(total(&meta), Some(9));
        let more = json!({"data": [{"id": 1}], "meta": {"pagination": {"next_page": 5}}});
        assert_eq!(next_page(&more, 4, 100).as_deref(), Some("5"));
    }
}
