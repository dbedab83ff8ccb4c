//! [`check`] as a whole: a valid request and what it becomes, then a table of forwarded
//! requests that each break one rule, named after what they break.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;
use crate::wire::HeaderList;

const HOST: &str = "sts.eu-central-1.amazonaws.com";
const SERVER_ID: &str = "internal-auth.test";
const AMZ_DATE: &str = "20261203T101500Z";
/// `AMZ_DATE` in seconds since the Unix epoch.
const SIGNED_AT: u64 = 1_796_292_900;
const ACCESS_KEY_ID: &str = "ASIAIOSFODNN7EXAMPLE";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessiontoken+/=";
const SIGNATURE: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
const SCOPE: &str = "ASIAIOSFODNN7EXAMPLE/20261203/eu-central-1/sts/aws4_request";
const SIGNED_HEADERS: &str =
    "content-type;host;x-amz-date;x-amz-security-token;x-internal-auth-server-id";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

fn signed_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(SIGNED_AT)
}

/// A minute after signing: well within the window.
fn now() -> SystemTime {
    signed_at() + Duration::from_secs(60)
}

fn minutes(count: u64) -> Duration {
    Duration::from_secs(60 * count)
}

fn policy() -> RequestPolicy {
    RequestPolicy {
        server_id: SERVER_ID.to_owned(),
        partitions: vec![Partition::Aws],
    }
}

fn authorization(scope: &str, signed_headers: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed_headers}, \
         Signature={SIGNATURE}"
    )
}

/// A request as an AWS SDK would write it; `check` does not verify the HMAC, so the
/// signature only needs the right shape.
fn valid_request() -> StsRequest {
    StsRequest {
        method: "POST".to_owned(),
        url: format!("https://{HOST}/"),
        headers: HeaderList(
            [
                ("Authorization", authorization(SCOPE, SIGNED_HEADERS)),
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
                ),
                ("X-Amz-Date", AMZ_DATE.to_owned()),
                ("X-Amz-Security-Token", SESSION_TOKEN.to_owned()),
                ("X-Internal-Auth-Server-Id", SERVER_ID.to_owned()),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
        ),
        body: BODY.to_owned(),
    }
}

/// The valid request with one change.
fn changed(change: impl FnOnce(&mut StsRequest)) -> StsRequest {
    let mut request = valid_request();
    change(&mut request);
    request
}

/// Replaces the value of the header called `name` (any case), or adds it.
fn set_header(request: &mut StsRequest, name: &str, value: &str) {
    let entries = &mut request.headers.0;
    match entries
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(entry) => entry.1 = value.to_owned(),
        None => entries.push((name.to_owned(), value.to_owned())),
    }
}

/// Adds a header even when one of that name is present.
fn add_header(request: &mut StsRequest, name: &str, value: &str) {
    request.headers.0.push((name.to_owned(), value.to_owned()));
}

fn remove_header(request: &mut StsRequest, name: &str) {
    request
        .headers
        .0
        .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
}

fn with_header(name: &'static str, value: &str) -> StsRequest {
    changed(|request| set_header(request, name, value))
}

fn with_authorization(scope: &str, signed_headers: &str) -> StsRequest {
    with_header("Authorization", &authorization(scope, signed_headers))
}

#[test]
fn a_valid_request_becomes_a_checked_request_of_its_allowed_parts() {
    let request = changed(|request| {
        // Names in any case, and a matching Host header, are all accepted.
        request.headers.0[2].0 = "x-amz-date".to_owned();
        add_header(request, "host", HOST);
        add_header(request, "ACCEPT", "*/*");
    });

    let checked = check(&request, &policy(), now()).expect("valid request");

    assert_eq!(checked.host, HOST);
    assert_eq!(checked.region, "eu-central-1");
    assert_eq!(
        checked.headers,
        [
            ("Authorization", authorization(SCOPE, SIGNED_HEADERS)),
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8".to_owned()
            ),
            ("X-Amz-Date", AMZ_DATE.to_owned()),
            ("X-Amz-Security-Token", SESSION_TOKEN.to_owned()),
            ("X-Internal-Auth-Server-Id", SERVER_ID.to_owned()),
            ("Accept", "*/*".to_owned()),
        ]
    );
    assert_eq!(checked.body, BODY);
    assert_eq!(checked.access_key_id, ACCESS_KEY_ID);
    assert_eq!(checked.signature[..4], [0x5d, 0x67, 0x2d, 0x79]);
    assert_eq!(checked.signature[31], 0xd7);
    assert_eq!(checked.signed_at, signed_at());
    assert_eq!(checked.fresh_until(), signed_at() + minutes(15));
}

