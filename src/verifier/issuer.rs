//! One trusted issuer: where its keys are, which audiences and algorithms it may use, and
//! which token profile it follows. [`TrustedIssuer`] is the builder; [`IssuerPolicy`] is the
//! checked form the verifier keeps.

use std::net::IpAddr;

use jsonwebtoken::Algorithm;
use reqwest::Url;

use super::error::ConfigError;

/// The shape of an issuer's tokens beyond the standard claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// An Amazon Cognito user pool: `token_use` is `id` or `access`; an ID token's `aud`,
    /// or an access token's `client_id` (access tokens carry no `aud`), must be an accepted
    /// audience (the app client ids).
    Cognito,
    /// internal-auth (RFC 9068 access tokens): header `typ` is `at+jwt`; `sub`, `client_id`
    /// and `jti` are present; `aud` must be an accepted audience.
    InternalAuth,
}

/// A trusted issuer, to hand to [`VerifierBuilder::issuer`](super::VerifierBuilder::issuer).
///
/// Nothing is checked until [`VerifierBuilder::build`](super::VerifierBuilder::build), which
/// reports the first wrong setting.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    issuer: String,
    profile: Profile,
    jwks_url: Option<String>,
    audiences: Vec<String>,
    any_audience: bool,
    algorithms: Option<Vec<String>>,
}

impl TrustedIssuer {
    /// Trusts tokens whose `iss` is exactly `issuer` (no normalisation: a trailing slash
    /// matters) and which follow `profile`.
    pub fn new(issuer: impl Into<String>, profile: Profile) -> Self {
        Self {
            issuer: issuer.into(),
            profile,
            jwks_url: None,
            audiences: Vec::new(),
            any_audience: false,
            algorithms: None,
        }
    }

    /// Trusts a Cognito user pool, whose issuer is
    /// `https://cognito-idp.<region>.amazonaws.com/<user pool id>`.
    pub fn cognito(issuer: impl Into<String>) -> Self {
        Self::new(issuer, Profile::Cognito)
    }

    /// Trusts an internal-auth deployment, whose issuer is its configured `issuer`.
    pub fn internal_auth(issuer: impl Into<String>) -> Self {
        Self::new(issuer, Profile::InternalAuth)
    }

    /// Where the issuer's JWKS is fetched.
    ///
    /// Default: `{issuer}/.well-known/jwks.json`. It must be `https`; plain `http` is
    /// accepted only for a loopback host (development and tests). Risk: whoever serves
    /// this URL decides which tokens are valid, so point it only at the issuer itself.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// Adds an accepted audience: a value that `aud` (or, for a Cognito access token,
    /// `client_id`) must equal.
    ///
    /// Default: none, and an issuer without an accepted audience is a configuration error
    /// unless [`dangerous_accept_any_audience`](Self::dangerous_accept_any_audience) is set.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Adds several accepted audiences; see [`audience`](Self::audience).
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences.extend(audiences.into_iter().map(Into::into));
        self
    }

    /// Skips the audience check (`aud`, and a Cognito access token's `client_id`).
    ///
    /// Default: off. Risk: a token the issuer minted for any other API is then accepted
    /// here too; use it only for inspection tools, never in an authorizer.
    pub fn dangerous_accept_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// The signing algorithms accepted from this issuer, by their JOSE names.
    ///
    /// Default: `RS256` only. Only the RSA family (`RS256`, `RS384`, `RS512`, `PS256`,
    /// `PS384`, `PS512`) can be configured; `none` and the HMAC algorithms (`HS*`) are
    /// refused with a configuration error, because with keys published in a JWKS they let
    /// anyone forge a token. Risk: each extra algorithm is one more code path an attacker
    /// can steer a token into; allow only what the issuer actually uses.
    pub fn algorithms<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.algorithms = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Checks the settings and returns the form the verifier keeps.
    pub(super) fn into_policy(self) -> Result<IssuerPolicy, ConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }

        let jwks_url = match self.jwks_url {
            Some(url) => url,
            None => format!(
                "{}/.well-known/jwks.json",
                self.issuer.trim_end_matches('/')
            ),
        };
        let jwks_url = parse_jwks_url(&jwks_url).ok_or_else(|| ConfigError::BadJwksUrl {
            issuer: self.issuer.clone(),
        })?;

        let audiences = if self.any_audience {
            Audiences::Any
        } else if self.audiences.is_empty() {
            return Err(ConfigError::NoAudience(self.issuer));
        } else {
            Audiences::Accepted(self.audiences)
        };

        let names = self.algorithms.unwrap_or_else(|| vec!["RS256".to_owned()]);
        if names.is_empty() {
            return Err(ConfigError::NoAlgorithm(self.issuer));
        }
        let mut algorithms = Vec::with_capacity(names.len());
        for name in names {
            let algorithm = parse_configured_algorithm(&self.issuer, name)?;
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }

        Ok(IssuerPolicy {
            issuer: self.issuer,
            profile: self.profile,
            jwks_url,
            audiences,
            algorithms,
        })
    }
}

/// Which audiences an issuer's tokens may carry.
#[derive(Debug, Clone)]
pub(super) enum Audiences {
    /// One of these values.
    Accepted(Vec<String>),
    /// Anything: the check is skipped.
    Any,
}

impl Audiences {
    /// Whether `audience` is accepted.
    pub(super) fn accepts(&self, audience: &str) -> bool {
        match self {
            Self::Accepted(accepted) => accepted.iter().any(|one| one == audience),
            Self::Any => true,
        }
    }

