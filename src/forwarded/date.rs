//! Rule 9: `X-Amz-Date` is a real `yyyyMMddTHHmmssZ` time close to now.
//!
//! The date is converted by hand, from the Gregorian calendar's rules, so no date crate is
//! needed for one fixed format.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::RequestError;
use super::headers::{AllowedHeader, ForwardedHeaders};

/// The oldest a signature may be. STS itself allows 15 minutes; this check does not rely on
/// it, and the replay cache remembers each signature for exactly this long.
pub(super) const MAX_AGE: Duration = Duration::from_secs(15 * 60);

/// How far ahead of this service's clock a signature may be dated.
pub(super) const MAX_AHEAD: Duration = Duration::from_secs(5 * 60);

/// Days before the first of each month in a common year.
const DAYS_BEFORE_MONTH: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// Rule 9: `X-Amz-Date` is present, well formed, at most 15 minutes old and at most
/// 5 minutes ahead of `now`; returns the signing time.
///
/// Defends against the reuse of a captured request long after it was signed, without
/// trusting STS's own time check. Together with the replay cache, a request is then good
/// once, within a short window.
pub(super) fn check_date(
    headers: &ForwardedHeaders<'_>,
    now: SystemTime,
) -> Result<SystemTime, RequestError> {
    let unverified_date = headers
        .get(AllowedHeader::XAmzDate)
        .ok_or(RequestError::MissingDate)?;
    let signed_at = parse_amz_date(unverified_date)?;

    match now.duration_since(signed_at) {
        Ok(age) if age > MAX_AGE => Err(RequestError::StaleSignature),
        Err(ahead) if ahead.duration() > MAX_AHEAD => Err(RequestError::SignatureFromTheFuture),
        _ => Ok(signed_at),
    }
}

/// Reads `yyyyMMddTHHmmssZ` (UTC), refusing any other shape and any day or time that does
/// not exist (month 13, February 30, hour 24, second 60).
pub(super) fn parse_amz_date(unverified: &str) -> Result<SystemTime, RequestError> {
    let bytes = unverified.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return Err(RequestError::MalformedDate);
    }
    let field = |range: std::ops::Range<usize>| -> Result<u32, RequestError> {
        bytes[range].iter().try_fold(0u32, |number, &digit| {
            if digit.is_ascii_digit() {
                Ok(number * 10 + u32::from(digit - b'0'))
            } else {
                Err(RequestError::MalformedDate)
            }
        })
    };
    let year = field(0..4)?;
    let month = field(4..6)?;
    let day = field(6..8)?;
    let hour = field(9..11)?;
    let minute = field(11..13)?;
    let second = field(13..15)?;

    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(RequestError::MalformedDate);
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(RequestError::MalformedDate);
    }

    let days = days_since_unix_epoch(year, month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let offset = Duration::from_secs(seconds.unsigned_abs());
    let time = if seconds >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    time.ok_or(RequestError::MalformedDate)
}

