//! How the verifier fetches keys under load and over time, counted at the JWKS host: one
//! fetch for a cold crowd, bounded fetches for a flood of forged kids, rotation, removal,
//! background refresh, outages and the `max-age` bounds. Time moves by a manual clock.

use std::sync::Arc;
use std::time::Duration;

use internal_auth::clock::{Clock, ManualClock};
use internal_auth::verifier::{TrustedIssuer, Verifier, VerifierBuilder, VerifyError};
use serde_json::json;

use super::{INTERNAL_AUDIENCE, INTERNAL_ISSUER, JwksHost, START, TestKey, internal_claims};

/// The key every test starts with.
fn first_key() -> TestKey {
    TestKey::new(0, "key-1")
}

/// The key that appears later.
fn second_key() -> TestKey {
    TestKey::new(1, "key-2")
}

/// A verifier trusting the internal-auth issuer whose keys are on `host`, reading `clock`.
fn builder(host: &JwksHost, clock: &Arc<ManualClock>) -> VerifierBuilder {
    Verifier::builder()
        .issuer(
            TrustedIssuer::internal_auth(INTERNAL_ISSUER)
                .jwks_url(host.jwks_url())
                .audience(INTERNAL_AUDIENCE),
        )
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
}

fn verifier(host: &JwksHost, clock: &Arc<ManualClock>) -> Verifier {
    builder(host, clock).build().expect("valid configuration")
}

/// Now, by `clock`, in seconds.
fn now(clock: &ManualClock) -> u64 {
    clock.unix_seconds()
}

/// A fresh token from `key` at the clock's time.
fn token(key: TestKey, clock: &ManualClock) -> String {
    key.internal_token(now(clock), json!({}))
}

