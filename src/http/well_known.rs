//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`: both served from bytes
//! prepared at start-up. Nothing is logged beyond the request span.

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderName, HeaderValue, IF_NONE_MATCH,
};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppState;

/// How long verifiers may cache the JWKS. A new key is published at least this long
/// before it signs, so a cached copy never misses the key of a fresh token.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;

/// Handles `GET /.well-known/jwks.json`.
pub async fn jwks(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let keys = state.keys.current();
    let cache_control = jwks_cache_control();
    let not_modified = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == keys.jwks_etag()));
    if not_modified {
        return HttpResponse::NotModified()
            .insert_header(cache_control)
            .insert_header((ETAG, keys.jwks_etag()))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header(json_content_type())
        .insert_header(cache_control)
        .insert_header((ETAG, keys.jwks_etag()))
        .body(keys.jwks_body().clone())
}

/// Handles `GET /.well-known/openid-configuration`.
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(json_content_type())
        .insert_header(jwks_cache_control())
        .body(state.discovery_body.clone())
}

/// `Cache-Control` for both documents; a test holds it to [`JWKS_MAX_AGE_SECONDS`].
const CACHE_CONTROL_VALUE: &str = "public, max-age=300";

// The constant headers are static values: a `&str` would be checked and copied into a new
// allocation on every request, and the JWKS is the most requested document.

fn jwks_cache_control() -> (HeaderName, HeaderValue) {
    (CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE))
}

fn json_content_type() -> (HeaderName, HeaderValue) {
    (CONTENT_TYPE, HeaderValue::from_static("application/json"))
}

/// The discovery document for `issuer`: what a verifier needs to find our keys.
pub fn discovery_document(issuer: &str) -> Vec<u8> {
    let document = serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/v1/token"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "grant_types_supported": ["urn:internal-auth:aws-sts-get-caller-identity"],
    });
    serde_json::to_vec(&document).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_says_the_documented_max_age() {
        assert_eq!(
            CACHE_CONTROL_VALUE,
            format!("public, max-age={JWKS_MAX_AGE_SECONDS}")
        );
    }

    #[test]
    fn discovery_points_at_the_jwks_under_the_issuer() {
        let document: serde_json::Value =
            serde_json::from_slice(&discovery_document("https://auth.example")).unwrap();
        assert_eq!(document["issuer"], "https://auth.example");
        assert_eq!(
            document["jwks_uri"],
            "https://auth.example/.well-known/jwks.json"
        );
    }
}
