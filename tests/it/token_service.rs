//! The token service end to end over HTTP, against an STS double: the good path, every
//! way STS can fail, the replay cache, and start-up refusals.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use internal_auth::app::{Application, Overrides, StartError};
use internal_auth::clock::SystemClock;
use internal_auth::config::Settings;
use serde_json::{Value, json};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

fn xml(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/xml")
}

async fn sts_answers(app: &TestApp, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(response)
        .mount(&app.sts)
        .await;
}

fn envelope() -> Value {
    json!({ "sts_request": signed_request(&test_credentials(), SERVER_ID, SystemTime::now()) })
}

/// Verifies `token` against the service's JWKS and returns its header and claims.
async fn verify_against_jwks(app: &TestApp, token: &str) -> (Value, Value) {
    let jwks = app.get_json("/.well-known/jwks.json").await;
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let (header_b64, claims_b64) = signing_input.split_once('.').unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).unwrap()).unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .expect("the token's kid is published");
    let public = RsaPublicKeyComponents {
        n: URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap(),
        e: URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap(),
    };
    public
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            signing_input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .expect("signature verifies with the published key");
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims_b64).unwrap()).unwrap();
    (header, claims)
}

/// Asserts an error answer: status, JSON code, no token, no STS text.
async fn assert_refused(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> reqwest::header::HeaderMap {
    assert_eq!(response.status().as_u16(), status);
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("eyJ"),
        "an error answer carries a token: {text}"
    );
    assert!(
        !text.contains("secret detail from STS"),
        "STS's text leaked: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("error answers are JSON");
    assert_eq!(body["error"], code, "{text}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty())
    );
    headers
}

#[tokio::test]
async fn a_valid_request_mints_a_token_that_verifies_against_the_served_jwks() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("host", STS_HOST))
        .and(header("x-internal-auth-server-id", SERVER_ID))
        .and(body_string(BODY))
        .respond_with(xml(sts_answer("billing-api", "session-1")))
        .expect(1)
        .mount(&app.sts)
        .await;

    let response = app
        .mint(json!({
            "sts_request": signed_request(&test_credentials(), SERVER_ID, SystemTime::now()),
            "org_id": "66",
            "expires_in": 600,
        }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);

    let (header, claims) = verify_against_jwks(&app, body["token"].as_str().unwrap()).await;
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], app.kid.as_str());
    assert_eq!(claims["iss"], app.base_url.as_str());
    assert_eq!(claims["sub"], "billing");
    assert_eq!(claims["client_id"], "billing");
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["callerIdentity"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/billing-api/session-1")
    );
    assert_eq!(claims["account"], ACCOUNT);
    assert_eq!(claims["policies"], json!(["invoices:read"]));
    assert_eq!(claims["org_id"], "66");
    assert!(
        URL_SAFE_NO_PAD
            .decode(claims["jti"].as_str().unwrap())
            .unwrap()
            .len()
            >= 16
    );
}

#[tokio::test]
async fn the_outbound_request_carries_only_the_checked_parts() {
    let app = spawn_app().await;
    sts_answers(&app, xml(sts_answer("billing-api", "it-session"))).await;
    assert_eq!(app.mint(envelope()).await.status(), 200);

    let received = app.sts.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let mut names: Vec<String> = received[0]
        .headers
        .keys()
        .map(|name| name.as_str().to_string())
        .collect();
    names.sort();
    // Nothing is added: the caller sent no Accept, so none goes out.
    assert_eq!(
        names,
        [
            "authorization",
            "content-length",
            "content-type",
            "host",
            "x-amz-date",
            "x-amz-security-token",
            "x-internal-auth-server-id"
        ]
    );
    assert_eq!(received[0].body, BODY.as_bytes());
}

#[tokio::test]
async fn a_request_is_accepted_once() {
    let app = spawn_app().await;
    sts_answers(&app, xml(sts_answer("billing-api", "it-session"))).await;
    let envelope = envelope();
    assert_eq!(app.mint(envelope.clone()).await.status(), 200);
    assert_refused(app.mint(envelope).await, 401, "replayed_request").await;
    assert_eq!(app.sts_calls().await, 1, "a replay must not reach STS");
}

