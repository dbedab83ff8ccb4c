//! The `X-Amz-Date` time stamp, `yyyyMMddTHHmmssZ` in UTC: read strictly and written back.
//!
//! Rule 9 reads it to judge a forwarded request's freshness, the development STS stand-in
//! reads it to sign with the caller's time, and key files are named with it. The calendar
//! is computed by hand: no date crate is needed for one fixed format.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A whole-second UTC time read from, or written as, an `X-Amz-Date` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AmzDate {
    /// Seconds since the Unix epoch; negative before it.
    unix_seconds: i64,
}

/// The error for a value that is not a real `yyyyMMddTHHmmssZ` time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the time stamp is not a real time in the yyyyMMddTHHmmssZ form")]
pub struct MalformedAmzDate;

const SECONDS_PER_DAY: i64 = 86_400;

/// Days before the first of each month in a common year.
const DAYS_BEFORE_MONTH: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

impl AmzDate {
    /// Reads an `X-Amz-Date` value: exactly 16 characters naming a day and a second that
    /// exist (no month 13, February 30, hour 24 or second 60). Writing the result back
    /// gives the same text, which matters because signatures are computed over that text.
    pub fn parse(unverified: &str) -> Result<Self, MalformedAmzDate> {
        let bytes = unverified.as_bytes();
        if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
            return Err(MalformedAmzDate);
        }
        let field = |range: std::ops::Range<usize>| -> Result<i64, MalformedAmzDate> {
            bytes[range].iter().try_fold(0_i64, |value, byte| {
                if byte.is_ascii_digit() {
                    Ok(value * 10 + i64::from(byte - b'0'))
                } else {
                    Err(MalformedAmzDate)
                }
            })
        };
        let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
        let (hour, minute, second) = (field(9..11)?, field(11..13)?, field(13..15)?);

        let real_day = (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day);
        if !real_day || hour > 23 || minute > 59 || second > 59 {
            return Err(MalformedAmzDate);
        }
        let days = days_from_civil(year, month, day);
        Ok(Self {
            unix_seconds: days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
        })
    }

    /// The time, truncated to whole seconds.
    pub fn from_system_time(time: SystemTime) -> Self {
        let unix_seconds = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Self { unix_seconds }
    }

    /// The time `unix_seconds` after the Unix epoch.
    pub fn from_unix_seconds(unix_seconds: u64) -> Self {
        Self {
            unix_seconds: i64::try_from(unix_seconds).unwrap_or(i64::MAX),
        }
    }

    /// The time as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        let offset = Duration::from_secs(self.unix_seconds.unsigned_abs());
        if self.unix_seconds >= 0 {
            UNIX_EPOCH + offset
        } else {
            UNIX_EPOCH - offset
        }
    }

    /// The day alone, `yyyyMMdd`, as a credential scope names it.
    pub fn day(self) -> String {
        let (year, month, day) = civil_from_days(self.unix_seconds.div_euclid(SECONDS_PER_DAY));
        format!("{year:04}{month:02}{day:02}")
    }
}

impl fmt::Display for AmzDate {
    /// Writes the `yyyyMMddTHHmmssZ` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.unix_seconds.div_euclid(SECONDS_PER_DAY));
        let second_of_day = self.unix_seconds.rem_euclid(SECONDS_PER_DAY);
        write!(
            f,
            "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )
    }
}

/// Whether `year` has a February 29th in the Gregorian calendar.
fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days in `month` (1 to 12) of `year`.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a real date; negative before it.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Days from 0000-01-01 (proleptic Gregorian; year 0 is a leap year) to the first day
    // of `year`: 365 per year plus one per leap year before it.
    fn days_before_year(year: i64) -> i64 {
        let last = year - 1;
        365 * year + last.div_euclid(4) - last.div_euclid(100) + last.div_euclid(400) + 1
    }
    let leap_day = i64::from(month > 2 && is_leap_year(year));
    let month_index = usize::try_from(month - 1).unwrap_or(0);
    let day_of_year = DAYS_BEFORE_MONTH[month_index] + day - 1 + leap_day;
    days_before_year(year) - days_before_year(1970) + day_of_year
}

/// The date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn parse(text: &str) -> Result<SystemTime, MalformedAmzDate> {
        AmzDate::parse(text).map(AmzDate::to_system_time)
    }

    /// Writes `time` by counting whole years and months: slower, and independent of the
    /// arithmetic under test.
    fn count_out(seconds: u64) -> String {
        let mut days = i64::try_from(seconds / 86_400).unwrap();
        let mut year = 1970;
        while days >= if is_leap_year(year) { 366 } else { 365 } {
            days -= if is_leap_year(year) { 366 } else { 365 };
            year += 1;
        }
        let mut month = 1;
        while days >= days_in_month(year, month) {
            days -= days_in_month(year, month);
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
        assert_eq!(parse("19700101T000000Z"), Ok(at(0)));
        // The signing time of AWS's published SigV4 test suite.
        assert_eq!(parse("20150830T123600Z"), Ok(at(1_440_938_160)));
        assert_eq!(parse("20000229T235959Z"), Ok(at(951_868_799)));
        assert_eq!(parse("20261203T101500Z"), Ok(at(1_796_292_900)));
        assert_eq!(
            parse("19691231T235959Z"),
            Ok(UNIX_EPOCH - Duration::from_secs(1))
        );
        let date = AmzDate::parse("20150830T123600Z").unwrap();
        assert_eq!(date.day(), "20150830");
        assert_eq!(
            AmzDate::from_unix_seconds(0).to_string(),
            "19700101T000000Z"
        );
    }

    #[test]
    fn impossible_or_misshapen_stamps_are_refused() {
        for text in [
            "",
            "20150830T123600",
            "20150830T123600z",
            "20150830 123600Z",
            "2015-08-30T12:36:00Z",
            "20150830T123600Z ",
            "20150230T123600Z",
            "20190229T000000Z",
            "21000229T000000Z",
            "19000229T000000Z",
            "20151301T000000Z",
            "20150001T000000Z",
            "20150800T000000Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "+0150830T123600Z",
            "２0150830T12360Z",
        ] {
            assert_eq!(AmzDate::parse(text), Err(MalformedAmzDate), "{text}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_refused_or_reads_back_identically(text in "\\PC{0,20}") {
            if let Ok(date) = AmzDate::parse(&text) {
                prop_assert_eq!(date.to_string(), text);
            }
        }

        #[test]
        fn digit_strings_are_accepted_exactly_when_they_name_a_real_second(
            text in "[0-9]{4}[0-1][0-9][0-3][0-9]T[0-2][0-9][0-6][0-9][0-6][0-9]Z"
        ) {
            let field = |range: std::ops::Range<usize>| -> i64 { text[range].parse().unwrap() };
            let (year, month, day) = (field(0..4), field(4..6), field(6..8));
            let real = (1..=12).contains(&month)
                && day >= 1
                && day <= days_in_month(year, month)
                && field(9..11) < 24
                && field(11..13) < 60
                && field(13..15) < 60;
            match AmzDate::parse(&text) {
                Ok(date) => {
                    prop_assert!(real);
                    prop_assert_eq!(date.to_string(), text);
                }
                Err(_) => prop_assert!(!real, "{} is a real time", text),
            }
        }

        #[test]
        fn every_second_since_1970_round_trips(seconds in 0u64..253_402_300_800) {
            let text = count_out(seconds);
            prop_assert_eq!(parse(&text), Ok(at(seconds)));
            prop_assert_eq!(AmzDate::from_unix_seconds(seconds).to_string(), text);
        }
    }
}
