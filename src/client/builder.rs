//! [`TokenClientBuilder`]: the settings of a [`TokenClient`], each with its default, checked
//! as a whole when the client is built.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

use super::cache::TokenCache;
use super::mint::Minter;
use super::signing::StsEndpoint;
use super::{ClientError, Inner, TokenClient};
use crate::clock::{Clock, SystemClock};

/// The default share of a token's lifetime after which it is refreshed.
pub const DEFAULT_REFRESH_AT: f64 = 0.8;

/// The default time one [`TokenClient::token`] call may take.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// How long establishing a connection to internal-auth may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Settings for a [`TokenClient`]; start with [`TokenClient::builder`].
///
/// Only [`url`](Self::url) and [`server_id`](Self::server_id) are required.
#[must_use]
pub struct TokenClientBuilder {
    url: Option<String>,
    server_id: Option<String>,
    org_id: Option<String>,
    expires_in: Option<Duration>,
    refresh_at: f64,
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    deadline: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for TokenClientBuilder {
    fn default() -> Self {
        Self {
            url: None,
            server_id: None,
            org_id: None,
            expires_in: None,
            refresh_at: DEFAULT_REFRESH_AT,
            region: None,
            credentials: None,
            deadline: DEFAULT_DEADLINE,
            clock: Arc::new(SystemClock),
        }
    }
}

impl TokenClientBuilder {
    /// internal-auth's base URL, for example `https://internal-auth.example`; tokens are
    /// asked for at `{url}/v1/token`. Required.
    ///
    /// It must be `https`, except on a loopback address (`127.0.0.1`, `::1`, `localhost`)
    /// where `http` is allowed for local development: the signed request carries the
    /// session token of the caller's credentials.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The `server_id` of the internal-auth deployment, signed into every request so that
    /// it is good for that deployment only. Required.
    pub fn server_id(mut self, server_id: impl Into<String>) -> Self {
        self.server_id = Some(server_id.into());
        self
    }

    /// The organisation to ask a token for; carried in the token's `org_id` claim when the
    /// service allows it. Default: none.
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }

    /// The lifetime to ask for, in whole seconds (a fraction is dropped); the service caps
    /// it. Default: none, the service's own default lifetime.
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = Some(expires_in);
        self
    }

    /// The share of a token's usable life after which it is refreshed, in (0, 1].
    /// Default: [`DEFAULT_REFRESH_AT`] (0.8).
    ///
    /// A token's usable life ends at its expiry or at the expiry of the AWS credentials
    /// that signed the request for it, whichever comes first.
    pub fn refresh_at(mut self, refresh_at: f64) -> Self {
        self.refresh_at = refresh_at;
        self
    }

    /// The AWS region whose STS endpoint the request is signed for. Default: the region
    /// of the AWS configuration (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile, the
    /// instance metadata); when none is found, the global endpoint `sts.amazonaws.com`
    /// signed for `us-east-1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Where AWS credentials come from. Default: aws-config's default chain (environment,
    /// profile, SSO, web identity, container, instance metadata).
    pub fn credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Fixed AWS credentials instead of a provider: an access key, its secret, and the
    /// session token when the keys are temporary. They are treated as never expiring.
    pub fn static_credentials(
        self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            session_token,
            None,
            "internal-auth-static",
        );
        self.credentials_provider(SharedCredentialsProvider::new(credentials))
    }

    /// The most one [`TokenClient::token`] call may take, retries included.
    /// Default: [`DEFAULT_DEADLINE`] (10 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The clock that signs requests and ages tokens. Default: the system clock. Tests set
    /// a [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// Unless both a region and credentials were given, this loads the AWS configuration,
    /// which can take a moment (the instance metadata service is asked when nothing else
    /// names a region). No token is fetched yet: the first [`TokenClient::token`] does.
    pub async fn build(self) -> Result<TokenClient, ClientError> {
        let token_url = token_url(self.url.as_deref())?;
        let server_id = checked_server_id(self.server_id)?;
        if self.org_id.as_deref() == Some("") {
            return Err(ClientError::invalid_config("org_id must not be empty"));
        }
        let expires_in = match self.expires_in {
            Some(expires_in) if expires_in.as_secs() == 0 => {
                return Err(ClientError::invalid_config(
                    "expires_in must be at least one second",
                ));
            }
            Some(expires_in) => Some(expires_in.as_secs()),
            None => None,
        };
        if !(self.refresh_at > 0.0 && self.refresh_at <= 1.0) {
            return Err(ClientError::invalid_config(
                "refresh_at must be more than 0 and at most 1",
            ));
        }
        if self.deadline.is_zero() {
            return Err(ClientError::invalid_config("deadline must not be zero"));
        }

        let (region, credentials) = aws_settings(self.region, self.credentials).await?;
        let sts = StsEndpoint::for_region(region.as_deref())?;

        let http = reqwest::Client::builder()
            // A redirect would carry the signed request to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|source| ClientError::Unreachable {
                source: Arc::new(source),
            })?;

        let minter = Minter {
            http,
            token_url,
            sts,
            server_id,
            org_id: self.org_id,
            expires_in,
            credentials,
            clock: self.clock.clone(),
        };
        let cache = TokenCache::new(self.clock, self.refresh_at, self.deadline);
        Ok(TokenClient {
            inner: Arc::new(Inner { cache, minter }),
        })
    }
}