#[tokio::test]
async fn a_request_sts_refused_can_be_signed_again_but_not_replayed_to_a_token() {
    let app = spawn_app().await;
    sts_answers(
        &app,
        ResponseTemplate::new(403).set_body_raw(sts_error("SignatureDoesNotMatch"), "text/xml"),
    )
    .await;
    let envelope = envelope();
    assert_refused(
        app.mint(envelope.clone()).await,
        401,
        "sts_rejected_signature",
    )
    .await;
    // STS refused it, so the cache forgot it; STS refuses it again.
    assert_refused(app.mint(envelope).await, 401, "sts_rejected_signature").await;
    assert_eq!(app.sts_calls().await, 2);
}

#[tokio::test]
async fn sts_failures_map_to_the_documented_statuses() {
    struct Case {
        name: &'static str,
        answer: ResponseTemplate,
        status: u16,
        code: &'static str,
        retry_after: bool,
    }
    let cases = [
        Case {
            name: "403 from STS",
            answer: ResponseTemplate::new(403)
                .set_body_raw(sts_error("InvalidClientTokenId"), "text/xml"),
            status: 401,
            code: "sts_rejected_signature",
            retry_after: false,
        },
        Case {
            name: "expired token (400 from STS)",
            answer: ResponseTemplate::new(400).set_body_raw(sts_error("ExpiredToken"), "text/xml"),
            status: 401,
            code: "sts_rejected_signature",
            retry_after: false,
        },
        Case {
            name: "throttling",
            answer: ResponseTemplate::new(400).set_body_raw(sts_error("Throttling"), "text/xml"),
            status: 429,
            code: "sts_throttled",
            retry_after: true,
        },
        Case {
            name: "server error",
            answer: ResponseTemplate::new(500)
                .set_body_raw(sts_error("InternalFailure"), "text/xml"),
            status: 503,
            code: "sts_unavailable",
            retry_after: true,
        },
        Case {
            name: "timeout",
            answer: xml(sts_answer("billing-api", "it-session"))
                .set_delay(Duration::from_millis(1500)),
            status: 504,
            code: "sts_timeout",
            retry_after: true,
        },
        Case {
            name: "redirect",
            answer: ResponseTemplate::new(302).insert_header("Location", "http://169.254.169.254/"),
            status: 502,
            code: "sts_bad_answer",
            retry_after: false,
        },
        Case {
            name: "oversized answer",
            answer: ResponseTemplate::new(200).set_body_raw(
                format!(
                    "{}{}",
                    sts_answer("billing-api", "it-session"),
                    " ".repeat(64 * 1024)
                ),
                "text/xml",
            ),
            status: 502,
            code: "sts_bad_answer",
            retry_after: false,
        },
        Case {
            name: "JSON answer with XML inside",
            answer: ResponseTemplate::new(200).set_body_raw(
                json!({"Error": {"Message": sts_answer("billing-api", "it-session")}}).to_string(),
                "application/json",
            ),
            status: 502,
            code: "sts_bad_answer",
            retry_after: false,
        },
        Case {
            name: "truncated XML",
            answer: xml(sts_answer("billing-api", "it-session")[..120].to_string()),
            status: 502,
            code: "sts_bad_answer",
            retry_after: false,
        },
    ];

    for case in cases {
        let app = spawn_app().await;
        sts_answers(&app, case.answer).await;
        let response = app.mint(envelope()).await;
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        let headers = assert_refused(response, case.status, case.code).await;
        assert_eq!(
            headers.contains_key("retry-after"),
            case.retry_after,
            "{}",
            case.name
        );
        assert_eq!(
            app.sts_calls().await,
            1,
            "{}: exactly one STS call, no redirect followed",
            case.name
        );
    }
}

