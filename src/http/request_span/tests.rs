//! Which requests get an `info` span, checked with a subscriber that, like the service at
//! its default level, enables `info` and above and remembers the spans it was asked for.

use std::sync::{Arc, Mutex};

use actix_web::middleware::from_fn;
use actix_web::{App, test as actix_test};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use super::*;
use crate::http::TOKEN_PATH;

/// Enables what `RUST_LOG=info` enables and records the name of each span it creates.
#[derive(Clone, Default)]
struct InfoSpans {
    created: Arc<Mutex<Vec<&'static str>>>,
}

impl Subscriber for InfoSpans {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::INFO
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut created = self.created.lock().unwrap();
        created.push(span.metadata().name());
        Id::from_u64(created.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The spans an `info` subscriber is asked to build while the service answers `request`,
/// and the answer's `X-Request-Id`.
async fn spans_for(request: actix_test::TestRequest) -> (Vec<&'static str>, Option<String>) {
    let subscriber = InfoSpans::default();
    let _default = tracing::subscriber::set_default(subscriber.clone());
    let app = actix_test::init_service(
        App::new()
            .wrap(from_fn(in_request_span))
            .configure(crate::http::routes),
    )
    .await;
    let response = actix_test::call_service(&app, request.to_request()).await;
    let id = response
        .headers()
        .get("x-request-id")
        .map(|value| value.to_str().unwrap().to_string());
    let created = subscriber.created.lock().unwrap().clone();
    (created, id)
}

#[actix_web::test]
async fn a_token_request_runs_in_an_info_span_for_its_audit_events() {
    let (spans, id) = spans_for(actix_test::TestRequest::post().uri(TOKEN_PATH)).await;
    assert_eq!(spans, ["request"]);
    assert!(id.is_some_and(|id| id.len() == 16));
}

#[actix_web::test]
async fn other_routes_build_no_span_at_info() {
    for path in ["/.well-known/jwks.json", "/healthz", "/nope"] {
        let (spans, id) = spans_for(actix_test::TestRequest::get().uri(path)).await;
        assert!(spans.is_empty(), "{path}: {spans:?}");
        assert!(id.is_some(), "{path} still answers with its request id");
    }
}

#[test]
fn request_ids_are_sixteen_lowercase_hex_digits() {
    assert_eq!(&request_id_digits(0), b"0000000000000000");
    assert_eq!(
        &request_id_digits(0x0123_4567_89ab_cdef),
        b"0123456789abcdef"
    );
    assert_eq!(&request_id_digits(u64::MAX), b"ffffffffffffffff");
    let id = 0x00f0_0000_0000_1a2b_u64;
    assert_eq!(request_id_digits(id), *format!("{id:016x}").as_bytes());
}
