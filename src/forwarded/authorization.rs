//! Rule 7: the `Authorization` header is one SigV4 credential for STS, scoped to the host's
//! region and the signing date, whose `SignedHeaders` cover the host.
//!
//! The header is read against the exact form every AWS SDK writes:
//! `AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/sts/aws4_request,
//! SignedHeaders=<names>, Signature=<64 hex>`, with or without one space after each comma.
//! The signature itself is verified by STS, not here.

use super::error::RequestError;
use super::headers::{AllowedHeader, ForwardedHeaders, is_token_byte};

/// The only signing algorithm accepted.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The service the credential scope must name.
const SERVICE: &str = "sts";

/// The fixed last part of every SigV4 credential scope.
const SCOPE_TERMINATOR: &str = "aws4_request";

/// A well-formed `Authorization` header, its parts borrowed from the header value.
#[derive(PartialEq, Eq)]
pub(super) struct Authorization<'a> {
    /// The access key id: 16 to 128 upper-case letters and digits.
    pub(super) access_key_id: &'a str,
    /// The credential scope's date, eight digits `yyyymmdd`.
    pub(super) scope_date: &'a str,
    /// The credential scope's region.
    pub(super) region: &'a str,
    /// `SignedHeaders`: distinct lower-case names joined by `;`, sorted.
    pub(super) signed_headers: &'a str,
    /// The decoded signature.
    pub(super) signature: [u8; 32],
}

impl std::fmt::Debug for Authorization<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"[redacted]")
            .finish()
    }
}

impl<'a> Authorization<'a> {
    /// Reads `unverified` against the strict grammar; nothing is checked against the
    /// request yet.
    pub(super) fn parse(unverified: &'a str) -> Result<Self, RequestError> {
        let (algorithm, parts) = unverified
            .split_once(' ')
            .ok_or(RequestError::MalformedAuthorization)?;
        if algorithm != ALGORITHM {
            return Err(RequestError::UnsupportedAlgorithm);
        }

        // Each part is taken by its exact prefix, in the one order SDKs write them, so a
        // second `Credential=` or any extra part can only make the match fail.
        let (credential, rest) = parts
            .strip_prefix("Credential=")
            .and_then(|rest| rest.split_once(','))
            .ok_or(RequestError::MalformedAuthorization)?;
        let (signed_headers, rest) = skip_one_space(rest)
            .strip_prefix("SignedHeaders=")
            .and_then(|rest| rest.split_once(','))
            .ok_or(RequestError::MalformedAuthorization)?;
        let signature = skip_one_space(rest)
            .strip_prefix("Signature=")
            .ok_or(RequestError::MalformedAuthorization)?;

        let mut scope = credential.split('/');
        let (
            Some(access_key_id),
            Some(scope_date),
            Some(region),
            Some(service),
            Some(terminator),
            None,
        ) = (
            scope.next(),
            scope.next(),
            scope.next(),
            scope.next(),
            scope.next(),
            scope.next(),
        )
        else {
            return Err(RequestError::MalformedAuthorization);
        };

        if !is_access_key_id(access_key_id) {
            return Err(RequestError::InvalidAccessKeyId);
        }
        if scope_date.len() != 8 || !scope_date.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(RequestError::MalformedAuthorization);
        }
        if region.is_empty() {
            return Err(RequestError::MalformedAuthorization);
        }
        if service != SERVICE {
            return Err(RequestError::ServiceNotSts);
        }
        if terminator != SCOPE_TERMINATOR {
            return Err(RequestError::MalformedAuthorization);
        }
        if !is_canonical_signed_headers(signed_headers) {
            return Err(RequestError::SignedHeadersNotCanonical);
        }
        let signature = decode_signature(signature).ok_or(RequestError::MalformedAuthorization)?;

        Ok(Authorization {
            access_key_id,
            scope_date,
            region,
            signed_headers,
            signature,
        })
    }

    /// Whether `SignedHeaders` names `lower_case_name`.
    pub(super) fn signs(&self, lower_case_name: &str) -> bool {
        self.signed_headers
            .split(';')
            .any(|name| name == lower_case_name)
    }
}

