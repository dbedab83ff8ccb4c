//! One HTTP/1.1 exchange with STS: the checked request written in a single write, the
//! answer read with hard bounds (rule 11).
//!
//! Deliberately small. It sends exactly the checked parts, follows nothing (a redirect is
//! just a status the caller refuses), and reads at most [`MAX_HEAD_BYTES`] of head and
//! [`MAX_ANSWER_BYTES`] of body. Anything that is not plain HTTP/1.x is [`Broken`].

use std::io::{self, Write};
use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::answer::MAX_ANSWER_BYTES;
use super::connection::Connection;
use crate::forwarded::CheckedRequest;

/// The most bytes of status line and headers read. STS's are a few hundred.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The most headers an answer may have. STS sends about six.
const MAX_HEADERS: usize = 32;

/// What STS answered; the body is in the connection's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Where the `Content-Type` value is in the buffer, if there was one.
    pub content_type: Option<Range<usize>>,
    /// Where the body is in the buffer.
    pub body: Range<usize>,
    /// Whether the connection may carry another request.
    pub reusable: bool,
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The request could not be written, or the connection failed or closed before the
    /// first byte of an answer: on a reused connection, most likely one the peer closed
    /// while it was idle, as the request crossed its close on the wire.
    #[error("the connection to STS closed before it answered: {0}")]
    Unanswered(io::Error),
    /// The connection failed or closed before the answer was complete.
    #[error("the connection to STS failed: {0}")]
    Io(#[from] io::Error),
    /// The answer is not HTTP/1.1 this client will read.
    #[error("STS's answer is not usable HTTP: {0}")]
    Broken(&'static str),
    /// The body is larger than [`MAX_ANSWER_BYTES`].
    #[error("the answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

use ExchangeError::Broken;

/// Sends `request` to STS over `connection` (as `Host: host`) and reads the answer.
pub async fn exchange(
    connection: &mut Connection,
    request: &CheckedRequest,
) -> Result<Answer, ExchangeError> {
    encode_request(&mut connection.buffer, request);
    let sent = async {
        connection.stream.write_all(&connection.buffer).await?;
        connection.stream.flush().await
    };
    sent.await.map_err(ExchangeError::Unanswered)?;
    connection.buffer.clear();

    // The first read is told apart from the rest: nothing at all coming back is what a
    // dead pooled connection looks like, and only that case is worth a second attempt.
    match read_some(connection).await {
        Ok(0) => return Err(ExchangeError::Unanswered(closed_early())),
        Ok(_) => {}
        Err(error) => return Err(ExchangeError::Unanswered(error)),
    }
    read_answer(connection).await
}

/// `POST /` with the signed host, the allowed headers and the exact body. Every value has
/// passed rule 6 (printable ASCII, so no CR or LF can split the request).
fn encode_request(buffer: &mut Vec<u8>, request: &CheckedRequest) {
    buffer.clear();
    buffer.extend_from_slice(b"POST / HTTP/1.1\r\nHost: ");
    buffer.extend_from_slice(request.host.as_bytes());
    for (name, value) in &request.headers {
        buffer.extend_from_slice(b"\r\n");
        buffer.extend_from_slice(name.as_bytes());
        buffer.extend_from_slice(b": ");
        buffer.extend_from_slice(value.as_bytes());
    }
    // Writing to a Vec cannot fail.
    let _ = write!(buffer, "\r\nContent-Length: {}\r\n\r\n", request.body.len());
    buffer.extend_from_slice(request.body.as_bytes());
}

/// How the body's end is known (RFC 9112, section 6.3).
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads the head, then the body as its framing says, leaving both in the buffer, which
/// holds the answer's first bytes already.
async fn read_answer(connection: &mut Connection) -> Result<Answer, ExchangeError> {
    // Bytes of interim heads dropped so far: they count against the same bound.
    let mut interim_bytes = 0;
    let (head_len, head) = loop {
        match parse_head(&connection.buffer)? {
            Parsed::Final(head_len, head) => break (head_len, head),
            Parsed::Interim(head_len) => {
                interim_bytes += head_len;
                connection.buffer.drain(..head_len);
            }
            Parsed::Partial => read_more(connection).await?,
        }
        if interim_bytes + connection.buffer.len() > MAX_HEAD_BYTES {
            return Err(Broken("the head is too large"));
        }
    };

    let body_start = head_len;
    let body = match head.framing {
        Framing::Length(length) => {
            let end = body_start + length;
            while connection.buffer.len() < end {
                read_more(connection).await?;
            }
            if connection.buffer.len() > end {
                return Err(Broken("bytes follow the answer"));
            }
            body_start..end
        }
        Framing::Chunked => loop {
            if let Some(length) = dechunk(&mut connection.buffer, body_start)? {
                break body_start..body_start + length;
            }
            read_more(connection).await?;
        },
        Framing::UntilClose => {
            while read_some(connection).await? > 0 {
                if connection.buffer.len() - body_start > MAX_ANSWER_BYTES {
                    return Err(ExchangeError::TooLarge);
                }
            }
            body_start..connection.buffer.len()
        }
    };
    Ok(Answer {
        status: head.status,
        content_type: head.content_type,
        body,
        reusable: head.keep_alive && !matches!(head.framing, Framing::UntilClose),
    })
}

/// Reads at least one more byte; the peer closing first is an error.
async fn read_more(connection: &mut Connection) -> Result<(), ExchangeError> {
    if read_some(connection).await? == 0 {
        return Err(ExchangeError::Io(closed_early()));
    }
    Ok(())
}

fn closed_early() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "STS closed the connection before its answer was complete",
    )
}

