//! The token cache: hands out the cached token while it is fresh, and makes sure that
//! callers who find it due share one refresh instead of each minting their own.
//!
//! The cache knows nothing of HTTP: a refresh calls the mint function it is given, so the
//! rules below are tested with a fake one and a manual clock.
//!
//! - A token is fresh until `refresh_at` of its usable life has passed. Its usable life ends
//!   at its expiry or at the expiry of the AWS credentials that signed it, whichever is
//!   first.
//! - Fresh: returned at once, under a read lock that is never held across an await.
//! - Due but still valid: one caller refreshes; everyone else keeps getting the valid token
//!   without waiting. If the refresh fails, the valid token is returned, the failure is
//!   logged, and the next refresh waits [`PAUSE_AFTER_FAILURE`].
//! - Expired or absent: callers queue behind one refresh and share its outcome, success or
//!   failure.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::{ClientError, Token};
use crate::clock::Clock;

/// After a failed refresh, how long a still-valid token is handed out before the next try,
/// so that an outage of internal-auth is not met with a refresh on every call.
pub(crate) const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// A freshly minted token and what bounds its use besides its own expiry.
#[derive(Debug, Clone)]
pub(crate) struct Minted {
    /// The token.
    pub(crate) token: Token,
    /// When the AWS credentials that signed the request expire, if they do.
    pub(crate) credentials_expiry: Option<SystemTime>,
}

/// Cached tokens and the single refresh in flight.
pub(crate) struct TokenCache {
    clock: Arc<dyn Clock>,
    refresh_at: f64,
    deadline: Duration,
    state: RwLock<State>,
    /// Held by the one caller that is refreshing.
    refreshing: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    /// Counts finished refreshes, so a caller that waited can tell whether one finished
    /// while it waited.
    refreshes: u64,
    /// The failure of the last refresh, if it failed; shared with those who waited for it.
    last_failure: Option<ClientError>,
}

#[derive(Clone)]
struct Cached {
    token: Token,
    /// Until then the token is handed out without a refresh.
    refresh_after: SystemTime,
    /// From then on the token is never handed out.
    valid_until: SystemTime,
}

impl Cached {
    fn new(minted: Minted, refresh_at: f64) -> Self {
        let token = minted.token;
        let valid_until = match minted.credentials_expiry {
            Some(credentials_expiry) => token.expires_at().min(credentials_expiry),
            None => token.expires_at(),
        };
        let usable_life = valid_until
            .duration_since(token.issued_at())
            .unwrap_or(Duration::ZERO);
        // `refresh_at` is in (0, 1], so this lands between issue and `valid_until`.
        let refresh_after = token.issued_at() + usable_life.mul_f64(refresh_at);
        Self {
            token,
            refresh_after,
            valid_until,
        }
    }

    fn is_valid_at(&self, now: SystemTime) -> bool {
        now < self.valid_until
    }

    fn is_fresh_at(&self, now: SystemTime) -> bool {
        now < self.refresh_after
    }
}

impl TokenCache {
    /// An empty cache. `refresh_at` must be in (0, 1]; the builder checks it.
    pub(crate) fn new(clock: Arc<dyn Clock>, refresh_at: f64, deadline: Duration) -> Self {
        Self {
            clock,
            refresh_at,
            deadline,
            state: RwLock::new(State::default()),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached token while it is fresh. This is the fast path: a read lock and a clone.
    pub(crate) fn fresh(&self) -> Option<Token> {
        let now = self.clock.now();
        let state = self.read();
        let cached = state.cached.as_ref()?;
        cached.is_fresh_at(now).then(|| cached.token.clone())
    }

    /// A token: the cached one while fresh, or the outcome of a refresh that `mint`
    /// performs. `mint` is called at most once, and is given the instant by which it must
    /// be done; the cache also stops waiting for it then.
    pub(crate) async fn get<F, Fut>(&self, mint: F) -> Result<Token, ClientError>
    where
        F: FnOnce(Instant) -> Fut,
        Fut: Future<Output = Result<Minted, ClientError>>,
    {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let deadline = Instant::now() + self.deadline;

        let (refreshes_seen, still_valid) = {
            let now = self.clock.now();
            let state = self.read();
            let still_valid = state
                .cached
                .as_ref()
                .filter(|cached| cached.is_valid_at(now))
                .map(|cached| cached.token.clone());
            (state.refreshes, still_valid)
        };

        let _refreshing = match still_valid {
            // Someone is already refreshing: the valid token serves in the meantime.
            Some(token) => match self.refreshing.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(token),
            },
            None => match tokio::time::timeout_at(deadline, self.refreshing.lock()).await {
                Ok(guard) => guard,
                Err(_) => return Err(self.timeout()),
            },
        };

        if let Some(outcome) = self.outcome_of_refresh_waited_for(refreshes_seen) {
            return outcome;
        }

        let outcome = match tokio::time::timeout_at(deadline, mint(deadline)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timeout()),
        };
        self.record(outcome)
    }

