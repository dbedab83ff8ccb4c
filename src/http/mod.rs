//! The HTTP face of the service: routes, error answers and the per-request log span.

pub mod error;
pub mod health;
pub mod request_span;
pub mod token_route;
pub mod well_known;

use actix_web::web;

/// Every route the service serves, as `(method, path)`. `docs/openapi.yaml` must describe
/// each one; a test holds the two together.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/token"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

/// Registers every route of [`ROUTES`].
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/v1/token", web::post().to(token_route::issue_token))
        .route("/.well-known/jwks.json", web::get().to(well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(well_known::discovery),
        )
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}
