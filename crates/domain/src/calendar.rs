//! UTC calendar arithmetic on unix-millisecond timestamps: ISO-8601 formatting
//! and parsing, month boundaries and calendar-month addition.
//!
//! The civil-date conversions are Howard Hinnant's proleptic-Gregorian
//! algorithms, implemented here so the domain stays dependency-free.

/// Milliseconds in one second.
pub const MS_PER_SECOND: i64 = 1_000;
/// Milliseconds in one (UTC, leap-second-free) day.
pub const MS_PER_DAY: i64 = 86_400_000;

const SECONDS_PER_DAY: i64 = 86_400;
/// Days in a 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 to 1970-01-01; the algorithms count from a March epoch
/// so that the leap day is the last day of the year.
const UNIX_EPOCH_SHIFT: i64 = 719_468;

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` (1–12) of `year`; 0 for an invalid month.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a valid civil date (month 1–12, day 1–31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let march_month = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - UNIX_EPOCH_SHIFT
}

/// Civil date `(year, month, day)` of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_EPOCH_SHIFT;
    let era = z.div_euclid(DAYS_PER_ERA);
    let day_of_era = z - era * DAYS_PER_ERA;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 { march_month + 3 } else { march_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are bounded by the algorithm (1–12, 1–31), so the casts are lossless.
    (year, month as u32, day as u32)
}

/// Clamps an exact i128 millisecond result into the i64 timestamp range.
fn saturate(ms: i128) -> i64 {
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// ISO-8601 UTC with second precision, e.g. `"2026-04-15T10:30:00Z"`.
/// Milliseconds are floored, so negative timestamps round towards the past.
pub fn format_timestamp(ms: i64) -> String {
    let seconds = ms.div_euclid(MS_PER_SECOND);
    let (year, month, day) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Parses a UTC instant into unix milliseconds.
///
/// Accepts `YYYY-MM-DD` (the first millisecond of that UTC day, or with
/// `end_of_day` its last, 23:59:59.999, so it works as an inclusive upper bound)
/// and `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` may be lower
/// case, fractions beyond milliseconds are truncated and offsets are converted
/// to UTC. `end_of_day` only affects the date-only form. A date-time without a
/// zone is rejected as ambiguous, as are impossible dates and times.
pub fn parse_timestamp(text: &str, end_of_day: bool) -> Option<i64> {
    let b = text.as_bytes();
    let days = parse_date(b)?;
    if b.len() == 10 {
        let extra = if end_of_day { MS_PER_DAY - 1 } else { 0 };
        return Some(days * MS_PER_DAY + extra);
    }
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = number(b, 11, 2).filter(|&h| h < 24)?;
    let minute = number(b, 14, 2).filter(|&m| m < 60)?;
    let second = number(b, 17, 2).filter(|&s| s < 60)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }

    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(d - b'0');
            }
            i += 1;
        }
        let read = i - start;
        if read == 0 {
            return None;
        }
        for _ in read..3 {
            millis *= 10;
        }
    }

    let offset_minutes = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b.get(i + 3) == Some(&b':') => {
            let hours = number(b, i + 1, 2).filter(|&h| h < 24)?;
            let minutes = number(b, i + 4, 2).filter(|&m| m < 60)?;
            let total = hours * 60 + minutes;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };

    let local_ms = days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * MS_PER_SECOND + millis;
    Some(local_ms - offset_minutes * 60 * MS_PER_SECOND)
}

/// Days since the epoch of the `YYYY-MM-DD` at the start of `b`, if valid.
fn parse_date(b: &[u8]) -> Option<i64> {
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = number(b, 0, 4)?;
    let month = u32::try_from(number(b, 5, 2)?).ok()?;
    let day = u32::try_from(number(b, 8, 2)?).ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// The unsigned decimal in `b[start..start + len]`, if all are ASCII digits.
fn number(b: &[u8], start: usize, len: usize) -> Option<i64> {
    let digits = b.get(start..start.checked_add(len)?)?;
    digits.iter().try_fold(0i64, |acc, d| d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0')))
}

/// The first millisecond of the UTC calendar month containing `ms`.
pub fn month_start(ms: i64) -> i64 {
    let (year, month, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    saturate(i128::from(days_from_civil(year, month, 1)) * i128::from(MS_PER_DAY))
}

/// `ms` moved forward by `months` calendar months, keeping the day of month and
/// time of day; the day is clamped to the target month's length (Jan 31 + 1 →
/// Feb 28, or 29 in leap years). Saturates at the ends of the i64 range.
pub fn add_months(ms: i64, months: u32) -> i64 {
    let days = ms.div_euclid(MS_PER_DAY);
    let time_of_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let month_index = year * 12 + i64::from(month) - 1 + i64::from(months);
    let target_year = month_index.div_euclid(12);
    // rem_euclid(12) + 1 is within 1–12.
    let target_month = (month_index.rem_euclid(12) + 1) as u32;
    let target_day = day.min(days_in_month(target_year, target_month));
    let target_days = days_from_civil(target_year, target_month, target_day);
    saturate(i128::from(target_days) * i128::from(MS_PER_DAY) + i128::from(time_of_day))
}

/// Year and month of `ms` as one number, e.g. `202604` for April 2026
/// (saturating for timestamps hundreds of thousands of years away).
pub fn month_key(ms: i64) -> i32 {
    let (year, month, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let key = year.saturating_mul(100).saturating_add(i64::from(month));
    i32::try_from(key).unwrap_or(if key < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> i64 {
        parse_timestamp(text, false).unwrap()
    }

    #[test]
    fn civil_conversions() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2026));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2026, 13), 0);
    }

    #[test]
    fn formats_iso_utc() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_776_249_000_000), "2026-04-15T10:30:00Z");
        assert_eq!(format_timestamp(1_776_249_000_999), "2026-04-15T10:30:00Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_timestamp(-1_000), "1969-12-31T23:59:59Z");
        assert_eq!(format_timestamp(-1_001), "1969-12-31T23:59:58Z");
        assert_eq!(format_timestamp(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parses_dates_and_date_times() {
        assert_eq!(ts("2026-04-15T10:30:00Z"), 1_776_249_000_000);
        assert_eq!(ts("2026-04-15t10:30:00z"), 1_776_249_000_000);
        assert_eq!(ts("2026-04-15T10:30:00.123Z"), 1_776_249_000_123);
        assert_eq!(ts("2026-04-15T10:30:00.1Z"), 1_776_249_000_100);
        assert_eq!(ts("2026-04-15T10:30:00.123999Z"), 1_776_249_000_123);
        assert_eq!(ts("2026-04-15T12:30:00+02:00"), 1_776_249_000_000);
        assert_eq!(ts("2026-04-15T05:00:00-05:30"), 1_776_249_000_000);
        assert_eq!(ts("2026-04-15"), 1_776_211_200_000);
        assert_eq!(parse_timestamp("2026-04-15", true), Some(1_776_211_200_000 + MS_PER_DAY - 1));
        assert_eq!(parse_timestamp("2026-04-15T00:00:00Z", true), Some(1_776_211_200_000));
        assert_eq!(ts("2024-02-29"), 1_709_164_800_000);
        assert_eq!(ts("1969-12-31T23:59:59Z"), -1_000);
    }

    #[test]
    fn rejects_invalid_input() {
        for text in [
            "",
            "2026",
            "2026-4-15",
            "2026-02-30",
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-00",
            "2026-04-31",
            "2026-04-15T24:00:00Z",
            "2026-04-15T10:60:00Z",
            "2026-04-15T10:30:60Z",
            "2026-04-15T10:30:00",
            "2026-04-15T10:30Z",
            "2026-04-15 10:30:00Z",
            "2026-04-15T10:30:00.Z",
            "2026-04-15T10:30:00+2:00",
            "2026-04-15T10:30:00+02:60",
            "2026-04-15T10:30:00+0200",
            "2026-04-15T10:30:00ZZ",
            "2026-04-15T10:30:00+02:00x",
            "+2026-04-15",
            "2026-04-15x",
            "２０２６-04-15",
        ] {
            assert_eq!(parse_timestamp(text, false), None, "{text:?}");
        }
    }

    #[test]
    fn month_start_and_key() {
        assert_eq!(month_start(ts("2026-04-15T10:30:00Z")), ts("2026-04-01"));
        assert_eq!(month_start(ts("2026-04-01")), ts("2026-04-01"));
        assert_eq!(month_start(-1), ts("1969-12-01"));
        assert_eq!(month_key(ts("2026-04-15T10:30:00Z")), 202_604);
        assert_eq!(month_key(ts("2026-12-31T23:59:59Z")), 202_612);
        assert_eq!(month_start(i64::MIN), i64::MIN);
        assert_eq!(month_key(i64::MAX), i32::MAX);
    }

    #[test]
    fn add_months_clamps_the_day() {
        assert_eq!(add_months(ts("2026-01-31T08:00:00Z"), 1), ts("2026-02-28T08:00:00Z"));
        assert_eq!(add_months(ts("2024-01-31T08:00:00Z"), 1), ts("2024-02-29T08:00:00Z"));
        assert_eq!(add_months(ts("2026-03-31"), 1), ts("2026-04-30"));
        assert_eq!(add_months(ts("2026-11-15"), 2), ts("2027-01-15"));
        assert_eq!(add_months(ts("2026-01-15"), 0), ts("2026-01-15"));
        assert_eq!(add_months(ts("2024-02-29"), 12), ts("2025-02-28"));
        assert_eq!(add_months(ts("1969-12-31T23:59:59Z"), 1), ts("1970-01-31T23:59:59Z"));
        assert_eq!(add_months(i64::MAX, u32::MAX), i64::MAX);
        assert!(add_months(i64::MIN, 1) > i64::MIN);
    }
}
