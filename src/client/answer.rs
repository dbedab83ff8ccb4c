//! Reads internal-auth's answer to `POST /v1/token`: a token, a refusal, or a reason to
//! try again. Kept apart from the HTTP exchange so every case is tested without a server.

use std::time::Duration;

use super::ClientError;
use crate::wire::{ErrorResponse, TokenResponse};

/// The most of an answer that is read. A token answer is well under 4 KiB.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The longest `Retry-After` that is believed; anything longer exceeds any deadline anyway.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Service-provided text is cut to this many characters before it reaches an error.
const MAX_TEXT_CHARS: usize = 300;

/// Why an attempt did not produce a token.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Trying again later may succeed; `retry_after` is the service's hint.
    Transient {
        /// The error to report if no further attempt fits in the deadline.
        error: ClientError,
        /// How long the service asked the client to wait.
        retry_after: Option<Duration>,
    },
    /// Trying again would get the same answer.
    Final(ClientError),
}

/// Classifies an answer by its status and body.
///
/// 429, 502, 503 and 504 say the service, or STS behind it, is busy or away for now: worth
/// another try. Other 5xx are the service's own failures and other 4xx are refusals; both
/// would repeat.
pub(crate) fn read_answer(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<TokenResponse, Failure> {
    match status {
        200 => read_token(body)
            .map_err(|reason| Failure::Final(ClientError::BadAnswer { status, reason })),
        429 | 502 | 503 | 504 => {
            let (code, message) = read_error(body);
            Err(Failure::Transient {
                error: ClientError::Unavailable {
                    status,
                    code,
                    message,
                },
                retry_after,
            })
        }
        400..=499 => {
            let (code, message) = read_error(body);
            Err(Failure::Final(ClientError::Refused {
                status,
                code,
                message,
            }))
        }
        500..=599 => {
            let (code, message) = read_error(body);
            Err(Failure::Final(ClientError::Unavailable {
                status,
                code,
                message,
            }))
        }
        _ => Err(Failure::Final(ClientError::BadAnswer {
            status,
            reason: "a status internal-auth never sends",
        })),
    }
}

/// Reads a `Retry-After` header given in seconds. The HTTP-date form is ignored: the
/// service never sends it.
pub(crate) fn read_retry_after(unverified_value: Option<&[u8]>) -> Option<Duration> {
    let text = std::str::from_utf8(unverified_value?).ok()?.trim();
    let seconds: u64 = text.parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

fn read_token(body: &[u8]) -> Result<TokenResponse, &'static str> {
    let answer: TokenResponse =
        serde_json::from_slice(body).map_err(|_| "a body that is not a token answer")?;
    if !answer.token_type.eq_ignore_ascii_case("Bearer") {
        return Err("a token type other than Bearer");
    }
    if answer.expires_in == 0 {
        return Err("a token with no lifetime");
    }
    if !looks_like_a_jwt(&answer.token) {
        return Err("a token that is not a compact JWT");
    }
    Ok(answer)
}

/// Three non-empty base64url segments. The token goes into HTTP headers as it is, so
/// anything else (spaces, line breaks, an HTML page) is refused here.
fn looks_like_a_jwt(unverified_token: &str) -> bool {
    let mut segments = 0;
    for segment in unverified_token.split('.') {
        segments += 1;
        let base64url = segment
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if segment.is_empty() || !base64url {
            return false;
        }
    }
    segments == 3
}

/// The code and message of an error answer, or a stand-in when it is not one of the
/// service's (a proxy's HTML page, say).
fn read_error(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(answer) => (printable(&answer.error), printable(&answer.message)),
        Err(_) => (
            String::new(),
            "the answer carried no error description".to_owned(),
        ),
    }
}

