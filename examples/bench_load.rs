//! A fixed-rate load generator for `bench/run`: posts pre-signed envelopes to
//! `/v1/token` at a steady rate and reports the latency distribution.
//!
//! wrk keeps a fixed number of requests in flight, so at saturation its latencies measure
//! the queue it builds itself. This one sends on a schedule instead (open loop), whatever
//! the answers do, as wrk2 does (wrk2 is not packaged in Debian). Requests never wait for
//! one another: a stall in the service delays every request due meanwhile, and each of
//! those latencies shows it (no coordinated omission).
//!
//! A latency runs from when the request was handed to the connection until its whole
//! answer was read. The generator's own lateness (its timer wakes up to a millisecond after
//! a request was due) is reported apart, as `lag_p99_ms`, so that it is not counted as the
//! service's.
//!
//! ```text
//! taskset -c 1 bench_load --url http://127.0.0.1:8080/v1/token --bodies bodies.jsonl \
//!     --rate 700 --seconds 30 [--warmup-seconds 2] [--max-in-flight 1024]
//! ```
//!
//! Output, one `name value` pair per line: `sent`, `ok`, `failed`, `late` (not sent because
//! `--max-in-flight` requests were already waiting), `achieved_per_s`, and `p50_ms`,
//! `p90_ms`, `p99_ms`, `p999_ms`, `max_ms` over the requests after the warm-up, and
//! `lag_p99_ms`, how late the generator sent them.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

/// What the command line asks for.
struct Options {
    url: String,
    bodies: String,
    rate: f64,
    seconds: f64,
    warmup_seconds: f64,
    max_in_flight: usize,
}

/// What one request came to.
struct Outcome {
    /// Whether it was due after the warm-up, so it counts in the distribution.
    measured: bool,
    ok: bool,
    /// From when it was sent to when its whole answer had been read.
    latency: Duration,
    /// From when it was due to when it was sent.
    lag: Duration,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        url: String::new(),
        bodies: String::new(),
        rate: 0.0,
        seconds: 10.0,
        warmup_seconds: 2.0,
        max_in_flight: 1024,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite() && *number >= 0.0)
                .ok_or(format!("{flag} needs a number, not {value:?}"))
        };
        match flag.as_str() {
            "--url" => options.url = value,
            "--bodies" => options.bodies = value,
            "--rate" => options.rate = number()?,
            "--seconds" => options.seconds = number()?,
            "--warmup-seconds" => options.warmup_seconds = number()?,
            "--max-in-flight" => options.max_in_flight = number()? as usize,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if options.url.is_empty() || options.bodies.is_empty() || options.rate <= 0.0 {
        return Err("--url, --bodies and a positive --rate are required".into());
    }
    Ok(options)
}

/// The value at quantile `q` of sorted `values`, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

async fn run(options: Options) -> Result<(), String> {
    let text = std::fs::read_to_string(&options.bodies)
        .map_err(|error| format!("{}: {error}", options.bodies))?;
    let bodies: Vec<String> = text.lines().map(str::to_owned).collect();
    let total = ((options.warmup_seconds + options.seconds) * options.rate).ceil() as usize;
    if total > bodies.len() {
        return Err(format!(
            "{total} requests need as many distinct envelopes; {} has {}",
            options.bodies,
            bodies.len()
        ));
    }

    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|error| error.to_string())?;
    let url = Arc::new(options.url);
    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let warmup = Duration::from_secs_f64(options.warmup_seconds);

    let started = Instant::now();
    let mut in_flight: JoinSet<Outcome> = JoinSet::new();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(total);
    let mut late = 0usize;
    for (index, body) in bodies.into_iter().take(total).enumerate() {
        let due = started + interval.mul_f64(index as f64);
        tokio::time::sleep_until(due).await;
        while let Some(done) = in_flight.try_join_next() {
            outcomes.push(done.map_err(|error| error.to_string())?);
        }
        if in_flight.len() >= options.max_in_flight {
            late += 1;
            continue;
        }

        let request = client
            .post(url.as_str())
            .header("Content-Type", "application/json")
            .body(body);
        let measured = due.duration_since(started) >= warmup;
        in_flight.spawn(async move {
            let sent = Instant::now();
            let ok = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    response.bytes().await.is_ok() && status == reqwest::StatusCode::OK
                }
                Err(_) => false,
            };
            Outcome {
                measured,
                ok,
                latency: sent.elapsed(),
                lag: sent.duration_since(due),
            }
        });
    }
    while let Some(done) = in_flight.join_next().await {
        outcomes.push(done.map_err(|error| error.to_string())?);
    }
    let elapsed = started.elapsed().as_secs_f64();

    let ok = outcomes.iter().filter(|outcome| outcome.ok).count();
    let mut latencies: Vec<Duration> = outcomes
        .iter()
        .filter(|outcome| outcome.measured)
        .map(|outcome| outcome.latency)
        .collect();
    latencies.sort_unstable();
    let mut lags: Vec<Duration> = outcomes
        .iter()
        .filter(|outcome| outcome.measured)
        .map(|outcome| outcome.lag)
        .collect();
    lags.sort_unstable();

    println!("sent {}", outcomes.len());
    println!("ok {ok}");
    println!("failed {}", outcomes.len() - ok);
    println!("late {late}");
    println!("achieved_per_s {:.1}", outcomes.len() as f64 / elapsed);
    for (name, q) in [
        ("p50_ms", 0.50),
        ("p90_ms", 0.90),
        ("p99_ms", 0.99),
        ("p999_ms", 0.999),
        ("max_ms", 1.0),
    ] {
        println!("{name} {:.3}", quantile_ms(&latencies, q));
    }
    println!("lag_p99_ms {:.3}", quantile_ms(&lags, 0.99));
    Ok(())
}

fn main() -> ExitCode {
    let outcome = parse_options().and_then(|options| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?
            .block_on(run(options))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_load: {message}");
            ExitCode::FAILURE
        }
    }
}
