//! `/healthz`, `/readyz` and `/metrics`: for the orchestrator and the scraper.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, web};

use crate::app::AppState;

/// Handles `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(r#"{"status":"ok"}"#)
}

/// Handles `GET /readyz`: the configuration is loaded and the signing key signed a test
/// message at start-up, so the service can issue tokens.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // The state only exists once the configuration loaded and the key signed its test.
    let kid = state.keys.current().signer().public_jwk().kid.clone();
    HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "signing_kid": kid }))
}

/// Handles `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4"))
        .body(state.metrics.render())
}
