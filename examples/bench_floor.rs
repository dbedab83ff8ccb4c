//! The floor of `bench/run`: a server that does only what a mint cannot do without, so that
//! the benchmark can say how much of a mint's cost is the service's and how much the
//! machine's.
//!
//! For each `POST` it reads the request, sends one fixed request of the service's size
//! (1,357 bytes) to the STS stand-in over a pooled keep-alive connection, reads the answer,
//! makes one RS256 signature with the service's key (loaded as the service loads it) and
//! answers 200 with a token-sized JSON body (1,059 bytes with its head, as the service's).
//! The same four loopback messages and the same signature as a real mint, and nothing
//! else: no checks, no JSON, no replay cache, no log. It must never serve anything real.
//!
//! One thread, one event loop, as one actix worker. It binds 127.0.0.1 only and prints
//! `listening on <address>` on its first line of stdout.
//!
//! ```text
//! taskset -c 0 cargo run --release --example bench_floor -- --keys DIR --sts-port PORT
//! ```

use std::cell::RefCell;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use internal_auth::keys::{LocalKey, folder};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The service's allocator (src/main.rs): aws-lc allocates while signing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The size of the request the service forwards to STS for the benchmark's envelopes.
const STS_REQUEST_BYTES: usize = 1357;

/// A token's signing input of the service's size (`header.payload`, 498 bytes).
const SIGNING_INPUT_BYTES: usize = 498;

/// What the command line asks for.
struct Options {
    keys: PathBuf,
    sts_port: u16,
}

fn parse_options() -> Result<Options, String> {
    let (mut keys, mut sts_port) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--keys" => keys = Some(PathBuf::from(value)),
            "--sts-port" => {
                sts_port = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--sts-port needs a port, not {value:?}"))?,
                );
            }
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(Options {
        keys: keys.ok_or("--keys is required")?,
        sts_port: sts_port.ok_or("--sts-port is required")?,
    })
}

/// What every connection shares: the key, the fixed messages, the idle STS connections.
struct Floor {
    key: LocalKey,
    sts: SocketAddr,
    sts_request: Vec<u8>,
    signing_input: Vec<u8>,
    idle: RefCell<Vec<TcpStream>>,
}

fn main() -> ExitCode {
    let outcome = parse_options().and_then(|options| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        let local = tokio::task::LocalSet::new();
        local
            .block_on(&runtime, serve(options))
            .map_err(|error| error.to_string())
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_floor: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let key = folder::load(&options.keys)
        .map_err(|error| std::io::Error::other(error.to_string()))?
        .pop()
        .ok_or_else(|| std::io::Error::other("the key folder is empty"))?
        .key;
    let floor = Rc::new(Floor {
        key,
        sts: SocketAddr::from((Ipv4Addr::LOCALHOST, options.sts_port)),
        sts_request: sts_request(),
        signing_input: vec![b'a'; SIGNING_INPUT_BYTES],
        idle: RefCell::new(Vec::new()),
    });

    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    loop {
        let (connection, _) = listener.accept().await?;
        connection.set_nodelay(true)?;
        let floor = floor.clone();
        tokio::task::spawn_local(async move {
            // A connection ends when the load generator closes it, or on any error.
            if let Err(error) = serve_connection(&floor, connection).await {
                eprintln!("bench_floor: {error}");
            }
        });
    }
}

/// A `POST /` to STS of the service's size, with a body of the right length.
fn sts_request() -> Vec<u8> {
    let head = "POST / HTTP/1.1\r\nhost: sts.amazonaws.com\r\n\
        content-type: application/x-www-form-urlencoded; charset=utf-8\r\ncontent-length: ";
    let fixed = head.len() + "\r\n\r\n".len();
    let mut body_len = STS_REQUEST_BYTES - fixed;
    while fixed + body_len.to_string().len() + body_len > STS_REQUEST_BYTES {
        body_len -= 1;
    }
    let mut request = format!("{head}{body_len}\r\n\r\n").into_bytes();
    request.resize(request.len() + body_len, b'x');
    request
}

async fn serve_connection(floor: &Floor, mut client: TcpStream) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(4096);
    let mut answer = Vec::with_capacity(4096);
    loop {
        if !read_message(&mut client, &mut request).await? {
            return Ok(());
        }
        let pooled = floor.idle.borrow_mut().pop();
        let mut sts = match pooled {
            Some(sts) => sts,
            None => {
                let sts = TcpStream::connect(floor.sts).await?;
                sts.set_nodelay(true)?;
                sts
            }
        };
        sts.write_all(&floor.sts_request).await?;
        if !read_message(&mut sts, &mut answer).await? {
            return Err(std::io::Error::other("STS closed the connection"));
        }
        floor.idle.borrow_mut().push(sts);

        let signature = floor
            .key
            .sign_now(&floor.signing_input)
            .map_err(|error| std::io::Error::other(error.to_string()))?;
        let response = token_response(&floor.signing_input, &signature);
        client.write_all(&response).await?;
    }
}

/// A 200 answer with a token-sized JSON body.
fn token_response(signing_input: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(1024);
    body.extend_from_slice(br#"{"token":""#);
    body.extend_from_slice(signing_input);
    body.push(b'.');
    body.extend_from_slice(URL_SAFE_NO_PAD.encode(signature).as_bytes());
    body.extend_from_slice(br#"","token_type":"Bearer","expires_in":900}"#);
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/json\r\n\
         cache-control: no-store\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

/// Reads one HTTP message (head and `Content-Length` body) into `buffer`, replacing what
/// it held. False when the peer closed the connection before a new message began.
async fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<bool> {
    buffer.clear();
    loop {
        if let Some(length) = complete_length(buffer) {
            if buffer.len() > length {
                return Err(std::io::Error::other("pipelined requests are not expected"));
            }
            return Ok(true);
        }
        if buffer.capacity() - buffer.len() < 1024 {
            buffer.reserve(4096);
        }
        let read = match stream.read_buf(buffer).await {
            // wrk resets its connections when it stops.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => 0,
            other => other?,
        };
        if read == 0 {
            return if buffer.is_empty() {
                Ok(false)
            } else {
                Err(std::io::Error::other("the peer closed mid-message"))
            };
        }
    }
}

/// The length of the whole message once its head and body are in `buffer`.
fn complete_length(buffer: &[u8]) -> Option<usize> {
    let head_end = buffer.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buffer[..head_end]).ok()?;
    let body_len = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buffer.len() >= head_end + body_len).then_some(head_end + body_len)
}
