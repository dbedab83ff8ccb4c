//! `POST /v1/token`: checks the forwarded request, asks STS who signed it, maps the caller
//! to a service and issues a token.
//!
//! Logged per request: one audit event with the decision. Issued: service, caller ARN,
//! `jti`, `org_id`, lifetime. Refused: the error code and its cause chain. Never the
//! token, the signature, the session token or any key.

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::TokenError;
use crate::app::AppState;
use crate::error_chain::ErrorChain;
use crate::forwarded;
use crate::replay::Use;
use crate::token::{self, Claims};
use crate::wire::{TokenRequest, TokenResponse};

/// The largest envelope read. A signed request with a session token is about 3 KiB.
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024;

/// Handles `POST /v1/token`.
pub async fn issue_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, TokenError> {
    let outcome = decide(&state, &request, payload).await;
    match &outcome {
        Ok(_) => state.metrics.token_issued(),
        Err(error) => {
            state.metrics.request_refused(error.code());
            tracing::warn!(
                target: "audit",
                decision = "refused",
                reason = error.code(),
                cause = %ErrorChain(error),
                sts_detail = error.sts_detail().unwrap_or(""),
                "token refused"
            );
        }
    }
    outcome
}

async fn decide(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, TokenError> {
    require_json(request)?;
    let body = read_envelope(request, payload).await?;
    let unverified: TokenRequest =
        serde_json::from_slice(&body).map_err(|error| envelope_error(&error))?;

    if let Some(org_id) = &unverified.org_id {
        check_org_id_shape(org_id)?;
    }
    let lifetime = state
        .lifetime
        .grant(unverified.expires_in)
        .map_err(|_| TokenError::InvalidLifetime)?;

    // Rules 1 to 9: nothing leaves the service unless every one holds.
    let now = state.clock.now();
    let checked = forwarded::check(&unverified.sts_request, &state.request_policy, now)?;
    // An access key id names a key, it is not a secret; it finds the caller in CloudTrail.
    tracing::Span::current().record("access_key", checked.access_key_id.as_str());

    // Rule 10: a signature is accepted once while it could still be fresh.
    let first_use = state
        .replay
        .record(&checked.signature, checked.fresh_until(), now)
        .await
        .map_err(TokenError::ReplayUnavailable)?;
    if first_use == Use::Repeated {
        return Err(TokenError::Replayed);
    }

    // Rules 11 to 14.
    let started = std::time::Instant::now();
    let identity = state.sts.get_caller_identity(&checked).await;
    let took = started.elapsed();
    let identity = match identity {
        Ok(identity) => {
            state.metrics.sts_call("ok", took);
            tracing::Span::current().record("caller", identity.arn.as_str());
            identity
        }
        Err(error) => {
            state.metrics.sts_call(error.outcome(), took);
            if matches!(error, crate::sts::StsError::Rejected { .. }) {
                // A signature STS refused was never a credential: free its slot so that
                // forged requests cannot fill the cache.
                state.replay.forget(&checked.signature).await;
            }
            return Err(error.into());
        }
    };

    // Rules 15 to 19.
    let service = state
        .directory
        .map(&identity, &state.request_policy.partitions)?;
    let org_id = match unverified.org_id.as_deref() {
        Some(org_id) if service.allows_org(org_id) => Some(org_id),
        Some(_) => return Err(TokenError::OrgIdNotAllowed),
        None => None,
    };

    let keys = state.keys.current();
    let jti = token::new_jti(&state.rng).map_err(TokenError::Signing)?;
    let issued_at = state.clock.unix_seconds();
    let claims = Claims {
        iss: &state.issuer,
        sub: &service.name,
        client_id: &service.name,
        aud: &state.audience,
        iat: issued_at,
        nbf: issued_at,
        exp: issued_at + lifetime,
        jti: &jti,
        caller_identity: &identity.arn,
        account: &identity.account,
        policies: &service.policies,
        org_id,
    };
    let signed = token::sign(&keys, &claims)
        .await
        .map_err(TokenError::Signing)?;

    tracing::info!(
        target: "audit",
        decision = "issued",
        service = %service.name,
        jti = %jti,
        org_id = org_id.unwrap_or(""),
        lifetime,
        "token issued"
    );

    let answer = TokenResponse {
        token: signed.into_inner(),
        token_type: "Bearer".to_string(),
        expires_in: lifetime,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}

/// The envelope is JSON; `application/json` with parameters such as `charset` is fine.
fn require_json(request: &HttpRequest) -> Result<(), TokenError> {
    let media_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match media_type {
        Some(media_type) if media_type.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(TokenError::UnsupportedMediaType),
    }
}

/// Reads the body, refusing more than [`MAX_ENVELOPE_BYTES`] without reading the rest.
async fn read_envelope(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<web::Bytes, TokenError> {
    let too_large = || TokenError::PayloadTooLarge {
        limit: MAX_ENVELOPE_BYTES,
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_ENVELOPE_BYTES) {
        return Err(too_large());
    }
    match payload.to_bytes_limited(MAX_ENVELOPE_BYTES).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(TokenError::InvalidEnvelope(
            "the request body could not be read".to_string(),
        )),
        Err(_) => Err(too_large()),
    }
}

/// Describes a JSON error by kind and position only: serde's own message can quote the
/// caller's values, and those may be credentials.
fn envelope_error(error: &serde_json::Error) -> TokenError {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => "is not valid JSON",
        Category::Data => {
            "is not a token request: it needs sts_request {method, url, headers, body} and may have org_id and expires_in"
        }
    };
    TokenError::InvalidEnvelope(format!(
        "the request body {what} (line {}, column {})",
        error.line(),
        error.column()
    ))
}

fn check_org_id_shape(org_id: &str) -> Result<(), TokenError> {
    let printable = org_id.bytes().all(|byte| (0x20..0x7f).contains(&byte));
    if org_id.is_empty() || org_id.len() > 128 || !printable {
        return Err(TokenError::InvalidOrgId);
    }
    Ok(())
}