#[tokio::test]
async fn an_unmapped_role_is_forbidden() {
    let app = spawn_app().await;
    sts_answers(&app, xml(sts_answer("reports", "it-session"))).await;
    let response = app.mint(envelope()).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn an_org_id_outside_the_mapping_is_forbidden() {
    let app = spawn_app().await;
    sts_answers(&app, xml(sts_answer("billing-api", "it-session"))).await;
    let mut envelope = envelope();
    envelope["org_id"] = json!("67");
    assert_refused(app.mint(envelope).await, 403, "org_id_not_allowed").await;
}

/// Changes one part of a good envelope.
type Breakage = fn(&mut Value);

fn set_header(envelope: &mut Value, name: &str, value: &str) {
    envelope["sts_request"]["headers"][name] = json!(value);
}

#[tokio::test]
async fn a_request_breaking_any_rule_gets_its_code_and_never_reaches_sts() {
    let cases: &[(&str, Breakage, u16, &str)] = &[
        (
            "rule 1: GET",
            |e| e["sts_request"]["method"] = json!("GET"),
            400,
            "method_not_post",
        ),
        (
            "rule 2: plain http",
            |e| e["sts_request"]["url"] = json!(format!("http://{STS_HOST}/")),
            400,
            "malformed_url",
        ),
        (
            "rule 2: a query",
            |e| e["sts_request"]["url"] = json!(format!("https://{STS_HOST}/?Action=AssumeRole")),
            400,
            "malformed_url",
        ),
        (
            "rule 2: a port",
            |e| e["sts_request"]["url"] = json!(format!("https://{STS_HOST}:443/")),
            400,
            "malformed_url",
        ),
        (
            "rule 3: metadata endpoint",
            |e| e["sts_request"]["url"] = json!("https://169.254.169.254/"),
            400,
            "malformed_url",
        ),
        (
            "rule 3: look-alike host",
            |e| e["sts_request"]["url"] = json!(format!("https://{STS_HOST}.evil.example/")),
            400,
            "host_not_allowed",
        ),
        (
            "rule 4: Host header elsewhere",
            |e| set_header(e, "Host", "sts.us-east-1.amazonaws.com"),
            400,
            "host_header_mismatch",
        ),
        (
            "rule 5: another action",
            |e| e["sts_request"]["body"] = json!("Action=AssumeRole&Version=2011-06-15"),
            400,
            "body_not_get_caller_identity",
        ),
        (
            "rule 5: a duplicate action",
            |e| e["sts_request"]["body"] = json!(format!("{BODY}&Action=GetSessionToken")),
            400,
            "body_not_get_caller_identity",
        ),
        (
            "rule 6: a header not allowed",
            |e| {
                set_header(
                    e,
                    "X-Amz-Target",
                    "AWSSecurityTokenServiceV20110615.AssumeRole",
                )
            },
            400,
            "header_not_allowed",
        ),
        (
            "rule 6: a header twice",
            |e| set_header(e, "X-AMZ-DATE", "20261203T101500Z"),
            400,
            "duplicate_header",
        ),
        (
            "rule 6: CR LF in a value",
            |e| set_header(e, "Accept", "text/xml\r\nX-Evil: 1"),
            400,
            "invalid_header_value",
        ),
        (
            "rule 6: JSON protocol",
            |e| set_header(e, "Content-Type", "application/x-amz-json-1.1"),
            400,
            "invalid_content_type",
        ),
        (
            "rule 7: no Authorization",
            |e| {
                e["sts_request"]["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorization");
            },
            400,
            "missing_authorization",
        ),
        (
            "rule 8: another deployment",
            |e| set_header(e, "X-Internal-Auth-Server-Id", "staging.internal-auth"),
            401,
            "server_id_mismatch",
        ),
    ];

    let app = spawn_app().await;
    sts_answers(&app, xml(sts_answer("billing-api", "it-session"))).await;
    for (name, breakage, status, code) in cases {
        let mut broken = envelope();
        breakage(&mut broken);
        let response = app.mint(broken).await;
        assert_eq!(response.status().as_u16(), *status, "{name}");
        assert_refused(response, *status, code).await;
    }

    let other_server = json!({
        "sts_request": signed_request(&test_credentials(), "someone-else", SystemTime::now())
    });
    assert_refused(app.mint(other_server).await, 401, "server_id_mismatch").await;

    let stale = json!({
        "sts_request": signed_request(
            &test_credentials(),
            SERVER_ID,
            SystemTime::now() - Duration::from_secs(20 * 60),
        )
    });
    assert_refused(app.mint(stale).await, 401, "stale_signature").await;

    let ahead = json!({
        "sts_request": signed_request(
            &test_credentials(),
            SERVER_ID,
            SystemTime::now() + Duration::from_secs(10 * 60),
        )
    });
    assert_refused(app.mint(ahead).await, 401, "signature_from_the_future").await;

    assert_eq!(app.sts_calls().await, 0, "no broken request may reach STS");
}

#[tokio::test]
async fn envelope_problems_have_their_own_statuses() {
    let app = spawn_app().await;
    let url = format!("{}/v1/token", app.base_url);

    let wrong_type = app
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_refused(wrong_type, 415, "unsupported_media_type").await;

    let huge = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_refused(huge, 413, "payload_too_large").await;

    let not_json = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_refused(not_json, 400, "invalid_envelope").await;

    let mut zero = envelope();
    zero["expires_in"] = json!(0);
    assert_refused(app.mint(zero).await, 400, "invalid_expires_in").await;

    // A value in the wrong place is not echoed back: it may be a credential.
    let mut echoed = envelope();
    echoed["expires_in"] = json!("AKIASECRETLOOKINGVALUE");
    let response = app.mint(echoed).await;
    assert_eq!(response.status(), 400);
    assert!(
        !response
            .text()
            .await
            .unwrap()
            .contains("AKIASECRETLOOKINGVALUE")
    );

    assert_eq!(app.sts_calls().await, 0);
}

#[tokio::test]
async fn the_jwks_is_cacheable_and_revalidates_with_its_etag() {
    let app = spawn_app().await;
    let url = format!("{}/.well-known/jwks.json", app.base_url);
    let first = app.http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=300");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let jwks: Value = first.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], app.kid.as_str());
    assert!(jwks["keys"][0].get("d").is_none());

    let again = app
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn discovery_health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    sts_answers(&app, xml(sts_answer("billing-api", "it-session"))).await;
    assert_eq!(app.mint(envelope()).await.status(), 200);

    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], app.base_url.as_str());
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.base_url)
    );
    for route in ["/healthz", "/readyz"] {
        let response = app
            .http
            .get(format!("{}{route}", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{route}");
    }
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("internal_auth_tokens_issued_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("internal_auth_sts_request_duration_seconds_count 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_empty_key_folder_stops_the_start_with_the_way_out() {
    let keys = tempfile::tempdir().unwrap();
    let text = config_text("http://127.0.0.1:9", keys.path(), "");
    let settings = Settings::from_toml(&text, "test", Vec::new()).unwrap();
    let error = Application::build(&settings, Overrides::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, StartError::Keys(_)), "{error}");
    assert!(
        error.to_string().contains("internal-auth keygen"),
        "{error}"
    );
}

#[tokio::test]
async fn a_broken_key_file_stops_the_start_naming_the_file() {
    let keys = tempfile::tempdir().unwrap();
    std::fs::write(
        keys.path().join("signing.pem"),
        "-----BEGIN RSA PRIVATE KEY-----\nAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let text = config_text("http://127.0.0.1:9", keys.path(), "");
    let settings = Settings::from_toml(&text, "test", Vec::new()).unwrap();
    let error = Application::build(&settings, Overrides::default())
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("signing.pem"), "{error}");
    assert!(error.to_string().contains("PKCS#1"), "{error}");
}

#[tokio::test]
async fn a_role_arn_that_is_not_a_role_stops_the_start() {
    let keys = tempfile::tempdir().unwrap();
    internal_auth::keys::folder::generate(keys.path(), 1).unwrap();
    let extra = "[[services]]\nname = \"x\"\nrole_arn = \"arn:aws:iam::123456789012:user/x\"\n";
    let text = config_text("http://127.0.0.1:9", keys.path(), extra);
    let settings = Settings::from_toml(&text, "test", Vec::new()).unwrap();
    let error = Application::build(&settings, Overrides::default())
        .await
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("services[1].role_arn"),
        "{error}"
    );
}

#[tokio::test]
async fn concurrent_callers_are_all_served() {
    let app = Arc::new(spawn_app_with("", Arc::new(SystemClock)).await);
    sts_answers(&app, xml(sts_answer("billing-api", "it-session"))).await;
    let credentials = test_credentials();
    let mut tasks = Vec::new();
    // Read once: read in the loop, a second ticking over between two reads would give two
    // callers the same signing second, hence the same signature, and the second a replay.
    let now = SystemTime::now();
    for second in 0..32u64 {
        // Distinct signing times give distinct signatures, as distinct callers would.
        let when = now - Duration::from_secs(second);
        let envelope = json!({ "sts_request": signed_request(&credentials, SERVER_ID, when) });
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let response = app.mint(envelope).await;
            (response.status().as_u16(), response.text().await.unwrap())
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(app.sts_calls().await, 32);
}
