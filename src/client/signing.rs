//! Signs the STS `GetCallerIdentity` request that internal-auth forwards to STS.
//!
//! The request carries exactly the headers the service accepts (security-rules.md, rule 6)
//! and signs `X-Internal-Auth-Server-Id` (rule 8), so a request meant for one deployment
//! cannot be replayed to another. `Host` is signed but not sent: the service takes it from
//! the URL.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;

use super::ClientError;
use crate::partition::Partition;
use crate::wire::{HeaderList, StsRequest};

/// The only body internal-auth forwards.
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// The header that binds a signed request to one internal-auth deployment.
pub(crate) const SERVER_ID_HEADER: &str = "X-Internal-Auth-Server-Id";

/// Where the signed request is addressed: the STS URL and the region of its credential
/// scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsEndpoint {
    url: String,
    region: String,
}

impl StsEndpoint {
    /// The regional STS endpoint of `region`, or the global one (signed for `us-east-1`)
    /// when no region is known.
    ///
    /// Only hosts on the service's built-in allow-list are produced, so a region that the
    /// service would refuse is refused here, before anything is signed.
    // Known limitation: FIPS endpoints (`sts-fips.<region>`) are never chosen, even where
    // the service would accept them.
    pub(crate) fn for_region(region: Option<&str>) -> Result<Self, ClientError> {
        let Some(region) = region else {
            return Ok(Self {
                url: "https://sts.amazonaws.com/".into(),
                region: "us-east-1".into(),
            });
        };

        let host = if region.starts_with("cn-") {
            format!("sts.{region}.amazonaws.com.cn")
        } else {
            format!("sts.{region}.amazonaws.com")
        };
        let known = Partition::ALL
            .iter()
            .any(|partition| partition.sts_region_for_host(&host) == Some(region));
        if !known {
            return Err(ClientError::invalid_config(format!(
                "region `{region}` has no STS endpoint that internal-auth accepts"
            )));
        }

        Ok(Self {
            url: format!("https://{host}/"),
            region: region.to_owned(),
        })
    }

    /// The URL the signed request is addressed to.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

/// Signs `GetCallerIdentity` for `server_id` with `credentials` at time `at`.
pub(crate) fn sign_get_caller_identity(
    endpoint: &StsEndpoint,
    server_id: &str,
    credentials: &Credentials,
    at: SystemTime,
) -> Result<StsRequest, ClientError> {
    let headers_to_sign = [
        ("content-type", CONTENT_TYPE),
        ("x-internal-auth-server-id", server_id),
    ];
    let signable = SignableRequest::new(
        "POST",
        endpoint.url.as_str(),
        headers_to_sign.into_iter(),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .map_err(ClientError::signing)?;

    // The default settings sign every header given plus `host`, `x-amz-date` and
    // `x-amz-security-token`, and add no `x-amz-content-sha256`.
    let identity = credentials.clone().into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(&endpoint.region)
        .name("sts")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(ClientError::signing)?
        .into();
    // Known limitation: aws-sigv4 itself logs the canonical request at trace level under
    // the `aws_sigv4` target, session token included; a subscriber that enables trace
    // output for that target records the session token.
    let (instructions, _signature) = sign(signable, &params)
        .map_err(ClientError::signing)?
        .into_parts();

    let mut headers = Vec::with_capacity(5);
    headers.push(("Content-Type".to_owned(), CONTENT_TYPE.to_owned()));
    headers.push((SERVER_ID_HEADER.to_owned(), server_id.to_owned()));
    for (name, value) in instructions.headers() {
        // Checked rather than trusted: a header the service does not allow would make
        // every request fail, so it is better caught here with a clear error.
        let name = allowed_signer_header(name)
            .ok_or_else(|| ClientError::signing(UnexpectedHeader(name.to_ascii_lowercase())))?;
        headers.push((name.to_owned(), value.to_owned()));
    }

    Ok(StsRequest {
        method: "POST".into(),
        url: endpoint.url.clone(),
        headers: HeaderList(headers),
        body: BODY.into(),
    })
}

/// The spelling to send for a header the signer added, when the service allows it.
fn allowed_signer_header(name: &str) -> Option<&'static str> {
    ["Authorization", "X-Amz-Date", "X-Amz-Security-Token"]
        .into_iter()
        .find(|allowed| allowed.eq_ignore_ascii_case(name))
}

/// The signer produced a header that internal-auth does not accept.
#[derive(Debug, thiserror::Error)]
#[error("the signer added the header `{0}`, which internal-auth does not accept")]
struct UnexpectedHeader(String);

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use aws_credential_types::Credentials;

