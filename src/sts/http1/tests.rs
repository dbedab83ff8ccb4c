//! The exchange against a raw TCP peer that answers exactly the bytes each test gives.

use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::sts::connection::Connector;
use crate::sts::origin::Origin;

const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

pub(crate) fn checked_request() -> CheckedRequest {
    CheckedRequest {
        host: "sts.eu-central-1.amazonaws.com".into(),
        region: "eu-central-1",
        headers: vec![
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/...".into(),
            ),
            ("X-Amz-Date", "20261203T120000Z".into()),
        ],
        body: BODY,
        access_key_id: "AKIDEXAMPLE".into(),
        signature: [7; 32],
        signed_at: SystemTime::UNIX_EPOCH,
    }
}

/// What the peer does after writing its answer.
#[derive(Clone, Copy)]
enum Then {
    Close,
    HoldOpen,
}

/// A peer that reads one request, writes `answer`, and hands the request it read back.
async fn peer(answer: &[u8], then: Then) -> (Origin, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = answer.to_vec();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        while !request.ends_with(BODY.as_bytes()) {
            let read = socket.read(&mut chunk).await.unwrap();
            assert_ne!(read, 0, "the client closed before sending its request");
            request.extend_from_slice(&chunk[..read]);
        }
        // The client may stop reading early (a too-large answer) and close.
        let _ = socket.write_all(&answer).await;
        match then {
            Then::Close => drop(socket),
            Then::HoldOpen => tokio::time::sleep(Duration::from_millis(300)).await,
        }
        String::from_utf8(request).unwrap()
    });
    let origin = Origin::from_endpoint(&format!("http://127.0.0.1:{port}")).unwrap();
    (origin, task)
}

struct Outcome {
    answer: Result<Answer, ExchangeError>,
    buffer: Vec<u8>,
    request: String,
}

impl Outcome {
    fn body(&self) -> &[u8] {
        let answer = self.answer.as_ref().unwrap();
        &self.buffer[answer.body.clone()]
    }

    fn content_type(&self) -> Option<&[u8]> {
        let answer = self.answer.as_ref().unwrap();
        answer.content_type.clone().map(|range| &self.buffer[range])
    }

    fn error(&self) -> String {
        match &self.answer {
            Ok(answer) => panic!("expected an error, got {answer:?}"),
            Err(error) => error.to_string(),
        }
    }
}

async fn exchange_with(answer: &[u8], then: Then) -> Outcome {
    let (origin, peer) = peer(answer, then).await;
    let mut connection = Connector::new().unwrap().connect(&origin).await.unwrap();
    let answer = exchange(&mut connection, &checked_request()).await;
    drop(connection.stream);
    Outcome {
        answer,
        buffer: connection.buffer,
        request: peer.await.unwrap(),
    }
}

#[tokio::test]
async fn the_request_is_exactly_the_checked_parts_and_the_answer_is_read() {
    let outcome = exchange_with(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>",
        Then::HoldOpen,
    )
    .await;
    assert_eq!(
        outcome.request,
        format!(
            "POST / HTTP/1.1\r\nHost: sts.eu-central-1.amazonaws.com\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/...\r\n\
             X-Amz-Date: 20261203T120000Z\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
    );
    let answer = outcome.answer.as_ref().unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.reusable);
    assert_eq!(outcome.body(), b"<ok/>");
    assert_eq!(outcome.content_type(), Some(&b"text/xml"[..]));
}

#[tokio::test]
async fn a_chunked_answer_is_decoded() {
    let outcome = exchange_with(
        b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n\
          4;ext=1\r\n<Err\r\n3\r\nor/\r\n1\r\n>\r\n0\r\nX-Trailer: t\r\n\r\n",
        Then::HoldOpen,
    )
    .await;
    let answer = outcome.answer.as_ref().unwrap();
    assert_eq!(answer.status, 403);
    assert!(answer.reusable);
    assert_eq!(outcome.body(), b"<Error/>");
    assert_eq!(outcome.content_type(), None);
}