/// A token signed by a real key but naming `kid`, which no JWKS lists.
fn token_with_kid(kid: &str, clock: &ManualClock) -> String {
    first_key().sign(
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}),
        &internal_claims(now(clock), json!({})),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_verifications_on_a_cold_cache_cause_one_fetch() {
    let host = JwksHost::start(&[first_key()]);
    // A slow host keeps the one fetch in flight while the other verifications arrive.
    host.answer_after(Duration::from_millis(300));
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = Arc::new(verifier(&host, &clock));
    let token = Arc::new(token(first_key(), &clock));

    let tasks: Vec<_> = (0..1_000)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let token = Arc::clone(&token);
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("token accepted");
    }

    assert_eq!(host.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_causes_at_most_one_fetch_per_cooldown() {
    let host = JwksHost::start(&[first_key()]);
    host.answer_after(Duration::from_millis(100));
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = Arc::new(verifier(&host, &clock));
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("warm-up");
    assert_eq!(host.fetches(), 1);

    async fn flood(verifier: &Arc<Verifier>, clock: &ManualClock, round: usize) {
        let tasks: Vec<_> = (0..500)
            .map(|index| {
                let verifier = Arc::clone(verifier);
                let token = token_with_kid(&format!("forged-{round}-{index}"), clock);
                tokio::spawn(async move { verifier.verify(&token).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.expect("task"), Err(VerifyError::UnknownKid));
        }
    }

    // Within the cool-down of the warm-up fetch: no fetch at all.
    flood(&verifier, &clock, 0).await;
    assert_eq!(host.fetches(), 1);

    // Past the cool-down: one fetch for the whole flood, and none for a second flood.
    clock.advance(Duration::from_secs(10));
    flood(&verifier, &clock, 1).await;
    assert_eq!(host.fetches(), 2);
    flood(&verifier, &clock, 2).await;
    assert_eq!(host.fetches(), 2);

    // The real key was never disturbed.
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("known key");
    assert_eq!(host.fetches(), 2);
}

#[tokio::test]
async fn a_new_key_is_picked_up_once_the_cooldown_allows_a_refetch() {
    let host = JwksHost::start(&[first_key()]);
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = verifier(&host, &clock);
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("first key");

    host.serve_keys(&[first_key(), second_key()]);

    // Right after a fetch the cool-down holds: the new kid is unknown for now.
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        verifier.verify(&token(second_key(), &clock)).await,
        Err(VerifyError::UnknownKid)
    );
    assert_eq!(host.fetches(), 1);

    clock.advance(Duration::from_secs(10));
    verifier
        .verify(&token(second_key(), &clock))
        .await
        .expect("rotated key");
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("old key still listed");
    assert_eq!(host.fetches(), 2);
}

#[tokio::test]
async fn a_removed_key_stops_verifying_after_the_next_refresh() {
    let host = JwksHost::start(&[first_key(), second_key()]);
    host.serve_cache_control(Some("public, max-age=60"));
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = verifier(&host, &clock);
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("first key");

    host.serve_keys(&[second_key()]);
    clock.advance(Duration::from_secs(61));

    assert_eq!(
        verifier.verify(&token(first_key(), &clock)).await,
        Err(VerifyError::UnknownKid)
    );
    verifier
        .verify(&token(second_key(), &clock))
        .await
        .expect("second key");
    assert_eq!(host.fetches(), 2);
}

#[tokio::test]
async fn keys_are_refreshed_in_the_background_before_they_expire() {
    let host = JwksHost::start(&[first_key()]);
    host.serve_cache_control(Some("max-age=100"));
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = verifier(&host, &clock);
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("first key");

    // At 80 % of max-age a refresh starts; the host holds its answer, and verifications go
    // on with the cached keys instead of waiting for it.
    host.hold();
    host.serve_keys(&[first_key(), second_key()]);
    clock.advance(Duration::from_secs(80));
    for _ in 0..50 {
        let verified = tokio::time::timeout(
            Duration::from_secs(5),
            verifier.verify(&token(first_key(), &clock)),
        )
        .await
        .expect("verification did not wait for the refresh");
        verified.expect("cached key");
    }
    host.wait_for_fetches(2).await;
    host.release();

    // A token with an unknown kid, inside the cool-down, waits for the fetch in flight
    // (single flight) without starting one: once it returns, the refresh has landed.
    assert_eq!(
        verifier.verify(&token_with_kid("probe", &clock)).await,
        Err(VerifyError::UnknownKid)
    );
    verifier
        .verify(&token(second_key(), &clock))
        .await
        .expect("key from the background refresh");
    assert_eq!(host.fetches(), 2);
}

#[tokio::test]
async fn cached_keys_outlive_a_jwks_outage_until_the_stale_key_limit() {
    let host = JwksHost::start(&[first_key()]);
    host.serve_cache_control(Some("max-age=60"));
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = builder(&host, &clock)
        .stale_key_limit(Duration::from_secs(3_600))
        .build()
        .expect("valid configuration");
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("first key");

    host.stop();

    clock.advance(Duration::from_secs(61));
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("expired keys kept while the host is down");
    clock.set(std::time::UNIX_EPOCH + Duration::from_secs(START + 3_599));
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("still within the stale key limit");

    clock.advance(Duration::from_secs(1));
    assert_eq!(
        verifier.verify(&token(first_key(), &clock)).await,
        Err(VerifyError::JwksUnavailable)
    );
}

#[tokio::test]
async fn a_host_that_is_down_from_the_start_makes_keys_unavailable() {
    let host = JwksHost::start(&[first_key()]);
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = verifier(&host, &clock);
    host.stop();

    assert_eq!(
        verifier.verify(&token(first_key(), &clock)).await,
        Err(VerifyError::JwksUnavailable)
    );
}

#[tokio::test]
async fn an_oversized_or_malformed_key_set_is_not_used() {
    let host = JwksHost::start(&[first_key()]);
    let clock = Arc::new(ManualClock::at_unix(START));
    let verifier = builder(&host, &clock)
        .max_jwks_bytes(2_048)
        .build()
        .expect("valid configuration");

    // A real key set padded past the limit: refused on its announced length, and when no
    // length is announced, once reading passes the limit.
    let padded = json!({"keys": [first_key().jwk()], "padding": "x".repeat(64 * 1024)});
    host.serve_body(padded.to_string());
    assert_eq!(
        verifier.verify(&token(first_key(), &clock)).await,
        Err(VerifyError::JwksUnavailable)
    );
    host.hide_length();
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        verifier.verify(&token(first_key(), &clock)).await,
        Err(VerifyError::JwksUnavailable)
    );

    host.serve_body("<html>not a key set</html>".to_owned());
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        verifier.verify(&token(first_key(), &clock)).await,
        Err(VerifyError::JwksUnavailable)
    );

    host.serve_keys(&[first_key()]);
    clock.advance(Duration::from_secs(10));
    verifier
        .verify(&token(first_key(), &clock))
        .await
        .expect("a well-formed key set within the limit");
    assert_eq!(host.fetches(), 4);
}

/// Verifies a token at `offset` seconds after the start and returns the host's fetch count.
async fn fetches_at(
    offset: u64,
    host: &JwksHost,
    clock: &ManualClock,
    verifier: &Verifier,
) -> usize {
    clock.set(std::time::UNIX_EPOCH + Duration::from_secs(START + offset));
    verifier
        .verify(&token(first_key(), clock))
        .await
        .expect("first key");
    host.fetches()
}

#[tokio::test]
async fn max_age_is_honoured_within_its_bounds() {
    // (Cache-Control, last second without a refetch, first second with one)
    let cases = [
        (Some("max-age=5"), 30, 60),
        (None, 239, 300),
        (Some("public, max-age=120"), 95, 120),
        (Some("max-age=31536000"), 69_000, 86_400),
    ];
    for (cache_control, quiet_until, refetch_at) in cases {
        let host = JwksHost::start(&[first_key()]);
        host.serve_cache_control(cache_control);
        let clock = Arc::new(ManualClock::at_unix(START));
        let verifier = verifier(&host, &clock);

        assert_eq!(fetches_at(0, &host, &clock, &verifier).await, 1);
        assert_eq!(
            fetches_at(quiet_until, &host, &clock, &verifier).await,
            1,
            "{cache_control:?} refetched by {quiet_until} s"
        );
        assert_eq!(
            fetches_at(refetch_at, &host, &clock, &verifier).await,
            2,
            "{cache_control:?} not refetched at {refetch_at} s"
        );
    }
}
