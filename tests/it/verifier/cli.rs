//! `internal-auth verify` as a user runs it: the real binary against a local JWKS host, on
//! the system clock.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{INTERNAL_AUDIENCE, JwksHost, TestKey, merge};

fn key() -> TestKey {
    TestKey::new(0, "cli-key")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A token from `key()` whose issuer is `host` (its JWKS is then at the default path).
fn token_for(host: &JwksHost, issued_at: u64) -> String {
    key().internal_token(issued_at, json!({"iss": host.base_url()}))
}

/// Runs `internal-auth verify` with `args`, feeding `stdin`, off the async runtime so the
/// JWKS host's clients are not starved.
async fn run_verify(args: Vec<String>, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_internal-auth"))
            .arg("verify")
            .args(&args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start internal-auth");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("run internal-auth")
    })
    .await
    .expect("blocking task")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_valid_token_prints_its_claims_as_json() {
    let host = JwksHost::start(&[key()]);
    let token = token_for(&host, unix_now());

    let output = run_verify(
        vec![
            "--issuer".into(),
            host.base_url(),
            "--audience".into(),
            INTERNAL_AUDIENCE.into(),
            token,
        ],
        None,
    )
    .await;

    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let claims: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(claims["iss"], host.base_url());
    assert_eq!(claims["sub"], "billing");
    assert!(!text(&output.stderr).contains("audience was not checked"));
}

#[tokio::test]
async fn without_an_audience_the_token_is_accepted_with_a_note() {
    let host = JwksHost::start(&[key()]);
    let token = key().internal_token(
        unix_now(),
        json!({"iss": host.base_url(), "aud": "some-other-api"}),
    );

    let output = run_verify(
        vec!["--issuer".into(), host.base_url(), "-".into()],
        Some(token),
    )
    .await;

    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(text(&output.stderr).contains("note: the audience was not checked"));
    let claims: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(claims["aud"], "some-other-api");
}

#[tokio::test]
async fn a_refused_token_says_why_in_one_line_and_exits_1() {
    let host = JwksHost::start(&[key()]);
    let expired = token_for(&host, unix_now() - 7_200);
    let other_issuer = key().sign(
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": "cli-key"}),
        &merge(
            super::internal_claims(unix_now(), json!({})),
            json!({"iss": "https://elsewhere.test"}),
        ),
    );

    for (token, reason) in [
        (expired, "error: the token has expired"),
        (other_issuer, "error: the token's issuer is not trusted"),
    ] {
        let output = run_verify(
            vec![
                "--issuer".into(),
                host.base_url(),
                "--audience".into(),
                INTERNAL_AUDIENCE.into(),
                token.clone(),
            ],
            None,
        )
        .await;

        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty());
        let stderr = text(&output.stderr);
        assert_eq!(stderr.trim_end(), reason);
        for part in token.split('.') {
            assert!(!stderr.contains(part), "the token leaked to stderr");
        }
    }
}
