//! What every integration test needs: a real service on port 0 with its own key folder,
//! an STS double, and requests signed the way a caller signs them.

use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use internal_auth::app::{Application, Overrides};
use internal_auth::clock::{Clock, SystemClock};
use internal_auth::config::Settings;
use internal_auth::keys::folder;
use internal_auth::wire::{HeaderList, StsRequest};
use tempfile::TempDir;
use wiremock::MockServer;

pub const SERVER_ID: &str = "it.internal-auth";
pub const AUDIENCE: &str = "internal-api";
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-central-1";
pub const STS_HOST: &str = "sts.eu-central-1.amazonaws.com";
/// The issuer in [`config_text`]; services started here replace it with their own address.
pub const TEST_ISSUER: &str = "http://internal-auth.test";
pub const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// A running service, its STS double and its key folder; all go away when dropped.
pub struct TestApp {
    pub base_url: String,
    pub sts: MockServer,
    /// The key folder, kept alive as long as the service reads from it.
    _keys: TempDir,
    pub http: reqwest::Client,
    pub kid: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop without waiting: the runtime is going away with the test.
        drop(self.handle.stop(false));
    }
}

/// The configuration every test starts from; `extra` is appended (more services, ...).
pub fn config_text(sts_endpoint: &str, keys: &std::path::Path, extra: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
issuer = "{TEST_ISSUER}"
server_id = "{SERVER_ID}"
audience = "{AUDIENCE}"

[token]
ttl_seconds = 900
max_ttl_seconds = 3600

[keys]
dir = "{keys}"

[sts]
endpoint = "{sts_endpoint}"
timeout_ms = 500

[[services]]
name = "billing"
role_arn = "arn:aws:iam::{ACCOUNT}:role/billing-api"
org_ids = ["66"]
policies = ["invoices:read"]
{extra}
"#,
        keys = keys.display()
    )
}

/// Starts the service against a fresh STS double.
pub async fn spawn_app() -> TestApp {
    spawn_app_with("", Arc::new(SystemClock)).await
}

/// Starts the service with `extra` configuration and `clock`.
pub async fn spawn_app_with(extra: &str, clock: Arc<dyn Clock>) -> TestApp {
    let sts = MockServer::start().await;
    let keys = tempfile::tempdir().expect("temp dir");
    let (kid, _) = folder::generate(keys.path(), clock.unix_seconds()).expect("keygen");
    // Bound first, so the issuer is the address the service answers on and its JWKS is
    // where a verifier looks for it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let base_url = format!("http://{}", listener.local_addr().expect("local address"));
    let text = config_text(&sts.uri(), keys.path(), extra).replace(TEST_ISSUER, &base_url);
    let settings = Settings::from_toml(&text, "test", Vec::new()).expect("valid test config");
    let overrides = Overrides {
        clock,
        workers: Some(1),
        listener: Some(listener),
        ..Overrides::default()
    };
    let application = Application::build(&settings, overrides)
        .await
        .expect("service starts");
    let handle = application.handle();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        base_url,
        sts,
        _keys: keys,
        http: reqwest::Client::new(),
        kid,
        handle,
    }
}

impl TestApp {
    /// Posts an envelope to `/v1/token`.
    pub async fn mint(&self, envelope: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/token", self.base_url))
            .json(&envelope)
            .send()
            .await
            .expect("service answers")
    }

    /// `GET path`, read as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("service answers")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// How many requests reached the STS double.
    pub async fn sts_calls(&self) -> usize {
        self.sts
            .received_requests()
            .await
            .map_or(0, |requests| requests.len())
    }
}

/// Test credentials; the STS double does not check them, moto does.
pub fn test_credentials() -> Credentials {
    Credentials::new(
        "ASIAIT0000000000TEST",
        "it-secret-key-000000000000000000000000000",
        Some("it-session-token".to_string()),
        None,
        "tests",
    )
}

/// A `GetCallerIdentity` request signed at `when` with `credentials`, as a caller forwards it.
pub fn signed_request(credentials: &Credentials, server_id: &str, when: SystemTime) -> StsRequest {
    signed_request_to(credentials, server_id, when, STS_HOST, REGION)
}

/// Like [`signed_request`] for another host and region.
pub fn signed_request_to(
    credentials: &Credentials,
    server_id: &str,
    when: SystemTime,
    host: &str,
    region: &str,
) -> StsRequest {
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let mut headers = vec![
        ("Content-Type".to_string(), content_type.to_string()),
        (
            "X-Internal-Auth-Server-Id".to_string(),
            server_id.to_string(),
        ),
    ];
    headers.extend(sign_v4(
        credentials,
        "sts",
        region,
        host,
        &headers,
        BODY,
        when,
    ));
    StsRequest {
        method: "POST".to_string(),
        url: format!("https://{host}/"),
        headers: HeaderList(headers),
        body: BODY.to_string(),
    }
}

/// The headers SigV4 adds (`authorization`, `x-amz-date`, `x-amz-security-token`) to
/// `POST https://{host}/` carrying `headers` and `body`, signed with `credentials` for
/// `service` in `region` at `when`. `host` is signed too.
pub fn sign_v4(
    credentials: &Credentials,
    service: &str,
    region: &str,
    host: &str,
    headers: &[(String, String)],
    body: &str,
    when: SystemTime,
) -> Vec<(String, String)> {
    let url = format!("https://{host}/");
    let signed: Vec<(&str, &str)> = std::iter::once(("host", host))
        .chain(
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
        .collect();
    let identity = credentials.clone().into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(when)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        &url,
        signed.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signs").into_parts();
    instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// STS's answer for an assumed role.
pub fn sts_answer(role: &str, session: &str) -> String {
    format!(
        r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}</Arn>
    <UserId>AROAEXAMPLEUNIQUEID:{session}</UserId>
    <Account>{ACCOUNT}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
"#
    )
}

/// An STS error document.
pub fn sts_error(code: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>secret detail from STS</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
    )
}
