//! Against moto's STS server with signature checking on: a real third-party SigV4 verifier
//! checks what the service forwards, and the `token` command signs through the real AWS
//! credential chain (environment variables) as a new user would.
//!
//! moto_server must be on PATH (`pip install 'moto[server]'`; `.ci/run` installs it).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use internal_auth::app::{Application, Overrides};
use internal_auth::clock::SystemClock;
use internal_auth::config::Settings;
use internal_auth::keys::folder;
use serde_json::{Value, json};

use crate::common::*;

/// A moto_server process on a free loopback port, stopped when dropped.
struct Moto {
    process: Child,
    endpoint: String,
    host: String,
    http: reqwest::Client,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Identities made in moto: the user that assumes roles, and role sessions.
struct MotoWorld {
    moto: Moto,
    roles: Vec<(String, Credentials)>,
    deployer: Credentials,
}

impl Moto {
    async fn start() -> Moto {
        // moto_server cannot report a port it chose, so take a free one just before.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server is on PATH (pip install 'moto[server]')");
        let moto = Moto {
            process,
            endpoint: format!("http://127.0.0.1:{port}"),
            host: format!("127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        for _ in 0..300 {
            if let Ok(response) = moto
                .http
                .get(format!("{}/moto-api/", moto.endpoint))
                .send()
                .await
                && response.status().is_success()
            {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not start within 30 s");
    }

    /// Calls an AWS Query API action, signed with `credentials`; returns the XML answer.
    async fn call(
        &self,
        credentials: &Credentials,
        service: &str,
        form: &[(&str, &str)],
    ) -> String {
        let body: String = form
            .iter()
            .map(|(name, value)| format!("{name}={}", form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = [("content-type".to_string(), content_type.to_string())];
        let signature = sign_v4(
            credentials,
            service,
            "us-east-1",
            &self.host,
            &headers,
            &body,
            SystemTime::now(),
        );
        let mut request = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", content_type)
            .body(body);
        for (name, value) in signature {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("moto answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status.is_success(),
            "moto refused {form:?}: {status} {text}"
        );
        text
    }

    /// Creates a user allowed to assume roles, the roles, turns signature checking on, and
    /// assumes each role.
    async fn world(self, roles: &[(&str, &str)]) -> MotoWorld {
        let boot = Credentials::new("AKIAMOTOBOOTSTRAP000", "boot", None, None, "boot");
        let user = self
            .call(
                &boot,
                "iam",
                &[
                    ("Action", "CreateUser"),
                    ("Version", "2010-05-08"),
                    ("UserName", "deployer"),
                ],
            )
            .await;
        let user_arn = tag(&user, "Arn");
        let key = self
            .call(
                &boot,
                "iam",
                &[
                    ("Action", "CreateAccessKey"),
                    ("Version", "2010-05-08"),
                    ("UserName", "deployer"),
                ],
            )
            .await;
        let deployer = Credentials::new(
            tag(&key, "AccessKeyId"),
            tag(&key, "SecretAccessKey"),
            None,
            None,
            "moto",
        );
        let allow_assume = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}).to_string();
        self.call(
            &boot,
            "iam",
            &[
                ("Action", "PutUserPolicy"),
                ("Version", "2010-05-08"),
                ("UserName", "deployer"),
                ("PolicyName", "assume"),
                ("PolicyDocument", &allow_assume),
            ],
        )
        .await;
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}).to_string();
        let mut role_arns = Vec::new();
        for (name, path) in roles {
            let role = self
                .call(
                    &boot,
                    "iam",
                    &[
                        ("Action", "CreateRole"),
                        ("Version", "2010-05-08"),
                        ("RoleName", name),
                        ("Path", path),
                        ("AssumeRolePolicyDocument", &trust),
                    ],
                )
                .await;
            role_arns.push((name.to_string(), tag(&role, "Arn")));
        }

        let reset = self
            .http
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body("0")
            .send()
            .await
            .unwrap();
        assert!(reset.status().is_success());

        let mut sessions = Vec::new();
        for (name, arn) in role_arns {
            let session = format!("{name}-session");
            let assumed = self
                .call(
                    &deployer,
                    "sts",
                    &[
                        ("Action", "AssumeRole"),
                        ("Version", "2011-06-15"),
                        ("RoleArn", &arn),
                        ("RoleSessionName", &session),
                        ("DurationSeconds", "3600"),
                    ],
                )
                .await;
            let credentials = Credentials::new(
                tag(&assumed, "AccessKeyId"),
                tag(&assumed, "SecretAccessKey"),
                Some(tag(&assumed, "SessionToken")),
                None,
                "moto",
            );
            sessions.push((name, credentials));
        }
        MotoWorld {
            moto: self,
            roles: sessions,
            deployer,
        }
    }
}

impl MotoWorld {
    fn role(&self, name: &str) -> &Credentials {
        &self
            .roles
            .iter()
            .find(|(role, _)| role == name)
            .expect("role made")
            .1
    }
}

/// The text of the first `<name>` element; enough for moto's fixed answers.
fn tag(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        + open.len();
    let end = start + xml[start..].find(&format!("</{name}>")).unwrap();
    xml[start..end].to_string()
}

/// `secret` with its first character replaced by a different one. moto's secrets are
/// random, so a fixed replacement would, now and then, be the character already there.
fn another_secret(secret: &str) -> String {
    let mut characters = secret.chars();
    let first = characters.next().expect("a secret is not empty");
    let other = if first == 'X' { 'Y' } else { 'X' };
    format!("{other}{}", characters.as_str())
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The service, configured to forward to moto.
async fn service_against(
    moto: &Moto,
    keys: &std::path::Path,
) -> (String, actix_web::dev::ServerHandle) {
    folder::generate(keys, 1).unwrap();
    let extra = format!(
        "[[services]]\nname = \"payments\"\nrole_arn = \"arn:aws:iam::{ACCOUNT}:role/svc/payments\"\n"
    );
    // Bound first, so the issuer can be the address the service really answers on.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let text = config_text(&moto.endpoint, keys, &extra)
        .replace("timeout_ms = 500", "timeout_ms = 5000")
        .replace(TEST_ISSUER, &base_url);
    let settings = Settings::from_toml(&text, "test", Vec::new()).unwrap();
    let overrides = Overrides {
        clock: Arc::new(SystemClock),
        workers: Some(1),
        listener: Some(listener),
        ..Overrides::default()
    };
    let application = Application::build(&settings, overrides).await.unwrap();
    let handle = application.handle();
    tokio::spawn(application.run_until_stopped());
    (base_url, handle)
}

async fn mint(base_url: &str, credentials: &Credentials, when: SystemTime) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base_url}/v1/token"))
        .json(&json!({ "sts_request": signed_request(credentials, SERVER_ID, when) }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn moto_verifies_what_the_service_forwards() {
    let world = Moto::start()
        .await
        .world(&[
            ("billing-api", "/"),
            ("payments", "/svc/"),
            ("reports", "/"),
        ])
        .await;
    let keys = tempfile::tempdir().unwrap();
    let (base_url, handle) = service_against(&world.moto, keys.path()).await;
    let now = SystemTime::now();

    let response = mint(&base_url, world.role("billing-api"), now).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let response = mint(&base_url, world.role("payments"), now).await;
    assert_eq!(response.status(), 200, "a role with a path maps by name");
    let body: Value = response.json().await.unwrap();
    let claims = body["token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "payments");
    assert_eq!(
        claims["callerIdentity"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/payments/payments-session")
    );

    let response = mint(&base_url, world.role("reports"), now).await;
    assert_eq!(response.status(), 403, "an unmapped role is forbidden");

    let response = mint(&base_url, &world.deployer, now).await;
    assert_eq!(response.status(), 403, "an IAM user is forbidden");

    let good = world.role("billing-api");
    let wrong_secret = Credentials::new(
        good.access_key_id(),
        another_secret(good.secret_access_key()),
        good.session_token().map(str::to_string),
        None,
        "tampered",
    );
    let response = mint(&base_url, &wrong_secret, now - Duration::from_secs(1)).await;
    assert_eq!(response.status(), 401, "moto refuses a wrong secret");

    handle.stop(false).await;
}

#[tokio::test]
async fn the_token_command_signs_with_the_environment_credentials() {
    let world = Moto::start()
        .await
        .world(&[("billing-api", "/"), ("reports", "/")])
        .await;
    let keys = tempfile::tempdir().unwrap();
    let (base_url, handle) = service_against(&world.moto, keys.path()).await;
    let home = tempfile::tempdir().unwrap();

    let run_token = |credentials: &Credentials| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_internal-auth"));
        command
            .args(["token", "--url", &base_url, "--server-id", SERVER_ID])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                credentials.session_token().unwrap_or_default(),
            )
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        command.output()
    };

    let output = run_token(world.role("billing-api")).await.unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "token failed: {stderr}");
    let token = stdout.trim_end();
    assert_eq!(token.lines().count(), 1, "stdout holds the token alone");
    assert_eq!(token.split('.').count(), 3);

    let verify = tokio::process::Command::new(env!("CARGO_BIN_EXE_internal-auth"))
        .args([
            "verify",
            "--issuer",
            &base_url,
            "--audience",
            AUDIENCE,
            token,
        ])
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8(verify.stdout).unwrap();
    assert!(
        verify.status.success(),
        "verify refused the token: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let claims: Value = serde_json::from_str(&printed).expect("verify prints the claims as JSON");
    assert_eq!(claims["sub"], "billing");

    let output = run_token(world.role("reports")).await.unwrap();
    assert!(!output.status.success(), "an unmapped role must fail");
    assert!(output.stdout.is_empty(), "nothing on stdout on failure");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line on stderr: {stderr}"
    );
    assert!(stderr.contains("403"), "{stderr}");

    handle.stop(false).await;
}
