//! Fetching one issuer's JWKS and turning it into ready-to-use verification keys.
//!
//! A fetch is bounded in time and size, and every accepted key is parsed here, once, so a
//! verification only looks a key up by `kid`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};
use reqwest::{StatusCode, Url};
use serde_json::{Map, Value};

/// The shortest time a key set is kept before it is refreshed, whatever the server says:
/// a smaller `max-age` would turn every verifier into a steady load on the JWKS host.
pub const MIN_MAX_AGE: Duration = Duration::from_secs(60);

/// The longest time a key set is kept before it is refreshed, whatever the server says:
/// a removed (perhaps compromised) key must not stay trusted for longer.
pub const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a key set is kept when the answer has no `Cache-Control: max-age`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// The smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_MODULUS_BYTES: usize = 256;

/// Base64url that tolerates padding: some JWKS servers pad `n` and `e`, and these values
/// come from the configured issuer, not from a token.
const LENIENT_BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a JWKS fetch failed. Logged, never shown to a token's holder.
#[derive(Debug, thiserror::Error)]
pub(super) enum FetchError {
    /// The request failed: connection, TLS, timeout or body read.
    #[error("the JWKS request failed")]
    Http(#[from] reqwest::Error),
    /// The server answered with another status than 200.
    #[error("the JWKS server answered with status {0}")]
    Status(StatusCode),
    /// The answer is larger than the configured limit.
    #[error("the JWKS answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The answer is not a JSON object with a `keys` array.
    #[error("the JWKS answer is not a JSON key set")]
    NotAKeySet(#[source] serde_json::Error),
}

/// Fetches JWKS documents with a shared HTTP client.
#[derive(Debug, Clone)]
pub(super) struct JwksFetcher {
    http: reqwest::Client,
    max_bytes: usize,
}

impl JwksFetcher {
    /// A fetcher whose requests give up after `timeout` and whose answers may hold at most
    /// `max_bytes`. Redirects are not followed, so keys come only from the configured URL.
    pub(super) fn new(timeout: Duration, max_bytes: usize) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "internal-auth-verifier/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self { http, max_bytes })
    }

    /// Fetches and parses the key set at `url`; `now` stamps it.
    pub(super) async fn fetch(&self, url: &Url, now: SystemTime) -> Result<KeySet, FetchError> {
        let mut response = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status(response.status()));
        }
        let max_age = max_age_of(response.headers());

        // The body is read chunk by chunk so that an endless or huge answer is cut off at
        // the limit instead of being buffered whole.
        if response
            .content_length()
            .is_some_and(|length| length > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }

        let document: KeySetDocument =
            serde_json::from_slice(&body).map_err(FetchError::NotAKeySet)?;
        Ok(KeySet::from_document(&document, now, max_age))
    }
}

/// The outer shape of a JWKS. Each key stays a loose JSON object so that one key this
/// verifier cannot use (an EC key, a malformed entry) does not void the others.
#[derive(serde::Deserialize)]
struct KeySetDocument {
    keys: Vec<Map<String, Value>>,
}

/// A public key ready to check signatures.
#[derive(Debug)]
pub(super) struct VerificationKey {
    /// The parsed RSA key.
    pub(super) key: DecodingKey,
    /// The JWK's own `alg`, when it names one; a token must then use exactly it.
    pub(super) declared_alg: Option<Algorithm>,
}

/// One successful fetch of an issuer's JWKS.
#[derive(Debug)]
pub(super) struct KeySet {
    keys: HashMap<String, VerificationKey>,
    fetched_at: SystemTime,
    max_age: Duration,
}

impl KeySet {
    /// Keeps the usable keys of `document`: RSA, for signatures, RS256 or no `alg`, with a
    /// `kid`, at least 2048 bits. Others are skipped with a debug log.
    fn from_document(document: &KeySetDocument, fetched_at: SystemTime, max_age: Duration) -> Self {
        let mut keys = HashMap::with_capacity(document.keys.len());
        for jwk in &document.keys {
            match usable_key(jwk) {
                Ok((kid, key)) => {
                    // A kid given twice is ambiguous; the first one stays, as most JWKS
                    // consumers do, and the duplicate is reported.
                    if keys.contains_key(kid) {
                        tracing::warn!(kid, "JWKS lists a kid twice; the first key is used");
                    } else {
                        keys.insert(kid.to_owned(), key);
                    }
                }
                Err(reason) => tracing::debug!(reason, "JWKS key skipped"),
            }
        }
        Self {
            keys,
            fetched_at,
            max_age,
        }
    }

