//! One tracing span per request, carrying a request id that is also sent back in
//! `X-Request-Id`, so a caller's report can be found in the log.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument as _;

/// Ids count up from a random start, so they are unique within a process and unlikely to
/// repeat across restarts, without a random draw per request.
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(0);

/// Seeds the request ids; called once at start-up.
pub fn seed_request_ids(seed: u64) {
    NEXT_REQUEST_ID.store(seed, Ordering::Relaxed);
}

/// The middleware: runs the rest of the request inside a `request` span.
pub async fn in_request_span(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!(
        "request",
        id = %format_args!("{id:016x}"),
        method = %request.method(),
        path = %request.path(),
        // Filled in by the token route once known, so that a refusal's log line names who
        // was refused.
        access_key = tracing::field::Empty,
        caller = tracing::field::Empty,
    );
    let mut response = next.call(request).instrument(span.clone()).await?;
    span.in_scope(|| {
        tracing::debug!(status = response.status().as_u16(), "answered");
    });
    if let Ok(value) = HeaderValue::from_str(&format!("{id:016x}")) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}
