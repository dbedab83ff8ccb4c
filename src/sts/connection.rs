//! Connections to STS: TCP, wrapped in TLS for an HTTPS origin, kept open between calls.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::origin::Origin;

/// Opens connections, checking STS's certificate against the operating system's trust
/// store (as browsers and the AWS SDKs do).
#[derive(Clone)]
pub struct Connector {
    tls: TlsConnector,
}

/// Why TLS could not be set up at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up TLS for STS: {0}")]
pub struct TlsSetupError(String);

impl Connector {
    /// A connector using the platform's certificate verifier.
    pub fn new() -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|error| TlsSetupError(error.to_string()))?;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsSetupError(error.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            tls: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Opens a new connection to `origin`.
    pub async fn connect(&self, origin: &Origin) -> io::Result<Connection> {
        let tcp = TcpStream::connect((origin.host.as_str(), origin.port)).await?;
        // Each request goes out in one write; Nagle's delay would only hold it back.
        tcp.set_nodelay(true)?;
        let stream = if origin.tls {
            let name = ServerName::try_from(origin.host.clone())
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
            Stream::Tls(Box::new(self.tls.connect(name, tcp).await?))
        } else {
            Stream::Plain(tcp)
        };
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(INITIAL_BUFFER_BYTES),
        })
    }
}

/// Room for a request with a session token, and for a whole `GetCallerIdentity` answer.
const INITIAL_BUFFER_BYTES: usize = 4096;

/// An open connection and the buffer its requests and answers pass through, kept with it
/// so that a pooled connection costs no allocation per call.
pub struct Connection {
    pub(super) stream: Stream,
    pub(super) buffer: Vec<u8>,
}

impl Connection {
    /// Whether the connection looks usable: the peer has not closed it and has sent
    /// nothing unasked. Checked before a pooled connection is reused, so that an idle
    /// connection STS has since closed is not handed a request that would then fail.
    ///
    /// One non-blocking peek, and none at all while the socket has not been flagged
    /// readable. A close that races this check is caught by the client, which then sends the
    /// request once more on a new connection.
    pub fn looks_open(&self) -> bool {
        let tcp = match &self.stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref().0,
        };
        let mut byte = [0u8; 1];
        let mut peeked = ReadBuf::new(&mut byte);
        let mut context = Context::from_waker(Waker::noop());
        // Pending: nothing to read, still open. Anything else (end of stream, bytes STS
        // sent unasked, including TLS records, or an error) retires the connection.
        tcp.poll_peek(&mut context, &mut peeked).is_pending()
    }
}

/// A plain or a TLS stream.
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}
