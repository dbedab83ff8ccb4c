//! The HTTP face of the service: routes, error answers and request logging.

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