#[test]
fn the_global_host_is_scoped_to_us_east_1() {
    let request = changed(|request| {
        request.url = "https://sts.amazonaws.com/".to_owned();
        let scope = SCOPE.replace("eu-central-1", "us-east-1");
        set_header(
            request,
            "Authorization",
            &authorization(&scope, SIGNED_HEADERS),
        );
    });
    let checked = check(&request, &policy(), now()).expect("valid request");
    assert_eq!(
        (checked.host.as_str(), checked.region),
        ("sts.amazonaws.com", "us-east-1")
    );
}

#[test]
fn the_minimal_request_and_the_other_body_order_are_accepted() {
    let request = changed(|request| {
        request.body = "Version=2011-06-15&Action=GetCallerIdentity".to_owned();
        remove_header(request, "Content-Type");
        remove_header(request, "X-Amz-Security-Token");
        let signed = "host;x-amz-date;x-internal-auth-server-id";
        set_header(request, "Authorization", &authorization(SCOPE, signed));
    });
    let checked = check(&request, &policy(), now()).expect("valid request");
    assert_eq!(checked.headers.len(), 3);
}

#[test]
fn a_matching_content_sha256_is_accepted() {
    let request = with_header(
        "X-Amz-Content-Sha256",
        "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843",
    );
    assert!(check(&request, &policy(), now()).is_ok());
}

#[test]
fn signatures_at_the_edges_of_the_window_are_accepted() {
    let request = valid_request();
    for now in [
        signed_at() + minutes(15),
        signed_at() - minutes(5),
        signed_at(),
    ] {
        assert!(check(&request, &policy(), now).is_ok(), "{now:?}");
    }
}

#[test]
fn a_request_signed_by_aws_sigv4_is_accepted() {
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    let identity = Credentials::new(
        ACCESS_KEY_ID,
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some(SESSION_TOKEN.to_owned()),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-central-1")
        .name("sts")
        .time(signed_at())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let url = format!("https://{HOST}/");
    let unsigned = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-internal-auth-server-id", SERVER_ID),
    ];
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        unsigned.into_iter(),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();

    let headers = unsigned
        .into_iter()
        .chain(instructions.headers())
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let request = StsRequest {
        method: "POST".to_owned(),
        url,
        headers: HeaderList(headers),
        body: BODY.to_owned(),
    };

    let checked = check(&request, &policy(), now()).expect("an SDK's request is accepted");
    assert_eq!(checked.access_key_id, ACCESS_KEY_ID);
}

#[test]
fn debug_output_hides_the_signature_and_the_session_token() {
    let checked = check(&valid_request(), &policy(), now()).expect("valid request");
    let debug = format!("{checked:?}");
    assert!(!debug.contains(SIGNATURE), "{debug}");
    assert!(!debug.contains(SESSION_TOKEN), "{debug}");
    assert!(!debug.contains("Signature="), "{debug}");
    assert!(
        debug.contains(HOST) && debug.contains("[redacted]"),
        "{debug}"
    );
}

#[test]
fn the_first_broken_rule_is_reported() {
    let request = changed(|request| {
        request.method = "GET".to_owned();
        request.url = "http://evil.example/".to_owned();
    });
    assert_eq!(
        check(&request, &policy(), now()).err(),
        Some(RequestError::MethodNotPost)
    );

    let request = with_header("X-Internal-Auth-Server-Id", "other");
    let stale = signed_at() + minutes(60);
    assert_eq!(
        check(&request, &policy(), stale).err(),
        Some(RequestError::ServerIdMismatch)
    );
}

/// A forwarded request that breaks a rule, and the error it must get.
struct BadRequest {
    name: &'static str,
    request: StsRequest,
    now: SystemTime,
    expected: RequestError,
}