    /// Whether the check is skipped.
    pub(super) fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

/// A trusted issuer's checked settings.
#[derive(Debug, Clone)]
pub(super) struct IssuerPolicy {
    /// The exact `iss` value.
    pub(super) issuer: String,
    /// The token profile.
    pub(super) profile: Profile,
    /// Where the JWKS is fetched.
    pub(super) jwks_url: Url,
    /// The accepted audiences.
    pub(super) audiences: Audiences,
    /// The accepted signing algorithms, all of the RSA family.
    pub(super) algorithms: Vec<Algorithm>,
}

/// Parses a JWKS URL, accepting `https`, or `http` for a loopback host only: keys fetched in
/// the clear could be swapped by anyone on the path.
fn parse_jwks_url(text: &str) -> Option<Url> {
    let url = Url::parse(text).ok()?;
    let host = url.host_str()?;
    match url.scheme() {
        "https" => Some(url),
        "http" if is_loopback(host) => Some(url),
        _ => None,
    }
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Maps a configured algorithm name to an [`Algorithm`], refusing `none` and HMAC outright.
fn parse_configured_algorithm(issuer: &str, name: String) -> Result<Algorithm, ConfigError> {
    let upper = name.to_ascii_uppercase();
    if upper == "NONE" || upper.starts_with("HS") {
        return Err(ConfigError::InsecureAlgorithm {
            issuer: issuer.to_owned(),
            algorithm: name,
        });
    }
    match name.as_str() {
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "PS384" => Ok(Algorithm::PS384),
        "PS512" => Ok(Algorithm::PS512),
        _ => Err(ConfigError::UnsupportedAlgorithm {
            issuer: issuer.to_owned(),
            algorithm: name,
        }),
    }
}

/// Maps a token header's `alg` to an allowed [`Algorithm`], or `None` when it is not in
/// `allowed` (which never holds `none` or HMAC).
pub(super) fn allowed_algorithm(unverified_alg: &str, allowed: &[Algorithm]) -> Option<Algorithm> {
    let algorithm = match unverified_alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        _ => return None,
    };
    allowed.contains(&algorithm).then_some(algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(issuer: TrustedIssuer) -> Result<IssuerPolicy, ConfigError> {
        issuer.into_policy()
    }

    #[test]
    fn jwks_url_defaults_to_the_well_known_path_under_the_issuer() {
        let checked = policy(TrustedIssuer::internal_auth("https://auth.example/").audience("a"))
            .expect("valid");
        assert_eq!(
            checked.jwks_url.as_str(),
            "https://auth.example/.well-known/jwks.json"
        );
        assert_eq!(checked.issuer, "https://auth.example/");
        assert_eq!(checked.algorithms, vec![Algorithm::RS256]);
    }

    #[test]
    fn none_and_hmac_are_refused_even_when_configured() {
        for name in ["none", "None", "HS256", "HS384", "HS512", "hs256"] {
            let error = policy(
                TrustedIssuer::internal_auth("https://auth.example")
                    .audience("a")
                    .algorithms(["RS256", name]),
            )
            .expect_err(name);
            assert!(
                matches!(error, ConfigError::InsecureAlgorithm { .. }),
                "{name}: {error:?}"
            );
        }
    }

    #[test]
    fn non_rsa_algorithms_are_unsupported() {
        for name in ["ES256", "EdDSA", "rs256", ""] {
            let error = policy(
                TrustedIssuer::internal_auth("https://auth.example")
                    .audience("a")
                    .algorithms([name]),
            )
            .expect_err(name);
            assert!(
                matches!(error, ConfigError::UnsupportedAlgorithm { .. }),
                "{name}: {error:?}"
            );
        }
    }

    #[test]
    fn an_empty_algorithm_list_is_refused() {
        let error = policy(
            TrustedIssuer::internal_auth("https://auth.example")
                .audience("a")
                .algorithms(Vec::<String>::new()),
        )
        .expect_err("empty");
        assert!(matches!(error, ConfigError::NoAlgorithm(_)));
    }

    #[test]
    fn an_issuer_without_audience_is_refused_unless_explicitly_opted_out() {
        let error = policy(TrustedIssuer::internal_auth("https://auth.example")).expect_err("aud");
        assert!(matches!(error, ConfigError::NoAudience(_)));

        let checked = policy(
            TrustedIssuer::internal_auth("https://auth.example").dangerous_accept_any_audience(),
        )
        .expect("opted out");
        assert!(checked.audiences.is_any());
    }

    #[test]
    fn plain_http_jwks_is_accepted_only_on_loopback() {
        for url in [
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
            "https://keys.example/jwks",
        ] {
            policy(
                TrustedIssuer::internal_auth("https://auth.example")
                    .audience("a")
                    .jwks_url(url),
            )
            .expect(url);
        }
        for url in [
            "http://keys.example/jwks",
            "http://10.0.0.1/jwks",
            "ftp://keys.example/jwks",
            "not a url",
            "file:///etc/jwks",
        ] {
            let error = policy(
                TrustedIssuer::internal_auth("https://auth.example")
                    .audience("a")
                    .jwks_url(url),
            )
            .expect_err(url);
            assert!(matches!(error, ConfigError::BadJwksUrl { .. }), "{url}");
        }
    }

    #[test]
    fn an_empty_issuer_is_refused() {
        let error = policy(TrustedIssuer::internal_auth(" ").audience("a")).expect_err("empty");
        assert!(matches!(error, ConfigError::EmptyIssuer));
    }

    #[test]
    fn token_algorithms_outside_the_allowed_list_are_not_matched() {
        let allowed = [Algorithm::RS256];
        assert_eq!(allowed_algorithm("RS256", &allowed), Some(Algorithm::RS256));
        for name in ["none", "HS256", "RS384", "ES256", "rs256", ""] {
            assert_eq!(allowed_algorithm(name, &allowed), None, "{name}");
        }
    }
}
