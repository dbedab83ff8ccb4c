//! One verifier, two issuers: a token minted by the running service and a token from a
//! Cognito stand-in (its own key and JWKS) both verify, through the library and through
//! `internal-auth verify`.

use std::sync::Arc;
use std::time::SystemTime;

use internal_auth::clock::SystemClock;
use internal_auth::verifier::{Profile, TrustedIssuer, Verifier, VerifyError};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use super::{COGNITO_CLIENT, JwksHost, TestKey};
use crate::common::*;

/// A service that has minted one token for `billing`; returns the app and the token.
async fn service_token() -> (TestApp, String) {
    let app = spawn_app_with("", Arc::new(SystemClock)).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(sts_answer("billing-api", "e2e-session"), "text/xml"),
        )
        .mount(&app.sts)
        .await;
    let response = app
        .mint(json!({
            "sts_request": signed_request(&test_credentials(), SERVER_ID, SystemTime::now())
        }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_string();
    (app, token)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Cognito stand-in: its own key, its JWKS under its issuer, and an ID token.
fn cognito_stand_in() -> (JwksHost, String, String) {
    let key = TestKey::new(2, "cognito-key-1");
    let host = JwksHost::start(std::slice::from_ref(&key));
    let issuer = format!("{}/eu-central-1_StandIn", host.base_url());
    let token = key.cognito_token(unix_now(), json!({ "iss": issuer }));
    (host, issuer, token)
}

#[tokio::test]
async fn tokens_from_the_service_and_from_cognito_verify_with_one_verifier() {
    let (app, internal_token) = service_token().await;
    let (cognito, cognito_issuer, cognito_token) = cognito_stand_in();

    let verifier = Verifier::builder()
        .issuer(TrustedIssuer::internal_auth(app.base_url.as_str()).audience(AUDIENCE))
        .issuer(
            TrustedIssuer::cognito(cognito_issuer.as_str())
                .jwks_url(format!("{cognito_issuer}/.well-known/jwks.json"))
                .audience(COGNITO_CLIENT),
        )
        .build()
        .unwrap();

    let claims = verifier
        .verify(&internal_token)
        .await
        .expect("service token verifies");
    assert_eq!(claims.profile, Profile::InternalAuth);
    assert_eq!(claims.sub, "billing");
    assert_eq!(
        claims.all["callerIdentity"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/billing-api/e2e-session")
    );

    let claims = verifier
        .verify(&cognito_token)
        .await
        .expect("Cognito token verifies");
    assert_eq!(claims.profile, Profile::Cognito);
    assert_eq!(claims.iss, cognito_issuer);

    // Each token is checked against its own issuer's keys: swapping issuers fails.
    let mut forged = internal_token
        .split('.')
        .map(str::to_string)
        .collect::<Vec<_>>();
    let cognito_signature = cognito_token.rsplit('.').next().unwrap();
    forged[2] = cognito_signature.to_string();
    assert!(matches!(
        verifier.verify(&forged.join(".")).await,
        Err(VerifyError::BadSignature)
    ));
    drop(cognito);
}

#[tokio::test]
async fn the_verify_command_accepts_both_and_refuses_a_tampered_token() {
    let (app, internal_token) = service_token().await;
    let (_cognito, cognito_issuer, cognito_token) = cognito_stand_in();

    let verify = |token: String| {
        let args = [
            "verify".to_string(),
            "--issuer".to_string(),
            app.base_url.clone(),
            "--cognito-issuer".to_string(),
            cognito_issuer.clone(),
            "--audience".to_string(),
            AUDIENCE.to_string(),
            "--audience".to_string(),
            COGNITO_CLIENT.to_string(),
            token,
        ];
        tokio::process::Command::new(env!("CARGO_BIN_EXE_internal-auth"))
            .args(args)
            .output()
    };

    let output = verify(internal_token.clone()).await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let claims: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(claims["sub"], "billing");

    let output = verify(cognito_token).await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let claims: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(claims["token_use"], "id");

    // Flip one character of the payload: the signature no longer matches.
    let mut parts: Vec<String> = internal_token.split('.').map(str::to_string).collect();
    let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flipped);
    let output = verify(parts.join(".")).await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
