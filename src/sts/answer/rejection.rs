//! Sorts a non-200 answer from STS into what the caller gets (security rule 12), and reads
//! the error code from STS's error document for the log.

use quick_xml::events::Event;

use super::MAX_ANSWER_BYTES;

/// How a non-200 answer from STS is passed on (rule 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsRejection {
    /// STS refused the signature or the credentials: 401.
    Authentication,
    /// STS throttled us: 429, with `Retry-After`.
    Throttled,
    /// STS failed on its side: 503, with `Retry-After`.
    Unavailable,
    /// Anything else, including redirects, which are never followed: 502.
    Unexpected,
}

impl StsRejection {
    /// The HTTP status the caller gets.
    pub fn status(self) -> u16 {
        match self {
            StsRejection::Authentication => 401,
            StsRejection::Throttled => 429,
            StsRejection::Unavailable => 503,
            StsRejection::Unexpected => 502,
        }
    }

    /// The stable error code the caller gets.
    pub fn code(self) -> &'static str {
        match self {
            StsRejection::Authentication => "sts_rejected_credentials",
            StsRejection::Throttled => "sts_throttled",
            StsRejection::Unavailable => "sts_unavailable",
            StsRejection::Unexpected => "sts_unexpected_answer",
        }
    }
}

/// STS error codes that mean the caller's signature or credentials were refused.
const AUTHENTICATION_CODES: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidAccessKeyId",
    "AccessDenied",
    "RequestExpired",
    "UnrecognizedClientException",
];

/// STS error codes that mean we are sending too many requests.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// Sorts a non-200 answer from STS by its status and, for 4xx and 5xx, its error code.
pub fn classify_rejection(status: u16, unverified_body: &[u8]) -> StsRejection {
    if status == 403 {
        return StsRejection::Authentication;
    }
    if status == 429 {
        return StsRejection::Throttled;
    }
    let is_client_error = (400..500).contains(&status);
    let is_server_error = (500..600).contains(&status);
    if !is_client_error && !is_server_error {
        return StsRejection::Unexpected;
    }

    let code = error_code(unverified_body);
    let code_is = |codes: &[&str]| code.as_deref().is_some_and(|code| codes.contains(&code));
    if code_is(THROTTLING_CODES) {
        StsRejection::Throttled
    } else if is_client_error && code_is(AUTHENTICATION_CODES) {
        StsRejection::Authentication
    } else if is_server_error {
        StsRejection::Unavailable
    } else {
        StsRejection::Unexpected
    }
}

/// The longest error code returned; STS's own are under 40 characters.
const MAX_ERROR_CODE_CHARS: usize = 64;