/// Rule 7: one well-formed SigV4 credential for STS, scoped to the host's region and to
/// the `X-Amz-Date` day, signing `host` and only headers the request has.
///
/// Defends against a credential meant for another service or region being passed off, and
/// against a signature over headers this service does not forward (STS would then see a
/// different request from the one that was signed, or one this service never checked).
pub(super) fn check_authorization<'a>(
    headers: &ForwardedHeaders<'a>,
    host_region: &str,
) -> Result<Authorization<'a>, RequestError> {
    let unverified = headers
        .get(AllowedHeader::Authorization)
        .ok_or(RequestError::MissingAuthorization)?;
    let authorization = Authorization::parse(unverified)?;

    if authorization.region != host_region {
        return Err(RequestError::RegionMismatch);
    }

    // A missing or malformed X-Amz-Date is rule 9's to report; here only its day counts.
    let date_day = headers
        .get(AllowedHeader::XAmzDate)
        .and_then(|date| date.get(..8));
    if date_day.is_some_and(|day| day != authorization.scope_date) {
        return Err(RequestError::ScopeDateMismatch);
    }

    if !authorization.signs("host") {
        return Err(RequestError::HostNotSigned);
    }
    // `host` is always present: the STS client sends the URL's host.
    let every_signed_header_present = authorization.signed_headers.split(';').all(|name| {
        AllowedHeader::signed_as(name)
            .is_some_and(|header| header == AllowedHeader::Host || headers.get(header).is_some())
    });
    if !every_signed_header_present {
        return Err(RequestError::SignedHeaderAbsent);
    }
    Ok(authorization)
}