#[tokio::test]
async fn connection_close_or_no_length_means_no_reuse() {
    let outcome = exchange_with(
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok",
        Then::HoldOpen,
    )
    .await;
    assert!(!outcome.answer.as_ref().unwrap().reusable);

    let outcome = exchange_with(b"HTTP/1.1 200 OK\r\n\r\nread until the end", Then::Close).await;
    assert!(!outcome.answer.as_ref().unwrap().reusable);
    assert_eq!(outcome.body(), b"read until the end");
}

#[tokio::test]
async fn answers_over_the_size_bound_are_refused_however_framed() {
    let big = MAX_ANSWER_BYTES + 1;
    let declared = format!("HTTP/1.1 200 OK\r\nContent-Length: {big}\r\n\r\n");
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{big:x}\r\n{}\r\n0\r\n\r\n",
        "x".repeat(big)
    );
    let unframed = format!("HTTP/1.1 200 OK\r\n\r\n{}", "x".repeat(big));
    for (name, answer) in [
        ("declared", declared),
        ("chunked", chunked),
        ("unframed", unframed),
    ] {
        let outcome = exchange_with(answer.as_bytes(), Then::Close).await;
        assert!(
            matches!(outcome.answer, Err(ExchangeError::TooLarge)),
            "{name}: {:?}",
            outcome.answer
        );
    }
}

#[tokio::test]
async fn a_head_that_is_not_plain_http_1_x_is_broken() {
    let cases: [(&[u8], &str); 10] = [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "does not parse"),
        (b"HTTP/2 200\r\nContent-Length: 0\r\n\r\n", "does not parse"),
        (
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
            "switches protocols",
        ),
        (
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.0 with Transfer-Encoding",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "two different Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "not a number",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
            "both Transfer-Encoding and Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "not just chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "not a hexadecimal",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok extra",
            "bytes follow",
        ),
    ];
    for (answer, expected) in cases {
        let outcome = exchange_with(answer, Then::Close).await;
        let error = outcome.error();
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
        assert!(matches!(outcome.answer, Err(ExchangeError::Broken(_))));
    }
}

#[tokio::test]
async fn no_answer_at_all_is_told_apart_from_one_cut_short() {
    let outcome = exchange_with(b"", Then::Close).await;
    assert!(
        matches!(outcome.answer, Err(ExchangeError::Unanswered(_))),
        "{:?}",
        outcome.answer
    );
}

#[tokio::test]
async fn an_answer_cut_short_is_a_connection_failure() {
    for answer in [
        &b"H"[..],
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ] {
        let outcome = exchange_with(answer, Then::Close).await;
        assert!(
            matches!(outcome.answer, Err(ExchangeError::Io(_))),
            "{:?}: {:?}",
            String::from_utf8_lossy(answer),
            outcome.answer
        );
    }
}

#[tokio::test]
async fn an_endless_head_is_cut_off() {
    let answer = format!(
        "HTTP/1.1 200 OK\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(MAX_HEAD_BYTES)
    );
    let outcome = exchange_with(answer.as_bytes(), Then::Close).await;
    assert!(outcome.error().contains("head is too large"));
}

#[tokio::test]
async fn an_http_1_0_answer_is_read_but_its_connection_is_not_reused() {
    let outcome = exchange_with(
        b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>",
        Then::HoldOpen,
    )
    .await;
    assert_eq!(outcome.body(), b"<ok/>");
    assert!(!outcome.answer.as_ref().unwrap().reusable);

    let outcome = exchange_with(b"HTTP/1.0 403 Forbidden\r\n\r\n<Error/>", Then::Close).await;
    assert_eq!(outcome.answer.as_ref().unwrap().status, 403);
    assert_eq!(outcome.body(), b"<Error/>");
}

#[tokio::test]
async fn interim_answers_are_skipped() {
    let outcome = exchange_with(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        Then::HoldOpen,
    )
    .await;
    assert_eq!(outcome.answer.as_ref().unwrap().status, 200);
    assert_eq!(outcome.body(), b"ok");
}

#[tokio::test]
async fn endless_interim_answers_are_cut_off() {
    let answer = "HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_HEAD_BYTES / 20);
    let outcome = exchange_with(answer.as_bytes(), Then::Close).await;
    assert!(
        outcome.error().contains("head is too large"),
        "{}",
        outcome.error()
    );
}
