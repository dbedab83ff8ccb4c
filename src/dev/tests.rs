//! The stand-in's decisions on requests signed by aws-sigv4 as the client signs them, then
//! altered one part at a time.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use super::answers::StsErrorCode::{self, *};
use super::standin::{answer, check_get_caller_identity};
use super::*;
use crate::amz_date::AmzDate;
use crate::secret::Secret;

const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const SIGNED_AT: &str = "20261203T101500Z";

fn dev_credentials() -> DevCredentials {
    DevCredentials {
        access_key_id: "AKIAABCDEFGHIJKLMN12".into(),
        secret_access_key: Secret::new("abcdefghijklmnopqrstuvwxyz0123456789+/AB".into()),
    }
}

fn signed_at() -> SystemTime {
    AmzDate::parse(SIGNED_AT).unwrap().to_system_time()
}

/// A request as the client builds it: `POST https://<host>/` with the form body, the content
/// type and the server id, signed by aws-sigv4 with its default settings.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn signed(
        credentials: &DevCredentials,
        host: &str,
        region: &str,
        service: &str,
        body: &str,
    ) -> Self {
        let mut headers = vec![
            ("host".to_owned(), host.to_owned()),
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ),
            (
                "x-internal-auth-server-id".to_owned(),
                DEV_SERVER_ID.to_owned(),
            ),
        ];
        let identity = credentials.to_aws_credentials().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(signed_at())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            format!("https://{host}/"),
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        for (name, value) in instructions.headers() {
            headers.push((name.to_owned(), value.to_owned()));
        }
        Self {
            method: "POST".into(),
            path: "/".into(),
            headers,
            body: body.to_owned(),
        }
    }

    fn valid() -> Self {
        Self::signed(
            &dev_credentials(),
            DEV_STS_HOST,
            DEV_STS_REGION,
            "sts",
            BODY,
        )
    }

    fn header(&self, name: &str) -> &str {
        &self.headers.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn set_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    fn with_extra_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn edit_authorization(self, from: &str, to: &str) -> Self {
        let edited = self.header("authorization").replacen(from, to, 1);
        assert_ne!(
            edited,
            self.header("authorization"),
            "{from} not in the header"
        );
        self.set_header("authorization", &edited)
    }

    fn verify_at(&self, now: SystemTime) -> Result<(), StsError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        verify_signature(
            &self.method,
            &self.path,
            &headers,
            self.body.as_bytes(),
            &dev_credentials(),
            now,
        )
    }

    fn answer_at(&self, now: SystemTime) -> standin::StsAnswer {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        answer(
            &self.method,
            &self.path,
            &headers,
            self.body.as_bytes(),
            &dev_credentials(),
            now,
            "request-1",
        )
    }
}

fn code_of(request: &Request) -> Option<StsErrorCode> {
    request.verify_at(signed_at()).err().map(|error| error.code)
}

#[test]
fn a_request_signed_like_the_client_signs_is_accepted() {
    let request = Request::valid();
    assert_eq!(request.verify_at(signed_at()), Ok(()));

    let sts_answer = request.answer_at(signed_at());
    assert_eq!(sts_answer.status, 200);
    assert!(
        sts_answer
            .body
            .contains("<Arn>arn:aws:sts::000000000000:assumed-role/dev-service/dev-session</Arn>")
    );
    assert!(sts_answer.body.contains("<RequestId>request-1</RequestId>"));
}

