//! How long to wait before trying again: exponential backoff with jitter, never shorter
//! than the service's `Retry-After`.

use std::time::Duration;

/// The first wait; also the shortest. A retry is signed anew, and SigV4 dates have
/// one-second steps, so waiting at least this long gives the retry a signature of its own
/// (the service accepts each signature once).
const BASE: Duration = Duration::from_secs(1);

/// The wait stops doubling after this many retries (1, 2, 4, 8, 16 seconds before jitter).
const MAX_DOUBLINGS: u32 = 4;

/// The wait before retry number `retry` (counting from 0).
///
/// The exponential step is `BASE * 2^retry`; `jitter` (in `[0, 1)`) stretches it by up to
/// the same again, so that clients turned away together do not come back together.
/// `retry_after` is a floor.
pub(crate) fn retry_delay(retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let step = BASE * 2_u32.pow(retry.min(MAX_DOUBLINGS));
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let jittered = step + step.mul_f64(jitter);
    jittered.max(retry_after.unwrap_or(Duration::ZERO))
}

/// A uniformly random number in `[0, 1)` for [`retry_delay`].
pub(crate) fn random_jitter() -> f64 {
    let mut bytes = [0_u8; 4];
    match aws_lc_rs::rand::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        // The randomness only spreads retries out; without it they are merely in step.
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_wait_doubles_and_then_stays() {
        let waits: Vec<u64> = (0..7)
            .map(|retry| retry_delay(retry, None, 0.0).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 16, 16]);
    }

    #[test]
    fn jitter_stretches_the_wait_by_up_to_its_own_length() {
        assert_eq!(retry_delay(1, None, 0.5), Duration::from_secs(3));
        assert!(retry_delay(1, None, 0.999_999) < Duration::from_secs(4));
        assert_eq!(retry_delay(1, None, f64::NAN), Duration::from_secs(2));
        assert_eq!(retry_delay(1, None, 7.0), Duration::from_secs(4));
    }

    #[test]
    fn retry_after_is_a_floor() {
        let long = Some(Duration::from_secs(30));
        assert_eq!(retry_delay(0, long, 0.5), Duration::from_secs(30));
        let short = Some(Duration::ZERO);
        assert_eq!(retry_delay(0, short, 0.0), Duration::from_secs(1));
    }

    #[test]
    fn a_huge_retry_count_does_not_overflow() {
        assert_eq!(retry_delay(u32::MAX, None, 0.0), Duration::from_secs(16));
    }

    #[test]
    fn random_jitter_stays_in_range() {
        for _ in 0..1000 {
            let jitter = random_jitter();
            assert!((0.0..1.0).contains(&jitter), "{jitter}");
        }
    }
}
