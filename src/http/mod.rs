//! The HTTP face of the service: routes, error answers and the per-request log span.

pub mod error;
pub mod health;
pub mod request_span;
pub mod token_route;
pub mod well_known;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// Where tokens are issued.
pub const TOKEN_PATH: &str = "/v1/token";

/// Every route the service serves, as `(method, path)`. `docs/openapi.yaml` must describe
/// each one; a test holds the two together.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", TOKEN_PATH),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

/// Registers every route of [`ROUTES`]. Another method on a known path is 405, an unknown
/// path 404, both as JSON errors like every other refusal.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(resource(TOKEN_PATH).route(web::post().to(token_route::issue_token)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(well_known::jwks)))
        .service(
            resource("/.well-known/openid-configuration")
                .route(web::get().to(well_known::discovery)),
        )
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/metrics").route(web::get().to(health::metrics)))
        .default_service(web::to(not_found));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn not_found() -> HttpResponse {
    json_error(StatusCode::NOT_FOUND, "not_found", "there is no such route")
}

async fn method_not_allowed() -> HttpResponse {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

fn json_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(crate::wire::ErrorResponse {
        error: code.to_string(),
        message: message.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test};

    use super::*;

    #[actix_web::test]
    async fn every_listed_route_is_served() {
        let app = test::init_service(App::new().configure(routes)).await;
        for (method, path) in ROUTES {
            let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
            let request = test::TestRequest::default()
                .method(method)
                .uri(path)
                .to_request();
            let status = test::call_service(&app, request).await.status();
            // Without the service's state a handler may fail, but the route must exist.
            assert_ne!(status, StatusCode::NOT_FOUND, "{path}");
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        }
    }

    #[actix_web::test]
    async fn unknown_paths_and_wrong_methods_get_json_errors() {
        let app = test::init_service(App::new().configure(routes)).await;

        let request = test::TestRequest::get().uri("/nope").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        let request = test::TestRequest::get().uri("/v1/token").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(body["error"], "method_not_allowed");
    }
}