    /// When another caller finished a refresh while this one waited for the lock: a token
    /// still fresh (or valid, after a failure), or the failure it met.
    fn outcome_of_refresh_waited_for(
        &self,
        refreshes_seen: u64,
    ) -> Option<Result<Token, ClientError>> {
        let now = self.clock.now();
        let state = self.read();
        if let Some(cached) = state.cached.as_ref().filter(|c| c.is_fresh_at(now)) {
            return Some(Ok(cached.token.clone()));
        }
        if state.refreshes == refreshes_seen {
            return None;
        }
        let failure = state.last_failure.as_ref()?;
        match state.cached.as_ref().filter(|c| c.is_valid_at(now)) {
            Some(cached) => Some(Ok(cached.token.clone())),
            None => Some(Err(failure.clone())),
        }
    }

    /// Stores the outcome of a refresh and says what the refreshing caller gets.
    fn record(&self, outcome: Result<Minted, ClientError>) -> Result<Token, ClientError> {
        let now = self.clock.now();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.refreshes += 1;

        let error = match outcome {
            Ok(minted) => {
                let cached = Cached::new(minted, self.refresh_at);
                let token = cached.token.clone();
                state.cached = Some(cached);
                state.last_failure = None;
                return Ok(token);
            }
            Err(error) => error,
        };

        state.last_failure = Some(error.clone());
        let Some(cached) = state.cached.as_mut().filter(|c| c.is_valid_at(now)) else {
            return Err(error);
        };
        cached.refresh_after = now
            .checked_add(PAUSE_AFTER_FAILURE)
            .map_or(cached.valid_until, |retry_at| {
                retry_at.min(cached.valid_until)
            });
        let valid_for = cached.valid_until.duration_since(now).unwrap_or_default();
        let token = cached.token.clone();
        drop(state);

        tracing::warn!(
            error = %error,
            valid_for_secs = valid_for.as_secs(),
            "refreshing the internal-auth token failed; the cached token is still valid and is used",
        );
        Ok(token)
    }

