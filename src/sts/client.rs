//! Rules 11 and 12: sending a checked request to STS and classifying what comes back.
//!
//! The outbound request is rebuilt from the checked parts only: the allow-listed host (or
//! `sts.endpoint`, keeping the signed `Host`), the allowed headers, the exact body. No
//! redirect is followed, the whole exchange is bounded in time, and at most
//! [`answer::MAX_ANSWER_BYTES`] of the answer are read.

use std::sync::Arc;
use std::time::Duration;

use super::answer::{self, CallerIdentity, StsRejection};
use super::connection::{Connection, Connector, TlsSetupError};
use super::http1::{self, Answer, ExchangeError};
use super::origin::Origin;
use super::pool::Pool;
use crate::forwarded::CheckedRequest;

/// Why the STS client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StsClientError {
    /// TLS could not be set up (no usable trust store, for example).
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// `sts.endpoint` is not a usable URL.
    #[error("sts.endpoint is not a usable URL ({0})")]
    Endpoint(String),
}

/// Why STS did not vouch for the caller.
#[derive(Debug, thiserror::Error)]
pub enum StsError {
    /// STS refused the signature or the credentials (its 403, `ExpiredToken`, ...).
    #[error("STS rejected the request's signature or credentials")]
    Rejected {
        /// STS's error code, for the log.
        sts_code: Option<String>,
    },
    /// STS throttled us.
    #[error("STS is throttling requests")]
    Throttled,
    /// STS could not be reached or answered with a server error.
    #[error("STS is unavailable")]
    Unavailable {
        /// What went wrong, for the log.
        reason: String,
    },
    /// STS did not answer in time.
    #[error("STS did not answer in time")]
    Timeout,
    /// STS answered something that is not a well-formed `GetCallerIdentity` result.
    #[error("STS answered something other than a GetCallerIdentity result")]
    BadAnswer {
        /// What was wrong, for the log.
        reason: String,
    },
}

impl StsError {
    /// The label under which `/metrics` counts this outcome.
    pub fn outcome(&self) -> &'static str {
        match self {
            StsError::Rejected { .. } => "rejected",
            StsError::Throttled => "throttled",
            StsError::Unavailable { .. } => "unavailable",
            StsError::Timeout => "timeout",
            StsError::BadAnswer { .. } => "bad_answer",
        }
    }
}

/// Sends checked requests to STS over pooled keep-alive connections.
///
/// The exchange runs in the calling task: no connection task, no channel, one write and
/// usually one read per call.
#[derive(Clone)]
pub struct StsClient {
    connector: Connector,
    pool: Arc<Pool>,
    /// `sts.endpoint`, read once: every request goes there.
    endpoint: Option<Origin>,
    timeout: Duration,
}

impl std::fmt::Debug for StsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsClient")
            .field("endpoint", &self.endpoint.as_ref().map(Origin::to_string))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl StsClient {
    /// A client that sends to `endpoint` when given, else to each request's signed host,
    /// and gives STS `timeout` for the whole exchange, connecting included.
    pub fn new(endpoint: Option<&str>, timeout: Duration) -> Result<Self, StsClientError> {
        let endpoint = endpoint
            .map(Origin::from_endpoint)
            .transpose()
            .map_err(StsClientError::Endpoint)?;
        Ok(Self {
            connector: Connector::new()?,
            pool: Arc::new(Pool::default()),
            endpoint,
            timeout,
        })
    }

    /// Asks STS who signed `request`.
    pub async fn get_caller_identity(
        &self,
        request: &CheckedRequest,
    ) -> Result<CallerIdentity, StsError> {
        let signed_host;
        let origin = match &self.endpoint {
            Some(endpoint) => endpoint,
            None => {
                signed_host = Origin::signed_host(&request.host);
                &signed_host
            }
        };
        match tokio::time::timeout(self.timeout, self.call(origin, request)).await {
            Ok(outcome) => outcome,
            // Dropping the exchange drops its connection: a late answer cannot be read as
            // the answer to the next request.
            Err(_) => Err(StsError::Timeout),
        }
    }

    async fn call(
        &self,
        origin: &Origin,
        request: &CheckedRequest,
    ) -> Result<CallerIdentity, StsError> {
        let (mut connection, reused) = match self.pool.checkout(origin) {
            Some(connection) => (connection, true),
            None => (self.connect(origin).await?, false),
        };
        let answer = match http1::exchange(&mut connection, request).await {
            // A pooled connection can pass its open check and still be closed by STS as
            // the request goes out. GetCallerIdentity reads and changes nothing, so it is
            // safe to send once more, on a new connection; only once, so a peer that drops
            // every request costs two attempts, within the same time bound.
            Err(ExchangeError::Unanswered(_)) if reused => {
                connection = self.connect(origin).await?;
                http1::exchange(&mut connection, request).await
            }
            answer => answer,
        }
        .map_err(|error| exchange_error(&error))?;
        let identity = read_answer(&connection, &answer);
        if answer.reusable {
            self.pool.checkin(origin, connection);
        }
        identity
    }

    async fn connect(&self, origin: &Origin) -> Result<Connection, StsError> {
        self.connector
            .connect(origin)
            .await
            .map_err(|error| StsError::Unavailable {
                reason: format!("cannot connect to {origin}: {error}"),
            })
    }
}

/// Sorts STS's answer into an identity or the reason there is none.
fn read_answer(connection: &Connection, answer: &Answer) -> Result<CallerIdentity, StsError> {
    let body = &connection.buffer[answer.body.clone()];
    let status = answer.status;
    if status != 200 {
        return Err(match answer::classify_rejection(status, body) {
            StsRejection::Authentication => StsError::Rejected {
                sts_code: answer::error_code(body),
            },
            StsRejection::Throttled => StsError::Throttled,
            StsRejection::Unavailable => StsError::Unavailable {
                reason: format!("STS answered {status}"),
            },
            StsRejection::Unexpected => StsError::BadAnswer {
                reason: format!("STS answered {status}"),
            },
        });
    }
    let content_type = answer
        .content_type
        .clone()
        .map(|range| std::str::from_utf8(&connection.buffer[range]).unwrap_or(""));
    answer::read_caller_identity(content_type, body).map_err(|error| StsError::BadAnswer {
        reason: error.to_string(),
    })
}

fn exchange_error(error: &ExchangeError) -> StsError {
    match error {
        ExchangeError::Unanswered(_) | ExchangeError::Io(_) => StsError::Unavailable {
            reason: error.to_string(),
        },
        ExchangeError::Broken(_) | ExchangeError::TooLarge => StsError::BadAnswer {
            reason: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