    use super::*;

    /// 2026-12-03T10:15:00Z.
    const SIGNED_AT: u64 = 1_796_292_900;

    fn credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn signed(session_token: Option<&str>) -> StsRequest {
        let endpoint = StsEndpoint::for_region(Some("eu-central-1")).expect("known region");
        let at = UNIX_EPOCH + Duration::from_secs(SIGNED_AT);
        sign_get_caller_identity(
            &endpoint,
            "internal-auth.prod",
            &credentials(session_token),
            at,
        )
        .expect("signs")
    }

    fn header<'a>(request: &'a StsRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    #[test]
    fn the_request_is_get_caller_identity_to_the_regional_endpoint() {
        let request = signed(None);
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://sts.eu-central-1.amazonaws.com/");
        assert_eq!(request.body, "Action=GetCallerIdentity&Version=2011-06-15");
    }

    #[test]
    fn server_id_and_content_type_are_signed_and_host_is_not_sent() {
        let request = signed(Some("session-token"));
        let authorization = header(&request, "Authorization").expect("signed");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/eu-central-1/sts/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;\
                 x-internal-auth-server-id, Signature="
            ),
            "{authorization}"
        );
        assert_eq!(header(&request, "Host"), None);
        assert_eq!(header(&request, "X-Amz-Date"), Some("20261203T101500Z"));
        assert_eq!(
            header(&request, "X-Amz-Security-Token"),
            Some("session-token")
        );
        assert_eq!(
            header(&request, "X-Internal-Auth-Server-Id"),
            Some("internal-auth.prod")
        );
    }

    #[test]
    fn only_headers_the_service_allows_are_sent() {
        for request in [signed(None), signed(Some("session-token"))] {
            for (name, _) in request.headers.iter() {
                assert!(
                    [
                        "Authorization",
                        "Content-Type",
                        "X-Amz-Date",
                        "X-Amz-Security-Token",
                        "X-Internal-Auth-Server-Id",
                    ]
                    .contains(&name),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn long_term_keys_send_no_session_token() {
        let request = signed(None);
        assert_eq!(header(&request, "X-Amz-Security-Token"), None);
        let authorization = header(&request, "Authorization").expect("signed");
        assert!(
            authorization
                .contains("SignedHeaders=content-type;host;x-amz-date;x-internal-auth-server-id,")
        );
    }

    #[test]
    fn without_a_region_the_global_endpoint_is_signed_for_us_east_1() {
        let endpoint = StsEndpoint::for_region(None).expect("global");
        assert_eq!(endpoint.url(), "https://sts.amazonaws.com/");
        let request = sign_get_caller_identity(&endpoint, "id", &credentials(None), UNIX_EPOCH)
            .expect("signs");
        let authorization = header(&request, "Authorization").expect("signed");
        assert!(authorization.contains("/19700101/us-east-1/sts/aws4_request"));
    }

    #[test]
    fn other_partitions_get_their_own_hosts() {
        let china = StsEndpoint::for_region(Some("cn-north-1")).expect("known");
        assert_eq!(china.url(), "https://sts.cn-north-1.amazonaws.com.cn/");
        let gov = StsEndpoint::for_region(Some("us-gov-west-1")).expect("known");
        assert_eq!(gov.url(), "https://sts.us-gov-west-1.amazonaws.com/");
    }

    #[test]
    fn regions_the_service_would_refuse_are_refused() {
        for region in [
            "eu-central-9",
            "",
            "eu-central-1.evil.example",
            "evil.example/",
            "EU-CENTRAL-1",
            "cn-north-9",
        ] {
            let error = StsEndpoint::for_region(Some(region)).expect_err(region);
            assert!(
                matches!(error, ClientError::InvalidConfig { .. }),
                "{region}"
            );
        }
    }
}
