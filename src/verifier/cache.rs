//! One issuer's cached key set, and the rules for refreshing it.
//!
//! Under load the danger is not verification but fetching: a cold start, an expiry or a
//! flood of tokens with made-up `kid`s must not turn into a flood of requests to the JWKS
//! host. So every fetch goes through one lock (single flight: whoever waits for a fetch in
//! flight takes its result instead of starting another), and a fetch is started at most
//! once per cool-down. Keys are refreshed in the background before they expire, and when
//! the host is down the last good keys are used until they pass a hard age limit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;

use super::error::VerifyError;
use super::jwks::{JwksFetcher, KeySet};
use crate::clock::Clock;

/// How the cache of every issuer behaves; one copy shared by all of them.
#[derive(Clone)]
pub(super) struct CacheRules {
    /// The shared JWKS client.
    pub(super) fetcher: JwksFetcher,
    /// "Now", for ages and the cool-down.
    pub(super) clock: Arc<dyn Clock>,
    /// The least time between two fetch starts for one issuer.
    pub(super) cooldown: Duration,
    /// The age past which keys are no longer used, even when no refresh succeeds.
    pub(super) hard_limit: Duration,
}

/// What the cache holds at one moment.
#[derive(Clone, Default)]
struct Snapshot {
    /// The last successfully fetched key set, if any.
    keys: Option<Arc<KeySet>>,
    /// How many fetches have finished, successful or not; a waiter compares it with what
    /// it saw before waiting to learn whether someone fetched meanwhile.
    finished_fetches: u64,
}

/// The key set of one issuer, fetched on demand and refreshed ahead of expiry.
pub(super) struct KeySource {
    issuer: String,
    url: Url,
    rules: CacheRules,
    current: RwLock<Snapshot>,
    /// Held for the whole of a fetch: the single-flight lock.
    fetch_lock: tokio::sync::Mutex<()>,
    /// When the last fetch started, in milliseconds since the epoch (0: never).
    last_fetch_start_ms: AtomicU64,
    /// Set while a background refresh task exists, so at most one is spawned.
    refreshing: AtomicBool,
}

impl KeySource {
    /// An empty cache for the JWKS at `url`; nothing is fetched until a token needs it.
    pub(super) fn new(issuer: String, url: Url, rules: CacheRules) -> Self {
        Self {
            issuer,
            url,
            rules,
            current: RwLock::new(Snapshot::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_fetch_start_ms: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
        }
    }

    /// A key set holding `kid`, fetching first when the cache is cold or expired or does
    /// not know `kid`.
    ///
    /// Refuses with [`VerifyError::UnknownKid`] when usable keys exist but none is `kid`,
    /// and with [`VerifyError::JwksUnavailable`] when no usable keys exist.
    pub(super) async fn key_set_with(
        self: &Arc<Self>,
        kid: &str,
    ) -> Result<Arc<KeySet>, VerifyError> {
        let now = self.rules.clock.now();
        let seen = self.snapshot();
        if let Some(keys) = &seen.keys
            && !keys.is_expired(now)
        {
            if keys.wants_refresh(now) {
                self.refresh_in_background();
            }
            if keys.get(kid).is_some() {
                return Ok(Arc::clone(keys));
            }
        }

        // Cold, expired, or `kid` is unknown (perhaps a key added since): refetch, at most
        // one fetch at a time and one per cool-down, whatever the number of callers.
        let after = self.refetch(seen.finished_fetches).await;
        let now = self.rules.clock.now();
        match after.keys {
            Some(keys) if keys.is_within(now, self.rules.hard_limit) => {
                if keys.get(kid).is_some() {
                    Ok(keys)
                } else {
                    Err(VerifyError::UnknownKid)
                }
            }
            _ => Err(VerifyError::JwksUnavailable),
        }
    }

    /// The current state; the lock is held only to clone an `Arc` and a counter.
    fn snapshot(&self) -> Snapshot {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a fetch started less than a cool-down before `now`. A clock that went back
    /// past the last start ends the cool-down rather than stretching it by the jump.
    fn in_cooldown(&self, now: SystemTime) -> bool {
        let last = self.last_fetch_start_ms.load(Ordering::Acquire);
        last != 0
            && unix_millis(now)
                .checked_sub(last)
                .is_some_and(|elapsed| elapsed < millis(self.rules.cooldown))
    }

    /// Fetches the key set unless someone else did since the caller looked
    /// (`seen_finished_fetches`) or a fetch started within the cool-down; returns the state
    /// after that. A failed fetch keeps the previous keys.
    async fn refetch(&self, seen_finished_fetches: u64) -> Snapshot {
        // Fast path in the cool-down: no fetch will start, so there is nothing to wait for
        // unless one is in flight right now, whose result is then worth waiting for.
        if self.in_cooldown(self.rules.clock.now())
            && let Ok(idle) = self.fetch_lock.try_lock()
        {
            drop(idle);
            return self.snapshot();
        }

        let _single_flight = self.fetch_lock.lock().await;
        let current = self.snapshot();
        let now = self.rules.clock.now();
        if current.finished_fetches != seen_finished_fetches || self.in_cooldown(now) {
            return current;
        }

        self.last_fetch_start_ms
            .store(unix_millis(now).max(1), Ordering::Release);
        let outcome = self.rules.fetcher.fetch(&self.url, now).await;

        let mut state = self.current.write().unwrap_or_else(PoisonError::into_inner);
        state.finished_fetches += 1;
        match outcome {
            Ok(keys) => {
                tracing::debug!(
                    issuer = %self.issuer,
                    keys = keys.len(),
                    max_age_seconds = keys.max_age().as_secs(),
                    "JWKS fetched"
                );
                // Replacing the whole set is what retires a key the issuer removed.
                state.keys = Some(Arc::new(keys));
            }
            Err(error) => {
                let fallback = if state.keys.is_some() {
                    "the last good keys stay in use up to the stale key limit"
                } else {
                    "no keys are cached yet"
                };
                tracing::warn!(
                    issuer = %self.issuer,
                    url = %self.url,
                    error = %error_chain(&error),
                    "JWKS fetch failed; {fallback}"
                );
            }
        }
        state.clone()
    }

    /// Starts a refresh on its own task, so no verification waits for it; at most one such
    /// task exists, and none starts within the cool-down.
    fn refresh_in_background(self: &Arc<Self>) {
        if self.in_cooldown(self.rules.clock.now()) || self.refreshing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let flag = RefreshingFlag(Arc::clone(self));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Outside a Tokio runtime nothing can be spawned; the refresh then happens on
            // demand once the keys expire.
            return;
        };
        let seen = self.snapshot().finished_fetches;
        runtime.spawn(async move {
            flag.0.refetch(seen).await;
            drop(flag);
        });
    }
}

/// Clears [`KeySource::refreshing`] when the background task ends, even if it is dropped
/// unfinished at runtime shutdown.
struct RefreshingFlag(Arc<KeySource>);

impl Drop for RefreshingFlag {
    fn drop(&mut self) {
        self.0.refreshing.store(false, Ordering::Release);
    }
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, millis)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An error and its causes as one line, for the log.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
