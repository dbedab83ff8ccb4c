//! The token verifier against JWKS hosts on 127.0.0.1: refusals, caching under load, key
//! rotation and outages, Cognito and internal-auth side by side, and the `verify` command.
//!
//! This file holds the test doubles: RSA keys that sign tokens by hand (so a test can write
//! any header, `alg: none` included) and a counting JWKS host whose answer can change.

mod cache;
mod cli;
mod end_to_end;
mod refusals;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The time every clock-driven test starts at.
pub const START: u64 = 1_800_000_000;

/// The internal-auth issuer used in the tests.
pub const INTERNAL_ISSUER: &str = "https://internal-auth.test";
/// The internal-auth audience used in the tests.
pub const INTERNAL_AUDIENCE: &str = "internal-api";
/// A Cognito user pool issuer; its JWKS URL is pointed at a local host.
pub const COGNITO_ISSUER: &str =
    "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_TestPool";
/// The Cognito app client id.
pub const COGNITO_CLIENT: &str = "4testappclient";

/// Three RSA-2048 key pairs, generated once for the whole test binary.
static KEY_PAIRS: LazyLock<Vec<KeyPair>> = LazyLock::new(|| {
    (0..3)
        .map(|_| KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"))
        .collect()
});

/// A signing key with the `kid` a test gives it.
#[derive(Clone, Copy)]
pub struct TestKey {
    pair: &'static KeyPair,
    pub kid: &'static str,
}

impl TestKey {
    /// Key pair number `index` (0, 1 or 2) under `kid`.
    pub fn new(index: usize, kid: &'static str) -> Self {
        Self {
            pair: &KEY_PAIRS[index],
            kid,
        }
    }

    /// The public key as a JWK, as internal-auth and Cognito publish it.
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key as PEM (SubjectPublicKeyInfo), for the HMAC confusion attack.
    pub fn public_pem(&self) -> String {
        use aws_lc_rs::encoding::AsDer as _;
        let der = self.pair.public_key().as_der().expect("public key DER");
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// An RS256 token with exactly `header` and `claims`.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let signing_input = signing_input(header, claims);
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A well-formed internal-auth access token with `claims` merged over the defaults.
    pub fn internal_token(&self, now: u64, claims: Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "typ": "at+jwt", "kid": self.kid}),
            &internal_claims(now, claims),
        )
    }

    /// A well-formed Cognito token with `claims` merged over an ID token's defaults.
    pub fn cognito_token(&self, now: u64, claims: Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "kid": self.kid}),
            &merge(
                json!({
                    "iss": COGNITO_ISSUER,
                    "sub": "8d9b2c1e-user",
                    "aud": COGNITO_CLIENT,
                    "token_use": "id",
                    "auth_time": now,
                    "iat": now,
                    "exp": now + 3600,
                    "email": "someone@example.com",
                }),
                claims,
            ),
        )
    }
}

/// An internal-auth token's claims at `now`, with `overrides` merged in (a `null` removes).
pub fn internal_claims(now: u64, overrides: Value) -> Value {
    merge(
        json!({
            "iss": INTERNAL_ISSUER,
            "sub": "billing",
            "client_id": "billing",
            "aud": INTERNAL_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 900,
            "jti": "5f0c3a8e9d2b4c6aa1e07f3b2d9c8e11",
            "callerIdentity": "arn:aws:sts::123456789012:assumed-role/billing-api/i-0abc",
            "account": "123456789012",
            "policies": [],
        }),
        overrides,
    )
}

/// `base` with each field of `overrides` set, or removed when it is `null`.
pub fn merge(mut base: Value, overrides: Value) -> Value {
    if let (Some(base), Value::Object(overrides)) = (base.as_object_mut(), overrides) {
        for (name, value) in overrides {
            if value.is_null() {
                base.remove(&name);
            } else {
                base.insert(name, value);
            }
        }
    }
    base
}

/// `base64url(header).base64url(claims)`.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// What the JWKS host answers.
struct Answer {
    body: String,
    cache_control: Option<String>,
    delay: Duration,
    /// Whether `Content-Length` is sent; without it the body ends when the connection does.
    announce_length: bool,
}

/// State shared between the test and the host's threads.
struct HostState {
    answer: Mutex<Answer>,
    /// How many requests the host has received.
    fetches: tokio::sync::watch::Sender<usize>,
    /// While true, answers wait (a fetch stays in flight until the test releases it).
    held: Mutex<bool>,
    released: Condvar,
    stopping: AtomicBool,
}

