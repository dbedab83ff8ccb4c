//! Rules 4 and 6: the forwarded request's headers. Only a small allowed set passes, each
//! header at most once, with a plain ASCII value; what passes is all that is ever forwarded.

use aws_lc_rs::digest;

use crate::wire::HeaderList;

use super::error::RequestError;

/// The most headers a forwarded request may carry. The allowed set has eight names.
const MAX_HEADERS: usize = 16;

/// The most bytes of header names and values together. A session token is the largest
/// value and stays well under this.
const MAX_HEADER_BYTES: usize = 8 * 1024;

/// A header a forwarded request may carry.
///
/// Declared in the order of [`AllowedHeader::ALL`], so that `header as usize` is the
/// header's slot in [`ForwardedHeaders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AllowedHeader {
    /// The SigV4 signature and its scope.
    Authorization,
    /// The body's media type.
    ContentType,
    /// The signing time.
    XAmzDate,
    /// The session token of temporary credentials.
    XAmzSecurityToken,
    /// The hex SHA-256 of the body.
    XAmzContentSha256,
    /// The internal-auth deployment the request was signed for.
    XInternalAuthServerId,
    /// The answer's media type.
    Accept,
    /// The host; checked against the URL, never forwarded (the STS client sets it).
    Host,
}

impl AllowedHeader {
    /// Every allowed header, in the order they are forwarded.
    const ALL: [AllowedHeader; 8] = [
        AllowedHeader::Authorization,
        AllowedHeader::ContentType,
        AllowedHeader::XAmzDate,
        AllowedHeader::XAmzSecurityToken,
        AllowedHeader::XAmzContentSha256,
        AllowedHeader::XInternalAuthServerId,
        AllowedHeader::Accept,
        AllowedHeader::Host,
    ];

    /// The name as it is forwarded.
    pub(super) fn canonical_name(self) -> &'static str {
        match self {
            AllowedHeader::Authorization => "Authorization",
            AllowedHeader::ContentType => "Content-Type",
            AllowedHeader::XAmzDate => "X-Amz-Date",
            AllowedHeader::XAmzSecurityToken => "X-Amz-Security-Token",
            AllowedHeader::XAmzContentSha256 => "X-Amz-Content-Sha256",
            AllowedHeader::XInternalAuthServerId => "X-Internal-Auth-Server-Id",
            AllowedHeader::Accept => "Accept",
            AllowedHeader::Host => "Host",
        }
    }

    /// The allowed header called `name`, compared case-insensitively as HTTP does.
    fn named(name: &str) -> Option<AllowedHeader> {
        AllowedHeader::ALL
            .into_iter()
            .find(|header| header.canonical_name().eq_ignore_ascii_case(name))
    }

    /// The allowed header whose lower-case name (as written in `SignedHeaders`) is `name`.
    pub(super) fn signed_as(name: &str) -> Option<AllowedHeader> {
        AllowedHeader::ALL.into_iter().find(|header| {
            let canonical = header.canonical_name();
            canonical.len() == name.len()
                && canonical
                    .bytes()
                    .zip(name.bytes())
                    .all(|(c, n)| c.to_ascii_lowercase() == n)
        })
    }
}

/// The allowed headers of a request that passed rule 6, each present at most once.
///
/// It has no `Debug`: its values include the signature and the session token.
pub(super) struct ForwardedHeaders<'a> {
    values: [Option<&'a str>; AllowedHeader::ALL.len()],
}

impl<'a> ForwardedHeaders<'a> {
    /// The value of `header`, if the request has it.
    pub(super) fn get(&self, header: AllowedHeader) -> Option<&'a str> {
        self.values[header as usize]
    }

    /// The headers to forward, under their canonical names: every present one but `Host`.
    pub(super) fn forwardable(&self) -> impl Iterator<Item = (&'static str, &'a str)> + '_ {
        AllowedHeader::ALL
            .into_iter()
            .filter(|header| *header != AllowedHeader::Host)
            .filter_map(|header| Some((header.canonical_name(), self.get(header)?)))
    }
}

/// Rule 4: every `Host` header equals the URL's host.
///
/// Defends against a request whose signed `Host` differs from where it is sent: STS would
/// check the signature against one host while this service allow-listed another.
pub(super) fn check_host_header(
    unverified_headers: &HeaderList,
    host: &str,
) -> Result<(), RequestError> {
    let host_values = unverified_headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| value);
    for unverified_host in host_values {
        if unverified_host != host {
            return Err(RequestError::HostHeaderMismatch);
        }
    }
    Ok(())
}

