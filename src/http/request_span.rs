//! One tracing span per request, carrying a request id that is also sent back in
//! `X-Request-Id`, so a caller's report can be found in the log.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::{Instrument as _, Level};

/// Ids count up from a random start, so they are unique within a process and unlikely to
/// repeat across restarts, without a random draw per request.
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(0);

/// Seeds the request ids; called once at start-up.
pub fn seed_request_ids(seed: u64) {
    NEXT_REQUEST_ID.store(seed, Ordering::Relaxed);
}

/// The one route that logs at `info` and above: its audit events. Every other route logs
/// only its `debug` "answered" line, so its span is a `debug` span. At `info`, the service's
/// production level, the subscriber builds every enabled span (a registry slot, its fields
/// formatted into a string) whether or not anything is logged in it: an `info` span around
/// a JWKS answer cost about a fifth of the JWKS throughput, for lines that could never be
/// written.
const AUDITED_PATH: &str = super::TOKEN_PATH;

/// A `request` span at `$level`; the fields are the same at every level.
macro_rules! request_span {
    ($level:expr, $id:expr, $request:expr) => {
        tracing::span!(
            $level,
            "request",
            id = %format_args!("{:016x}", $id),
            method = %$request.method(),
            path = %$request.path(),
            // Filled in by the token route once known, so that a refusal's log line names
            // who was refused.
            access_key = tracing::field::Empty,
            caller = tracing::field::Empty,
        )
    };
}

/// The middleware: runs the rest of the request inside a `request` span.
pub async fn in_request_span(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let span = if request.path() == AUDITED_PATH {
        request_span!(Level::INFO, id, request)
    } else {
        request_span!(Level::DEBUG, id, request)
    };
    let mut response = next.call(request).instrument(span.clone()).await?;
    span.in_scope(|| {
        tracing::debug!(status = response.status().as_u16(), "answered");
    });
    if let Ok(value) = HeaderValue::from_bytes(&request_id_digits(id)) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// `id` as 16 lowercase hex digits, as the span shows it, without a `String` per request.
fn request_id_digits(id: u64) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    for (place, digit) in digits.iter_mut().enumerate() {
        *digit = HEX[((id >> (60 - 4 * place)) & 0xf) as usize];
    }
    digits
}

#[cfg(test)]
mod tests;
