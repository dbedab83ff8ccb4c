//! Development mode's pieces over real sockets: the STS stand-in answering signed requests
//! with STS's XML, and the development credentials on disk.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use internal_auth::amz_date::AmzDate;
use internal_auth::clock::ManualClock;
use internal_auth::dev::{
    CREDENTIALS_FILE_NAME, DEV_SERVER_ID, DEV_STS_HOST, DEV_STS_REGION, DevCredentials, DevError,
    StsStandIn,
};

const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

fn signed_at() -> SystemTime {
    AmzDate::parse("20261203T101500Z").unwrap().to_system_time()
}

/// The headers of `POST https://sts.us-east-1.amazonaws.com/` signed as the client signs it.
fn signed_headers(credentials: &DevCredentials, body: &str) -> Vec<(String, String)> {
    let mut headers = vec![
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        ),
        (
            "x-internal-auth-server-id".to_owned(),
            DEV_SERVER_ID.to_owned(),
        ),
    ];
    let signature = crate::common::sign_v4(
        &credentials.to_aws_credentials(),
        "sts",
        DEV_STS_REGION,
        DEV_STS_HOST,
        &headers,
        body,
        signed_at(),
    );
    headers.insert(0, ("host".to_owned(), DEV_STS_HOST.to_owned()));
    headers.extend(signature);
    headers
}

async fn post(
    stand_in: &StsStandIn,
    headers: &[(String, String)],
    body: &str,
) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/", stand_in.endpoint()))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn start_stand_in() -> (StsStandIn, DevCredentials, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let (credentials, _) = DevCredentials::load_or_create(keys.path()).unwrap();
    let clock = Arc::new(ManualClock::new(signed_at() + Duration::from_secs(30)));
    let stand_in = StsStandIn::start(credentials.clone(), clock).await.unwrap();
    (stand_in, credentials, keys)
}

#[tokio::test]
async fn the_stand_in_answers_a_signed_request_with_the_dev_caller_identity() {
    let (stand_in, credentials, _keys) = start_stand_in().await;
    assert!(stand_in.addr.ip().is_loopback());
    assert_eq!(stand_in.endpoint(), format!("http://{}", stand_in.addr));

    let (status, content_type, body) =
        post(&stand_in, &signed_headers(&credentials, BODY), BODY).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "text/xml");
    assert!(body.starts_with(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    assert!(
        body.contains("<Arn>arn:aws:sts::000000000000:assumed-role/dev-service/dev-session</Arn>")
    );
    assert!(body.contains("<UserId>AROADEVSERVICE0000000:dev-session</UserId>"));
    assert!(body.contains("<Account>000000000000</Account>"));
    stand_in.stop().await;
}

#[tokio::test]
async fn a_tampered_request_gets_sts_error_document() {
    let (stand_in, credentials, _keys) = start_stand_in().await;
    let mut headers = signed_headers(&credentials, BODY);
    for (name, value) in &mut headers {
        if name == "x-internal-auth-server-id" {
            *value = "internal-auth.prod".to_owned();
        }
    }

    let (status, content_type, body) = post(&stand_in, &headers, BODY).await;

    assert_eq!(status, 403);
    assert_eq!(content_type, "text/xml");
    assert!(body.starts_with(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
         <Type>Sender</Type>\n    <Code>SignatureDoesNotMatch</Code>\n"
    ));
    assert!(body.contains("<RequestId>"));
    stand_in.stop().await;
}

#[tokio::test]
async fn an_unsigned_request_is_missing_its_authentication_token() {
    let (stand_in, _credentials, _keys) = start_stand_in().await;
    let headers = [("host".to_owned(), DEV_STS_HOST.to_owned())];

    let (status, _, body) = post(&stand_in, &headers, BODY).await;

    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    stand_in.stop().await;
}

#[tokio::test]
async fn a_signature_older_than_15_minutes_by_the_stand_in_clock_is_expired() {
    let keys = tempfile::tempdir().unwrap();
    let (credentials, _) = DevCredentials::load_or_create(keys.path()).unwrap();
    let clock = Arc::new(ManualClock::new(signed_at()));
    let stand_in = StsStandIn::start(credentials.clone(), clock.clone())
        .await
        .unwrap();
    let headers = signed_headers(&credentials, BODY);
    assert_eq!(post(&stand_in, &headers, BODY).await.0, 200);

    clock.advance(Duration::from_secs(16 * 60));
    let (status, _, body) = post(&stand_in, &headers, BODY).await;

    assert_eq!(status, 403);
    assert!(
        body.contains("<Message>Signature expired: 20261203T101500Z"),
        "{body}"
    );
    stand_in.stop().await;
}

#[tokio::test]
async fn a_stopped_stand_in_no_longer_answers() {
    let (stand_in, _credentials, _keys) = start_stand_in().await;
    let endpoint = stand_in.endpoint();
    stand_in.stop().await;

    let result = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("host", DEV_STS_HOST)
        .body(BODY)
        .send()
        .await;
    assert!(result.is_err());
}

#[test]
fn dev_credentials_are_created_owner_only_and_read_back_identically() {
    let keys = tempfile::tempdir().unwrap();
    let (created, was_created) = DevCredentials::load_or_create(keys.path()).unwrap();
    assert!(was_created);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let path = keys.path().join(CREDENTIALS_FILE_NAME);
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!CREDENTIALS_FILE_NAME.ends_with(".pem"));

    let (reloaded, was_created) = DevCredentials::load_or_create(keys.path()).unwrap();
    assert!(!was_created);
    assert_eq!(reloaded, created);
    assert_eq!(DevCredentials::load(keys.path()).unwrap(), created);
}