fn bad(name: &'static str, request: StsRequest, expected: RequestError) -> BadRequest {
    BadRequest {
        name,
        request,
        now: now(),
        expected,
    }
}

fn bad_at(
    name: &'static str,
    now: SystemTime,
    request: StsRequest,
    expected: RequestError,
) -> BadRequest {
    BadRequest {
        name,
        request,
        now,
        expected,
    }
}

fn with_url(url: &str) -> StsRequest {
    changed(|request| request.url = url.to_owned())
}

fn with_body(body: &str) -> StsRequest {
    changed(|request| request.body = body.to_owned())
}

fn bad_requests() -> Vec<BadRequest> {
    use RequestError as E;
    use UrlDefect as U;

    let without_server_id = "content-type;host;x-amz-date;x-amz-security-token";
    let without_date = "content-type;host;x-amz-security-token;x-internal-auth-server-id";

    vec![
        // Rule 1: the method.
        bad(
            "method_get",
            changed(|r| r.method = "GET".into()),
            E::MethodNotPost,
        ),
        bad(
            "method_lower_case",
            changed(|r| r.method = "post".into()),
            E::MethodNotPost,
        ),
        bad(
            "method_padded",
            changed(|r| r.method = "POST ".into()),
            E::MethodNotPost,
        ),
        // Rule 2: the URL's shape.
        bad(
            "scheme_http",
            with_url(&format!("http://{HOST}/")),
            E::MalformedUrl(U::NotHttps),
        ),
        bad(
            "scheme_upper_case",
            with_url(&format!("HTTPS://{HOST}/")),
            E::MalformedUrl(U::NotHttps),
        ),
        bad(
            "port_443",
            with_url(&format!("https://{HOST}:443/")),
            E::MalformedUrl(U::Port),
        ),
        bad(
            "userinfo",
            with_url(&format!("https://user:pw@{HOST}/")),
            E::MalformedUrl(U::UserInfo),
        ),
        bad(
            "host_as_userinfo",
            with_url(&format!("https://{HOST}@evil.example/")),
            E::MalformedUrl(U::UserInfo),
        ),
        bad(
            "query_assume_role",
            with_url(&format!("https://{HOST}/?Action=AssumeRole")),
            E::MalformedUrl(U::Query),
        ),
        bad(
            "empty_query",
            with_url(&format!("https://{HOST}/?")),
            E::MalformedUrl(U::Query),
        ),
        bad(
            "fragment",
            with_url(&format!("https://{HOST}/#x")),
            E::MalformedUrl(U::Fragment),
        ),
        bad(
            "path_x",
            with_url(&format!("https://{HOST}/x")),
            E::MalformedUrl(U::Path),
        ),
        bad(
            "no_path",
            with_url(&format!("https://{HOST}")),
            E::MalformedUrl(U::Path),
        ),
        bad(
            "dot_segment_path",
            with_url(&format!("https://{HOST}/./")),
            E::MalformedUrl(U::Path),
        ),
        bad(
            "trailing_dot",
            with_url(&format!("https://{HOST}./")),
            E::MalformedUrl(U::TrailingDot),
        ),
        bad(
            "percent_encoded_host",
            with_url("https://sts.eu-central-1.amazonaws%2ecom/"),
            E::MalformedUrl(U::PercentEncoding),
        ),
        bad(
            "upper_case_host",
            with_url("https://STS.eu-central-1.amazonaws.com/"),
            E::MalformedUrl(U::UpperCase),
        ),
        bad(
            "metadata_ip",
            with_url("https://169.254.169.254/"),
            E::MalformedUrl(U::IpLiteral),
        ),
        bad(
            "ipv6_literal",
            with_url("https://[fd00:ec2::254]/"),
            E::MalformedUrl(U::IpLiteral),
        ),
        bad(
            "empty_host",
            with_url("https:///"),
            E::MalformedUrl(U::EmptyHost),
        ),
        bad(
            "backslash",
            with_url(&format!("https://evil.example\\{HOST}/")),
            E::MalformedUrl(U::Backslash),
        ),
        bad(
            "space_in_url",
            with_url(&format!("https://{HOST}/ ")),
            E::MalformedUrl(U::Whitespace),
        ),
        bad(
            "newline_in_url",
            with_url(&format!("https://{HOST}\n/")),
            E::MalformedUrl(U::Whitespace),
        ),
        bad(
            "non_ascii_host",
            with_url("https://stѕ.eu-central-1.amazonaws.com/"),
            E::MalformedUrl(U::NonAscii),
        ),
        // Rule 3: the host's allow-list.
        bad(
            "look_alike_host",
            with_url(&format!("https://{HOST}.evil.example/")),
            E::HostNotAllowed,
        ),
        bad(
            "sts_subdomain",
            with_url(&format!("https://evil.{HOST}/")),
            E::HostNotAllowed,
        ),
        bad(
            "other_aws_service",
            with_url("https://iam.amazonaws.com/"),
            E::HostNotAllowed,
        ),
        bad(
            "unknown_region",
            with_url("https://sts.eu-central-9.amazonaws.com/"),
            E::HostNotAllowed,
        ),
        bad(
            "partition_not_configured",
            with_url("https://sts.cn-north-1.amazonaws.com.cn/"),
            E::HostNotAllowed,
        ),
        bad(
            "fips_where_none_exists",
            with_url("https://sts-fips.eu-central-1.amazonaws.com/"),
            E::HostNotAllowed,
        ),
        // Rule 4: the Host header.
        bad(
            "host_header_other_host",
            with_header("Host", "evil.example"),
            E::HostHeaderMismatch,
        ),
        bad(
            "host_header_with_port",
            with_header("Host", &format!("{HOST}:443")),
            E::HostHeaderMismatch,
        ),
        bad(
            "host_header_upper_case",
            with_header("Host", &HOST.to_uppercase()),
            E::HostHeaderMismatch,
        ),
        bad(
            "second_host_header_differs",
            changed(|r| {
                add_header(r, "Host", HOST);
                add_header(r, "host", "evil.example");
            }),
            E::HostHeaderMismatch,
        ),
        // Rule 5: the body.
        bad(
            "other_action",
            with_body("Action=AssumeRole&Version=2011-06-15"),
            E::BodyNotGetCallerIdentity,
        ),
        bad(
            "duplicate_action",
            with_body(&format!("Action=AssumeRole&{BODY}")),
            E::BodyNotGetCallerIdentity,
        ),
        bad(
            "extra_parameter",
            with_body(&format!("{BODY}&RoleArn=x")),
            E::BodyNotGetCallerIdentity,
        ),
        bad(
            "trailing_ampersand",
            with_body(&format!("{BODY}&")),
            E::BodyNotGetCallerIdentity,
        ),
        bad("empty_body", with_body(""), E::BodyNotGetCallerIdentity),
        bad(
            "other_version",
            with_body("Action=GetCallerIdentity&Version=2011-06-16"),
            E::BodyNotGetCallerIdentity,
        ),
        bad(
            "body_of_1_kib_and_1_byte",
            with_body(&"A".repeat(1025)),
            E::BodyTooLarge,
        ),
        // Rule 6: the headers.
        bad(
            "duplicate_header_in_other_case",
            changed(|r| add_header(r, "x-amz-date", AMZ_DATE)),
            E::DuplicateHeader("X-Amz-Date"),
        ),
        bad(
            "duplicate_authorization",
            changed(|r| {
                add_header(r, "AUTHORIZATION", &authorization(SCOPE, SIGNED_HEADERS));
            }),
            E::DuplicateHeader("Authorization"),
        ),
        bad(
            "duplicate_host_header",
            changed(|r| {
                add_header(r, "Host", HOST);
                add_header(r, "Host", HOST);
            }),
            E::DuplicateHeader("Host"),
        ),
        bad(
            "header_x_amz_target",
            with_header(
                "X-Amz-Target",
                "AWSSecurityTokenServiceV20110615.AssumeRole",
            ),
            E::HeaderNotAllowed,
        ),
        bad(
            "header_x_forwarded_for",
            with_header("X-Forwarded-For", "10.0.0.1"),
            E::HeaderNotAllowed,
        ),
        bad(
            "header_content_length",
            with_header("Content-Length", "43"),
            E::HeaderNotAllowed,
        ),
        bad(
            "header_transfer_encoding",
            with_header("Transfer-Encoding", "chunked"),
            E::HeaderNotAllowed,
        ),
        bad(
            "header_name_with_colon",
            with_header("Host:", HOST),
            E::InvalidHeaderName,
        ),
        bad(
            "header_name_with_space",
            with_header("X-Amz-Date ", AMZ_DATE),
            E::InvalidHeaderName,
        ),
        bad(
            "header_name_empty",
            with_header("", "x"),
            E::InvalidHeaderName,
        ),
        bad(
            "header_name_non_ascii",
            with_header("Äccept", "*/*"),
            E::InvalidHeaderName,
        ),
        bad(
            "crlf_in_value",
            with_header("Accept", "*/*\r\nX-Amz-Target: x"),
            E::InvalidHeaderValue("Accept"),
        ),
        bad(
            "lf_in_value",
            with_header("X-Amz-Security-Token", "a\nb"),
            E::InvalidHeaderValue("X-Amz-Security-Token"),
        ),
        bad(
            "tab_in_value",
            with_header("Accept", "*/*\t"),
            E::InvalidHeaderValue("Accept"),
        ),
        bad(
            "nul_in_value",
            with_header("Accept", "\0"),
            E::InvalidHeaderValue("Accept"),
        ),
        bad(
            "non_ascii_value",
            with_header("X-Internal-Auth-Server-Id", "internal-auth.tëst"),
            E::InvalidHeaderValue("X-Internal-Auth-Server-Id"),
        ),
        bad(
            "seventeen_headers",
            changed(|r| {
                for _ in 0..12 {
                    add_header(r, "Accept", "*/*");
                }
            }),
            E::TooManyHeaders,
        ),
        bad(
            "headers_over_8_kib",
            with_header("X-Amz-Security-Token", &"A".repeat(8 * 1024)),
            E::HeadersTooLarge,
        ),
        bad(
            "content_type_json",
            with_header("Content-Type", "application/json"),
            E::InvalidContentType,
        ),
        bad(
            "content_type_amz_json",
            with_header("Content-Type", "application/x-amz-json-1.1"),
            E::InvalidContentType,
        ),
        bad(
            "content_type_other_charset",
            with_header(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-16",
            ),
            E::InvalidContentType,
        ),
        bad(
            "content_sha256_of_another_body",
            with_header(
                "X-Amz-Content-Sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            E::ContentSha256Mismatch,
        ),
        bad(
            "content_sha256_upper_case",
            with_header(
                "X-Amz-Content-Sha256",
                "AB821AE955788B0E33EBD34C208442CCFC2D406E2EDC5E7A39BD6458FBB4F843",
            ),
            E::ContentSha256Mismatch,
        ),
        bad(
            "content_sha256_unsigned_payload",
            with_header("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
            E::ContentSha256Mismatch,
        ),
        // Rule 7: the Authorization header.
        bad(
            "authorization_missing",
            changed(|r| remove_header(r, "Authorization")),
            E::MissingAuthorization,
        ),
        bad(
            "two_credentials",
            with_header(
                "Authorization",
                &authorization(&format!("{SCOPE}, Credential={SCOPE}"), SIGNED_HEADERS),
            ),
            E::MalformedAuthorization,
        ),
        bad(
            "two_signatures",
            with_header(
                "Authorization",
                &format!(
                    "{}, Signature={SIGNATURE}",
                    authorization(SCOPE, SIGNED_HEADERS)
                ),
            ),
            E::MalformedAuthorization,
        ),
        bad(
            "algorithm_sigv4a",
            with_header(
                "Authorization",
                &authorization(SCOPE, SIGNED_HEADERS)
                    .replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
            ),
            E::UnsupportedAlgorithm,
        ),
        bad(
            "algorithm_sigv2",
            with_header(
                "Authorization",
                &format!("AWS {ACCESS_KEY_ID}:c2lnbmF0dXJl"),
            ),
            E::UnsupportedAlgorithm,
        ),
        bad(
            "signature_not_hex",
            with_header(
                "Authorization",
                &authorization(SCOPE, SIGNED_HEADERS).replace(SIGNATURE, &"z".repeat(64)),
            ),
            E::MalformedAuthorization,
        ),
        bad(
            "access_key_id_lower_case",
            with_authorization(
                &SCOPE.replace(ACCESS_KEY_ID, "asiaiosfodnn7example"),
                SIGNED_HEADERS,
            ),
            E::InvalidAccessKeyId,
        ),
        bad(
            "service_iam",
            with_authorization(&SCOPE.replace("/sts/", "/iam/"), SIGNED_HEADERS),
            E::ServiceNotSts,
        ),
        bad(
            "region_mismatch",
            with_authorization(&SCOPE.replace("eu-central-1", "us-east-1"), SIGNED_HEADERS),
            E::RegionMismatch,
        ),
        bad(
            "global_host_with_regional_scope",
            with_url("https://sts.amazonaws.com/"),
            E::RegionMismatch,
        ),
        bad(
            "scope_date_mismatch",
            with_authorization(&SCOPE.replace("20261203", "20261202"), SIGNED_HEADERS),
            E::ScopeDateMismatch,
        ),
        bad(
            "signed_headers_without_host",
            with_authorization(
                SCOPE,
                "content-type;x-amz-date;x-amz-security-token;x-internal-auth-server-id",
            ),
            E::HostNotSigned,
        ),
        bad(
            "signed_headers_naming_an_absent_header",
            with_authorization(
                SCOPE,
                "content-type;host;x-amz-date;x-amz-security-token;x-amz-target;\
                 x-internal-auth-server-id",
            ),
            E::SignedHeaderAbsent,
        ),
        bad(
            "signed_headers_naming_absent_content_sha256",
            with_authorization(
                SCOPE,
                "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;\
                 x-internal-auth-server-id",
            ),
            E::SignedHeaderAbsent,
        ),
        bad(
            "signed_headers_unsorted",
            with_authorization(
                SCOPE,
                "host;content-type;x-amz-date;x-amz-security-token;x-internal-auth-server-id",
            ),
            E::SignedHeadersNotCanonical,
        ),
        bad(
            "signed_headers_duplicated",
            with_authorization(
                SCOPE,
                &format!("{SIGNED_HEADERS};x-internal-auth-server-id"),
            ),
            E::SignedHeadersNotCanonical,
        ),
        bad(
            "signed_headers_upper_case",
            with_authorization(
                SCOPE,
                "Content-Type;Host;X-Amz-Date;X-Amz-Security-Token;X-Internal-Auth-Server-Id",
            ),
            E::SignedHeadersNotCanonical,
        ),
        // Rule 8: the server id.
        bad(
            "server_id_missing",
            changed(|r| {
                remove_header(r, "X-Internal-Auth-Server-Id");
                set_header(r, "Authorization", &authorization(SCOPE, without_server_id));
            }),
            E::ServerIdMissing,
        ),
        bad(
            "server_id_unsigned",
            with_authorization(SCOPE, without_server_id),
            E::ServerIdNotSigned,
        ),
        bad(
            "server_id_of_another_deployment",
            with_header("X-Internal-Auth-Server-Id", "internal-auth.prod"),
            E::ServerIdMismatch,
        ),
        bad(
            "server_id_in_other_case",
            with_header("X-Internal-Auth-Server-Id", "Internal-Auth.Test"),
            E::ServerIdMismatch,
        ),
        bad(
            "server_id_padded",
            with_header("X-Internal-Auth-Server-Id", "internal-auth.test "),
            E::ServerIdMismatch,
        ),
        bad(
            "server_id_empty",
            with_header("X-Internal-Auth-Server-Id", ""),
            E::ServerIdMismatch,
        ),
        // Rule 9: the signing time.
        bad(
            "date_missing",
            changed(|r| {
                remove_header(r, "X-Amz-Date");
                set_header(r, "Authorization", &authorization(SCOPE, without_date));
            }),
            E::MissingDate,
        ),
        bad(
            "date_without_z",
            with_header("X-Amz-Date", "20261203T101500"),
            E::MalformedDate,
        ),
        // Its first eight characters are not the scope's day, so rule 7 refuses it first.
        bad(
            "date_in_iso_8601_extended_form",
            with_header("X-Amz-Date", "2026-12-03T10:15:00Z"),
            E::ScopeDateMismatch,
        ),
        bad(
            "date_at_hour_24",
            with_header("X-Amz-Date", "20261203T241500Z"),
            E::MalformedDate,
        ),
        bad(
            "date_with_second_60",
            with_header("X-Amz-Date", "20261203T101560Z"),
            E::MalformedDate,
        ),
        bad_at(
            "signed_16_minutes_ago",
            signed_at() + minutes(16),
            valid_request(),
            E::StaleSignature,
        ),
        bad_at(
            "signed_15_minutes_and_1_second_ago",
            signed_at() + minutes(15) + Duration::from_secs(1),
            valid_request(),
            E::StaleSignature,
        ),
        bad_at(
            "signed_6_minutes_ahead",
            signed_at() - minutes(6),
            valid_request(),
            E::SignatureFromTheFuture,
        ),
        bad_at(
            "signed_5_minutes_and_1_second_ahead",
            signed_at() - minutes(5) - Duration::from_secs(1),
            valid_request(),
            E::SignatureFromTheFuture,
        ),
    ]
}

#[test]
fn every_bad_request_is_refused_with_its_own_error() {
    let mut failures = Vec::new();
    for case in bad_requests() {
        let outcome = check(&case.request, &policy(), case.now).err();
        if outcome != Some(case.expected) {
            failures.push(format!(
                "{}: expected {:?}, got {outcome:?}",
                case.name, case.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn statuses_and_codes_follow_the_contract() {
    let unauthorized = [
        RequestError::ServerIdMissing,
        RequestError::ServerIdNotSigned,
        RequestError::ServerIdMismatch,
        RequestError::StaleSignature,
        RequestError::SignatureFromTheFuture,
    ];
    for case in bad_requests() {
        let expected_status = if unauthorized.contains(&case.expected) {
            401
        } else {
            400
        };
        assert_eq!(case.expected.status(), expected_status, "{}", case.name);
        let code = case.expected.code();
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{}: {code}",
            case.name
        );
    }
    assert_eq!(RequestError::HostNotAllowed.code(), "host_not_allowed");
    assert_eq!(
        RequestError::MalformedUrl(UrlDefect::Port).code(),
        "malformed_url"
    );
    assert_eq!(RequestError::StaleSignature.code(), "stale_signature");
    assert_eq!(RequestError::ServerIdMismatch.code(), "server_id_mismatch");
}

#[test]
fn error_messages_never_repeat_what_the_caller_sent() {
    for case in bad_requests() {
        let message = case.expected.to_string();
        for secret in [
            SIGNATURE,
            SESSION_TOKEN,
            ACCESS_KEY_ID,
            "evil",
            "AssumeRole",
            "\n",
        ] {
            assert!(!message.contains(secret), "{}: {message}", case.name);
        }
    }
}

#[test]
fn every_code_is_listed_in_the_module_documentation() {
    let documentation = include_str!("mod.rs");
    for case in bad_requests() {
        let code = case.expected.code();
        assert!(documentation.contains(&format!("`{code}`")), "{code}");
    }
}

proptest! {
    #[test]
    fn arbitrary_headers_never_panic_and_never_pass_unless_allowed(
        extra in prop::collection::vec(
            (
                prop_oneof![
                    Just("Accept".to_owned()),
                    Just("host".to_owned()),
                    Just("x-amz-date".to_owned()),
                    "[!-~]{0,24}",
                    ".{0,8}",
                ],
                ".{0,40}",
            ),
            0..20,
        )
    ) {
        let mut request = valid_request();
        request.headers.0.extend(extra.iter().cloned());
        if let Ok(checked) = check(&request, &policy(), now()) {
            for (name, value) in &extra {
                let is_addable = ["accept", "host"].iter().any(|ok| name.eq_ignore_ascii_case(ok));
                prop_assert!(is_addable, "{} passed", name);
                prop_assert!(value.bytes().all(|byte| (0x20..=0x7E).contains(&byte)));
            }
            prop_assert!(checked.headers.iter().all(|(name, _)| *name != "Host"));
        }
    }
}
