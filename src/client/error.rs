//! The one error type of the client. Messages are one sentence for a person reading a log
//! or a terminal; none carries a token, a signature or a credential.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;

/// Why [`TokenClient::token`](super::TokenClient::token) or
/// [`TokenClientBuilder::build`](super::TokenClientBuilder::build) failed.
///
/// The error is `Clone` because callers that share one refresh in flight also share its
/// outcome; causes are therefore kept behind an `Arc`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A builder setting is missing or impossible; `reason` names the setting.
    #[error("invalid internal-auth client setting: {reason}")]
    InvalidConfig {
        /// Which setting is wrong and why.
        reason: String,
    },

    /// No AWS credentials could be loaded from the provider (the default chain unless
    /// overridden).
    #[error("no AWS credentials could be loaded")]
    NoCredentials {
        /// What the credentials provider reported.
        #[source]
        source: Arc<CredentialsError>,
    },

    /// The `GetCallerIdentity` request could not be signed with the credentials.
    #[error("the STS GetCallerIdentity request could not be signed")]
    Signing {
        /// What the signer reported.
        #[source]
        source: Arc<dyn Error + Send + Sync>,
    },

    /// internal-auth answered with a 4xx status: the request was understood and refused.
    /// Not retried; asking again with the same credentials gets the same answer.
    #[error(
        "internal-auth refused the request ({}): {message}",
        status_and_code(*status, code)
    )]
    Refused {
        /// The HTTP status, for example 403.
        status: u16,
        /// The service's stable error code, for example `unknown_service`; empty when the
        /// answer carried none.
        code: String,
        /// The service's one-sentence explanation.
        message: String,
    },

    /// internal-auth answered 429 or 5xx: it could not issue a token now. 429, 502, 503 and
    /// 504 were retried until the deadline left no room for another try.
    #[error(
        "internal-auth could not issue a token ({}): {message}",
        status_and_code(*status, code)
    )]
    Unavailable {
        /// The HTTP status of the last answer.
        status: u16,
        /// The service's error code; empty when the answer carried none.
        code: String,
        /// The service's one-sentence explanation.
        message: String,
    },

    /// internal-auth could not be reached, or did not answer in time, on the last try.
    #[error("internal-auth could not be reached")]
    Unreachable {
        /// What the HTTP client reported.
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// No token could be had within the deadline of one `token()` call.
    #[error("no token was issued within the deadline of {} ms", deadline.as_millis())]
    Timeout {
        /// The deadline that passed.
        deadline: Duration,
    },

    /// internal-auth answered something that is not a well-formed answer of its API.
    #[error("internal-auth sent an unusable answer (status {status}): {reason}")]
    BadAnswer {
        /// The HTTP status of the answer.
        status: u16,
        /// What was wrong with it.
        reason: &'static str,
    },
}

impl ClientError {
    pub(crate) fn invalid_config(reason: impl Into<String>) -> Self {
        ClientError::InvalidConfig {
            reason: reason.into(),
        }
    }

    pub(crate) fn signing(source: impl Error + Send + Sync + 'static) -> Self {
        ClientError::Signing {
            source: Arc::new(source),
        }
    }
}

/// `403 unknown_service`, or just `404` when the answer carried no code.
fn status_and_code(status: u16, code: &str) -> String {
    if code.is_empty() {
        status.to_string()
    } else {
        format!("{status} {code}")
    }
}

#[cfg(test)]
mod tests {
    use super::ClientError;

    #[test]
    fn refusals_read_as_one_sentence_with_status_and_code() {
        let refused = ClientError::Refused {
            status: 403,
            code: "unknown_service".into(),
            message: "no service is configured for this role".into(),
        };
        assert_eq!(
            refused.to_string(),
            "internal-auth refused the request (403 unknown_service): \
             no service is configured for this role"
        );
    }

    #[test]
    fn a_missing_code_leaves_only_the_status() {
        let refused = ClientError::Refused {
            status: 404,
            code: String::new(),
            message: "the answer carried no error description".into(),
        };
        assert_eq!(
            refused.to_string(),
            "internal-auth refused the request (404): the answer carried no error description"
        );
    }
}
