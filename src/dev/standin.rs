//! The STS stand-in's HTTP server: bound on 127.0.0.1, port 0, in the service's own process,
//! it answers `GetCallerIdentity` for requests signed with the development credentials and
//! refuses everything else with STS's error document.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use aws_lc_rs::rand::SystemRandom;
use tokio::task::JoinHandle;

use super::answers::{self, StsError, StsErrorCode};
use super::credentials::DevCredentials;
use super::verify::verify_signature;
use crate::clock::Clock;

/// The largest request body read; a `GetCallerIdentity` body is 43 bytes.
const MAX_BODY_BYTES: usize = 8 * 1024;

/// The stand-in's answer to one request, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The XML document; served as `text/xml`.
    pub body: String,
}

/// Answers one request as STS answers `GetCallerIdentity`: authenticated first, then the
/// action checked. Pure, so that tests need no server.
pub fn answer(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &DevCredentials,
    now: SystemTime,
    request_id: &str,
) -> StsAnswer {
    let outcome = verify_signature(method, path_and_query, headers, body, credentials, now)
        .and_then(|()| check_get_caller_identity(method, path_and_query, body));
    match outcome {
        Ok(()) => StsAnswer {
            status: 200,
            body: answers::caller_identity_document(request_id),
        },
        Err(error) => {
            tracing::info!(
                code = error.code.as_str(),
                reason = %error.message,
                request_id,
                "the development STS stand-in refused a request"
            );
            StsAnswer {
                status: error.code.status(),
                body: answers::error_document(&error, request_id),
            }
        }
    }
}

/// Checks that an authenticated request asks for `GetCallerIdentity`: `POST /` with no query
/// and exactly the body `Action=GetCallerIdentity&Version=2011-06-15`, its two parameters in
/// either order.
///
/// Known limitation: parameters are compared as written, so a percent-encoded spelling of
/// the same body, which STS would accept, is refused; the service never sends one.
pub fn check_get_caller_identity(
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<(), StsError> {
    let mut parameters: Vec<&[u8]> = body.split(|&byte| byte == b'&').collect();
    parameters.sort_unstable();
    let is_get_caller_identity = method == "POST"
        && path_and_query == "/"
        && parameters == [&b"Action=GetCallerIdentity"[..], b"Version=2011-06-15"];
    if is_get_caller_identity {
        Ok(())
    } else {
        Err(StsError::new(
            StsErrorCode::InvalidAction,
            "The action or operation requested is invalid. Verify that the action is typed \
             correctly.",
        ))
    }
}

/// What every request handler shares.
struct StandInState {
    credentials: DevCredentials,
    clock: Arc<dyn Clock>,
    random: SystemRandom,
}

/// The running stand-in. Dropping it without [`StsStandIn::stop`] leaves it serving until the
/// Tokio runtime ends.
#[derive(Debug)]
pub struct StsStandIn {
    /// The address it listens on, on 127.0.0.1.
    pub addr: SocketAddr,
    server: ServerHandle,
    task: JoinHandle<io::Result<()>>,
}

impl StsStandIn {
    /// Binds 127.0.0.1 on a free port and serves, like STS, `GetCallerIdentity` for requests
    /// signed with `credentials` at a time within 15 minutes of `clock`. Must be called
    /// inside a Tokio runtime.
    pub async fn start(credentials: DevCredentials, clock: Arc<dyn Clock>) -> io::Result<Self> {
        let state = web::Data::new(StandInState {
            credentials,
            clock,
            random: SystemRandom::new(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .default_service(web::to(serve))
        })
        .workers(1)
        // The service that runs the stand-in handles signals itself and stops the stand-in.
        .disable_signals()
        .shutdown_timeout(1)
        .bind(("127.0.0.1", 0))?;
        let addr = server
            .addrs()
            .first()
            .copied()
            .ok_or_else(|| io::Error::other("the STS stand-in bound no address"))?;

        let server = server.run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        tracing::info!(%addr, "the development STS stand-in listens");
        Ok(Self {
            addr,
            server: handle,
            task,
        })
    }

    /// The URL to configure as the STS endpoint: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving, lets requests in flight finish, and waits for the server to end.
    pub async fn stop(self) {
        self.server.stop(true).await;
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the development STS stand-in failed"),
            Err(error) => tracing::warn!(%error, "the development STS stand-in's task failed"),
        }
    }
}

/// Every request, whatever its method and path, gets STS's answer.
async fn serve(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<StandInState>,
) -> HttpResponse {
    // A header value that is not text cannot be part of a valid signature; leaving it out
    // makes a request that signed it fail the signature check.
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let request_id = answers::new_request_id(&state.random);

    let sts_answer = answer(
        request.method().as_str(),
        path_and_query,
        &headers,
        &body,
        &state.credentials,
        state.clock.now(),
        &request_id,
    );
    HttpResponse::build(
        StatusCode::from_u16(sts_answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("text/xml")
    .body(sts_answer.body)
}