    /// The key named `kid`.
    pub(super) fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.get(kid)
    }

    /// How many keys the set holds.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// How long the set may be used before it must be refreshed.
    pub(super) fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Time since the fetch; zero if the clock went back.
    pub(super) fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.fetched_at)
            .unwrap_or(Duration::ZERO)
    }

    /// Past 80 % of its max-age: time to refresh in the background, before it expires.
    pub(super) fn wants_refresh(&self, now: SystemTime) -> bool {
        self.age(now) >= self.max_age / 5 * 4
    }

    /// Past its max-age: it should not be used without trying a refresh first.
    pub(super) fn is_expired(&self, now: SystemTime) -> bool {
        self.age(now) >= self.max_age
    }

    /// Still young enough to be used when no refresh succeeds.
    pub(super) fn is_within(&self, now: SystemTime, hard_limit: Duration) -> bool {
        self.age(now) < hard_limit
    }
}

/// Checks one JWK and parses its key, or says why it is skipped.
fn usable_key(jwk: &Map<String, Value>) -> Result<(&str, VerificationKey), &'static str> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);

    if text("kty") != Some("RSA") {
        return Err("not an RSA key");
    }
    if jwk
        .get("use")
        .is_some_and(|value| value.as_str() != Some("sig"))
    {
        return Err("not a signing key");
    }
    if let Some(operations) = jwk.get("key_ops") {
        let verifies = operations
            .as_array()
            .is_some_and(|list| list.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("key_ops does not include verify");
        }
    }
    let declared_alg = match jwk.get("alg") {
        None => None,
        Some(value) if value.as_str() == Some("RS256") => Some(Algorithm::RS256),
        Some(_) => return Err("alg is not RS256"),
    };
    let kid = text("kid").ok_or("no kid")?;

    let modulus = decode_unsigned(text("n").ok_or("no n")?).ok_or("n is not base64url")?;
    let exponent = decode_unsigned(text("e").ok_or("no e")?).ok_or("e is not base64url")?;
    if modulus.len() < MIN_MODULUS_BYTES {
        return Err("modulus shorter than 2048 bits");
    }
    if exponent.is_empty() {
        return Err("exponent is zero");
    }

    Ok((
        kid,
        VerificationKey {
            key: DecodingKey::from_rsa_raw_components(&modulus, &exponent),
            declared_alg,
        },
    ))
}

/// Decodes a base64url big-endian integer without its leading zero bytes: RFC 7518 forbids
/// them, some servers still send one, and the RSA backend would refuse the key for it.
fn decode_unsigned(encoded: &str) -> Option<Vec<u8>> {
    let mut bytes = LENIENT_BASE64URL.decode(encoded).ok()?;
    let leading_zeros = bytes.iter().take_while(|byte| **byte == 0).count();
    bytes.drain(..leading_zeros);
    Some(bytes)
}

/// The key set's lifetime from `Cache-Control`, bounded to [`MIN_MAX_AGE`]..[`MAX_MAX_AGE`].
fn max_age_of(headers: &HeaderMap) -> Duration {
    max_age_from_cache_control(
        headers
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|value| value.to_str().ok()),
    )
}

