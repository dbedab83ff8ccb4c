//! Counters for `/metrics`, in the Prometheus text format.
//!
//! Hand-rolled over atomics: the service needs a handful of series, and a metrics crate
//! would cost more than these few lines. Recording never blocks a request for long: the
//! refusal table takes a write lock only the first time a reason is seen.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the STS latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    issued: AtomicU64,
    refused: RwLock<BTreeMap<&'static str, AtomicU64>>,
    sts_calls: RwLock<BTreeMap<&'static str, AtomicU64>>,
    sts_latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sts_latency_count: AtomicU64,
    sts_latency_sum_micros: AtomicU64,
}

impl Metrics {
    /// Counts one issued token.
    pub fn token_issued(&self) {
        self.issued.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one refused request under its error code.
    pub fn request_refused(&self, code: &'static str) {
        increment(&self.refused, code);
    }

    /// Records one call to STS: how long it took and how it ended (`ok`, `rejected`,
    /// `throttled`, `unavailable`, `timeout`, `bad_answer`).
    pub fn sts_call(&self, outcome: &'static str, took: Duration) {
        increment(&self.sts_calls, outcome);
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.sts_latency_buckets.iter().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sts_latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sts_latency_sum_micros
            .fetch_add(micros, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP internal_auth_tokens_issued_total Tokens issued.\n");
        out.push_str("# TYPE internal_auth_tokens_issued_total counter\n");
        let _ = writeln!(
            out,
            "internal_auth_tokens_issued_total {}",
            self.issued.load(Ordering::Relaxed)
        );

        out.push_str(
            "# HELP internal_auth_requests_refused_total Token requests refused, by reason.\n",
        );
        out.push_str("# TYPE internal_auth_requests_refused_total counter\n");
        render_labelled(
            &mut out,
            "internal_auth_requests_refused_total",
            "reason",
            &self.refused,
        );

        out.push_str("# HELP internal_auth_sts_requests_total Calls to STS, by outcome.\n");
        out.push_str("# TYPE internal_auth_sts_requests_total counter\n");
        render_labelled(
            &mut out,
            "internal_auth_sts_requests_total",
            "outcome",
            &self.sts_calls,
        );

        out.push_str(
            "# HELP internal_auth_sts_request_duration_seconds Time STS took to answer.\n",
        );
        out.push_str("# TYPE internal_auth_sts_request_duration_seconds histogram\n");
        for (bucket, bound) in self.sts_latency_buckets.iter().zip(LATENCY_BUCKETS) {
            let _ = writeln!(
                out,
                "internal_auth_sts_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.sts_latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "internal_auth_sts_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sts_latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "internal_auth_sts_request_duration_seconds_sum {sum}");
        let _ = writeln!(
            out,
            "internal_auth_sts_request_duration_seconds_count {count}"
        );
        out
    }
}

fn increment(table: &RwLock<BTreeMap<&'static str, AtomicU64>>, label: &'static str) {
    if let Ok(counters) = table.read()
        && let Some(counter) = counters.get(label)
    {
        counter.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut counters = table
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    counters
        .entry(label)
        .or_default()
        .fetch_add(1, Ordering::Relaxed);
}

fn render_labelled(
    out: &mut String,
    name: &str,
    label: &str,
    table: &RwLock<BTreeMap<&'static str, AtomicU64>>,
) {
    let counters = table
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for (value, counter) in counters.iter() {
        let _ = writeln!(
            out,
            "{name}{{{label}=\"{value}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_appear_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.token_issued();
        metrics.token_issued();
        metrics.request_refused("stale_signature");
        metrics.sts_call("ok", Duration::from_millis(20));
        let text = metrics.render();
        assert!(text.contains("internal_auth_tokens_issued_total 2\n"));
        assert!(
            text.contains("internal_auth_requests_refused_total{reason=\"stale_signature\"} 1\n")
        );
        assert!(text.contains("internal_auth_sts_requests_total{outcome=\"ok\"} 1\n"));
        assert!(
            text.contains("internal_auth_sts_request_duration_seconds_bucket{le=\"0.01\"} 0\n")
        );
        assert!(
            text.contains("internal_auth_sts_request_duration_seconds_bucket{le=\"0.025\"} 1\n")
        );
        assert!(text.contains("internal_auth_sts_request_duration_seconds_count 1\n"));
    }
}
