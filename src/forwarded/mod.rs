//! The checks of a forwarded `GetCallerIdentity` request: rules 1 to 9 of
//! `security-rules.md`, one function per rule, applied in order by [`check`].
//!
//! A request that passes comes back as a [`CheckedRequest`] rebuilt from its checked parts
//! only: an allow-listed host, the allowed headers under their canonical names, the exact
//! body. The caller's bytes are never forwarded wholesale. The SigV4 signature itself is
//! not verified here; STS does that. Rule 10 (each signature used once) is the caller's,
//! with [`CheckedRequest::signature`] and [`CheckedRequest::fresh_until`].
//!
//! # Error codes
//!
//! Every refusal is a [`RequestError`] with a stable code. Status 400 unless marked 401.
//!
//! - rule 1, the method: `method_not_post`
//! - rule 2, the URL's shape: `malformed_url`
//! - rule 3, the host: `host_not_allowed`
//! - rule 4, the `Host` header: `host_header_mismatch`
//! - rule 5, the body: `body_too_large`, `body_not_get_caller_identity`
//! - rule 6, the headers: `too_many_headers`, `headers_too_large`, `invalid_header_name`,
//!   `header_not_allowed`, `invalid_header_value`, `duplicate_header`,
//!   `invalid_content_type`, `content_sha256_mismatch`
//! - rule 7, `Authorization`: `missing_authorization`, `unsupported_algorithm`,
//!   `malformed_authorization`, `invalid_access_key_id`, `service_not_sts`,
//!   `region_mismatch`, `scope_date_mismatch`, `signed_headers_not_canonical`,
//!   `host_not_signed`, `signed_header_absent`
//! - rule 8, the server id: `server_id_missing` (401), `server_id_mismatch` (401),
//!   `server_id_not_signed` (401)
//! - rule 9, `X-Amz-Date`: `missing_date`, `malformed_date`, `stale_signature` (401),
//!   `signature_from_the_future` (401)

mod authorization;
mod body;
mod date;
mod error;
mod headers;
mod server_id;
mod url;

#[cfg(test)]
mod tests;

use std::fmt;
use std::time::SystemTime;

use crate::partition::Partition;
use crate::wire::StsRequest;

pub use error::{RequestError, UrlDefect};

/// What a forwarded request must satisfy beyond its own shape.
#[derive(Debug, Clone)]
pub struct RequestPolicy {
    /// The configured `server_id`, which callers must sign in `X-Internal-Auth-Server-Id`.
    pub server_id: String,
    /// The partitions whose STS hosts are allowed; the service's default is `[Aws]`.
    pub partitions: Vec<Partition>,
}

/// A forwarded request that passed rules 1 to 9, rebuilt from its checked parts only.
#[derive(Clone)]
pub struct CheckedRequest {
    /// An allow-listed STS host, for example `sts.eu-central-1.amazonaws.com`.
    pub host: String,
    /// The region that host serves.
    pub region: &'static str,
    /// Only the allowed headers the request had, under their canonical names
    /// (`Authorization`, `Content-Type`, `X-Amz-Date`, `X-Amz-Security-Token`,
    /// `X-Amz-Content-Sha256`, `X-Internal-Auth-Server-Id`, `Accept`), values exactly as
    /// given. Never `Host`: the STS client sets it to [`CheckedRequest::host`].
    pub headers: Vec<(&'static str, String)>,
    /// The body exactly as signed, one of the two `GetCallerIdentity` forms (this
    /// service's constant, equal to what the caller sent).
    pub body: &'static str,
    /// The access key id from the credential scope, for logs (it is not a secret).
    pub access_key_id: String,
    /// The decoded SigV4 signature: the replay cache's key.
    pub signature: [u8; 32],
    /// When the request was signed (`X-Amz-Date`).
    pub signed_at: SystemTime,
}

impl CheckedRequest {
    /// Until when this signature could still be accepted: `signed_at` + 15 minutes. The
    /// replay cache remembers the signature until then (rule 10).
    pub fn fresh_until(&self) -> SystemTime {
        self.signed_at + date::MAX_AGE
    }
}

impl fmt::Debug for CheckedRequest {
    /// Shows everything but the signature, the `Authorization` value and the session token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct RedactedHeaders<'a>(&'a [(&'static str, String)]);

        impl fmt::Debug for RedactedHeaders<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let shown = self.0.iter().map(|(name, value)| {
                    let is_secret = *name == headers::AllowedHeader::Authorization.canonical_name()
                        || *name == headers::AllowedHeader::XAmzSecurityToken.canonical_name();
                    (
                        name,
                        if is_secret {
                            "[redacted]"
                        } else {
                            value.as_str()
                        },
                    )
                });
                f.debug_map().entries(shown).finish()
            }
        }

        f.debug_struct("CheckedRequest")
            .field("host", &self.host)
            .field("region", &self.region)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &self.body)
            .field("access_key_id", &self.access_key_id)
            .field("signature", &"[redacted]")
            .field("signed_at", &self.signed_at)
            .finish()
    }
}

/// Checks `unverified` against rules 1 to 9 in order and returns the first failure, or
/// the request rebuilt from its checked parts.
///
/// `now` is the time the freshness of `X-Amz-Date` is judged against.
pub fn check(
    unverified: &StsRequest,
    policy: &RequestPolicy,
    now: SystemTime,
) -> Result<CheckedRequest, RequestError> {
    check_method(&unverified.method)?;
    let host = url::check_url(&unverified.url).map_err(RequestError::MalformedUrl)?;
    let region = url::check_host_allowed(host, &policy.partitions)?;
    headers::check_host_header(&unverified.headers, host)?;
    let body = body::check_body(&unverified.body)?;
    let headers = headers::check_headers(&unverified.headers, &unverified.body)?;
    let authorization = authorization::check_authorization(&headers, region)?;
    server_id::check_server_id(&headers, &authorization, &policy.server_id)?;
    let signed_at = date::check_date(&headers, now)?;

    Ok(CheckedRequest {
        host: host.to_owned(),
        region,
        headers: headers
            .forwardable()
            .map(|(name, value)| (name, value.to_owned()))
            .collect(),
        body,
        access_key_id: authorization.access_key_id.to_owned(),
        signature: authorization.signature,
        signed_at,
    })
}

/// Rule 1: the method is exactly `POST`.
///
/// Defends against a `GET` whose parameters would travel in the URL, outside the checked
/// body.
fn check_method(unverified_method: &str) -> Result<(), RequestError> {
    if unverified_method != "POST" {
        return Err(RequestError::MethodNotPost);
    }
    Ok(())
}
