//! Pre-signs `POST /v1/token` envelopes for `bench/run`: one JSON envelope per line, every
//! one with a different SigV4 signature, so the replay cache never refuses one during a
//! run and each request takes the service's real path.
//!
//! The credentials are fake and static; only the access key id and the session token vary
//! (with the line's index), which is enough to change the signature. The service checks
//! the request's shape and freshness, and the benchmark's STS stand-in checks nothing, so
//! fake credentials reach the signing step like real ones. The signing time is now: the
//! envelopes stay fresh for 15 minutes.
//!
//! ```text
//! cargo run --release --example bench_presign -- --count 50000 --first 0 \
//!     --server-id bench.internal-auth --out bodies.jsonl
//! ```

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::process::ExitCode;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use internal_auth::wire::{HeaderList, StsRequest, TokenRequest};

const REGION: &str = "eu-central-1";
const URL: &str = "https://sts.eu-central-1.amazonaws.com/";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// A real role session token is 600 to 1,200 characters; this keeps envelopes that size.
const SESSION_TOKEN_LENGTH: usize = 800;

/// What the command line asks for.
struct Options {
    count: u64,
    first: u64,
    server_id: String,
    out: String,
}

fn parse_options() -> Result<Options, String> {
    let mut count = None;
    let mut first = 0;
    let mut server_id = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag} needs a number, not {value:?}"))
        };
        match flag.as_str() {
            "--count" => count = Some(number()?),
            "--first" => first = number()?,
            "--server-id" => server_id = Some(value),
            "--out" => out = Some(value),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(Options {
        count: count.ok_or("--count is required")?,
        first,
        server_id: server_id.ok_or("--server-id is required")?,
        out: out.ok_or("--out is required")?,
    })
}

/// Fake role credentials, distinct for every `index`.
fn credentials(index: u64) -> Credentials {
    // 20 characters, upper-case letters and digits, like a real `ASIA` key id.
    let access_key_id = format!("ASIABENCH{index:011}");
    let mut session_token = format!("FwoGZXIvYXdzEBench{index:020}");
    while session_token.len() < SESSION_TOKEN_LENGTH {
        session_token.push_str("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/");
    }
    session_token.truncate(SESSION_TOKEN_LENGTH);
    Credentials::new(
        access_key_id,
        "benchSecretKey0000000000000000000000000000",
        Some(session_token),
        None,
        "bench",
    )
}

/// One envelope signed at `at` with the credentials of `index`.
fn envelope(index: u64, server_id: &str, at: SystemTime) -> Result<TokenRequest, String> {
    // As the client library signs: `host`, `x-amz-date` and the session token are added
    // by the signer.
    let signed_headers = [
        ("content-type", CONTENT_TYPE),
        ("x-internal-auth-server-id", server_id),
    ];
    let signable = SignableRequest::new(
        "POST",
        URL,
        signed_headers.into_iter(),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .map_err(|error| error.to_string())?;
    let identity = credentials(index).into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("sts")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| error.to_string())?
        .into();
    let (instructions, _) = sign(signable, &params)
        .map_err(|error| error.to_string())?
        .into_parts();

    let mut headers = vec![
        ("Content-Type".to_owned(), CONTENT_TYPE.to_owned()),
        ("X-Internal-Auth-Server-Id".to_owned(), server_id.to_owned()),
    ];
    for (name, value) in instructions.headers() {
        // Sent under the names the client library uses; the service reads any case.
        let name = ["Authorization", "X-Amz-Date", "X-Amz-Security-Token"]
            .into_iter()
            .find(|canonical| canonical.eq_ignore_ascii_case(name))
            .ok_or(format!("the signer added an unexpected header {name}"))?;
        headers.push((name.to_owned(), value.to_owned()));
    }
    Ok(TokenRequest {
        sts_request: StsRequest {
            method: "POST".to_owned(),
            url: URL.to_owned(),
            headers: HeaderList(headers),
            body: BODY.to_owned(),
        },
        org_id: None,
        expires_in: None,
    })
}

fn run(options: &Options) -> Result<(), String> {
    let file = File::create(&options.out).map_err(|error| format!("{}: {error}", options.out))?;
    let mut out = BufWriter::new(file);
    let at = SystemTime::now();
    for index in options.first..options.first + options.count {
        let envelope = envelope(index, &options.server_id, at)?;
        serde_json::to_writer(&mut out, &envelope).map_err(|error| error.to_string())?;
        out.write_all(b"\n").map_err(|error| error.to_string())?;
    }
    out.flush().map_err(|error| error.to_string())
}

fn main() -> ExitCode {
    match parse_options().and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_presign: {message}");
            ExitCode::FAILURE
        }
    }
}