/// Rule 6: a bounded number of allowed headers, each once, with plain values; a
/// `Content-Type` that keeps STS on its query protocol and an `X-Amz-Content-Sha256` that
/// matches the body.
///
/// Defends against smuggling through headers: another header could pick another STS action
/// (`X-Amz-Target`) or protocol, a duplicate could be read one way here and another way by
/// STS, and CR or LF could split the outbound request. Rebuilding the request from these
/// values only means nothing else the caller sent ever leaves the service.
pub(super) fn check_headers<'a>(
    unverified_headers: &'a HeaderList,
    unverified_body: &str,
) -> Result<ForwardedHeaders<'a>, RequestError> {
    if unverified_headers.len() > MAX_HEADERS {
        return Err(RequestError::TooManyHeaders);
    }
    let total_bytes: usize = unverified_headers
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if total_bytes > MAX_HEADER_BYTES {
        return Err(RequestError::HeadersTooLarge);
    }

    let mut headers = ForwardedHeaders {
        values: [None; AllowedHeader::ALL.len()],
    };
    for (unverified_name, unverified_value) in unverified_headers.iter() {
        if unverified_name.is_empty() || !unverified_name.bytes().all(is_token_byte) {
            return Err(RequestError::InvalidHeaderName);
        }
        let header = AllowedHeader::named(unverified_name).ok_or(RequestError::HeaderNotAllowed)?;
        let slot = &mut headers.values[header as usize];
        if slot.is_some() {
            return Err(RequestError::DuplicateHeader(header.canonical_name()));
        }
        if !unverified_value
            .bytes()
            .all(|byte| (0x20..=0x7E).contains(&byte))
        {
            return Err(RequestError::InvalidHeaderValue(header.canonical_name()));
        }
        *slot = Some(unverified_value);
    }

    let content_type = headers.get(AllowedHeader::ContentType);
    if content_type.is_some_and(|value| !is_form_content_type(value)) {
        return Err(RequestError::InvalidContentType);
    }
    let content_sha256 = headers.get(AllowedHeader::XAmzContentSha256);
    if content_sha256.is_some_and(|value| value.as_bytes() != lower_hex_sha256(unverified_body)) {
        return Err(RequestError::ContentSha256Mismatch);
    }
    Ok(headers)
}

/// Whether `byte` may appear in an HTTP header name (RFC 9110 `tchar`).
pub(super) fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether `value` is the form media type, which makes STS read the request with its query
/// protocol: `application/x-www-form-urlencoded`, optionally with `; charset=utf-8`.
fn is_form_content_type(value: &str) -> bool {
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    const CHARSET: &[u8] = b"; charset=utf-8";

    let value = value.as_bytes();
    let Some((media_type, parameters)) = value.split_at_checked(FORM.len()) else {
        return false;
    };
    media_type.eq_ignore_ascii_case(FORM)
        && (parameters.is_empty() || parameters.eq_ignore_ascii_case(CHARSET))
}

/// The lower-case hex SHA-256 of `body`, on the stack.
fn lower_hex_sha256(body: &str) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";

    let digest = digest::digest(&digest::SHA256, body.as_bytes());
    let mut hex = [0u8; 64];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.as_ref()) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0F)];
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_that_keep_the_query_protocol_are_accepted() {
        for value in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-8",
            "Application/X-WWW-Form-Urlencoded; Charset=UTF-8",
        ] {
            assert!(is_form_content_type(value), "{value}");
        }
        for value in [
            "",
            "application/json",
            "application/x-amz-json-1.1",
            "application/x-www-form-urlencoded;",
            "application/x-www-form-urlencoded; charset=latin1",
            "application/x-www-form-urlencoded, application/json",
            "application/x-www-form-urlencoded;charset=utf-8; x=y",
            "application/x-www-form-urlencodedx",
        ] {
            assert!(!is_form_content_type(value), "{value}");
        }
    }

    #[test]
    fn the_body_hash_is_lower_case_hex_sha256() {
        // The SHA-256 of the empty string, as published in FIPS 180-2 test vectors.
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(&lower_hex_sha256(""), empty.as_bytes());
    }

    #[test]
    fn signed_header_names_map_to_allowed_headers() {
        assert_eq!(
            AllowedHeader::signed_as("x-internal-auth-server-id"),
            Some(AllowedHeader::XInternalAuthServerId)
        );
        assert_eq!(AllowedHeader::signed_as("host"), Some(AllowedHeader::Host));
        assert_eq!(AllowedHeader::signed_as("Host"), None);
        assert_eq!(AllowedHeader::signed_as("x-amz-target"), None);
    }
}
