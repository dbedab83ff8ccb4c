//! The `X-Amz-Date` time stamp, `yyyyMMddTHHmmssZ` in UTC: parsed strictly into a
//! [`SystemTime`] and written back, so that the stand-in can sign with the caller's time and
//! quote it in its answers the way STS does.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A whole-second UTC time read from, or written as, an `X-Amz-Date` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AmzDate {
    /// Seconds since the Unix epoch.
    unix_seconds: u64,
}

/// The error for a value that is not a `yyyyMMddTHHmmssZ` time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the time stamp is not in the yyyyMMddTHHmmssZ form")]
pub struct MalformedAmzDate;

const SECONDS_PER_DAY: u64 = 86_400;

/// Any 400 consecutive Gregorian years hold exactly this many days.
const DAYS_PER_400_YEARS: u64 = 146_097;

impl AmzDate {
    /// Reads an `X-Amz-Date` value. Only the exact 16-character form with a real calendar
    /// date and time of day, from 1970 on, is accepted, so that writing the result back gives
    /// the same text: the signature is computed over that text.
    pub fn parse(unverified: &str) -> Result<Self, MalformedAmzDate> {
        let bytes = unverified.as_bytes();
        if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
            return Err(MalformedAmzDate);
        }

        let number = |range: std::ops::Range<usize>| -> Result<u64, MalformedAmzDate> {
            bytes[range].iter().try_fold(0_u64, |value, byte| {
                if byte.is_ascii_digit() {
                    Ok(value * 10 + u64::from(byte - b'0'))
                } else {
                    Err(MalformedAmzDate)
                }
            })
        };
        let year = number(0..4)?;
        let month = number(4..6)?;
        let day = number(6..8)?;
        let hour = number(9..11)?;
        let minute = number(11..13)?;
        let second = number(13..15)?;

        let valid_date = year >= 1970
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day);
        if !valid_date || hour > 23 || minute > 59 || second > 59 {
            return Err(MalformedAmzDate);
        }

        let days = days_since_epoch(year, month, day);
        Ok(Self {
            unix_seconds: days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
        })
    }

    /// The time, truncated to whole seconds; times before 1970 become the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        Self {
            unix_seconds: time
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
        }
    }

    /// The time as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.unix_seconds)
    }

    /// The day alone, `yyyyMMdd`, as a credential scope names it.
    pub fn day(self) -> String {
        let (year, month, day) = civil_date(self.unix_seconds / SECONDS_PER_DAY);
        format!("{year:04}{month:02}{day:02}")
    }
}

impl fmt::Display for AmzDate {
    /// Writes the `yyyyMMddTHHmmssZ` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_date(self.unix_seconds / SECONDS_PER_DAY);
        let second_of_day = self.unix_seconds % SECONDS_PER_DAY;
        write!(
            f,
            "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )
    }
}

fn is_leap_year(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date, for a date from 1970 on.
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let days_before_year: u64 = (1970..year)
        .map(|earlier| if is_leap_year(earlier) { 366 } else { 365 })
        .sum();
    let days_before_month: u64 = (1..month).map(|earlier| days_in_month(year, earlier)).sum();
    days_before_year + days_before_month + day - 1
}

/// The calendar date `days` days after 1970-01-01.
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Whole 400-year cycles first, so that a far-off time costs no more than a near one.
    let mut year = 1970 + days / DAYS_PER_400_YEARS * 400;
    let mut days = days % DAYS_PER_400_YEARS;
    loop {
        let length = if is_leap_year(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month, days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_test_suite_time_stamp_reads_as_its_unix_time() {
        let date = AmzDate::parse("20150830T123600Z").unwrap();
        assert_eq!(
            date.to_system_time(),
            UNIX_EPOCH + Duration::from_secs(1_440_938_160)
        );
        assert_eq!(date.to_string(), "20150830T123600Z");
        assert_eq!(date.day(), "20150830");
    }

    #[test]
    fn leap_days_and_year_ends_round_trip() {
        for text in [
            "19700101T000000Z",
            "20000229T235959Z",
            "20241231T235959Z",
            "20250101T000000Z",
            "20261203T101500Z",
        ] {
            assert_eq!(AmzDate::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_time_stamps_are_refused() {
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
            "20151301T000000Z",
            "20150001T000000Z",
            "20150800T000000Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "19691231T235959Z",
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
        fn any_time_writes_a_stamp_that_reads_back(seconds in 0_u64..8_000_000_000) {
            let date = AmzDate::from_system_time(UNIX_EPOCH + Duration::from_secs(seconds));
            prop_assert_eq!(AmzDate::parse(&date.to_string()), Ok(date));
        }

        #[test]
        fn well_formed_digits_are_refused_or_read_back(
            text in "[0-9]{8}T[0-9]{6}Z"
        ) {
            if let Ok(date) = AmzDate::parse(&text) {
                prop_assert_eq!(date.to_string(), text);
            }
        }
    }
}
