//! The authorizer side: verifies JWTs from several trusted issuers (Cognito user pools and
//! internal-auth deployments side by side) against their cached JWKS.
//!
//! ```no_run
//! # async fn example(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use internal_auth::verifier::{TrustedIssuer, Verifier};
//!
//! let internal_auth = TrustedIssuer::internal_auth("https://internal-auth.example")
//!     .audience("internal-api");
//! let user_pool = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Example";
//! let user_pool = TrustedIssuer::cognito(user_pool).audience("1example23456789");
//! let verifier = Verifier::builder()
//!     .issuer(internal_auth)
//!     .issuer(user_pool)
//!     .build()?;
//! let claims = verifier.verify(token).await?;
//! println!("{} ({:?})", claims.sub, claims.profile);
//! # Ok(()) }
//! ```
//!
//! # What [`Verifier::verify`] checks, in order
//!
//! 1. The token is three base64url parts, at most 16 KiB, whose header and claims are JSON
//!    objects without duplicate keys.
//! 2. Its unverified `iss` is exactly one of the trusted issuers; otherwise nothing is
//!    fetched.
//! 3. Its `alg` is one the issuer allows (RS256 by default; never `none` or HMAC), and
//!    the one the JWK declares, if it declares one.
//! 4. It names a key (`kid`), and the profile's `typ` holds (internal-auth: `at+jwt`).
//! 5. The key is in the issuer's key set (fetched or refreshed if need be) and the
//!    signature is that key's.
//! 6. `exp` has not passed, `nbf` (if any) has, `iat` is not in the future, each within
//!    the clock leeway.
//! 7. The profile's claims: Cognito `token_use` and `aud` or `client_id`; internal-auth
//!    `sub`, `client_id`, `jti` and `aud`.
//!
//! # Security warning
//!
//! Whoever controls a trusted issuer's JWKS URL can mint tokens this verifier accepts, so
//! JWKS URLs must be `https` (plain `http` only on loopback), redirects are not followed,
//! and a key in a token's header (`jwk`, `jku`, `x5u`) is never used. Skipping the
//! audience check ([`TrustedIssuer::dangerous_accept_any_audience`]) accepts tokens the
//! issuer minted for other APIs.

mod cache;
mod claims;
mod error;
mod issuer;
mod jwks;
mod profile;
mod token;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use claims::Claims;
pub use error::{ConfigError, VerifyError};
pub use issuer::{Profile, TrustedIssuer};
pub use jwks::{DEFAULT_MAX_AGE, MAX_MAX_AGE, MIN_MAX_AGE};

use cache::{CacheRules, KeySource};
use issuer::{IssuerPolicy, allowed_algorithm};
use jwks::JwksFetcher;
use token::UnverifiedToken;

use crate::clock::{Clock, SystemClock};

/// The default clock leeway.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The longest clock leeway accepted.
pub const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);
/// The default age past which cached keys are dropped when no refresh succeeds.
pub const DEFAULT_STALE_KEY_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);
/// The default time limit of one JWKS fetch.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The default size limit of a JWKS answer.
pub const DEFAULT_MAX_JWKS_BYTES: usize = 256 * 1024;
/// The default least time between two JWKS fetches for one issuer.
pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(10);

/// Verifies tokens from a fixed set of trusted issuers. Cheap to share: wrap it in an
/// `Arc` and call [`verify`](Self::verify) from any number of tasks.
pub struct Verifier {
    issuers: HashMap<String, TrustedIssuerState>,
    clock: Arc<dyn Clock>,
    leeway_seconds: u64,
}

/// One trusted issuer: its rules and its keys.
struct TrustedIssuerState {
    policy: IssuerPolicy,
    keys: Arc<KeySource>,
}

impl Verifier {
    /// Starts a configuration with every setting at its default.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// Checks `token` and returns its claims, or says why it is refused.
    ///
    /// Fetches the issuer's JWKS when its cached keys are missing, expired or lack the
    /// token's `kid` (at most one fetch at a time and one per cool-down per issuer).
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        // 1. Take the token apart; nothing in it is trusted yet.
        let unverified = UnverifiedToken::parse(token)?;