/// The text without control characters and cut to a sensible length, so that what the
/// service (or whatever answered) wrote cannot garble a terminal or a log line.
fn printable(unverified_text: &str) -> String {
    unverified_text
        .chars()
        .filter(|character| !character.is_control())
        .take(MAX_TEXT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiaWxsaW5nIn0.c2lnbmF0dXJl";

    fn token_body(token: &str, token_type: &str, expires_in: u64) -> Vec<u8> {
        serde_json::json!({ "token": token, "token_type": token_type, "expires_in": expires_in })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn a_well_formed_token_answer_is_read() {
        let answer = read_answer(200, None, &token_body(JWT, "Bearer", 600)).expect("token");
        assert_eq!(answer.token, JWT);
        assert_eq!(answer.expires_in, 600);
    }

    #[test]
    fn malformed_token_answers_are_refused_with_their_reason() {
        let cases: &[(Vec<u8>, &str)] = &[
            (
                b"<html>ok</html>".to_vec(),
                "a body that is not a token answer",
            ),
            (b"{}".to_vec(), "a body that is not a token answer"),
            (
                token_body(JWT, "MAC", 600),
                "a token type other than Bearer",
            ),
            (token_body(JWT, "Bearer", 0), "a token with no lifetime"),
            (
                token_body("", "Bearer", 600),
                "a token that is not a compact JWT",
            ),
            (
                token_body("a.b", "Bearer", 600),
                "a token that is not a compact JWT",
            ),
            (
                token_body("a.b.c.d", "Bearer", 600),
                "a token that is not a compact JWT",
            ),
            (
                token_body("a..c", "Bearer", 600),
                "a token that is not a compact JWT",
            ),
            (
                token_body("a.b.c\r\nX: y", "Bearer", 600),
                "a token that is not a compact JWT",
            ),
            (
                token_body("a.b+/.c", "Bearer", 600),
                "a token that is not a compact JWT",
            ),
        ];
        for (body, expected) in cases {
            match read_answer(200, None, body) {
                Err(Failure::Final(ClientError::BadAnswer {
                    status: 200,
                    reason,
                })) => {
                    assert_eq!(reason, *expected, "{}", String::from_utf8_lossy(body));
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn busy_answers_are_transient_and_keep_the_hint() {
        let body = br#"{"error":"sts_throttled","message":"STS is throttling requests."}"#;
        for status in [429, 502, 503, 504] {
            match read_answer(status, Some(Duration::from_secs(2)), body) {
                Err(Failure::Transient {
                    error:
                        ClientError::Unavailable {
                            status: got,
                            code,
                            message,
                        },
                    retry_after,
                }) => {
                    assert_eq!(got, status);
                    assert_eq!(code, "sts_throttled");
                    assert_eq!(message, "STS is throttling requests.");
                    assert_eq!(retry_after, Some(Duration::from_secs(2)));
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn refusals_are_final_and_carry_code_and_message() {
        let body = br#"{"error":"unknown_service","message":"No service is configured."}"#;
        for status in [400, 401, 403, 404, 413, 415] {
            match read_answer(status, None, body) {
                Err(Failure::Final(ClientError::Refused {
                    status: got,
                    code,
                    message,
                })) => {
                    assert_eq!(got, status);
                    assert_eq!(code, "unknown_service");
                    assert_eq!(message, "No service is configured.");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_services_own_failures_are_final() {
        match read_answer(500, None, b"") {
            Err(Failure::Final(ClientError::Unavailable {
                status: 500, code, ..
            })) => {
                assert_eq!(code, "");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_answer(302, None, b""),
            Err(Failure::Final(ClientError::BadAnswer { status: 302, .. }))
        ));
    }

    #[test]
    fn error_text_loses_control_characters_and_excess_length() {
        let message = format!("line one\r\n\u{1b}[31mred{}", "x".repeat(1000));
        let body = serde_json::json!({ "error": "bad\ncode", "message": message }).to_string();
        match read_answer(400, None, body.as_bytes()) {
            Err(Failure::Final(ClientError::Refused { code, message, .. })) => {
                assert_eq!(code, "badcode");
                assert!(message.starts_with("line one[31mred"), "{message}");
                assert_eq!(message.chars().count(), MAX_TEXT_CHARS);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        assert_eq!(read_retry_after(Some(b"3")), Some(Duration::from_secs(3)));
        assert_eq!(read_retry_after(Some(b" 0 ")), Some(Duration::ZERO));
        assert_eq!(read_retry_after(Some(b"99999999")), Some(MAX_RETRY_AFTER));
        assert_eq!(
            read_retry_after(Some(b"Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(read_retry_after(Some(b"-1")), None);
        assert_eq!(read_retry_after(Some(b"\xff")), None);
        assert_eq!(read_retry_after(None), None);
    }
}