/// Reads `max-age` from `Cache-Control` header values. `no-cache` and `no-store` count as
/// the shortest lifetime; no usable directive gives [`DEFAULT_MAX_AGE`].
pub(super) fn max_age_from_cache_control<'a>(values: impl Iterator<Item = &'a str>) -> Duration {
    let mut max_age = None;
    for directive in values.flat_map(|value| value.split(',')) {
        let directive = directive.trim();
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return MIN_MAX_AGE;
        }
        if name.eq_ignore_ascii_case("max-age") && max_age.is_none() {
            max_age = argument.and_then(|seconds| seconds.parse::<u64>().ok());
        }
    }
    max_age.map_or(DEFAULT_MAX_AGE, |seconds| {
        Duration::from_secs(seconds).clamp(MIN_MAX_AGE, MAX_MAX_AGE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    fn max_age(values: &[&str]) -> Duration {
        max_age_from_cache_control(values.iter().copied())
    }

    #[test]
    fn max_age_is_read_and_bounded() {
        assert_eq!(max_age(&[]), DEFAULT_MAX_AGE);
        assert_eq!(max_age(&["public"]), DEFAULT_MAX_AGE);
        assert_eq!(max_age(&["public, max-age=600"]), Duration::from_secs(600));
        assert_eq!(max_age(&["MAX-AGE=\"120\""]), Duration::from_secs(120));
        assert_eq!(max_age(&["max-age=0"]), MIN_MAX_AGE);
        assert_eq!(max_age(&["max-age=5"]), MIN_MAX_AGE);
        assert_eq!(max_age(&["max-age=9999999"]), MAX_MAX_AGE);
        assert_eq!(max_age(&["max-age=-1"]), DEFAULT_MAX_AGE);
        assert_eq!(max_age(&["max-age=ten"]), DEFAULT_MAX_AGE);
        assert_eq!(max_age(&["max-age=300", "no-cache"]), MIN_MAX_AGE);
        assert_eq!(max_age(&["no-store"]), MIN_MAX_AGE);
        assert_eq!(
            max_age(&["max-age=100", "max-age=900"]),
            Duration::from_secs(100)
        );
    }

    fn rsa_jwk(kid: &str) -> Map<String, Value> {
        let modulus = URL_SAFE_NO_PAD.encode([0xC5; 256]);
        let value = json!({"kty": "RSA", "kid": kid, "n": modulus, "e": "AQAB"});
        value.as_object().cloned().unwrap_or_default()
    }

    fn with(mut jwk: Map<String, Value>, name: &str, value: Value) -> Map<String, Value> {
        jwk.insert(name.to_owned(), value);
        jwk
    }

    #[test]
    fn only_rsa_signing_keys_for_rs256_with_a_kid_are_kept() {
        let keep = [
            rsa_jwk("plain"),
            with(rsa_jwk("sig"), "use", json!("sig")),
            with(rsa_jwk("rs256"), "alg", json!("RS256")),
            with(rsa_jwk("ops"), "key_ops", json!(["verify"])),
            // A padded, zero-prefixed modulus still parses.
            with(
                rsa_jwk("zero-prefixed"),
                "n",
                json!(URL_SAFE_NO_PAD.encode([[0u8].as_slice(), &[0xC5; 256]].concat()) + "="),
            ),
        ];
        let skip = [
            with(rsa_jwk("ec"), "kty", json!("EC")),
            with(rsa_jwk("enc"), "use", json!("enc")),
            with(rsa_jwk("ps256"), "alg", json!("PS256")),
            with(rsa_jwk("hs256"), "alg", json!("HS256")),
            with(rsa_jwk("ops"), "key_ops", json!(["encrypt"])),
            with(
                rsa_jwk("short"),
                "n",
                json!(URL_SAFE_NO_PAD.encode([0xC5; 128])),
            ),
            with(rsa_jwk("bad-n"), "n", json!("!!!")),
            with(rsa_jwk("zero-e"), "e", json!("AA")),
            {
                let mut jwk = rsa_jwk("no-kid");
                jwk.remove("kid");
                jwk
            },
        ];
        let document = KeySetDocument {
            keys: keep.iter().chain(skip.iter()).cloned().collect(),
        };

        let set = KeySet::from_document(&document, SystemTime::UNIX_EPOCH, DEFAULT_MAX_AGE);

        let mut kept: Vec<&str> = set.keys.keys().map(String::as_str).collect();
        kept.sort_unstable();
        assert_eq!(kept, ["ops", "plain", "rs256", "sig", "zero-prefixed"]);
        assert_eq!(
            set.get("rs256").map(|key| key.declared_alg),
            Some(Some(Algorithm::RS256))
        );
        assert_eq!(set.get("plain").map(|key| key.declared_alg), Some(None));
    }

    #[test]
    fn refresh_and_expiry_follow_the_max_age() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let set = KeySet::from_document(
            &KeySetDocument { keys: Vec::new() },
            start,
            Duration::from_secs(100),
        );
        assert!(!set.wants_refresh(start + Duration::from_secs(79)));
        assert!(set.wants_refresh(start + Duration::from_secs(80)));
        assert!(!set.is_expired(start + Duration::from_secs(99)));
        assert!(set.is_expired(start + Duration::from_secs(100)));
        assert!(set.is_within(start + Duration::from_secs(199), Duration::from_secs(200)));
        assert!(!set.is_within(start + Duration::from_secs(200), Duration::from_secs(200)));
        // A clock that went back counts as age zero rather than as a failure.
        assert_eq!(set.age(SystemTime::UNIX_EPOCH), Duration::ZERO);
    }
}
