//! The client against a raw keep-alive peer: connections are reused, and one the peer has
//! closed while idle is not handed a request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::sts::answer::tests::GOOD;
use crate::sts::http1::tests::checked_request;

/// How a peer ends a connection that has served its share of answers.
#[derive(Clone, Copy)]
enum Closes {
    /// At once, while the connection sits idle in the client's pool.
    WhenIdle,
    /// Only once the next request has arrived, unanswered: a close that crossed the
    /// request on the wire, which no check before sending can see.
    OnTheNextRequest,
}

/// A peer that answers every request on a connection with `GOOD`, closing the connection
/// after `answers_per_connection` answers. Counts the connections it accepted.
async fn keep_alive_peer(answers_per_connection: usize) -> (String, Arc<AtomicUsize>) {
    closing_peer(move |_| answers_per_connection, Closes::WhenIdle).await
}

/// A peer whose connection number `n` (from 0) answers `answers(n)` requests with `GOOD`
/// and is then closed as `closes` says. Counts the connections it accepted.
async fn closing_peer(
    answers: impl Fn(usize) -> usize + Send + 'static,
    closes: Closes,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let answers_per_connection = answers(counter.fetch_add(1, Ordering::SeqCst));
            tokio::spawn(async move {
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{GOOD}",
                    GOOD.len()
                );
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                let mut answered = 0;
                loop {
                    request.clear();
                    while !request.ends_with(b"Version=2011-06-15") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => request.extend_from_slice(&chunk[..read]),
                        }
                    }
                    if answered == answers_per_connection {
                        // The request is dropped with the connection.
                        return;
                    }
                    socket.write_all(answer.as_bytes()).await.unwrap();
                    answered += 1;
                    if answered == answers_per_connection && matches!(closes, Closes::WhenIdle) {
                        // Closes, as a server does with a connection that has served its
                        // share.
                        return;
                    }
                }
            });
        }
    });
    (endpoint, accepted)
}

#[tokio::test]
async fn calls_reuse_one_connection() {
    let (endpoint, accepted) = keep_alive_peer(usize::MAX).await;
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    for _ in 0..5 {
        let identity = client
            .get_caller_identity(&checked_request())
            .await
            .unwrap();
        assert_eq!(identity.account, "123456789012");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(client.pool.idle_count(), 1);
}

#[tokio::test]
async fn a_connection_the_peer_closed_while_idle_is_not_reused() {
    let (endpoint, accepted) = keep_alive_peer(1).await;
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    for call in 1..=3 {
        client
            .get_caller_identity(&checked_request())
            .await
            .unwrap();
        // The close reaches the connection through the event loop's next look at its
        // socket, which no future here resolves on: give the loop that turn.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), call);
    }
}

#[tokio::test]
async fn a_request_crossing_the_close_of_its_pooled_connection_is_sent_again_once() {
    let (endpoint, accepted) = closing_peer(|_| 1, Closes::OnTheNextRequest).await;
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    for call in 1..=3 {
        let identity = client
            .get_caller_identity(&checked_request())
            .await
            .unwrap();
        assert_eq!(identity.account, "123456789012");
        // Each call after the first finds the pooled connection dead only once it has
        // sent on it, and is answered on a new one, which the next call finds dead.
        assert_eq!(accepted.load(Ordering::SeqCst), call);
    }
}

#[tokio::test]
async fn a_request_is_sent_again_once_at_most() {
    // The first connection answers once; every later one drops what it is sent.
    let answers = |connection| usize::from(connection == 0);
    let (endpoint, accepted) = closing_peer(answers, Closes::OnTheNextRequest).await;
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    client
        .get_caller_identity(&checked_request())
        .await
        .unwrap();

    let error = client
        .get_caller_identity(&checked_request())
        .await
        .unwrap_err();
    // The new connection's failure is not taken for a stale connection's.
    assert!(matches!(error, StsError::Unavailable { .. }), "{error:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // Nor is a request on a new connection sent twice.
    let error = client
        .get_caller_identity(&checked_request())
        .await
        .unwrap_err();
    assert!(matches!(error, StsError::Unavailable { .. }), "{error:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_and_a_silent_peer_times_out() {
    let unused = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    let error = client
        .get_caller_identity(&checked_request())
        .await
        .unwrap_err();
    assert!(matches!(error, StsError::Unavailable { .. }), "{error:?}");

    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let client = StsClient::new(Some(&endpoint), Duration::from_millis(200)).unwrap();
    let error = client
        .get_caller_identity(&checked_request())
        .await
        .unwrap_err();
    assert!(matches!(error, StsError::Timeout), "{error:?}");
    assert_eq!(
        client.pool.idle_count(),
        0,
        "a timed-out connection is not kept"
    );
}

#[tokio::test]
async fn an_https_endpoint_gets_tls_and_a_plain_answer_fails_the_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    let peer = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 1];
        socket.read_exact(&mut first).await.unwrap();
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await;
        first[0]
    });
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    let error = client
        .get_caller_identity(&checked_request())
        .await
        .unwrap_err();
    assert!(matches!(error, StsError::Unavailable { .. }), "{error:?}");
    // 0x16: a TLS handshake record, the ClientHello; nothing went out in plain text.
    assert_eq!(peer.await.unwrap(), 0x16);
}

#[tokio::test]
async fn each_worker_thread_reuses_only_its_own_connections() {
    let (endpoint, _) = keep_alive_peer(usize::MAX).await;
    let client = StsClient::new(Some(&endpoint), Duration::from_secs(5)).unwrap();
    client
        .get_caller_identity(&checked_request())
        .await
        .unwrap();
    let origin = client.endpoint.clone().unwrap();

    let elsewhere = std::thread::scope(|scope| {
        scope
            .spawn(|| client.pool.checkout(&origin).is_some())
            .join()
            .unwrap()
    });
    assert!(
        !elsewhere,
        "another thread must not get this thread's connection"
    );
    assert!(client.pool.checkout(&origin).is_some());
}
