//! What the stand-in answers, in STS's own XML: the `GetCallerIdentity` result for the
//! development role, and STS's error document with STS's codes and statuses.

use std::fmt::Write as _;

use aws_lc_rs::rand::SecureRandom;

use super::{DEV_ACCOUNT_ID, DEV_CALLER_ARN, DEV_ROLE_UNIQUE_ID, DEV_SESSION_NAME};

/// The XML namespace of every STS answer.
const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The error codes the stand-in answers with, each as STS uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsErrorCode {
    /// The request has no `Authorization` header (403).
    MissingAuthenticationToken,
    /// The `Authorization` header or the headers it needs are malformed or incomplete (400).
    IncompleteSignature,
    /// The access key id is not known, or a session token came with a long-term key (403).
    InvalidClientTokenId,
    /// The signature is wrong, stale, from the future, or scoped to the wrong service,
    /// region or day (403).
    SignatureDoesNotMatch,
    /// The request asks for something other than `GetCallerIdentity` (400).
    InvalidAction,
}

impl StsErrorCode {
    /// The code as it appears in STS's `<Code>` element.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::IncompleteSignature => "IncompleteSignature",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::InvalidAction => "InvalidAction",
        }
    }

    /// The HTTP status STS answers this code with.
    pub fn status(self) -> u16 {
        match self {
            Self::IncompleteSignature | Self::InvalidAction => 400,
            Self::MissingAuthenticationToken
            | Self::InvalidClientTokenId
            | Self::SignatureDoesNotMatch => 403,
        }
    }
}

/// A refusal as STS words it: a code and STS's message.
///
/// The message never holds a signature or a secret; it may quote the caller's own scope or
/// time stamp, as STS does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the STS stand-in refused the request with {}", code.as_str())]
pub struct StsError {
    /// STS's error code.
    pub code: StsErrorCode,
    /// STS's message text.
    pub message: String,
}

impl StsError {
    /// An error with `code` and `message`.
    pub fn new(code: StsErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The 200 body of `GetCallerIdentity` for the development role's session, laid out as STS
/// lays it out.
pub fn caller_identity_document(request_id: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{STS_NAMESPACE}\">\n\
         \x20 <GetCallerIdentityResult>\n\
         \x20   <Arn>{DEV_CALLER_ARN}</Arn>\n\
         \x20   <UserId>{DEV_ROLE_UNIQUE_ID}:{DEV_SESSION_NAME}</UserId>\n\
         \x20   <Account>{DEV_ACCOUNT_ID}</Account>\n\
         \x20 </GetCallerIdentityResult>\n\
         \x20 <ResponseMetadata>\n\
         \x20   <RequestId>{}</RequestId>\n\
         \x20 </ResponseMetadata>\n\
         </GetCallerIdentityResponse>\n",
        escape(request_id)
    )
}

/// The body of an error answer, laid out as STS lays it out.
pub fn error_document(error: &StsError, request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{STS_NAMESPACE}\">\n\
         \x20 <Error>\n\
         \x20   <Type>Sender</Type>\n\
         \x20   <Code>{}</Code>\n\
         \x20   <Message>{}</Message>\n\
         \x20 </Error>\n\
         \x20 <RequestId>{}</RequestId>\n\
         </ErrorResponse>\n",
        error.code.as_str(),
        escape(&error.message),
        escape(request_id)
    )
}

/// A fresh request id in the 8-4-4-4-12 hex form STS uses.
pub fn new_request_id(random: &dyn SecureRandom) -> String {
    let mut bytes = [0_u8; 16];
    // A request id only has to look like one: should the system's generator fail, an id of
    // zeros serves as well as any.
    if random.fill(&mut bytes).is_err() {
        bytes = [0; 16];
    }
    let mut id = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        let _ = write!(id, "{byte:02x}");
    }
    id
}

/// Escapes text for an XML element's content. Quotes need no escaping there, and STS leaves
/// them as they are.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    #[test]
    fn the_caller_identity_document_has_sts_shape_and_values() {
        let document = caller_identity_document("c2a5fd31-3b0e-4a41-9b1f-1c9a1ea3f2b0");
        assert_eq!(
            document,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
             <GetCallerIdentityResult>\n    \
             <Arn>arn:aws:sts::000000000000:assumed-role/dev-service/dev-session</Arn>\n    \
             <UserId>AROADEVSERVICE0000000:dev-session</UserId>\n    \
             <Account>000000000000</Account>\n  \
             </GetCallerIdentityResult>\n  \
             <ResponseMetadata>\n    \
             <RequestId>c2a5fd31-3b0e-4a41-9b1f-1c9a1ea3f2b0</RequestId>\n  \
             </ResponseMetadata>\n\
             </GetCallerIdentityResponse>\n"
        );
    }

    #[test]
    fn the_error_document_has_sts_shape_and_escapes_its_text() {
        let error = StsError::new(
            StsErrorCode::SignatureDoesNotMatch,
            "Credential should be scoped to correct service: 'sts'.",
        );
        assert_eq!(
            error_document(&error, "r-1"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
             <Error>\n    \
             <Type>Sender</Type>\n    \
             <Code>SignatureDoesNotMatch</Code>\n    \
             <Message>Credential should be scoped to correct service: 'sts'.</Message>\n  \
             </Error>\n  \
             <RequestId>r-1</RequestId>\n\
             </ErrorResponse>\n"
        );
    }

    #[test]
    fn markup_in_a_message_is_escaped() {
        let error = StsError::new(StsErrorCode::InvalidAction, "a <b> & c");
        assert!(error_document(&error, "r").contains("<Message>a &lt;b&gt; &amp; c</Message>"));
    }

    #[test]
    fn every_code_has_sts_status() {
        use StsErrorCode::*;
        for (code, status) in [
            (MissingAuthenticationToken, 403),
            (IncompleteSignature, 400),
            (InvalidClientTokenId, 403),
            (SignatureDoesNotMatch, 403),
            (InvalidAction, 400),
        ] {
            assert_eq!(code.status(), status, "{}", code.as_str());
        }
    }

    #[test]
    fn request_ids_are_fresh_and_uuid_shaped() {
        let random = SystemRandom::new();
        let first = new_request_id(&random);
        let second = new_request_id(&random);
        assert_ne!(first, second);
        let groups: Vec<usize> = first.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(first.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
