//! Every way a forwarded request can break a rule, with the HTTP status and the stable code
//! the caller sees. Messages name the rule or the header, never a value the caller sent.

/// Why a forwarded request was refused. Variants follow the rules' order.
///
/// No variant holds caller input, so a message can never echo a header value, a signature,
/// a credential or a session token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Rule 1: the method is not exactly `POST`.
    #[error("the forwarded request's method must be POST")]
    MethodNotPost,

    /// Rule 2: the URL is not exactly `https://<host>/`.
    #[error("the forwarded request's URL must be exactly https://<sts host>/: {0}")]
    MalformedUrl(UrlDefect),

    /// Rule 3: the URL is well formed but its host is not an allowed STS endpoint.
    #[error("the forwarded request's host is not an allowed STS endpoint")]
    HostNotAllowed,

    /// Rule 4: a `Host` header differs from the URL's host.
    #[error("the Host header must equal the URL's host")]
    HostHeaderMismatch,

    /// Rule 5: the body is longer than 1 KiB.
    #[error("the forwarded request's body is larger than 1 KiB")]
    BodyTooLarge,

    /// Rule 5: the body is not exactly the `GetCallerIdentity` call.
    #[error("the forwarded request's body must be Action=GetCallerIdentity&Version=2011-06-15")]
    BodyNotGetCallerIdentity,

    /// Rule 6: more than 16 headers.
    #[error("the forwarded request has more than 16 headers")]
    TooManyHeaders,

    /// Rule 6: header names and values together are longer than 8 KiB.
    #[error("the forwarded request's headers are larger than 8 KiB in total")]
    HeadersTooLarge,

    /// Rule 6: a header name is empty or holds a character HTTP does not allow in names.
    #[error("a header name is empty or not a valid HTTP token")]
    InvalidHeaderName,

    /// Rule 6: a header outside the allowed set was given.
    #[error(
        "only the headers Authorization, Content-Type, X-Amz-Date, X-Amz-Security-Token, \
         X-Amz-Content-Sha256, X-Internal-Auth-Server-Id, Accept and Host may be sent"
    )]
    HeaderNotAllowed,

    /// Rule 6: a header value holds a character outside printable ASCII (CR, LF, a control
    /// character or a non-ASCII character).
    #[error("the {0} header's value must be printable ASCII")]
    InvalidHeaderValue(&'static str),

    /// Rule 6: the same header was given twice (names are compared case-insensitively).
    #[error("the {0} header was given more than once")]
    DuplicateHeader(&'static str),

    /// Rule 6: `Content-Type` is not `application/x-www-form-urlencoded`, which would make
    /// STS read the request under another protocol.
    #[error("the Content-Type header must be application/x-www-form-urlencoded")]
    InvalidContentType,

    /// Rule 6: `X-Amz-Content-Sha256` is not the lower-case hex SHA-256 of the body.
    #[error("the X-Amz-Content-Sha256 header is not the SHA-256 of the body")]
    ContentSha256Mismatch,

    /// Rule 7: there is no `Authorization` header.
    #[error("the Authorization header is missing")]
    MissingAuthorization,

    /// Rule 7: the `Authorization` header does not start with `AWS4-HMAC-SHA256 `.
    #[error("the Authorization header must use AWS4-HMAC-SHA256")]
    UnsupportedAlgorithm,

    /// Rule 7: the `Authorization` header is not exactly `Credential=...,
    /// SignedHeaders=..., Signature=...` with a well-formed value in each part.
    #[error("the Authorization header is not a well-formed SigV4 authorization")]
    MalformedAuthorization,

    /// Rule 7: the access key id is not 16 to 128 upper-case letters and digits.
    #[error("the Authorization header's access key id is malformed")]
    InvalidAccessKeyId,

    /// Rule 7: the credential scope names another service than `sts`.
    #[error("the Authorization header's credential scope must name the service sts")]
    ServiceNotSts,

    /// Rule 7: the credential scope's region is not the region the host serves.
    #[error("the Authorization header's credential scope region does not match the host")]
    RegionMismatch,

    /// Rule 7: the credential scope's date is not the date of `X-Amz-Date`.
    #[error("the Authorization header's credential scope date does not match X-Amz-Date")]
    ScopeDateMismatch,

    /// Rule 7: `SignedHeaders` is not a sorted list of distinct lower-case names.
    #[error("SignedHeaders must list distinct lower-case header names in sorted order")]
    SignedHeadersNotCanonical,

    /// Rule 7: `SignedHeaders` does not name `host`, so the host could be changed.
    #[error("SignedHeaders must include host")]
    HostNotSigned,

    /// Rule 7: `SignedHeaders` names a header the request does not have.
    #[error("SignedHeaders names a header the request does not have")]
    SignedHeaderAbsent,

    /// Rule 8: there is no `X-Internal-Auth-Server-Id` header.
    #[error("the X-Internal-Auth-Server-Id header is missing")]
    ServerIdMissing,

    /// Rule 8: `X-Internal-Auth-Server-Id` names another deployment.
    #[error("the request was signed for another internal-auth deployment")]
    ServerIdMismatch,

    /// Rule 8: `X-Internal-Auth-Server-Id` is not in `SignedHeaders`, so anyone could set it.
    #[error("the X-Internal-Auth-Server-Id header must be named in SignedHeaders")]
    ServerIdNotSigned,

    /// Rule 9: there is no `X-Amz-Date` header.
    #[error("the X-Amz-Date header is missing")]
    MissingDate,

    /// Rule 9: `X-Amz-Date` is not a valid `yyyyMMddTHHmmssZ` time.
    #[error("the X-Amz-Date header must be a valid time of the form yyyyMMddTHHmmssZ")]
    MalformedDate,

    /// Rule 9: the request was signed more than 15 minutes ago.
    #[error("the signature is more than 15 minutes old")]
    StaleSignature,

    /// Rule 9: the request claims to be signed more than 5 minutes from now.
    #[error("the signature is dated more than 5 minutes in the future")]
    SignatureFromTheFuture,
}

impl RequestError {
    /// The HTTP status to answer with: 401 when the server id or the signature's time is
    /// wrong (the caller's credentials are not good for this deployment now), else 400.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::ServerIdMissing
            | RequestError::ServerIdMismatch
            | RequestError::ServerIdNotSigned
            | RequestError::StaleSignature
            | RequestError::SignatureFromTheFuture => 401,
            _ => 400,
        }
    }

    /// The stable snake_case code for the JSON error answer.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::MethodNotPost => "method_not_post",
            RequestError::MalformedUrl(_) => "malformed_url",
            RequestError::HostNotAllowed => "host_not_allowed",
            RequestError::HostHeaderMismatch => "host_header_mismatch",
            RequestError::BodyTooLarge => "body_too_large",
            RequestError::BodyNotGetCallerIdentity => "body_not_get_caller_identity",
            RequestError::TooManyHeaders => "too_many_headers",
            RequestError::HeadersTooLarge => "headers_too_large",
            RequestError::InvalidHeaderName => "invalid_header_name",
            RequestError::HeaderNotAllowed => "header_not_allowed",
            RequestError::InvalidHeaderValue(_) => "invalid_header_value",
            RequestError::DuplicateHeader(_) => "duplicate_header",
            RequestError::InvalidContentType => "invalid_content_type",
            RequestError::ContentSha256Mismatch => "content_sha256_mismatch",
            RequestError::MissingAuthorization => "missing_authorization",
            RequestError::UnsupportedAlgorithm => "unsupported_algorithm",
            RequestError::MalformedAuthorization => "malformed_authorization",
            RequestError::InvalidAccessKeyId => "invalid_access_key_id",
            RequestError::ServiceNotSts => "service_not_sts",
            RequestError::RegionMismatch => "region_mismatch",
            RequestError::ScopeDateMismatch => "scope_date_mismatch",
            RequestError::SignedHeadersNotCanonical => "signed_headers_not_canonical",
            RequestError::HostNotSigned => "host_not_signed",
            RequestError::SignedHeaderAbsent => "signed_header_absent",
            RequestError::ServerIdMissing => "server_id_missing",
            RequestError::ServerIdMismatch => "server_id_mismatch",
            RequestError::ServerIdNotSigned => "server_id_not_signed",
            RequestError::MissingDate => "missing_date",
            RequestError::MalformedDate => "malformed_date",
            RequestError::StaleSignature => "stale_signature",
            RequestError::SignatureFromTheFuture => "signature_from_the_future",
        }
    }
}