        // 2. The unverified issuer chooses the keys and rules to apply; an issuer we do
        //    not trust costs no fetch.
        let issuer = self
            .issuers
            .get(unverified.unverified_issuer()?)
            .ok_or(VerifyError::UnknownIssuer)?;
        let policy = &issuer.policy;

        // 3. The algorithm comes from the issuer's allow-list, never from the token alone:
        //    this is what stops `alg: none` and HMAC-with-the-public-key forgeries.
        let unverified_header = &unverified.header;
        let algorithm = allowed_algorithm(&unverified_header.alg, &policy.algorithms)
            .ok_or(VerifyError::AlgorithmNotAllowed)?;

        // 4. A key id, and the token type the profile requires, before any network work.
        let kid = unverified_header
            .kid
            .as_deref()
            .filter(|kid| !kid.is_empty())
            .ok_or(VerifyError::MissingKid)?;
        profile::check_type(policy.profile, unverified_header.typ.as_deref())?;

        // 5. The key and the signature.
        let key_set = issuer.keys.key_set_with(kid).await?;
        let key = key_set.get(kid).ok_or(VerifyError::UnknownKid)?;
        if key
            .declared_alg
            .is_some_and(|declared| declared != algorithm)
        {
            return Err(VerifyError::AlgorithmNotAllowed);
        }
        if !unverified.signature_matches(&key.key, algorithm) {
            return Err(VerifyError::BadSignature);
        }

        // 6. The claims are now the issuer's word; check their lifetime and shape.
        let claims = Claims::checked(
            policy.profile,
            unverified.claims,
            self.clock.unix_seconds(),
            self.leeway_seconds,
        )?;

