//! The token client against a stand-in for internal-auth (wiremock on 127.0.0.1, port 0):
//! one mint for many concurrent callers, retries on busy answers only, and requests that
//! pass the service's header allow-list. Credentials are static test keys and the region is
//! set, so nothing outside the machine is ever asked.

use std::sync::Arc;
use std::time::Duration;

use internal_auth::client::{ClientError, TokenClient, TokenClientBuilder};
use internal_auth::wire::TokenRequest;
use serde_json::json;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JWT: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJiaWxsaW5nIn0.c2lnbmF0dXJl";

fn issued() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "token": JWT,
        "token_type": "Bearer",
        "expires_in": 600,
    }))
}

fn client_for(server: &MockServer) -> TokenClientBuilder {
    TokenClient::builder()
        .url(server.uri())
        .server_id("internal-auth.test")
        .region("eu-central-1")
        .static_credentials(
            "ASIAEXAMPLEEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("test-session-token".to_owned()),
        )
}

async fn received_envelopes(server: &MockServer) -> Vec<TokenRequest> {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("a TokenRequest"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_callers_cause_one_mint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/token"))
        // A slow answer, so that the callers really do overlap with the mint.
        .respond_with(issued().set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server).build().await.expect("builds");

    const CALLERS: usize = 1000;
    let start = Arc::new(Barrier::new(CALLERS));
    let mut callers = JoinSet::new();
    for _ in 0..CALLERS {
        let client = client.clone();
        let start = start.clone();
        callers.spawn(async move {
            start.wait().await;
            client.token().await
        });
    }

    let mut tokens = 0;
    while let Some(outcome) = callers.join_next().await {
        let token = outcome.expect("no panic").expect("a token");
        assert_eq!(token.as_str(), JWT);
        assert_eq!(token.lifetime(), Duration::from_secs(600));
        tokens += 1;
    }
    assert_eq!(tokens, CALLERS);
    // Joining a thousand finished tasks can use up tokio's cooperative budget for this
    // poll of the test. MockServer's drop verifies its mocks by blocking on a tokio lock
    // outside the scheduler: with no budget left the lock asks to be polled again, forever,
    // and the test spins (seen once in about a hundred runs). A yield starts a new budget.
    tokio::task::yield_now().await;
    assert_eq!(
        server.received_requests().await.expect("recording").len(),
        1
    );
}

#[tokio::test]
async fn a_busy_answer_is_retried_after_retry_after_with_a_new_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/token"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({
                    "error": "sts_unavailable",
                    "message": "STS is unavailable; try again shortly.",
                })),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/token"))
        .respond_with(issued())
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server).build().await.expect("builds");

    let token = client.token().await.expect("a token after one retry");
    assert_eq!(token.as_str(), JWT);

    let envelopes = received_envelopes(&server).await;
    assert_eq!(envelopes.len(), 2);
    let authorization = |envelope: &TokenRequest| {
        envelope
            .sts_request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.to_owned())
            .expect("signed")
    };
    assert_ne!(
        authorization(&envelopes[0]),
        authorization(&envelopes[1]),
        "the service accepts a signature once, so a retry must carry a new one"
    );
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_carries_the_services_code_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/token"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "unknown_service",
            "message": "No service is configured for role arn:aws:iam::123456789012:role/x.",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server).build().await.expect("builds");

    let error = client.token().await.expect_err("refused");
    match &error {
        ClientError::Refused {
            status,
            code,
            message,
        } => {
            assert_eq!(*status, 403);
            assert_eq!(code, "unknown_service");
            assert_eq!(
                message,
                "No service is configured for role arn:aws:iam::123456789012:role/x."
            );
        }
        other => panic!("not a refusal: {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "internal-auth refused the request (403 unknown_service): \
         No service is configured for role arn:aws:iam::123456789012:role/x."
    );
    assert_eq!(
        server.received_requests().await.expect("recording").len(),
        1
    );
}

#[tokio::test]
async fn the_request_sent_passes_the_services_header_allow_list() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/token"))
        .respond_with(issued())
        .mount(&server)
        .await;
    let client = client_for(&server)
        .org_id("66")
        .expires_in(Duration::from_secs(300))
        .build()
        .await
        .expect("builds");

    client.token().await.expect("a token");

    let received = server.received_requests().await.expect("recording");
    let content_type = received[0]
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok());
    assert_eq!(content_type, Some("application/json"));

    let envelope = &received_envelopes(&server).await[0];
    assert_eq!(envelope.org_id.as_deref(), Some("66"));
    assert_eq!(envelope.expires_in, Some(300));

    let sts = &envelope.sts_request;
    assert_eq!(sts.method, "POST");
    assert_eq!(sts.url, "https://sts.eu-central-1.amazonaws.com/");
    assert_eq!(sts.body, "Action=GetCallerIdentity&Version=2011-06-15");

    const ALLOWED: [&str; 7] = [
        "authorization",
        "content-type",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "x-internal-auth-server-id",
        "accept",
    ];
    let mut names: Vec<String> = sts
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    for name in &names {
        assert!(
            ALLOWED.contains(&name.as_str()),
            "header {name} is not allowed"
        );
    }
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "a header name is given twice");

    let header = |wanted: &str| {
        sts.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value)
    };
    assert_eq!(
        header("x-internal-auth-server-id"),
        Some("internal-auth.test")
    );
    assert_eq!(header("x-amz-security-token"), Some("test-session-token"));
    assert_eq!(
        header("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );

    let authorization = header("authorization").expect("signed");
    let signed_headers = authorization
        .split(", ")
        .find_map(|part| part.strip_prefix("SignedHeaders="))
        .expect("SignedHeaders");
    let signed: Vec<&str> = signed_headers.split(';').collect();
    for required in [
        "content-type",
        "host",
        "x-amz-date",
        "x-internal-auth-server-id",
    ] {
        assert!(
            signed.contains(&required),
            "{required} is not signed: {signed_headers}"
        );
    }
    assert!(authorization.contains("/eu-central-1/sts/aws4_request"));
}

#[tokio::test]
async fn an_unreachable_service_is_reported_once_the_deadline_leaves_no_room() {
    // Bind a port and let it go, so that nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("address").port()
    };
    let client = TokenClient::builder()
        .url(format!("http://127.0.0.1:{port}"))
        .server_id("internal-auth.test")
        .region("eu-central-1")
        .static_credentials("AKIDEXAMPLE", "secret", None)
        .deadline(Duration::from_millis(1500))
        .build()
        .await
        .expect("builds");

    let error = client.token().await.expect_err("nothing listens");
    assert!(
        matches!(error, ClientError::Unreachable { .. }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "internal-auth could not be reached");
}
