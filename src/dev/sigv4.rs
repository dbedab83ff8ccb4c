//! Plain Signature Version 4, with no STS policy: reading an `Authorization` header and
//! recomputing the signature a request should carry. The stand-in's checks in
//! [`super::verify`] build on these; AWS's published test vectors check them here.
//!
//! The signature itself is computed by aws-sigv4. It always puts `host` and `x-amz-date` into
//! the canonical request, so [`compute_signature`] reports the header list it really signed
//! and callers must compare it with the one the request claims.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::amz_date::AmzDate;
use crate::secret::Secret;

/// The only algorithm SigV4 header authentication names.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every SigV4 credential scope.
const SCOPE_TERMINATOR: &str = "aws4_request";

/// The parts of an `AWS4-HMAC-SHA256` `Authorization` header, borrowed from it.
///
/// Nothing in it is verified: it says what the sender claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key id that claims to have signed.
    pub access_key_id: &'a str,
    /// The credential scope the signature claims.
    pub scope: CredentialScope<'a>,
    /// The `SignedHeaders` list exactly as written: `;`-separated header names.
    pub signed_headers: &'a str,
    /// The claimed signature, hex. Never log it.
    pub signature: Secret<&'a str>,
}

/// A credential scope: `yyyyMMdd/region/service/aws4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// The day, `yyyyMMdd`.
    pub date: &'a str,
    /// The region the request was signed for.
    pub region: &'a str,
    /// The service the request was signed for.
    pub service: &'a str,
}

/// Why an `Authorization` header is not a well-formed SigV4 header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// The header does not start with `AWS4-HMAC-SHA256 `.
    #[error("the authorization header does not use the AWS4-HMAC-SHA256 algorithm")]
    UnsupportedAlgorithm,
    /// A `Credential`, `SignedHeaders` or `Signature` parameter is missing.
    #[error("the authorization header has no {0} parameter")]
    MissingParameter(&'static str),
    /// A parameter is given twice.
    #[error("the authorization header gives the {0} parameter twice")]
    DuplicateParameter(&'static str),
    /// A part of the header is not one of the three parameters.
    #[error("the authorization header holds something other than its three parameters")]
    UnknownParameter,
    /// The credential is not `key/yyyyMMdd/region/service/aws4_request` with no empty part.
    #[error("the credential is not of the form key/date/region/service/aws4_request")]
    MalformedCredential,
}

/// Reads an `Authorization` header of the form
/// `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
/// Signature=HEX`. The three parameters may come in any order, each exactly once.
pub fn parse_authorization(unverified: &str) -> Result<Authorization<'_>, AuthorizationError> {
    let parameters = unverified
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(AuthorizationError::UnsupportedAlgorithm)?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for parameter in parameters.split(',') {
        let (name, value) = parameter
            .trim_matches(' ')
            .split_once('=')
            .ok_or(AuthorizationError::UnknownParameter)?;
        let (slot, name) = match name {
            "Credential" => (&mut credential, "Credential"),
            "SignedHeaders" => (&mut signed_headers, "SignedHeaders"),
            "Signature" => (&mut signature, "Signature"),
            _ => return Err(AuthorizationError::UnknownParameter),
        };
        if slot.replace(value).is_some() {
            return Err(AuthorizationError::DuplicateParameter(name));
        }
    }

    let credential = credential.ok_or(AuthorizationError::MissingParameter("Credential"))?;
    let signed_headers = signed_headers
        .filter(|list| !list.is_empty())
        .ok_or(AuthorizationError::MissingParameter("SignedHeaders"))?;
    let signature = signature
        .filter(|hex| !hex.is_empty())
        .ok_or(AuthorizationError::MissingParameter("Signature"))?;

    let mut elements = credential.split('/');
    let mut next = || elements.next().filter(|element| !element.is_empty());
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(SCOPE_TERMINATOR)) =
        (next(), next(), next(), next(), next())
    else {
        return Err(AuthorizationError::MalformedCredential);
    };
    if next().is_some() {
        return Err(AuthorizationError::MalformedCredential);
    }

    Ok(Authorization {
        access_key_id,
        scope: CredentialScope {
            date,
            region,
            service,
        },
        signed_headers,
        signature: Secret::new(signature),
    })
}

/// A request as SigV4 sees it: the parts the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedParts<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The absolute URI, already percent-encoded: `https://host/path?query`.
    pub uri: &'a str,
    /// The headers the signature covers, and only those; `host` and `x-amz-date` included.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, hashed into the canonical request.
    pub body: &'a [u8],
}

/// What [`compute_signature`] produced.
#[derive(Debug)]
pub struct ComputedSignature {
    /// The signature, lower-case hex.
    pub signature: Secret<String>,
    /// The `SignedHeaders` list of the canonical request the signature covers.
    pub signed_headers: String,
}