#[cfg(unix)]
#[test]
fn a_group_readable_credentials_file_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let keys = tempfile::tempdir().unwrap();
    DevCredentials::load_or_create(keys.path()).unwrap();
    let path = keys.path().join(CREDENTIALS_FILE_NAME);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

    let error = DevCredentials::load(keys.path()).unwrap_err();

    assert!(
        matches!(error, DevError::TooOpen { mode: 0o640, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("chmod 600"));
}

#[test]
fn token_dev_without_credentials_is_told_to_run_serve_dev_first() {
    let keys = tempfile::tempdir().unwrap();
    let error = DevCredentials::load(keys.path()).unwrap_err();
    assert!(matches!(error, DevError::Missing { .. }));
    assert!(error.to_string().contains("serve --dev"));
}

/// `serve --dev` as a whole: generated key, stand-in, and a token through `token --dev`'s
/// client.
#[tokio::test]
async fn the_dev_service_issues_a_token_to_the_dev_client() {
    use base64::Engine as _;
    use internal_auth::cli::dev::{start, token_client};
    use internal_auth::clock::SystemClock;

    let keys = tempfile::tempdir().unwrap();
    let service = start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        Some(keys.path().to_path_buf()),
        Arc::new(SystemClock),
    )
    .await
    .expect("dev service starts");
    let base_url = format!("http://{}", service.application.address());
    assert_eq!(service.settings.issuer, base_url);
    assert_eq!(
        internal_auth::keys::folder::key_files(keys.path())
            .unwrap()
            .len(),
        1,
        "a key was generated"
    );
    let handle = service.application.handle();
    tokio::spawn(service.application.run_until_stopped());

    let client = token_client(keys.path(), Some(base_url.clone()), None)
        .unwrap()
        .build()
        .await
        .unwrap();
    let token = client
        .token()
        .await
        .expect("the dev service issues a token");

    let payload = token.as_str().split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], internal_auth::dev::DEV_SERVICE_NAME);
    assert_eq!(claims["iss"], base_url.as_str());
    assert_eq!(claims["callerIdentity"], internal_auth::dev::DEV_CALLER_ARN);

    handle.stop(false).await;
    service.stand_in.stop().await;
}

#[tokio::test]
async fn the_dev_service_refuses_an_address_that_is_not_loopback() {
    use internal_auth::cli::dev::{DevStartError, start};
    use internal_auth::clock::SystemClock;

    let keys = tempfile::tempdir().unwrap();
    let error = start(
        "0.0.0.0:0".parse().unwrap(),
        None,
        Some(keys.path().to_path_buf()),
        Arc::new(SystemClock),
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(error, DevStartError::NotLoopback(_)), "{error}");
    assert!(error.to_string().contains("loopback"), "{error}");
    assert!(
        internal_auth::keys::folder::key_files(keys.path())
            .map(|files| files.is_empty())
            .unwrap_or(true),
        "nothing is written before the address is checked"
    );
}
