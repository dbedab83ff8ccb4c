//! Rule 8: the request was signed for this internal-auth deployment.

use super::authorization::Authorization;
use super::error::RequestError;
use super::headers::{AllowedHeader, ForwardedHeaders};

/// Rule 8: `X-Internal-Auth-Server-Id` is present, equals the configured `server_id`, and
/// is named in `SignedHeaders`.
///
/// Defends against replay across audiences: a signed `GetCallerIdentity` request is a bearer
/// proof of identity, so any service that received one meant for itself could trade it here.
/// Because the server id is signed, it cannot be changed without invalidating the signature.
pub(super) fn check_server_id(
    headers: &ForwardedHeaders<'_>,
    authorization: &Authorization<'_>,
    server_id: &str,
) -> Result<(), RequestError> {
    let unverified_server_id = headers
        .get(AllowedHeader::XInternalAuthServerId)
        .ok_or(RequestError::ServerIdMissing)?;
    if unverified_server_id != server_id {
        return Err(RequestError::ServerIdMismatch);
    }
    if !authorization.signs("x-internal-auth-server-id") {
        return Err(RequestError::ServerIdNotSigned);
    }
    Ok(())
}
