//! An STS stand-in for `bench/run`: answers every `POST /` with the same well-formed
//! `GetCallerIdentity` result, at once or after a fixed delay, so the benchmark measures
//! internal-auth and not AWS.
//!
//! It checks nothing (no signature, no body): the benchmark's requests are signed with
//! fake credentials. It binds 127.0.0.1 only, prints `listening on <address>` on its first
//! line of stdout, and counts the answers it gave under `GET /count`.
//!
//! ```text
//! cargo run --release --example bench_sts -- [--port 0] [--sts-delay-ms 50] [--workers 1]
//! ```

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};

/// The answer STS gives an assumed role, as the benchmark's service mapping expects it.
const ANSWER: &str = concat!(
    r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
    "<GetCallerIdentityResult>",
    "<Arn>arn:aws:sts::123456789012:assumed-role/bench-role/bench-session</Arn>",
    "<UserId>AROABENCHROLE:bench-session</UserId>",
    "<Account>123456789012</Account>",
    "</GetCallerIdentityResult>",
    "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>",
    "</GetCallerIdentityResponse>",
);

/// What the command line asks for.
struct Options {
    port: u16,
    delay: Duration,
    workers: usize,
}

/// Shared by the workers: the delay and the number of answers given.
struct StandIn {
    delay: Duration,
    answered: AtomicU64,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        delay: Duration::ZERO,
        workers: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => options.port = parse_number(&flag, &value()?)?,
            "--sts-delay-ms" => {
                options.delay = Duration::from_millis(parse_number(&flag, &value()?)?);
            }
            "--workers" => options.workers = parse_number(&flag, &value()?)?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(options)
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} needs a number, not {value:?}"))
}

/// `POST /`: the body is read (so the connection stays usable) and ignored.
async fn get_caller_identity(state: web::Data<StandIn>, _body: web::Bytes) -> HttpResponse {
    if !state.delay.is_zero() {
        // An async sleep: the stand-in waits like STS does, without holding a thread.
        actix_web::rt::time::sleep(state.delay).await;
    }
    state.answered.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().content_type("text/xml").body(ANSWER)
}

/// `GET /count`: how many answers were given, so the benchmark can check that every token
/// it got cost one STS round trip.
async fn count(state: web::Data<StandIn>) -> String {
    state.answered.load(Ordering::Relaxed).to_string()
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench_sts: {message}");
            return ExitCode::FAILURE;
        }
    };
    match actix_web::rt::System::new().block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench_sts: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let state = web::Data::new(StandIn {
        delay: options.delay,
        answered: AtomicU64::new(0),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/", web::post().to(get_caller_identity))
            .route("/count", web::get().to(count))
    })
    .workers(options.workers)
    // The service may keep up to one connection per request in flight.
    .backlog(4096)
    // Longer than the service's idle-connection timeout (60 s), as a server's should be:
    // with actix's default of 5 s, an idle connection can be closed just as the service
    // sends a request on it, and the request fails with "error sending request".
    .keep_alive(Duration::from_secs(75))
    .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)))?;

    let address = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("bound to no address"))?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {address}")?;
    stdout.flush()?;

    server.disable_signals().run().await
}