#[test]
fn requests_for_any_allow_listed_sts_host_in_its_region_are_accepted() {
    for (host, region) in [
        ("sts.amazonaws.com", "us-east-1"),
        ("sts.eu-central-1.amazonaws.com", "eu-central-1"),
        ("sts-fips.us-west-2.amazonaws.com", "us-west-2"),
        ("sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ] {
        let request = Request::signed(&dev_credentials(), host, region, "sts", BODY);
        assert_eq!(request.verify_at(signed_at()), Ok(()), "{host}");
    }
}

#[test]
fn the_body_parameters_may_come_in_either_order() {
    let body = "Version=2011-06-15&Action=GetCallerIdentity";
    let request = Request::signed(
        &dev_credentials(),
        DEV_STS_HOST,
        DEV_STS_REGION,
        "sts",
        body,
    );
    assert_eq!(request.answer_at(signed_at()).status, 200);
}

#[test]
fn unsigned_headers_do_not_matter() {
    let request = Request::valid()
        .with_extra_header("user-agent", "something/1.0")
        .with_extra_header("accept", "*/*");
    assert_eq!(request.verify_at(signed_at()), Ok(()));
}

#[test]
fn a_signature_is_good_for_15_minutes_either_way_and_no_longer() {
    let request = Request::valid();
    let fifteen_minutes = Duration::from_secs(15 * 60);
    assert_eq!(request.verify_at(signed_at() + fifteen_minutes), Ok(()));
    assert_eq!(request.verify_at(signed_at() - fifteen_minutes), Ok(()));

    let late = request
        .verify_at(signed_at() + fifteen_minutes + Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(late.code, SignatureDoesNotMatch);
    assert_eq!(
        late.message,
        "Signature expired: 20261203T101500Z is now earlier than 20261203T101501Z \
         (20261203T103001Z - 15 min.)"
    );

    let early = request
        .verify_at(signed_at() - fifteen_minutes - Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(early.code, SignatureDoesNotMatch);
    assert!(
        early.message.starts_with("Signature not yet current:"),
        "{}",
        early.message
    );
}

#[test]
fn altered_requests_are_refused_with_sts_error_code() {
    let wrong_secret = DevCredentials {
        secret_access_key: Secret::new("Abcdefghijklmnopqrstuvwxyz0123456789+/AB".into()),
        ..dev_credentials()
    };
    let unknown_key = DevCredentials {
        access_key_id: "AKIAZZZZZZZZZZZZZZZZ".into(),
        ..dev_credentials()
    };
    let signed = |credentials: &DevCredentials, host: &str, region: &str, service: &str| {
        Request::signed(credentials, host, region, service, BODY)
    };

    let cases: Vec<(&str, Request, StsErrorCode)> = vec![
        (
            "tampered body",
            Request {
                body: "Action=GetCallerIdentity&Version=2011-06-16".into(),
                ..Request::valid()
            },
            SignatureDoesNotMatch,
        ),
        (
            "another action's body, same length",
            Request {
                body: "Action=GetCallerIdentitx&Version=2011-06-15".into(),
                ..Request::valid()
            },
            SignatureDoesNotMatch,
        ),
        (
            "tampered server id",
            Request::valid().set_header("x-internal-auth-server-id", "internal-auth.prod"),
            SignatureDoesNotMatch,
        ),
        (
            "tampered content type",
            Request::valid().set_header("content-type", "application/json"),
            SignatureDoesNotMatch,
        ),
        (
            "signed header sent twice with another value",
            Request::valid().with_extra_header("x-internal-auth-server-id", "other"),
            SignatureDoesNotMatch,
        ),
        (
            "signed header missing",
            Request::valid().without_header("x-internal-auth-server-id"),
            SignatureDoesNotMatch,
        ),
        (
            "X-Amz-Date one second later",
            Request::valid().set_header("x-amz-date", "20261203T101501Z"),
            SignatureDoesNotMatch,
        ),
        (
            "X-Amz-Date on another day than the scope",
            Request::valid().set_header("x-amz-date", "20261204T101500Z"),
            SignatureDoesNotMatch,
        ),
        (
            "scope region changed",
            Request::valid().edit_authorization("/us-east-1/", "/eu-west-1/"),
            SignatureDoesNotMatch,
        ),
        (
            "scope service changed",
            Request::valid().edit_authorization("/sts/", "/iam/"),
            SignatureDoesNotMatch,
        ),
        (
            "signed for another region than the host's",
            signed(&dev_credentials(), DEV_STS_HOST, "eu-west-1", "sts"),
            SignatureDoesNotMatch,
        ),
        (
            "signed for another service",
            signed(&dev_credentials(), DEV_STS_HOST, DEV_STS_REGION, "iam"),
            SignatureDoesNotMatch,
        ),
        (
            "host not an STS endpoint",
            signed(&dev_credentials(), "sts.example.com", DEV_STS_REGION, "sts"),
            SignatureDoesNotMatch,
        ),
        (
            "Host header changed after signing",
            Request::valid().set_header("host", "sts.amazonaws.com"),
            SignatureDoesNotMatch,
        ),
        (
            "wrong secret",
            signed(&wrong_secret, DEV_STS_HOST, DEV_STS_REGION, "sts"),
            SignatureDoesNotMatch,
        ),
        (
            "signature in upper case",
            {
                let request = Request::valid();
                let upper = request.header("authorization").to_owned();
                let (head, signature) = upper.split_once("Signature=").unwrap();
                let upper = format!("{head}Signature={}", signature.to_ascii_uppercase());
                request.set_header("authorization", &upper)
            },
            SignatureDoesNotMatch,
        ),
        (
            "signed headers listed out of order",
            Request::valid().edit_authorization(
                "SignedHeaders=content-type;host;",
                "SignedHeaders=host;content-type;",
            ),
            SignatureDoesNotMatch,
        ),
        (
            "signed headers listed in upper case",
            Request::valid().edit_authorization("content-type;host", "Content-Type;host"),
            SignatureDoesNotMatch,
        ),
        (
            "unknown access key",
            signed(&unknown_key, DEV_STS_HOST, DEV_STS_REGION, "sts"),
            InvalidClientTokenId,
        ),
        (
            "access key edited in the header",
            Request::valid().edit_authorization("AKIAABCDEFGHIJKLMN12", "AKIAABCDEFGHIJKLMN13"),
            InvalidClientTokenId,
        ),
        (
            "session token with a long-term key",
            Request::valid().with_extra_header("x-amz-security-token", "token"),
            InvalidClientTokenId,
        ),
        (
            "no authorization header",
            Request::valid().without_header("authorization"),
            MissingAuthenticationToken,
        ),
        (
            "authorization header twice",
            {
                let request = Request::valid();
                let authorization = request.header("authorization").to_owned();
                request.with_extra_header("Authorization", &authorization)
            },
            IncompleteSignature,
        ),
        (
            "another algorithm",
            Request::valid().edit_authorization("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
            IncompleteSignature,
        ),
        (
            "no signature parameter",
            Request::valid().edit_authorization(", Signature=", ", Sig="),
            IncompleteSignature,
        ),
        (
            "credential with four elements",
            Request::valid().edit_authorization("/aws4_request", ""),
            IncompleteSignature,
        ),
        (
            "no X-Amz-Date",
            Request::valid().without_header("x-amz-date"),
            IncompleteSignature,
        ),
        (
            "X-Amz-Date in another form",
            Request::valid().set_header("x-amz-date", "2026-12-03T10:15:00Z"),
            IncompleteSignature,
        ),
        (
            "host not signed",
            Request::valid().edit_authorization("host;", ""),
            IncompleteSignature,
        ),
        (
            "X-Amz-Date not signed",
            Request::valid().edit_authorization(";x-amz-date", ""),
            IncompleteSignature,
        ),
        (
            "no Host header",
            Request::valid().without_header("host"),
            IncompleteSignature,
        ),
    ];

    for (name, request, expected) in cases {
        let error = request.verify_at(signed_at()).unwrap_err();
        assert_eq!(error.code, expected, "{name}: {}", error.message);

        let sts_answer = request.answer_at(signed_at());
        assert_eq!(sts_answer.status, expected.status(), "{name}");
        assert!(
            sts_answer
                .body
                .contains(&format!("<Code>{}</Code>", expected.as_str())),
            "{name}"
        );
        if let Some((_, signature)) = request
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .and_then(|(_, value)| value.split_once("Signature="))
        {
            assert!(
                !sts_answer.body.contains(signature),
                "{name} echoes the signature"
            );
        }
    }
}

#[test]
fn scope_refusals_say_what_sts_says() {
    let message = |request: Request| request.verify_at(signed_at()).unwrap_err().message;
    assert_eq!(
        message(Request::valid().edit_authorization("/sts/", "/iam/")),
        "Credential should be scoped to correct service: 'sts'. "
    );
    assert_eq!(
        message(Request::valid().edit_authorization("/us-east-1/", "/eu-west-1/")),
        "Credential should be scoped to a valid region, not 'eu-west-1'. "
    );
    assert_eq!(
        message(Request::valid().set_header("x-amz-date", "20261204T101500Z")),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20261203' != '20261204', from '20261204T101500Z'."
    );
}

#[test]
fn a_correctly_signed_request_for_another_action_is_an_invalid_action() {
    for body in [
        "Action=AssumeRole&Version=2011-06-15",
        "Action=GetCallerIdentity&Version=2011-06-15&RoleArn=x",
        "Action=GetCallerIdentity&Action=GetCallerIdentity&Version=2011-06-15",
        "Action=GetCallerIdentity",
        "",
    ] {
        let request = Request::signed(
            &dev_credentials(),
            DEV_STS_HOST,
            DEV_STS_REGION,
            "sts",
            body,
        );
        assert_eq!(request.verify_at(signed_at()), Ok(()), "{body}");
        let sts_answer = request.answer_at(signed_at());
        assert_eq!(sts_answer.status, 400, "{body}");
        assert!(
            sts_answer.body.contains("<Code>InvalidAction</Code>"),
            "{body}"
        );
    }
}

#[test]
fn only_post_to_the_root_without_a_query_is_get_caller_identity() {
    let body = BODY.as_bytes();
    assert_eq!(check_get_caller_identity("POST", "/", body), Ok(()));
    for (method, path) in [
        ("GET", "/"),
        ("PUT", "/"),
        ("POST", "/x"),
        ("POST", "/?a=b"),
    ] {
        assert_eq!(
            check_get_caller_identity(method, path, body)
                .unwrap_err()
                .code,
            InvalidAction,
            "{method} {path}"
        );
    }
}

#[test]
fn a_valid_request_with_an_altered_header_is_never_accepted() {
    // Every signed header, changed in turn, breaks the signature.
    let request = Request::valid();
    let signed = [
        "content-type",
        "host",
        "x-amz-date",
        "x-internal-auth-server-id",
    ];
    for name in signed {
        let value = format!("{}x", request.header(name));
        let altered = request.clone().set_header(name, &value);
        assert!(code_of(&altered).is_some(), "{name}");
    }
}
