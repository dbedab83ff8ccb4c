//! One refresh: load AWS credentials, sign `GetCallerIdentity`, post it to internal-auth and
//! read the answer, trying again on busy answers and lost connections while the deadline
//! allows.

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use reqwest::header::{ACCEPT, RETRY_AFTER};
use tokio::time::Instant;

use super::answer::{Failure, MAX_ANSWER_BYTES, read_answer, read_retry_after};
use super::backoff::{random_jitter, retry_delay};
use super::cache::Minted;
use super::signing::{StsEndpoint, sign_get_caller_identity};
use super::{ClientError, Token};
use crate::clock::Clock;
use crate::wire::{TokenRequest, TokenResponse};

/// One attempt may take at most this long, so that a hung connection leaves room in the
/// deadline for another.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything a refresh needs; built once by the builder.
pub(crate) struct Minter {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: reqwest::Url,
    pub(crate) sts: StsEndpoint,
    pub(crate) server_id: String,
    pub(crate) org_id: Option<String>,
    pub(crate) expires_in: Option<u64>,
    pub(crate) credentials: SharedCredentialsProvider,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Minter {
    /// Gets a new token, or the error of the last attempt when no further one fits before
    /// `deadline`.
    pub(crate) async fn mint(&self, deadline: Instant) -> Result<Minted, ClientError> {
        // Known limitation: credentials are asked of the provider on every refresh; providers
        // that fetch them remotely (SSO, web identity, an assumed role) are not cached between
        // refreshes, which costs one extra call per token.
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|source| ClientError::NoCredentials {
                source: Arc::new(source),
            })?;

        let mut retry = 0;
        loop {
            // Each attempt is signed anew: the service accepts a signature only once.
            let signed_at = self.clock.now();
            let request = TokenRequest {
                sts_request: sign_get_caller_identity(
                    &self.sts,
                    &self.server_id,
                    &credentials,
                    signed_at,
                )?,
                org_id: self.org_id.clone(),
                expires_in: self.expires_in,
            };

            let (error, retry_after) = match self.post(&request, deadline).await {
                Ok(answer) => {
                    let lifetime = Duration::from_secs(answer.expires_in);
                    let token = Token::new(answer.token, signed_at, lifetime).ok_or(
                        ClientError::BadAnswer {
                            status: 200,
                            reason: "a lifetime beyond any representable time",
                        },
                    )?;
                    tracing::debug!(
                        lifetime_secs = answer.expires_in,
                        "internal-auth issued a token"
                    );
                    return Ok(Minted {
                        token,
                        credentials_expiry: credentials.expiry(),
                    });
                }
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Transient { error, retry_after }) => (error, retry_after),
            };

            let wait = retry_delay(retry, retry_after, random_jitter());
            if Instant::now() + wait >= deadline {
                return Err(error);
            }
            tracing::info!(
                error = %error,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "internal-auth did not issue a token; trying again",
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// One `POST /v1/token`.
    async fn post(
        &self,
        request: &TokenRequest,
        deadline: Instant,
    ) -> Result<TokenResponse, Failure> {
        let time_left = deadline.saturating_duration_since(Instant::now());
        let mut response = self
            .http
            .post(self.token_url.clone())
            .header(ACCEPT, "application/json")
            .json(request)
            .timeout(time_left.min(ATTEMPT_TIMEOUT))
            .send()
            .await
            .map_err(unreachable)?;

        let status = response.status().as_u16();
        let retry_after = read_retry_after(
            response
                .headers()
                .get(RETRY_AFTER)
                .map(|value| value.as_bytes()),
        );

        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(Failure::Final(ClientError::BadAnswer {
                    status,
                    reason: "an answer larger than 64 KiB",
                }));
            }
            body.extend_from_slice(&chunk);
        }

        read_answer(status, retry_after, &body)
    }
}

/// A connection that failed, timed out or broke off: worth another try.
fn unreachable(source: reqwest::Error) -> Failure {
    Failure::Transient {
        error: ClientError::Unreachable {
            source: Arc::new(source),
        },
        retry_after: None,
    }
}
