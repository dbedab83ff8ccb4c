//! Every way `POST /v1/token` can fail, each with one HTTP status, one stable error code
//! and one sentence for the caller. The cause chain goes to the log, never to the caller:
//! no answer carries STS's text, a token, or the caller's credentials.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};

use crate::forwarded::RequestError;
use crate::identity::MappingError;
use crate::keys::SignError;
use crate::replay::ReplayError;
use crate::sts::StsError;
use crate::wire::ErrorResponse;

/// Seconds a caller should wait after STS throttled us.
const RETRY_AFTER_THROTTLED: &str = "1";
/// Seconds a caller should wait while STS or the replay cache is unavailable.
const RETRY_AFTER_UNAVAILABLE: &str = "2";

/// Why a token was not issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The envelope is not `application/json` (415).
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The envelope is larger than the service reads (413).
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The envelope is not JSON of the documented shape (400).
    #[error("{0}")]
    InvalidEnvelope(String),
    /// `org_id` is empty, too long or not printable ASCII (400).
    #[error("org_id must be 1 to 128 printable ASCII characters")]
    InvalidOrgId,
    /// `expires_in` is zero (400).
    #[error("expires_in must be at least one second")]
    InvalidLifetime,
    /// The forwarded request breaks one of rules 1 to 9 (400 or 401).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The signature was already used (401).
    #[error("this signed request was already used; sign a new one")]
    Replayed,
    /// The replay cache could not answer, so the request is refused (503).
    #[error("the service cannot check for replays right now; retry shortly")]
    ReplayUnavailable(#[source] ReplayError),
    /// STS did not vouch for the caller (401, 429, 502, 503 or 504).
    #[error(transparent)]
    Sts(#[from] StsError),
    /// The principal STS vouched for maps to no service (403), or the answer was
    /// inconsistent (502).
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The service may not act for the `org_id` asked for (403).
    #[error("this service may not ask for that org_id")]
    OrgIdNotAllowed,
    /// The signing key failed (500).
    #[error("the service could not sign the token")]
    Signing(#[source] SignError),
}

impl TokenError {
    /// The stable code in the JSON answer and in `/metrics`.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::UnsupportedMediaType => "unsupported_media_type",
            TokenError::PayloadTooLarge { .. } => "payload_too_large",
            TokenError::InvalidEnvelope(_) => "invalid_envelope",
            TokenError::InvalidOrgId => "invalid_org_id",
            TokenError::InvalidLifetime => "invalid_expires_in",
            TokenError::Request(error) => error.code(),
            TokenError::Replayed => "replayed_request",
            TokenError::ReplayUnavailable(_) => "replay_check_unavailable",
            TokenError::Sts(error) => match error {
                StsError::Rejected { .. } => "sts_rejected_signature",
                StsError::Throttled => "sts_throttled",
                StsError::Unavailable { .. } => "sts_unavailable",
                StsError::Timeout => "sts_timeout",
                StsError::BadAnswer { .. } => "sts_bad_answer",
            },
            TokenError::Mapping(error) => error.code(),
            TokenError::OrgIdNotAllowed => "org_id_not_allowed",
            TokenError::Signing(_) => "internal_error",
        }
    }

    /// What STS said, for the log only: its error code or what was wrong with its answer.
    pub fn sts_detail(&self) -> Option<&str> {
        match self {
            TokenError::Sts(StsError::Rejected { sts_code }) => sts_code.as_deref(),
            TokenError::Sts(StsError::Unavailable { reason } | StsError::BadAnswer { reason }) => {
                Some(reason)
            }
            _ => None,
        }
    }

    /// The value of `Retry-After`, for answers a caller should retry.
    fn retry_after(&self) -> Option<&'static str> {
        match self {
            TokenError::Sts(StsError::Throttled) => Some(RETRY_AFTER_THROTTLED),
            TokenError::Sts(StsError::Unavailable { .. } | StsError::Timeout)
            | TokenError::ReplayUnavailable(_) => Some(RETRY_AFTER_UNAVAILABLE),
            _ => None,
        }
    }
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        let status = match self {
            TokenError::UnsupportedMediaType => 415,
            TokenError::PayloadTooLarge { .. } => 413,
            TokenError::InvalidEnvelope(_)
            | TokenError::InvalidOrgId
            | TokenError::InvalidLifetime => 400,
            TokenError::Request(error) => error.status(),
            TokenError::Replayed => 401,
            TokenError::ReplayUnavailable(_) => 503,
            TokenError::Sts(error) => match error {
                StsError::Rejected { .. } => 401,
                StsError::Throttled => 429,
                StsError::Unavailable { .. } => 503,
                StsError::Timeout => 504,
                StsError::BadAnswer { .. } => 502,
            },
            TokenError::Mapping(error) => error.status(),
            TokenError::OrgIdNotAllowed => 403,
            TokenError::Signing(_) => 500,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorResponse {
            error: self.code().to_string(),
            message: self.to_string(),
        };
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((CONTENT_TYPE, "application/json"));
        if let Some(seconds) = self.retry_after() {
            response.insert_header((RETRY_AFTER, seconds));
        }
        response.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}
