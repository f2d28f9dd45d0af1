//! The time prefix of ordered ids (`click_0qX3b2Lm…`): 8 base-62 digits of unix ms, in ASCII
//! order, so ids sort by time and a time bound is an id bound.

const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 8-character time prefix of an ordered id made at `ms` (negative times read as 0).
pub fn ordered_time_prefix(ms: i64) -> String {
    let mut time = [b'0'; 8];
    let mut rest = u64::try_from(ms).unwrap_or(0);
    for slot in time.iter_mut().rev() {
        *slot = DIGITS[(rest % 62) as usize];
        rest /= 62;
    }
    time.iter().map(|&b| char::from(b)).collect()
}

/// The smallest id with `prefix` made at or after `ms`: `<prefix>_<time>` sorts before every id
/// of that millisecond (they continue with random digits).
pub fn ordered_id_floor(prefix: &str, ms: i64) -> String {
    format!("{prefix}_{}", ordered_time_prefix(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_sort_like_times() {
        let times = [0, 1, 61, 62, 1_700_000_000_000, 1_800_000_000_000];
        let prefixes: Vec<String> = times.iter().map(|&t| ordered_time_prefix(t)).collect();
        assert!(prefixes.windows(2).all(|w| w[0] < w[1]), "{prefixes:?}");
        assert!(ordered_id_floor("click", 5) < format!("click_{}a", ordered_time_prefix(5)));
    }
}
