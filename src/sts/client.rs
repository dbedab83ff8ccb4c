//! Rules 11 and 12: sending a checked request to STS and classifying what comes back.
//!
//! The outbound request is rebuilt from the checked parts only: the allow-listed host (or
//! `sts.endpoint`, keeping the signed `Host`), the allowed headers, the exact body. No
//! redirect is followed, the whole exchange is bounded in time, and at most
//! [`MAX_ANSWER_BYTES`] of the answer are read.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HOST, HeaderValue};

use super::answer::{self, CallerIdentity, StsRejection};
use crate::forwarded::CheckedRequest;

/// The most of STS's answer that is read; a `GetCallerIdentity` result is under 1 KiB.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// Why the STS client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StsClientError {
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client for STS")]
    Http(#[source] reqwest::Error),
    /// `sts.endpoint` is not a URL.
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

/// Sends checked requests to STS.
#[derive(Clone)]
pub struct StsClient {
    http: reqwest::Client,
    /// `sts.endpoint`, parsed once: every request goes to the same URL.
    endpoint: Option<Url>,
    timeout: Duration,
}

impl std::fmt::Debug for StsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsClient")
            .field("endpoint", &self.endpoint.as_ref().map(Url::as_str))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl StsClient {
    /// A client that sends to `endpoint` when given, else to each request's signed host,
    /// and gives STS `timeout` for its whole answer.
    pub fn new(endpoint: Option<&str>, timeout: Duration) -> Result<Self, StsClientError> {
        // The whole exchange is bounded by `timeout` in `get_caller_identity`; a second,
        // per-request timer inside the client would only duplicate that bound.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            // Known limitation: a pooled connection that STS closes just as it is reused
            // fails the request (503, the caller retries); a send is not retried here.
            .pool_idle_timeout(Duration::from_secs(60))
            .http1_only()
            .no_proxy()
            .build()
            .map_err(StsClientError::Http)?;
        let endpoint = match endpoint {
            Some(endpoint) => Some(
                Url::parse(&format!("{}/", endpoint.trim_end_matches('/')))
                    .map_err(|error| StsClientError::Endpoint(error.to_string()))?,
            ),
            None => None,
        };
        Ok(Self {
            http,
            endpoint,
            timeout,
        })
    }

    /// Asks STS who signed `request`.
    pub async fn get_caller_identity(
        &self,
        request: &CheckedRequest,
    ) -> Result<CallerIdentity, StsError> {
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(StsError::Timeout),
        }
    }

    async fn exchange(&self, request: &CheckedRequest) -> Result<CallerIdentity, StsError> {
        let url = match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => Url::parse(&format!("https://{}/", request.host)).map_err(|_| {
                StsError::BadAnswer {
                    reason: "the checked host does not make a URL".into(),
                }
            })?,
        };
        let host = HeaderValue::from_str(&request.host).map_err(|_| StsError::BadAnswer {
            reason: "the checked host is not a header value".into(),
        })?;

        let mut outbound = self.http.post(url).header(HOST, host).body(request.body);
        for (name, value) in &request.headers {
            outbound = outbound.header(*name, value.as_str());
        }

        let mut response = outbound
            .send()
            .await
            .map_err(|error| classify_transport_error(&error))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = read_bounded(&mut response).await?;

        if status != 200 {
            return Err(match answer::classify_rejection(status, &body) {
                StsRejection::Authentication => StsError::Rejected {
                    sts_code: answer::error_code(&body),
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
        answer::read_caller_identity(content_type.as_deref(), &body).map_err(|error| {
            StsError::BadAnswer {
                reason: error.to_string(),
            }
        })
    }
}

fn classify_transport_error(error: &reqwest::Error) -> StsError {
    if error.is_timeout() {
        StsError::Timeout
    } else {
        StsError::Unavailable {
            reason: error.to_string(),
        }
    }
}

/// Reads at most [`MAX_ANSWER_BYTES`]; a longer answer is refused without reading the rest.
async fn read_bounded(response: &mut reqwest::Response) -> Result<Vec<u8>, StsError> {
    let too_large = || StsError::BadAnswer {
        reason: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(1024);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| classify_transport_error(&error))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