/// The region and credentials provider: the ones given, the rest from aws-config.
async fn aws_settings(
    region: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
) -> Result<(Option<String>, SharedCredentialsProvider), ClientError> {
    // With both given there is nothing to look up, and nothing (such as the instance
    // metadata service) is probed.
    if let (Some(region), Some(credentials)) = (&region, &credentials) {
        return Ok((Some(region.clone()), credentials.clone()));
    }

    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    let config = loader.load().await;

    let region = config.region().map(|region| region.as_ref().to_owned());
    let credentials = config.credentials_provider().ok_or_else(|| {
        ClientError::invalid_config("the AWS configuration names no credentials provider")
    })?;
    Ok((region, credentials))
}

/// `{url}/v1/token`, after checking that `url` is a plain base URL safe to send a signed
/// request to.
fn token_url(url: Option<&str>) -> Result<reqwest::Url, ClientError> {
    let url = url.ok_or_else(|| ClientError::invalid_config("url is required"))?;
    let base = reqwest::Url::parse(url)
        .map_err(|_| ClientError::invalid_config(format!("url `{url}` is not a valid URL")))?;

    if !base.username().is_empty() || base.password().is_some() {
        // Credentials in a URL end up in error messages and logs.
        return Err(ClientError::invalid_config(
            "url must not contain a user name or password",
        ));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(ClientError::invalid_config(format!(
            "url `{url}` must not have a query or fragment"
        )));
    }
    match base.scheme() {
        "https" => {}
        "http" if is_loopback(&base) => {}
        "http" => {
            return Err(ClientError::invalid_config(format!(
                "url `{url}` must use https (http is allowed on a loopback address only)"
            )));
        }
        _ => {
            return Err(ClientError::invalid_config(format!(
                "url `{url}` must be an https URL"
            )));
        }
    }

    let joined = format!("{}/v1/token", base.as_str().trim_end_matches('/'));
    reqwest::Url::parse(&joined)
        .map_err(|_| ClientError::invalid_config(format!("url `{url}` is not a valid URL")))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed, as in the URL.
    let address = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || address
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The server id goes into a signed header: it must be a header value that survives
/// signing unchanged (printable ASCII, no surrounding spaces).
fn checked_server_id(server_id: Option<String>) -> Result<String, ClientError> {
    let server_id =
        server_id.ok_or_else(|| ClientError::invalid_config("server_id is required"))?;
    let printable = server_id.bytes().all(|byte| (0x20..=0x7e).contains(&byte));
    if server_id.is_empty() || server_id.len() > 256 || !printable || server_id.trim() != server_id
    {
        return Err(ClientError::invalid_config(
            "server_id must be 1 to 256 printable ASCII characters without surrounding spaces",
        ));
    }
    Ok(server_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(error: ClientError) -> String {
        match error {
            ClientError::InvalidConfig { reason } => reason,
            other => panic!("not a configuration error: {other:?}"),
        }
    }

    #[test]
    fn the_token_path_is_appended_to_the_base_url() {
        for (base, expected) in [
            ("https://auth.example", "https://auth.example/v1/token"),
            ("https://auth.example/", "https://auth.example/v1/token"),
            (
                "https://auth.example/prefix",
                "https://auth.example/prefix/v1/token",
            ),
            (
                "https://auth.example:8443/prefix/",
                "https://auth.example:8443/prefix/v1/token",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/token"),
            ("http://[::1]:8080", "http://[::1]:8080/v1/token"),
            ("http://localhost:8080", "http://localhost:8080/v1/token"),
        ] {
            assert_eq!(token_url(Some(base)).expect(base).as_str(), expected);
        }
    }

    #[test]
    fn unsafe_or_malformed_urls_are_refused() {
        for url in [
            "http://auth.example",
            "http://10.0.0.1:8080",
            "ftp://auth.example",
            "https://user:pass@auth.example",
            "https://auth.example/?a=b",
            "https://auth.example/#top",
            "auth.example",
            "",
        ] {
            let reason = reason(token_url(Some(url)).expect_err(url));
            assert!(reason.contains("url"), "{url}: {reason}");
        }
        assert_eq!(
            reason(token_url(None).expect_err("missing")),
            "url is required"
        );
    }

    #[test]
    fn server_ids_that_would_not_survive_signing_are_refused() {
        for server_id in ["", " padded", "padded ", "line\nbreak", "tab\there", "ünï"] {
            assert!(
                checked_server_id(Some(server_id.into())).is_err(),
                "{server_id:?}"
            );
        }
        assert!(checked_server_id(Some("x".repeat(257))).is_err());
        assert_eq!(
            checked_server_id(Some("internal-auth.prod".into())).expect("fine"),
            "internal-auth.prod"
        );
    }

    fn offline() -> TokenClientBuilder {
        TokenClient::builder()
            .url("http://127.0.0.1:1")
            .server_id("internal-auth.test")
            .region("eu-central-1")
            .static_credentials("AKIDEXAMPLE", "secret", None)
    }

    #[tokio::test]
    async fn impossible_settings_are_refused_with_the_setting_named() {
        let cases = [
            (
                offline().refresh_at(0.0),
                "refresh_at must be more than 0 and at most 1",
            ),
            (
                offline().refresh_at(1.5),
                "refresh_at must be more than 0 and at most 1",
            ),
            (
                offline().refresh_at(f64::NAN),
                "refresh_at must be more than 0 and at most 1",
            ),
            (
                offline().expires_in(Duration::from_millis(999)),
                "expires_in must be at least one second",
            ),
            (
                offline().deadline(Duration::ZERO),
                "deadline must not be zero",
            ),
            (offline().org_id(""), "org_id must not be empty"),
            (TokenClient::builder().server_id("s"), "url is required"),
            (
                TokenClient::builder().url("https://a.example"),
                "server_id is required",
            ),
        ];
        for (builder, expected) in cases {
            let error = builder.build().await.expect_err(expected);
            assert_eq!(reason(error), expected);
        }
    }

    #[tokio::test]
    async fn an_unknown_region_is_refused_before_anything_is_signed() {
        let error = offline()
            .region("mars-north-1")
            .build()
            .await
            .expect_err("unknown");
        assert!(reason(error).contains("mars-north-1"));
    }

    #[tokio::test]
    async fn sensible_settings_build_a_client() {
        offline()
            .org_id("66")
            .expires_in(Duration::from_secs(600))
            .refresh_at(1.0)
            .deadline(Duration::from_secs(1))
            .build()
            .await
            .expect("builds");
    }
}