/// The `<Code>` of an STS error document
/// (`<ErrorResponse><Error><Code>Throttling</Code>...`), for the log and for
/// [`classify_rejection`]; never returned to a caller.
///
/// The reading is lenient (any namespace, the first `Code` directly inside an `Error`) but
/// bounded: only the first [`MAX_ANSWER_BYTES`] are read, and a code that is longer than
/// 64 characters or holds anything but ASCII letters, digits, `.`, `_`, `-` and `:` is not
/// returned, so the log never carries arbitrary text from the answer.
pub fn error_code(unverified_body: &[u8]) -> Option<String> {
    // Known limitation: only the XML error document of STS's query protocol is read. A JSON
    // error body (`{"__type": ...}`) yields no code, so such a rejection is sorted by its
    // status alone: a throttled 400 would then be reported as 502 rather than 429.
    let prefix = &unverified_body[..unverified_body.len().min(MAX_ANSWER_BYTES)];
    let text = match std::str::from_utf8(prefix) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&prefix[..error.valid_up_to()]).ok()?,
    };

    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0_usize;
    let mut error_depth = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(tag) => {
                depth += 1;
                let name = tag.local_name();
                if name.as_ref() == b"Code" && error_depth == Some(depth - 1) {
                    return match reader.read_event().ok()? {
                        Event::Text(text) => {
                            let code = text.decode().ok()?;
                            is_plain_error_code(&code).then(|| code.into_owned())
                        }
                        _ => None,
                    };
                }
                if name.as_ref() == b"Error" && error_depth.is_none() {
                    error_depth = Some(depth);
                }
            }
            Event::End(_) => {
                if error_depth == Some(depth) {
                    error_depth = None;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn is_plain_error_code(code: &str) -> bool {
    (1..=MAX_ERROR_CODE_CHARS).contains(&code.len())
        && code
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_document(code: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>m</Message></Error>\
             <RequestId>r</RequestId></ErrorResponse>"
        )
    }

    #[test]
    fn rejections_are_classified_by_status_and_code() {
        use StsRejection::*;
        let mut cases = vec![
            (403, String::new(), Authentication),
            (403, error_document("Throttling"), Authentication),
            (429, String::new(), Throttled),
            (429, error_document("AccessDenied"), Throttled),
            (503, error_document("Throttling"), Throttled),
            (500, error_document("InternalFailure"), Unavailable),
            (503, String::new(), Unavailable),
            (502, "<html>bad gateway</html>".to_string(), Unavailable),
            (500, error_document("SignatureDoesNotMatch"), Unavailable),
            (400, error_document("InvalidAction"), Unexpected),
            (400, String::new(), Unexpected),
            (404, "<html>not found</html>".to_string(), Unexpected),
            (301, String::new(), Unexpected),
            (302, error_document("Throttling"), Unexpected),
            (200, error_document("Throttling"), Unexpected),
            (100, String::new(), Unexpected),
        ];
        for code in AUTHENTICATION_CODES {
            cases.push((400, error_document(code), Authentication));
        }
        for code in THROTTLING_CODES {
            cases.push((400, error_document(code), Throttled));
        }
        cases.push((
            400,
            error_document("Throttling")
                .replace(" xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"", ""),
            Throttled,
        ));
        for (status, body, expected) in cases {
            assert_eq!(
                classify_rejection(status, body.as_bytes()),
                expected,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn rejections_carry_their_status_and_code() {
        for (rejection, status, code) in [
            (
                StsRejection::Authentication,
                401,
                "sts_rejected_credentials",
            ),
            (StsRejection::Throttled, 429, "sts_throttled"),
            (StsRejection::Unavailable, 503, "sts_unavailable"),
            (StsRejection::Unexpected, 502, "sts_unexpected_answer"),
        ] {
            assert_eq!((rejection.status(), rejection.code()), (status, code));
        }
    }

    #[test]
    fn the_error_code_is_read_leniently_but_only_when_plain() {
        let mut cut_utf8 = error_document("ExpiredToken").into_bytes();
        cut_utf8.extend_from_slice(&[0xe2, 0x82]);
        let far_code = format!(
            "{}{}",
            " ".repeat(MAX_ANSWER_BYTES),
            error_document("Throttling")
        );
        for (body, expected) in [
            (
                error_document("Throttling").into_bytes(),
                Some("Throttling"),
            ),
            (
                b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>".to_vec(),
                Some("AccessDenied"),
            ),
            (
                b"<Error><Code>Throttling</Code></Error>".to_vec(),
                Some("Throttling"),
            ),
            (cut_utf8, Some("ExpiredToken")),
            (error_document("Not a code").into_bytes(), None),
            (error_document("&lt;script&gt;").into_bytes(), None),
            (error_document(&"A".repeat(65)).into_bytes(), None),
            (error_document("").into_bytes(), None),
            (error_document("<X>Throttling</X>").into_bytes(), None),
            (b"<Other><Code>Throttling</Code></Other>".to_vec(), None),
            (
                b"<Error><Detail><Code>Throttling</Code></Detail></Error>".to_vec(),
                None,
            ),
            (b"{\"__type\": \"Throttling\"}".to_vec(), None),
            (far_code.into_bytes(), None),
            (Vec::new(), None),
        ] {
            assert_eq!(
                error_code(&body).as_deref(),
                expected,
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}