async fn read_some(connection: &mut Connection) -> io::Result<usize> {
    connection.buffer.reserve(2048);
    connection.stream.read_buf(&mut connection.buffer).await
}

struct Head {
    status: u16,
    content_type: Option<Range<usize>>,
    framing: Framing,
    keep_alive: bool,
}

/// What the buffer starts with.
enum Parsed {
    /// Not a whole head yet.
    Partial,
    /// An interim (1xx) answer of this many bytes, to skip: the real one follows.
    Interim(usize),
    /// The answer's head, and its length.
    Final(usize, Head),
}

/// Parses the head at the start of `buffer`.
fn parse_head(buffer: &[u8]) -> Result<Parsed, ExchangeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buffer) {
        Ok(httparse::Status::Complete(head_len)) => head_len,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(Broken("it has too many headers")),
        Err(_) => return Err(Broken("its head does not parse")),
    };
    let status = response.code.ok_or(Broken("it has no status"))?;
    // HTTP/1.0 servers (Python's http.server by default, say) are read too, but their
    // connections are not reused.
    let http_1_1 = match response.version {
        Some(1) => true,
        Some(0) => false,
        _ => return Err(Broken("it is not HTTP/1.x")),
    };
    match status {
        // Nothing here asks to switch protocols.
        101 => return Err(Broken("it switches protocols")),
        // Interim answers (100 Continue, 103 Early Hints) carry nothing: skip them.
        100..=199 => return Ok(Parsed::Interim(head_len)),
        _ => {}
    }

    let mut content_type = None;
    let mut content_length = None;
    let mut chunked = false;
    let mut keep_alive = http_1_1;
    for header in response.headers.iter() {
        let value = header.value;
        if header.name.eq_ignore_ascii_case("content-type") {
            if content_type.is_some() {
                return Err(Broken("it has two Content-Type headers"));
            }
            let start = value.as_ptr() as usize - buffer.as_ptr() as usize;
            content_type = Some(start..start + value.len());
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let length = parse_length(value)?;
            if content_length.is_some_and(|earlier| earlier != length) {
                return Err(Broken("it has two different Content-Length headers"));
            }
            content_length = Some(length);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if chunked || !value.eq_ignore_ascii_case(b"chunked") {
                return Err(Broken("its Transfer-Encoding is not just chunked"));
            }
            chunked = true;
        } else if header.name.eq_ignore_ascii_case("connection") {
            keep_alive &= !value
                .split(|&byte| byte == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"));
        }
    }

    let framing = match (chunked, content_length) {
        (true, _) if !http_1_1 => return Err(Broken("it is HTTP/1.0 with Transfer-Encoding")),
        (true, Some(_)) => return Err(Broken("it has both Transfer-Encoding and Content-Length")),
        (true, None) => Framing::Chunked,
        (false, Some(length)) if length > MAX_ANSWER_BYTES => return Err(ExchangeError::TooLarge),
        (false, Some(length)) => Framing::Length(length),
        (false, None) if status == 204 || status == 304 => Framing::Length(0),
        (false, None) => Framing::UntilClose,
    };
    Ok(Parsed::Final(
        head_len,
        Head {
            status,
            content_type,
            framing,
            keep_alive,
        },
    ))
}