        // 7. What the issuer's profile demands.
        profile::check_claims(policy.profile, &policy.audiences, &claims)?;
        Ok(claims)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("leeway_seconds", &self.leeway_seconds)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Verifier`]; every setting has a safe default except the issuers.
pub struct VerifierBuilder {
    issuers: Vec<TrustedIssuer>,
    leeway: Duration,
    stale_key_limit: Duration,
    fetch_timeout: Duration,
    max_jwks_bytes: usize,
    refetch_cooldown: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            stale_key_limit: DEFAULT_STALE_KEY_LIMIT,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            max_jwks_bytes: DEFAULT_MAX_JWKS_BYTES,
            refetch_cooldown: DEFAULT_REFETCH_COOLDOWN,
            clock: Arc::new(SystemClock),
        }
    }
}

impl VerifierBuilder {
    /// Trusts one more issuer. At least one is required; each `iss` at most once.
    pub fn issuer(mut self, issuer: TrustedIssuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    ///
    /// Default: 60 s ([`DEFAULT_LEEWAY`]); at most 5 min ([`MAX_LEEWAY`]). Risk: every
    /// second of leeway is a second an expired token is still accepted.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The age past which cached keys are no longer used when no refresh succeeds.
    ///
    /// Default: 24 h ([`DEFAULT_STALE_KEY_LIMIT`]); between 1 min and 7 days. Risk: longer
    /// rides out a longer JWKS outage, but also keeps a key the issuer withdrew during that
    /// outage trusted for longer; shorter turns an outage into refused tokens sooner.
    pub fn stale_key_limit(mut self, limit: Duration) -> Self {
        self.stale_key_limit = limit;
        self
    }

    /// Time limit of one JWKS fetch, connection included.
    ///
    /// Default: 5 s ([`DEFAULT_FETCH_TIMEOUT`]); between 100 ms and 60 s. Risk: verifications
    /// waiting for a fetch (cold cache, new key) wait up to this long.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Size limit of a JWKS answer; a larger one is cut off and counts as a failed fetch.
    ///
    /// Default: 256 KiB ([`DEFAULT_MAX_JWKS_BYTES`]); at least 1 byte. Risk: a larger limit
    /// lets a misbehaving JWKS host make each verifier buffer that much.
    pub fn max_jwks_bytes(mut self, limit: usize) -> Self {
        self.max_jwks_bytes = limit;
        self
    }

    /// The least time between two JWKS fetches for one issuer, however many tokens with
    /// unknown `kid`s arrive.
    ///
    /// Default: 10 s ([`DEFAULT_REFETCH_COOLDOWN`]); between 1 s and 5 min. Risk: shorter
    /// lets a flood of forged `kid`s cause more fetches; longer delays the pick-up of a new
    /// key that appears right after a fetch.
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.refetch_cooldown = cooldown;
        self
    }

    /// Where "now" comes from, for token lifetimes and key ages.
    ///
    /// Default: the system clock. Tests pass a [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the configuration and builds the verifier; fetches nothing yet.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLong { max: MAX_LEEWAY });
        }
        check_range(
            "the stale key limit",
            self.stale_key_limit,
            Duration::from_secs(60),
            Duration::from_secs(7 * 24 * 60 * 60),
        )?;
        check_range(
            "the fetch timeout",
            self.fetch_timeout,
            Duration::from_millis(100),
            Duration::from_secs(60),
        )?;
        check_range(
            "the refetch cool-down",
            self.refetch_cooldown,
            Duration::from_secs(1),
            Duration::from_secs(5 * 60),
        )?;
        if self.max_jwks_bytes == 0 {
            return Err(ConfigError::ZeroJwksSize);
        }
        if self.issuers.is_empty() {
            return Err(ConfigError::NoIssuer);
        }

        let fetcher = JwksFetcher::new(self.fetch_timeout, self.max_jwks_bytes)
            .map_err(ConfigError::HttpClient)?;
        let rules = CacheRules {
            fetcher,
            clock: Arc::clone(&self.clock),
            cooldown: self.refetch_cooldown,
            hard_limit: self.stale_key_limit,
        };

        let mut issuers = HashMap::with_capacity(self.issuers.len());
        for trusted in self.issuers {
            let policy = trusted.into_policy()?;
            if issuers.contains_key(&policy.issuer) {
                return Err(ConfigError::DuplicateIssuer(policy.issuer));
            }
            let keys = Arc::new(KeySource::new(
                policy.issuer.clone(),
                policy.jwks_url.clone(),
                rules.clone(),
            ));
            issuers.insert(policy.issuer.clone(), TrustedIssuerState { policy, keys });
        }

        Ok(Verifier {
            issuers,
            clock: self.clock,
            leeway_seconds: self.leeway.as_secs(),
        })
    }
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("issuers", &self.issuers)
            .field("leeway", &self.leeway)
            .field("stale_key_limit", &self.stale_key_limit)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("max_jwks_bytes", &self.max_jwks_bytes)
            .field("refetch_cooldown", &self.refetch_cooldown)
            .finish_non_exhaustive()
    }
}

fn check_range(
    setting: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange { setting, min, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_issuer() -> VerifierBuilder {
        Verifier::builder()
            .issuer(TrustedIssuer::internal_auth("https://auth.example").audience("a"))
    }

    #[test]
    fn defaults_build() {
        assert!(one_issuer().build().is_ok());
    }

    #[test]
    fn a_leeway_over_five_minutes_is_refused() {
        assert!(one_issuer().leeway(MAX_LEEWAY).build().is_ok());
        let error = one_issuer()
            .leeway(MAX_LEEWAY + Duration::from_secs(1))
            .build()
            .expect_err("too long");
        assert!(matches!(error, ConfigError::LeewayTooLong { .. }));
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let cases = [
            one_issuer().stale_key_limit(Duration::from_secs(59)),
            one_issuer().stale_key_limit(Duration::from_secs(8 * 24 * 60 * 60)),
            one_issuer().fetch_timeout(Duration::ZERO),
            one_issuer().fetch_timeout(Duration::from_secs(61)),
            one_issuer().refetch_cooldown(Duration::ZERO),
            one_issuer().refetch_cooldown(Duration::from_secs(301)),
        ];
        for builder in cases {
            let error = builder.build().expect_err("out of range");
            assert!(matches!(error, ConfigError::OutOfRange { .. }), "{error:?}");
        }
        assert!(matches!(
            one_issuer().max_jwks_bytes(0).build(),
            Err(ConfigError::ZeroJwksSize)
        ));
    }

    #[test]
    fn no_issuer_or_a_duplicate_issuer_is_refused() {
        assert!(matches!(
            Verifier::builder().build(),
            Err(ConfigError::NoIssuer)
        ));
        let error = one_issuer()
            .issuer(TrustedIssuer::cognito("https://auth.example").audience("b"))
            .build()
            .expect_err("duplicate");
        assert!(matches!(error, ConfigError::DuplicateIssuer(_)));
    }
}
