//! Why a token was refused, and why a verifier could not be built.
//!
//! Each refusal is one short sentence about the token, fit to print on a command line or to
//! log; none carries the token or any part of it.

use std::time::Duration;

/// Why [`Verifier::verify`](super::Verifier::verify) refused a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is not three base64url parts whose first two are JSON objects, is too long,
    /// or a claim has the wrong JSON type.
    #[error("the token is not a well-formed JWT")]
    Malformed,

    /// The token's `iss` is not one of the trusted issuers. No key is fetched for it.
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,

    /// The header's `alg` is not allowed for this issuer; `none` and HMAC never are.
    #[error("the token's signing algorithm is not allowed")]
    AlgorithmNotAllowed,

    /// The header has no `kid`, so the signing key cannot be chosen.
    #[error("the token names no signing key (kid)")]
    MissingKid,

    /// The issuer's key set has no key with the token's `kid`, even after a refetch.
    #[error("the token's signing key (kid) is not in the issuer's key set")]
    UnknownKid,

    /// The header's `typ` is not what the issuer's profile requires.
    #[error("the token's type (typ) is not accepted")]
    WrongType,

    /// The signature does not match the header and claims under the issuer's key.
    #[error("the token's signature is not valid")]
    BadSignature,

    /// `exp` has passed, beyond the clock leeway.
    #[error("the token has expired")]
    Expired,

    /// `nbf` is still ahead, beyond the clock leeway.
    #[error("the token is not valid yet")]
    NotYetValid,

    /// `iat` is ahead of now, beyond the clock leeway.
    #[error("the token was issued in the future")]
    IssuedInTheFuture,

    /// `aud` (or, for a Cognito access token, `client_id`) is not an accepted audience.
    #[error("the token is meant for another audience")]
    WrongAudience,

    /// A Cognito token's `token_use` is neither `id` nor `access`.
    #[error("the token's use (token_use) is not accepted")]
    WrongTokenUse,

    /// A claim the issuer's profile requires is absent.
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),

    /// The issuer's key set could not be fetched and no recent enough copy is cached.
    #[error("the issuer's signing keys are unavailable")]
    JwksUnavailable,
}

/// Why [`VerifierBuilder::build`](super::VerifierBuilder::build) refused a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No trusted issuer was configured: such a verifier would refuse every token.
    #[error("no trusted issuer is configured")]
    NoIssuer,

    /// The same issuer was configured twice.
    #[error("issuer {0} is configured twice")]
    DuplicateIssuer(String),

    /// An issuer URL is empty.
    #[error("an issuer URL is empty")]
    EmptyIssuer,

    /// A JWKS URL does not parse, or is not `https` (plain `http` is allowed only for a
    /// loopback host).
    #[error("the JWKS URL of issuer {issuer} must be an https URL")]
    BadJwksUrl {
        /// The issuer whose JWKS URL is wrong.
        issuer: String,
    },

    /// An issuer has neither an accepted audience nor an explicit opt-out of the check.
    #[error("issuer {0} has no accepted audience")]
    NoAudience(String),

    /// An issuer was configured with `none` or an HMAC algorithm: with public keys from a
    /// JWKS these let anyone forge tokens.
    #[error("algorithm {algorithm} is never accepted (issuer {issuer})")]
    InsecureAlgorithm {
        /// The issuer it was configured for.
        issuer: String,
        /// The refused algorithm name.
        algorithm: String,
    },

    /// An issuer was configured with an algorithm this verifier cannot check (only the RSA
    /// family is supported, since only RSA keys are read from a JWKS).
    #[error("algorithm {algorithm} is not supported (issuer {issuer})")]
    UnsupportedAlgorithm {
        /// The issuer it was configured for.
        issuer: String,
        /// The unsupported algorithm name.
        algorithm: String,
    },

    /// An issuer was configured with an empty list of algorithms.
    #[error("issuer {0} allows no algorithm")]
    NoAlgorithm(String),

    /// The clock leeway is longer than the allowed maximum.
    #[error("the clock leeway may be at most {max:?}")]
    LeewayTooLong {
        /// The largest leeway accepted.
        max: Duration,
    },

    /// A duration setting is outside its allowed range.
    #[error("{setting} must be between {min:?} and {max:?}")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// The smallest value accepted.
        min: Duration,
        /// The largest value accepted.
        max: Duration,
    },

    /// The JWKS size limit is zero.
    #[error("the JWKS size limit must be at least one byte")]
    ZeroJwksSize,

    /// The HTTP client for JWKS fetches could not be built.
    #[error("the HTTP client for JWKS fetches could not be built")]
    HttpClient(#[source] reqwest::Error),
}