fn parse_length(value: &[u8]) -> Result<usize, ExchangeError> {
    let digits = value.trim_ascii();
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Broken("its Content-Length is not a number"));
    }
    Ok(digits
        .iter()
        .fold(0, |length, digit| length * 10 + usize::from(digit - b'0')))
}

/// Decodes a chunked body in place, from `start` to the end of `buffer`: `Some(length)`
/// once the last chunk and the trailers are in (the decoded body then fills
/// `start..start + length`), `None` while more bytes are needed.
///
/// Decoding starts over on each call, which is cheap at these sizes and keeps the buffer
/// untouched until the whole body is there.
fn dechunk(buffer: &mut Vec<u8>, start: usize) -> Result<Option<usize>, ExchangeError> {
    let mut chunks: Vec<Range<usize>> = Vec::new();
    let mut at = start;
    let mut total = 0;
    loop {
        let Some(line_end) = find_crlf(buffer, at) else {
            return check_partial(buffer.len() - at);
        };
        let size_field = buffer[at..line_end]
            .split(|&byte| byte == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let size = parse_chunk_size(size_field)?;
        at = line_end + 2;
        if size == 0 {
            break;
        }
        total += size;
        if total > MAX_ANSWER_BYTES {
            return Err(ExchangeError::TooLarge);
        }
        if buffer.len() < at + size + 2 {
            return Ok(None);
        }
        if &buffer[at + size..at + size + 2] != b"\r\n" {
            return Err(Broken("a chunk does not end with CRLF"));
        }
        chunks.push(at..at + size);
        at += size + 2;
    }
    // Trailers, each a line, then an empty line.
    loop {
        let Some(line_end) = find_crlf(buffer, at) else {
            return check_partial(buffer.len() - at);
        };
        let empty = line_end == at;
        at = line_end + 2;
        if empty {
            break;
        }
    }
    if at != buffer.len() {
        return Err(Broken("bytes follow the answer"));
    }
    let mut write = start;
    for chunk in chunks {
        buffer.copy_within(chunk.clone(), write);
        write += chunk.len();
    }
    buffer.truncate(write);
    Ok(Some(total))
}

/// An unfinished line may grow only so long.
fn check_partial(pending: usize) -> Result<Option<usize>, ExchangeError> {
    if pending > MAX_HEAD_BYTES {
        return Err(Broken("a chunk line is too long"));
    }
    Ok(None)
}

fn find_crlf(buffer: &[u8], from: usize) -> Option<usize> {
    buffer[from..]
        .windows(2)
        .position(|pair| pair == b"\r\n")
        .map(|offset| from + offset)
}

fn parse_chunk_size(field: &[u8]) -> Result<usize, ExchangeError> {
    if field.is_empty() || field.len() > 8 || !field.iter().all(u8::is_ascii_hexdigit) {
        return Err(Broken("a chunk size is not a hexadecimal number"));
    }
    Ok(field.iter().fold(0, |size, &digit| {
        size * 16 + (digit as char).to_digit(16).unwrap_or_default() as usize
    }))
}

#[cfg(test)]
pub(crate) mod tests;