/// Why a signature could not be computed for a request.
#[derive(Debug, thiserror::Error)]
#[error("no SigV4 signature can be computed for this request")]
pub struct UncomputableSignature {
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

fn uncomputable(
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> UncomputableSignature {
    UncomputableSignature {
        source: source.into(),
    }
}

/// Computes the SigV4 signature of `request` for `scope` at `time` with `secret_access_key`:
/// canonical request, string to sign, derived key, HMAC.
///
/// `time` is the request's `X-Amz-Date`. aws-sigv4 derives the scope's day from it, so a
/// scope naming another day cannot be signed for and is an error.
pub fn compute_signature(
    request: &SignedParts<'_>,
    scope: &CredentialScope<'_>,
    time: SystemTime,
    secret_access_key: &Secret<String>,
) -> Result<ComputedSignature, UncomputableSignature> {
    if AmzDate::from_system_time(time).day() != scope.date {
        return Err(uncomputable(
            "the credential scope names another day than the time",
        ));
    }

    // The access key id is not part of the signature; aws-sigv4 only writes it into the
    // Authorization header it builds, which is read here for its SignedHeaders list alone.
    let identity = Credentials::new(
        "verifier",
        secret_access_key.expose().as_str(),
        None,
        None,
        "internal-auth-dev-sts",
    )
    .into();

    // Sign exactly the given headers: the default settings leave out user-agent,
    // x-amzn-trace-id and others, which a caller may well have signed.
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;

    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(uncomputable)?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.uri,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(uncomputable)?;

    let (instructions, signature) = sign(signable, &params).map_err(uncomputable)?.into_parts();
    let authorization = instructions
        .headers()
        .find_map(|(name, value)| name.eq_ignore_ascii_case("authorization").then_some(value))
        .ok_or_else(|| uncomputable("aws-sigv4 wrote no authorization header"))?;
    let signed_headers = parse_authorization(authorization)
        .map_err(uncomputable)?
        .signed_headers
        .to_owned();

    Ok(ComputedSignature {
        signature: Secret::new(signature),
        signed_headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// The scope and time of every case in AWS's SigV4 test suite.
    fn suite_scope() -> (CredentialScope<'static>, SystemTime) {
        let scope = CredentialScope {
            date: "20150830",
            region: "us-east-1",
            service: "service",
        };
        let time = AmzDate::parse("20150830T123600Z").unwrap().to_system_time();
        (scope, time)
    }

    fn suite_signature(request: SignedParts<'_>) -> ComputedSignature {
        let (scope, time) = suite_scope();
        compute_signature(&request, &scope, time, &Secret::new(EXAMPLE_SECRET.into())).unwrap()
    }

    // The cases below are from AWS's SigV4 test suite (aws-c-auth's aws-signing-test-suite,
    // v4/<case>/header-signature.txt), header-signed variants.

    #[test]
    fn get_vanilla_matches_the_published_signature() {
        let computed = suite_signature(SignedParts {
            method: "GET",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: b"",
        });
        assert_eq!(
            computed.signature.expose(),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(computed.signed_headers, "host;x-amz-date");
    }

    #[test]
    fn post_vanilla_matches_the_published_signature() {
        let computed = suite_signature(SignedParts {
            method: "POST",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            body: b"",
        });
        assert_eq!(
            computed.signature.expose(),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn post_x_www_form_urlencoded_matches_the_published_signature() {
        let computed = suite_signature(SignedParts {
            method: "POST",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Host", "example.amazonaws.com"),
                ("Content-Length", "13"),
                ("X-Amz-Date", "20150830T123600Z"),
                (
                    "x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                ),
            ],
            body: b"Param1=value1",
        });
        assert_eq!(
            computed.signature.expose(),
            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"
        );
        assert_eq!(
            computed.signed_headers,
            "content-length;content-type;host;x-amz-content-sha256;x-amz-date"
        );
    }

    #[test]
    fn post_header_key_sort_matches_the_published_signature() {
        let computed = suite_signature(SignedParts {
            method: "POST",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("My-Header1", "value1"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            body: b"",
        });
        assert_eq!(
            computed.signature.expose(),
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"
        );
    }

    #[test]
    fn get_header_value_trim_matches_the_published_signature() {
        let computed = suite_signature(SignedParts {
            method: "GET",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("My-Header1", " value1"),
                ("My-Header2", " \"a   b   c\""),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            body: b"",
        });
        assert_eq!(
            computed.signature.expose(),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
    }

    #[test]
    fn a_scope_naming_another_day_than_the_time_cannot_be_signed_for() {
        let (mut scope, time) = suite_scope();
        scope.date = "20150831";
        let request = SignedParts {
            method: "GET",
            uri: "https://example.amazonaws.com/",
            headers: &[("host", "example.amazonaws.com")],
            body: b"",
        };
        let secret = Secret::new(EXAMPLE_SECRET.to_owned());
        assert!(compute_signature(&request, &scope, time, &secret).is_err());
    }

    #[test]
    fn headers_the_default_settings_leave_out_are_signed_when_given() {
        let computed = suite_signature(SignedParts {
            method: "POST",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("user-agent", "test"),
                ("x-amz-date", "20150830T123600Z"),
                (
                    "x-amzn-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793",
                ),
            ],
            body: b"",
        });
        assert_eq!(
            computed.signed_headers,
            "host;user-agent;x-amz-date;x-amzn-trace-id"
        );
    }

    #[test]
    fn the_suite_authorization_header_is_read_into_its_parts() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/\
                      aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73e\
                      bf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let authorization = parse_authorization(header).unwrap();
        assert_eq!(authorization.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            authorization.scope,
            CredentialScope {
                date: "20150830",
                region: "us-east-1",
                service: "service"
            }
        );
        assert_eq!(authorization.signed_headers, "host;x-amz-date");
        assert_eq!(
            *authorization.signature.expose(),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(format!("{authorization:?}").matches("5fa00fa3").count(), 0);
    }

    #[test]
    fn parameters_may_come_in_any_order_with_or_without_spaces() {
        let header =
            "AWS4-HMAC-SHA256 Signature=ab,SignedHeaders=host,Credential=K/D/R/S/aws4_request";
        let authorization = parse_authorization(header).unwrap();
        assert_eq!(authorization.access_key_id, "K");
        assert_eq!(authorization.signed_headers, "host");
    }

    #[test]
    fn malformed_authorization_headers_are_refused_with_the_reason() {
        use AuthorizationError::*;
        let good_credential = "Credential=K/20150830/us-east-1/sts/aws4_request";
        let cases: &[(&str, AuthorizationError)] = &[
            ("", UnsupportedAlgorithm),
            ("AWS4-HMAC-SHA256", UnsupportedAlgorithm),
            ("AWS4-HMAC-SHA512 Credential=K", UnsupportedAlgorithm),
            ("aws4-hmac-sha256 Credential=K", UnsupportedAlgorithm),
            ("AWS4-HMAC-SHA256 ", UnknownParameter),
            ("AWS4-HMAC-SHA256 Credential", UnknownParameter),
            (
                "AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, Other=1",
                UnknownParameter,
            ),
            (
                "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab",
                MissingParameter("Credential"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, Signature=ab",
                MissingParameter("SignedHeaders"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=host",
                MissingParameter("Signature"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=, Signature=ab",
                MissingParameter("SignedHeaders"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=host, Signature=",
                MissingParameter("Signature"),
            ),
            (
                "AWS4-HMAC-SHA256 Signature=ab, Signature=ab",
                DuplicateParameter("Signature"),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                parse_authorization(header).as_ref(),
                Err(expected),
                "{header}"
            );
        }

        for credential in [
            "Credential=K/20150830/us-east-1/sts",
            "Credential=K/20150830/us-east-1/sts/aws4_request/extra",
            "Credential=K/20150830/us-east-1/sts/aws4_reques",
            "Credential=/20150830/us-east-1/sts/aws4_request",
            "Credential=K//us-east-1/sts/aws4_request",
            "Credential=K/20150830//sts/aws4_request",
            "Credential=K/20150830/us-east-1//aws4_request",
            "Credential=",
        ] {
            let header = format!("AWS4-HMAC-SHA256 {credential}, SignedHeaders=host, Signature=ab");
            assert_eq!(
                parse_authorization(&header),
                Err(MalformedCredential),
                "{header}"
            );
        }
        let good = format!("AWS4-HMAC-SHA256 {good_credential}, SignedHeaders=host, Signature=ab");
        assert!(parse_authorization(&good).is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_the_parser(text in "\\PC{0,200}") {
            let _ = parse_authorization(&text);
        }

        #[test]
        fn arbitrary_parameters_never_panic_and_parse_only_when_complete(
            parameters in "[A-Za-z=/,; _0-9-]{0,120}"
        ) {
            let header = format!("AWS4-HMAC-SHA256 {parameters}");
            if let Ok(authorization) = parse_authorization(&header) {
                prop_assert!(parameters.contains("Credential="));
                prop_assert!(parameters.contains("SignedHeaders="));
                prop_assert!(parameters.contains("Signature="));
                prop_assert!(parameters.contains("/aws4_request"));
                prop_assert!(!authorization.access_key_id.is_empty());
            }
        }

        #[test]
        fn well_formed_headers_read_back_their_parts(
            key in "[A-Z0-9]{1,20}",
            region in "[a-z0-9-]{1,15}",
            service in "[a-z0-9]{1,10}",
            headers in "[a-z-]{1,10}(;[a-z-]{1,10}){0,4}",
            signature in "[0-9a-f]{64}",
        ) {
            let header = format!(
                "AWS4-HMAC-SHA256 Credential={key}/20150830/{region}/{service}/aws4_request, \
                 SignedHeaders={headers}, Signature={signature}"
            );
            let authorization = parse_authorization(&header).unwrap();
            prop_assert_eq!(authorization.access_key_id, key.as_str());
            prop_assert_eq!(authorization.scope.region, region.as_str());
            prop_assert_eq!(authorization.scope.service, service.as_str());
            prop_assert_eq!(authorization.signed_headers, headers.as_str());
            prop_assert_eq!(*authorization.signature.expose(), signature.as_str());
        }
    }
}