    fn timeout(&self) -> ClientError {
        ClientError::Timeout {
            deadline: self.deadline,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::clock::ManualClock;

    const START: u64 = 1_800_000_000;
    const LIFETIME: Duration = Duration::from_secs(900);
    const DEADLINE: Duration = Duration::from_secs(10);

    /// A mint function that counts its calls and answers from a script.
    struct FakeMint {
        clock: Arc<ManualClock>,
        calls: AtomicUsize,
        credentials_expiry: Mutex<Option<SystemTime>>,
        failing: Mutex<bool>,
    }

    impl FakeMint {
        fn new(clock: Arc<ManualClock>) -> Self {
            Self {
                clock,
                calls: AtomicUsize::new(0),
                credentials_expiry: Mutex::new(None),
                failing: Mutex::new(false),
            }
        }

        async fn mint(&self, _deadline: Instant) -> Result<Minted, ClientError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if *self.failing.lock().expect("not poisoned") {
                return Err(ClientError::Unavailable {
                    status: 503,
                    code: "sts_unavailable".into(),
                    message: "STS is unavailable.".into(),
                });
            }
            let token =
                Token::new(format!("jwt.number.{call}"), self.clock.now(), LIFETIME).expect("fits");
            let credentials_expiry = *self.credentials_expiry.lock().expect("not poisoned");
            Ok(Minted {
                token,
                credentials_expiry,
            })
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }

        fn fail(&self, failing: bool) {
            *self.failing.lock().expect("not poisoned") = failing;
        }
    }

    fn setup() -> (Arc<ManualClock>, TokenCache, FakeMint) {
        let clock = Arc::new(ManualClock::at_unix(START));
        let cache = TokenCache::new(clock.clone(), 0.8, DEADLINE);
        let mint = FakeMint::new(clock.clone());
        (clock, cache, mint)
    }

    async fn get(cache: &TokenCache, mint: &FakeMint) -> Result<Token, ClientError> {
        cache.get(|deadline| mint.mint(deadline)).await
    }

    fn at(seconds_after_start: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(START + seconds_after_start)
    }

    #[tokio::test]
    async fn the_token_is_reused_before_the_refresh_point() {
        let (clock, cache, mint) = setup();
        let first = get(&cache, &mint).await.expect("token");

        clock.set(at(719)); // 0.8 * 900 = 720
        let second = get(&cache, &mint).await.expect("token");

        assert_eq!(mint.calls(), 1);
        assert_eq!(first.as_str(), second.as_str());
    }

    #[tokio::test]
    async fn the_token_is_refreshed_after_the_refresh_point() {
        let (clock, cache, mint) = setup();
        get(&cache, &mint).await.expect("token");

        clock.set(at(720));
        let refreshed = get(&cache, &mint).await.expect("token");

        assert_eq!(mint.calls(), 2);
        assert_eq!(refreshed.as_str(), "jwt.number.2");
    }

    #[tokio::test]
    async fn the_token_is_refreshed_before_its_credentials_expire() {
        let (clock, cache, mint) = setup();
        *mint.credentials_expiry.lock().expect("not poisoned") = Some(at(100));
        get(&cache, &mint).await.expect("token");

        clock.set(at(79)); // 0.8 * 100 = 80
        get(&cache, &mint).await.expect("token");
        assert_eq!(mint.calls(), 1);

        clock.set(at(80));
        get(&cache, &mint).await.expect("token");
        assert_eq!(mint.calls(), 2);
    }

    #[tokio::test]
    async fn a_token_is_never_used_past_its_credentials_expiry() {
        let (clock, cache, mint) = setup();
        *mint.credentials_expiry.lock().expect("not poisoned") = Some(at(100));
        get(&cache, &mint).await.expect("token");

        mint.fail(true);
        clock.set(at(100));
        let error = get(&cache, &mint).await.expect_err("expired credentials");
        assert!(matches!(
            error,
            ClientError::Unavailable { status: 503, .. }
        ));
    }

    #[tokio::test]
    async fn a_failed_refresh_falls_back_to_the_still_valid_token() {
        let (clock, cache, mint) = setup();
        let first = get(&cache, &mint).await.expect("token");

        mint.fail(true);
        clock.set(at(800));
        let fallback = get(&cache, &mint).await.expect("cached token");
        assert_eq!(fallback.as_str(), first.as_str());
        assert_eq!(mint.calls(), 2);

        // The next try waits a little instead of hammering a failing service.
        clock.set(at(804));
        get(&cache, &mint).await.expect("cached token");
        assert_eq!(mint.calls(), 2);

        clock.set(at(805));
        get(&cache, &mint).await.expect("cached token");
        assert_eq!(mint.calls(), 3);

        mint.fail(false);
        clock.set(at(810));
        let refreshed = get(&cache, &mint).await.expect("token");
        assert_eq!(refreshed.as_str(), "jwt.number.4");
    }

    #[tokio::test]
    async fn there_is_no_fallback_once_the_token_has_expired() {
        let (clock, cache, mint) = setup();
        get(&cache, &mint).await.expect("token");

        mint.fail(true);
        clock.set(at(900));
        let error = get(&cache, &mint).await.expect_err("expired");
        assert!(matches!(
            error,
            ClientError::Unavailable { status: 503, .. }
        ));
    }

    #[tokio::test]
    async fn a_failure_with_nothing_cached_is_returned() {
        let (_clock, cache, mint) = setup();
        mint.fail(true);
        assert!(get(&cache, &mint).await.is_err());
        // No token to fall back on, so no pause either: the next call tries again.
        assert!(get(&cache, &mint).await.is_err());
        assert_eq!(mint.calls(), 2);
    }

    /// Polls `future` once, so that it takes the refresh lock before anyone else runs.
    async fn start<F: Future>(future: std::pin::Pin<&mut F>) {
        tokio::select! {
            biased;
            _ = future => panic!("the refresh was meant to wait"),
            () = tokio::task::yield_now() => {}
        }
    }

    /// Inside `join!`, every future is polled once before this one's second poll, so all
    /// followers have queued behind the leader when it is released.
    async fn release_after_everyone_queued(release: &tokio::sync::Notify) {
        tokio::task::yield_now().await;
        release.notify_one();
    }

    #[tokio::test]
    async fn callers_waiting_for_a_refresh_share_its_outcome() {
        let (_clock, cache, mint) = setup();
        let release = tokio::sync::Notify::new();
        let (release_ref, mint_ref) = (&release, &mint);
        let leader = cache.get(|deadline| async move {
            release_ref.notified().await;
            mint_ref.mint(deadline).await
        });
        tokio::pin!(leader);
        start(leader.as_mut()).await;

        let (leader, first, second, third, ()) = tokio::join!(
            leader,
            get(&cache, &mint),
            get(&cache, &mint),
            get(&cache, &mint),
            release_after_everyone_queued(&release),
        );

        for outcome in [leader, first, second, third] {
            assert_eq!(outcome.expect("token").as_str(), "jwt.number.1");
        }
        assert_eq!(mint.calls(), 1);
    }

    #[tokio::test]
    async fn callers_waiting_for_a_failed_refresh_share_the_failure() {
        let (_clock, cache, mint) = setup();
        mint.fail(true);
        let release = tokio::sync::Notify::new();
        let (release_ref, mint_ref) = (&release, &mint);
        let leader = cache.get(|deadline| async move {
            release_ref.notified().await;
            mint_ref.mint(deadline).await
        });
        tokio::pin!(leader);
        start(leader.as_mut()).await;

        let (leader, first, second, ()) = tokio::join!(
            leader,
            get(&cache, &mint),
            get(&cache, &mint),
            release_after_everyone_queued(&release),
        );

        for outcome in [leader, first, second] {
            assert!(matches!(
                outcome,
                Err(ClientError::Unavailable { status: 503, .. })
            ));
        }
        assert_eq!(mint.calls(), 1);
    }

    #[tokio::test]
    async fn a_due_token_is_handed_out_without_waiting_while_another_caller_refreshes() {
        let (clock, cache, mint) = setup();
        let first = get(&cache, &mint).await.expect("token");
        clock.set(at(800));

        let never = |_deadline| std::future::pending::<Result<Minted, ClientError>>();
        let refreshing = cache.get(never);
        let other = async {
            tokio::task::yield_now().await;
            get(&cache, &mint).await
        };
        let token = tokio::select! {
            _ = refreshing => panic!("the refresh never finishes"),
            token = other => token.expect("still valid"),
        };

        assert_eq!(token.as_str(), first.as_str());
        assert_eq!(mint.calls(), 1);
    }

    #[tokio::test]
    async fn a_refresh_that_outlasts_the_deadline_is_a_timeout() {
        let clock = Arc::new(ManualClock::at_unix(START));
        let cache = TokenCache::new(clock, 0.8, Duration::from_millis(20));
        let never = |_deadline| std::future::pending::<Result<Minted, ClientError>>();

        let error = cache.get(never).await.expect_err("times out");
        assert!(matches!(error, ClientError::Timeout { .. }));
    }

    #[tokio::test]
    async fn a_refresh_that_outlasts_the_deadline_falls_back_to_the_valid_token() {
        let clock = Arc::new(ManualClock::at_unix(START));
        let cache = TokenCache::new(clock.clone(), 0.8, Duration::from_millis(20));
        let mint = FakeMint::new(clock.clone());
        let first = get(&cache, &mint).await.expect("token");
        clock.set(at(800));

        let never = |_deadline| std::future::pending::<Result<Minted, ClientError>>();
        let token = cache.get(never).await.expect("still valid");
        assert_eq!(token.as_str(), first.as_str());
    }

    #[tokio::test]
    async fn a_cancelled_refresh_lets_the_next_caller_refresh() {
        let (_clock, cache, mint) = setup();
        let never = |_deadline| std::future::pending::<Result<Minted, ClientError>>();
        {
            let abandoned = cache.get(never);
            tokio::pin!(abandoned);
            start(abandoned.as_mut()).await;
        }

        get(&cache, &mint).await.expect("token");
        assert_eq!(mint.calls(), 1);
    }
}