/// Whether `year` has a February 29th in the Gregorian calendar.
fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// The number of days in `month` (1 to 12) of `year`.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given valid date; negative before it.
fn days_since_unix_epoch(year: u32, month: u32, day: u32) -> i64 {
    // Days from 0000-01-01 (proleptic Gregorian, where year 0 is a leap year) to the first
    // day of `year`: 365 per year plus one per leap year before it.
    fn days_before_year(year: i64) -> i64 {
        let last = year - 1;
        let leap_years = last.div_euclid(4) - last.div_euclid(100) + last.div_euclid(400) + 1;
        365 * year + leap_years
    }

    let leap_day = i64::from(month > 2 && is_leap_year(year));
    let day_of_year = i64::from(DAYS_BEFORE_MONTH[month as usize - 1] + day - 1) + leap_day;
    days_before_year(i64::from(year)) - days_before_year(1970) + day_of_year
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    /// Writes `time` as `yyyyMMddTHHmmssZ` by counting whole years and months, a slower
    /// method independent of the one under test.
    fn format_amz_date(time: SystemTime) -> String {
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let mut days = seconds / 86_400;
        let mut year = 1970;
        loop {
            let length = if is_leap_year(year) { 366 } else { 365 };
            if days < length {
                break;
            }
            days -= length;
            year += 1;
        }
        let mut month = 1;
        while days >= u64::from(days_in_month(year, month)) {
            days -= u64::from(days_in_month(year, month));
            month += 1;
        }
        let in_day = seconds % 86_400;
        format!(
            "{year:04}{month:02}{:02}T{:02}{:02}{:02}Z",
            days + 1,
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60
        )
    }

    #[test]
    fn known_times_convert_exactly() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Ok(at(0)));
        // The signing time of AWS's published SigV4 test suite.
        assert_eq!(parse_amz_date("20150830T123600Z"), Ok(at(1_440_938_160)));
        assert_eq!(parse_amz_date("20000229T235959Z"), Ok(at(951_868_799)));
        assert_eq!(parse_amz_date("20261203T101500Z"), Ok(at(1_796_292_900)));
        assert_eq!(
            parse_amz_date("19691231T235959Z"),
            Ok(UNIX_EPOCH - Duration::from_secs(1))
        );
    }

    #[test]
    fn impossible_or_misshapen_dates_are_refused() {
        for unverified in [
            "",
            "20261203T101500",
            "20261203 101500Z",
            "20261203t101500Z",
            "20261203T101500z",
            "2026-12-03T10:15:00Z",
            "20261203T101500Z ",
            "+0261203T101500Z",
            "2026120aT101500Z",
            "20261303T101500Z",
            "20260003T101500Z",
            "20261200T101500Z",
            "20261232T101500Z",
            "20260431T101500Z",
            "20250229T101500Z",
            "21000229T101500Z",
            "20261203T241500Z",
            "20261203T106000Z",
            "20261203T101560Z",
            "٢٠٢٦١٢٠٣T101500Z",
        ] {
            assert_eq!(
                parse_amz_date(unverified),
                Err(RequestError::MalformedDate),
                "{unverified:?}"
            );
        }
    }

    #[test]
    fn leap_days_exist_only_in_leap_years() {
        assert!(parse_amz_date("20240229T000000Z").is_ok());
        assert!(parse_amz_date("20000229T000000Z").is_ok());
        assert!(parse_amz_date("19000229T000000Z").is_err());
    }

    proptest! {
        #[test]
        fn an_accepted_date_writes_back_to_itself(unverified in ".*") {
            if let Ok(time) = parse_amz_date(&unverified) {
                // Times before 1970 are too rare here to be worth a second formatter.
                prop_assume!(time >= UNIX_EPOCH);
                prop_assert_eq!(format_amz_date(time), unverified);
            }
        }

        #[test]
        fn digit_strings_are_accepted_exactly_when_they_name_a_real_second(
            unverified in "(19[7-9][0-9]|2[0-9]{3})[0-1][0-9][0-3][0-9]\
                           T[0-2][0-9][0-6][0-9][0-6][0-9]Z"
        ) {
            match parse_amz_date(&unverified) {
                Ok(time) => prop_assert_eq!(format_amz_date(time), unverified),
                Err(error) => {
                    prop_assert_eq!(error, RequestError::MalformedDate);
                    let field = |range: std::ops::Range<usize>| -> u32 {
                        unverified[range].parse().expect("digits")
                    };
                    let (year, month, day) = (field(0..4), field(4..6), field(6..8));
                    let real = (1..=12).contains(&month)
                        && day >= 1
                        && day <= days_in_month(year, month)
                        && field(9..11) < 24
                        && field(11..13) < 60
                        && field(13..15) < 60;
                    prop_assert!(!real, "{} is a real time", unverified);
                }
            }
        }

        #[test]
        fn every_second_since_1970_round_trips(seconds in 0u64..253_402_300_800) {
            let text = format_amz_date(at(seconds));
            prop_assert_eq!(parse_amz_date(&text), Ok(at(seconds)));
        }
    }
}