/// A JWKS host on 127.0.0.1 that counts its requests and serves whatever key set the test
/// sets. Plain threads and blocking sockets keep it independent of the test's runtime, and
/// [`stop`](Self::stop) closes its port before returning, so "the host is down" is exact.
pub struct JwksHost {
    address: SocketAddr,
    state: Arc<HostState>,
    acceptor: Option<JoinHandle<()>>,
}

impl JwksHost {
    /// Starts a host serving `keys` without `Cache-Control`.
    pub fn start(keys: &[TestKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let state = Arc::new(HostState {
            answer: Mutex::new(Answer {
                body: key_set(keys),
                cache_control: None,
                delay: Duration::ZERO,
                announce_length: true,
            }),
            fetches: tokio::sync::watch::Sender::new(0),
            held: Mutex::new(false),
            released: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        let acceptor_state = Arc::clone(&state);
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if acceptor_state.stopping.load(Ordering::Acquire) {
                    break;
                }
                if let Ok(stream) = stream {
                    let state = Arc::clone(&acceptor_state);
                    std::thread::spawn(move || answer(&stream, &state));
                }
            }
        });
        Self {
            address,
            state,
            acceptor: Some(acceptor),
        }
    }

    /// The host's base URL, `http://127.0.0.1:<port>`; it answers on every path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The JWKS URL to configure.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.base_url())
    }

    /// Serves `keys` from now on.
    pub fn serve_keys(&self, keys: &[TestKey]) {
        self.answer().body = key_set(keys);
    }

    /// Serves `body` as it is from now on.
    pub fn serve_body(&self, body: String) {
        self.answer().body = body;
    }

    /// Sends `Cache-Control: value` from now on (or none).
    pub fn serve_cache_control(&self, value: Option<&str>) {
        self.answer().cache_control = value.map(str::to_owned);
    }

    /// Leaves `Content-Length` out from now on, so the size is known only by reading.
    pub fn hide_length(&self) {
        self.answer().announce_length = false;
    }

    /// Makes every answer take `delay`, like a slow host.
    pub fn answer_after(&self, delay: Duration) {
        self.answer().delay = delay;
    }

    /// Holds every answer until [`release`](Self::release).
    pub fn hold(&self) {
        *self
            .state
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
    }

    /// Lets held answers go.
    pub fn release(&self) {
        *self
            .state
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = false;
        self.state.released.notify_all();
    }

    /// How many requests the host has received so far.
    pub fn fetches(&self) -> usize {
        *self.state.fetches.borrow()
    }

    /// Waits until the host has received `count` requests (at most 10 s).
    pub async fn wait_for_fetches(&self, count: usize) {
        let mut fetches = self.state.fetches.subscribe();
        tokio::time::timeout(Duration::from_secs(10), fetches.wait_for(|n| *n >= count))
            .await
            .expect("the host was not asked in time")
            .expect("the host is running");
    }

    /// Closes the port: connections are refused from when this returns.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.state.stopping.store(true, Ordering::Release);
        self.release();
        if let Some(acceptor) = self.acceptor.take() {
            // One last connection wakes the accept loop so that it sees the flag.
            let _ = TcpStream::connect(self.address);
            let _ = acceptor.join();
        }
    }

    fn answer(&self) -> std::sync::MutexGuard<'_, Answer> {
        self.state
            .answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for JwksHost {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// `{"keys": [...]}` for `keys`.
fn key_set(keys: &[TestKey]) -> String {
    json!({"keys": keys.iter().map(TestKey::jwk).collect::<Vec<_>>()}).to_string()
}

/// Reads one request head, counts it, and answers with the current key set; the connection
/// is closed after each answer so that a stopped host has nothing left open.
fn answer(stream: &TcpStream, state: &HostState) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    state.fetches.send_modify(|count| *count += 1);

    let mut held = state.held.lock().unwrap_or_else(PoisonError::into_inner);
    while *held {
        held = state
            .released
            .wait(held)
            .unwrap_or_else(PoisonError::into_inner);
    }
    drop(held);

    let (body, cache_control, delay, announce_length) = {
        let answer = state.answer.lock().unwrap_or_else(PoisonError::into_inner);
        (
            answer.body.clone(),
            answer.cache_control.clone(),
            answer.delay,
            answer.announce_length,
        )
    };
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
    let cache_control = cache_control
        .map(|value| format!("Cache-Control: {value}\r\n"))
        .unwrap_or_default();
    let content_length = if announce_length {
        format!("Content-Length: {}\r\n", body.len())
    } else {
        String::new()
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{content_length}\
         {cache_control}Connection: close\r\n\r\n"
    );
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}