/// What is wrong with a URL that is not exactly `https://<host>/` (rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlDefect {
    /// The scheme is not exactly `https` (for example `http`, or `HTTPS`).
    #[error("the scheme must be https")]
    NotHttps,
    /// The URL holds a space, a tab or another control character.
    #[error("it must not hold whitespace or control characters")]
    Whitespace,
    /// The URL holds a character outside ASCII.
    #[error("it must be ASCII")]
    NonAscii,
    /// The URL holds a backslash, which some parsers read as a slash.
    #[error("it must not hold a backslash")]
    Backslash,
    /// The URL holds percent-encoding.
    #[error("it must not be percent-encoded")]
    PercentEncoding,
    /// The URL has user info (`user@host`).
    #[error("it must not have user info")]
    UserInfo,
    /// The URL has a port, even the default one.
    #[error("it must not have a port")]
    Port,
    /// The URL has no host.
    #[error("the host is empty")]
    EmptyHost,
    /// The host is an IP address.
    #[error("the host must be a name, not an IP address")]
    IpLiteral,
    /// The host holds an upper-case letter.
    #[error("the host must be lower-case")]
    UpperCase,
    /// The host ends with a dot.
    #[error("the host must not end with a dot")]
    TrailingDot,
    /// The host holds a character other than a lower-case letter, a digit, `-` or `.`.
    #[error("the host holds a character not allowed in a host name")]
    InvalidHostCharacter,
    /// The path is not exactly `/`.
    #[error("the path must be /")]
    Path,
    /// The URL has a query.
    #[error("it must not have a query")]
    Query,
    /// The URL has a fragment.
    #[error("it must not have a fragment")]
    Fragment,
}
