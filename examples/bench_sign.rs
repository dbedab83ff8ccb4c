//! The yardstick of `bench/run`: how many RS256 signatures one core makes per second with
//! the service's own signing key, loaded the way the service loads it.
//!
//! Two numbers, each measured for `--seconds` (the second one only without `--raw-only`):
//!
//! - `raw_signatures_per_s`: the RSA-2048 PKCS#1 v1.5 signature alone, over a realistic
//!   JWS signing input (the unavoidable cost of a token);
//! - `tokens_per_s`: [`internal_auth::token::sign`], which also serialises the claims and
//!   base64url-encodes both halves (what the service does after STS has answered).
//!
//! ```text
//! taskset -c 0 cargo run --release --example bench_sign -- --keys DIR --seconds 10 [--raw-only]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use internal_auth::keys::{KeySet, folder};
use internal_auth::token::{self, Claims};

/// The service's allocator (src/main.rs), so that the yardstick's signatures get the same
/// help from it as the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What the command line asks for.
struct Options {
    keys: PathBuf,
    seconds: f64,
    raw_only: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut keys = None;
    let mut seconds = 5.0;
    let mut raw_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--raw-only" {
            raw_only = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--keys" => keys = Some(PathBuf::from(value)),
            "--seconds" => {
                seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds needs a number, not {value:?}"))?;
            }
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(Options {
        keys: keys.ok_or("--keys is required")?,
        seconds,
        raw_only,
    })
}

/// Calls `work` until `duration` has passed and returns the calls per second.
fn rate(duration: Duration, mut work: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    let started = Instant::now();
    let mut calls: u64 = 0;
    while started.elapsed() < duration {
        work()?;
        calls += 1;
    }
    Ok(calls as f64 / started.elapsed().as_secs_f64())
}

fn run(options: &Options) -> Result<(), String> {
    let duration = Duration::from_secs_f64(options.seconds);

    // The same key file, parsed the same way as the service parses it; the last file signs.
    let keys = KeySet::load_folder(&options.keys).map_err(|error| error.to_string())?;
    let signing_key = folder::load(&options.keys)
        .map_err(|error| error.to_string())?
        .pop()
        .ok_or("the key folder is empty")?
        .key;

    let policies: Vec<String> = Vec::new();
    let claims = Claims {
        iss: "http://127.0.0.1:8080",
        sub: "bench",
        client_id: "bench",
        aud: "internal-api",
        iat: 1_796_292_000,
        nbf: 1_796_292_000,
        exp: 1_796_292_900,
        jti: "AAAAAAAAAAAAAAAAAAAAAA",
        caller_identity: "arn:aws:sts::123456789012:assumed-role/bench-role/bench-session",
        account: "123456789012",
        policies: &policies,
        org_id: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|error| error.to_string())?;

    // A real signing input: a token's `header.payload`, about 400 bytes.
    let token = runtime
        .block_on(token::sign(&keys, &claims))
        .map_err(|error| error.to_string())?
        .into_inner();
    let signing_input = token
        .rsplit_once('.')
        .map(|(input, _)| input.to_owned())
        .ok_or("a token has three parts")?;

    let raw = rate(duration, || {
        signing_key
            .sign_now(signing_input.as_bytes())
            .map(drop)
            .map_err(|error| error.to_string())
    })?;
    println!("signing_input_bytes {}", signing_input.len());
    println!("raw_signatures_per_s {raw:.1}");
    if !options.raw_only {
        let tokens = rate(duration, || {
            runtime
                .block_on(token::sign(&keys, &claims))
                .map(drop)
                .map_err(|error| error.to_string())
        })?;
        println!("tokens_per_s {tokens:.1}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_options().and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_sign: {message}");
            ExitCode::FAILURE
        }
    }
}