/// AWS SDKs write `, ` between the parts; a bare `,` is accepted too.
fn skip_one_space(rest: &str) -> &str {
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// Whether `value` looks like an AWS access key id: 16 to 128 upper-case letters and digits.
fn is_access_key_id(value: &str) -> bool {
    (16..=128).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
}

/// Whether `value` is how SigV4 writes `SignedHeaders`: non-empty lower-case header names,
/// joined by `;`, strictly increasing (so sorted and without duplicates).
fn is_canonical_signed_headers(value: &str) -> bool {
    let mut previous: Option<&str> = None;
    for name in value.split(';') {
        let is_lower_case_token = !name.is_empty()
            && name
                .bytes()
                .all(|byte| !byte.is_ascii_uppercase() && is_token_byte(byte));
        if !is_lower_case_token || previous.is_some_and(|previous| previous >= name) {
            return false;
        }
        previous = Some(name);
    }
    true
}

/// The 32 bytes of a signature written as exactly 64 lower-case hex digits.
fn decode_signature(hex: &str) -> Option<[u8; 32]> {
    fn nibble(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            _ => None,
        }
    }

    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut signature = [0u8; 32];
    for (byte, pair) in signature.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(signature)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SIGNATURE: &str = "4d1f0e6c0b8f2a9a3c5b7d9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c";

    fn header(credential: &str, signed_headers: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, \
             Signature={signature}"
        )
    }

    /// The header written back from its parts, with `separator` after each comma.
    fn serialise(authorization: &Authorization<'_>, separator: &str) -> String {
        let signature: String = authorization
            .signature
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/sts/aws4_request,{separator}SignedHeaders={},\
             {separator}Signature={signature}",
            authorization.access_key_id,
            authorization.scope_date,
            authorization.region,
            authorization.signed_headers,
        )
    }

    #[test]
    fn an_sdk_style_header_is_read_into_its_parts() {
        let value = header(
            "AKIAIOSFODNN7EXAMPLE/20261203/eu-central-1/sts/aws4_request",
            "host;x-amz-date",
            SIGNATURE,
        );
        let authorization = Authorization::parse(&value).expect("well formed");
        assert_eq!(authorization.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(authorization.scope_date, "20261203");
        assert_eq!(authorization.region, "eu-central-1");
        assert_eq!(authorization.signed_headers, "host;x-amz-date");
        assert_eq!(authorization.signature[..2], [0x4d, 0x1f]);
        assert_eq!(serialise(&authorization, " "), value);
        assert!(authorization.signs("host"));
        assert!(!authorization.signs("x-amz"));
    }

    #[test]
    fn commas_without_a_space_are_accepted() {
        let value = header(
            "AKIAIOSFODNN7EXAMPLE/20261203/eu-central-1/sts/aws4_request",
            "host",
            SIGNATURE,
        )
        .replace(", ", ",");
        assert!(Authorization::parse(&value).is_ok());
    }

    #[test]
    fn malformed_headers_are_refused_with_their_reason() {
        use RequestError::{
            InvalidAccessKeyId as BadKeyId, MalformedAuthorization as Malformed,
            ServiceNotSts as NotSts, SignedHeadersNotCanonical as NotCanonical,
            UnsupportedAlgorithm as Unsupported,
        };

        let scope = "AKIAIOSFODNN7EXAMPLE/20261203/eu-central-1/sts/aws4_request";
        let good = header(scope, "host", SIGNATURE);
        let with = |from: &str, to: &str| good.replacen(from, to, 1);
        let signed = |names: &str| with("SignedHeaders=host", &format!("SignedHeaders={names}"));
        let signature = |hex: &str| with(SIGNATURE, hex);
        let key_id = |id: &str| with("AKIAIOSFODNN7EXAMPLE", id);

        for (value, expected) in [
            (String::new(), Malformed),
            ("AWS4-HMAC-SHA256".into(), Malformed),
            (
                with("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
                Unsupported,
            ),
            (with("AWS4-HMAC-SHA256", "aws4-hmac-sha256"), Unsupported),
            (format!("Bearer {good}"), Unsupported),
            (with(" ", "  "), Malformed),
            (good.replace(", ", ",  "), Malformed),
            (good.replace(", ", " ,"), Malformed),
            (format!("{good},"), Malformed),
            (format!("{good} "), Malformed),
            (
                with("Credential=", &format!("Credential={scope}, Credential=")),
                Malformed,
            ),
            (with("Signature=", "Signature=aa, Signature="), Malformed),
            (
                format!(
                    "AWS4-HMAC-SHA256 SignedHeaders=host, Credential={scope}, \
                     Signature={SIGNATURE}"
                ),
                Malformed,
            ),
            (with("Credential=", "credential="), Malformed),
            (with("/aws4_request", "/aws4_request/x"), Malformed),
            (with("/aws4_request", ""), Malformed),
            (with("aws4_request", "aws4_requesT"), Malformed),
            (with("20261203", "2026123"), Malformed),
            (with("20261203", "2026-12-3"), Malformed),
            (with("eu-central-1", ""), Malformed),
            (key_id(""), BadKeyId),
            (key_id("AKIA123"), BadKeyId),
            (key_id("akiaiosfodnn7example"), BadKeyId),
            (key_id(&"A".repeat(129)), BadKeyId),
            (with("/sts/", "/iam/"), NotSts),
            (with("/sts/", "/STS/"), NotSts),
            (signed(""), NotCanonical),
            (signed("Host"), NotCanonical),
            (signed("x-amz-date;host"), NotCanonical),
            (signed("host;host"), NotCanonical),
            (signed("host;"), NotCanonical),
            (signed("host x"), NotCanonical),
            (signature(&SIGNATURE.to_uppercase()), Malformed),
            (signature(&SIGNATURE[..62]), Malformed),
            (signature(&format!("{SIGNATURE}00")), Malformed),
            (signature(&SIGNATURE.replace('a', "g")), Malformed),
        ] {
            assert_eq!(Authorization::parse(&value), Err(expected), "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn an_accepted_header_writes_back_to_itself(unverified in ".*") {
            if let Ok(authorization) = Authorization::parse(&unverified) {
                prop_assert!(
                    serialise(&authorization, " ") == unverified
                        || serialise(&authorization, "") == unverified
                );
            }
        }

        #[test]
        fn near_misses_are_accepted_only_when_well_formed(
            unverified in "AWS4-HMAC-SHA256 Credential=[A-Z0-9a]{14,18}/[0-9]{7,9}/[a-z0-9/-]{0,12}\
                           /(sts|iam)/aws4_request, ?SignedHeaders=[a-z;-]{0,12}, ?\
                           Signature=[0-9a-fA]{63,65}"
        ) {
            if let Ok(authorization) = Authorization::parse(&unverified) {
                prop_assert!(
                    serialise(&authorization, " ") == unverified
                        || serialise(&authorization, "") == unverified
                );
                prop_assert!(is_access_key_id(authorization.access_key_id));
                prop_assert!(is_canonical_signed_headers(authorization.signed_headers));
            }
        }

        #[test]
        fn well_formed_headers_are_always_accepted(
            access_key_id in "[A-Z0-9]{16,128}",
            scope_date in "[0-9]{8}",
            region in "[a-z]{2}-[a-z]{4,9}-[0-9]",
            signed_headers in prop::sample::subsequence(
                vec!["content-type", "host", "x-amz-date", "x-internal-auth-server-id"], 1..=4),
            signature in prop::array::uniform32(any::<u8>()),
            separator in prop::sample::select(vec!["", " "]),
        ) {
            let signed_headers = signed_headers.join(";");
            let expected = Authorization {
                access_key_id: &access_key_id,
                scope_date: &scope_date,
                region: &region,
                signed_headers: &signed_headers,
                signature,
            };
            let value = serialise(&expected, separator);
            prop_assert_eq!(Authorization::parse(&value), Ok(expected));
        }
    }
}
