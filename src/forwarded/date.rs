//! Rule 9: `X-Amz-Date` is a real `yyyyMMddTHHmmssZ` time close to now.
//!
//! The stamp itself is read by [`crate::amz_date`].

use std::time::{Duration, SystemTime};

use crate::amz_date::AmzDate;

use super::error::RequestError;
use super::headers::{AllowedHeader, ForwardedHeaders};

/// The oldest a signature may be. STS itself allows 15 minutes; this check does not rely on
/// it, and the replay cache remembers each signature for exactly this long.
pub(super) const MAX_AGE: Duration = Duration::from_secs(15 * 60);

/// How far ahead of this service's clock a signature may be dated.
pub(super) const MAX_AHEAD: Duration = Duration::from_secs(5 * 60);

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
    AmzDate::parse(unverified)
        .map(AmzDate::to_system_time)
        .map_err(|_| RequestError::MalformedDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The calendar itself is tested in `crate::amz_date`; the age limits, through `check`,
    // in this module's table (`forwarded/tests.rs`).

    #[test]
    fn a_stamp_that_is_not_a_real_time_is_a_malformed_date() {
        for unverified in [
            "",
            "20261203T101500",
            "20260230T101500Z",
            "2026-12-03T10:15:00Z",
        ] {
            assert_eq!(
                parse_amz_date(unverified),
                Err(RequestError::MalformedDate),
                "{unverified}"
            );
        }
        assert!(parse_amz_date("20261203T101500Z").is_ok());
    }
}
