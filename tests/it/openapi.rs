//! `docs/openapi.yaml` describes the API the service really serves: it is OpenAPI 3.1 and
//! names every route of `internal_auth::http::ROUTES` with its method.

use serde_norway::Value;

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("docs/openapi.yaml is readable");
    serde_norway::from_str(&text).expect("docs/openapi.yaml is valid YAML")
}

#[test]
fn the_document_is_openapi_3_1() {
    let document = document();
    let version = document["openapi"].as_str().expect("an `openapi` string");
    assert!(version.starts_with("3.1."), "version {version}");
    assert!(document["info"]["title"].as_str().is_some());
}

#[test]
fn every_served_route_is_described_with_its_method() {
    let document = document();
    let paths = document["paths"].as_mapping().expect("a `paths` mapping");
    for (method, path) in internal_auth::http::ROUTES {
        let operations = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not in docs/openapi.yaml"));
        assert!(
            operations.get(method.to_ascii_lowercase()).is_some(),
            "{method} {path} is not in docs/openapi.yaml"
        );
    }
}

#[test]
fn every_error_of_the_token_endpoint_has_the_error_schema_and_busy_ones_retry_after() {
    let document = document();
    let responses = &document["paths"]["/v1/token"]["post"]["responses"];
    let components = &document["components"]["responses"];
    for status in [
        "400", "401", "403", "413", "415", "429", "502", "503", "504",
    ] {
        let reference = responses[status]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{status} refers to a shared response"));
        let name = reference
            .strip_prefix("#/components/responses/")
            .expect("a local reference");
        let response = &components[name];
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"].as_str(),
            Some("#/components/schemas/ErrorResponse"),
            "{status}"
        );
        let has_retry_after = response["headers"].get("Retry-After").is_some();
        assert_eq!(
            has_retry_after,
            status == "429" || status == "503",
            "{status}"
        );
    }
}
