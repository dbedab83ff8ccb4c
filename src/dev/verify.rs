//! The stand-in's authentication, as STS authenticates a `GetCallerIdentity` request: the
//! `Authorization` header's shape, the access key, the credential scope, the time, and last
//! the signature itself, recomputed and compared in constant time. Each refusal carries the
//! code and status STS would answer with.

use std::time::{Duration, SystemTime};

use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::answers::{StsError, StsErrorCode};
use super::credentials::DevCredentials;
use super::sigv4::{self, Authorization, SignedParts};
use crate::amz_date::AmzDate;
use crate::partition::Partition;

/// How far `X-Amz-Date` may be from the stand-in's clock, either way, as at STS.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The service every credential scope must name.
const STS_SERVICE: &str = "sts";

const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";

/// Checks that a request received by the stand-in is signed, with SigV4 for STS, by
/// `credentials`, at a time within 15 minutes of `now`.
///
/// `path_and_query` is the request target as received (`/` for STS); `headers` are the
/// received headers, names in any case, `Host` among them.
pub fn verify_signature(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &DevCredentials,
    now: SystemTime,
) -> Result<(), StsError> {
    // 1. Without an Authorization header there is nothing to authenticate.
    let unverified_authorization = single_header(headers, "authorization")?.ok_or_else(|| {
        StsError::new(
            StsErrorCode::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        )
    })?;
    let authorization = sigv4::parse_authorization(unverified_authorization)
        .map_err(|reason| incomplete(incomplete_message(&reason)))?;

    // 2. The time of signing: only X-Amz-Date is read.
    // Known limitation: a request dated by the HTTP Date header alone is refused, which STS
    // would accept; the service and the AWS SDKs always send X-Amz-Date.
    let unverified_date = single_header(headers, "x-amz-date")?.ok_or_else(|| {
        incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let signed_at = AmzDate::parse(unverified_date).map_err(|_| {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{unverified_date}'."
        ))
    })?;

    // 3. Host and time must be signed, or a signature could be replayed to another host or
    //    at another time.
    let signed_names = || authorization.signed_headers.split(';');
    if !signed_names().any(|name| name == "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if !signed_names().any(|name| name == "x-amz-date") {
        return Err(incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let host = single_header(headers, "host")?.ok_or_else(|| incomplete("Missing Host header."))?;

    // 4. The access key must be the development one, and it is a long-term key: a session
    //    token with it is a token STS never issued.
    let known_key = verify_slices_are_equal(
        authorization.access_key_id.as_bytes(),
        credentials.access_key_id.as_bytes(),
    )
    .is_ok();
    if !known_key || single_header(headers, "x-amz-security-token")?.is_some() {
        return Err(StsError::new(
            StsErrorCode::InvalidClientTokenId,
            "The security token included in the request is invalid.",
        ));
    }

    // 5. The scope must be this service, this endpoint's region and the signing day.
    check_scope(&authorization, host, signed_at)?;

    // 6. The signature must be fresh: STS's 15 minutes either way.
    check_freshness(signed_at, now)?;

    // 7. The signature must be the one the development secret gives for this request.
    let request = ReceivedRequest {
        method,
        path_and_query,
        headers,
        body,
    };
    check_signature(&authorization, &request, host, signed_at, credentials)
}

/// The request as the stand-in received it.
struct ReceivedRequest<'a> {
    method: &'a str,
    path_and_query: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

fn check_scope(
    authorization: &Authorization<'_>,
    host: &str,
    signed_at: AmzDate,
) -> Result<(), StsError> {
    let scope = &authorization.scope;
    let day = signed_at.day();
    if scope.date != day {
        return Err(mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{day}', from '{signed_at}'.",
            scope.date
        )));
    }
    if scope.service != STS_SERVICE {
        return Err(mismatch(
            "Credential should be scoped to correct service: 'sts'. ",
        ));
    }
    // The region is the one of the STS endpoint the request names in Host: the stand-in
    // answers for every partition's endpoints, as the real one answers for its own.
    let endpoint_region = Partition::ALL
        .into_iter()
        .find_map(|partition| partition.sts_region_for_host(host));
    if endpoint_region != Some(scope.region) {
        return Err(mismatch(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        )));
    }
    Ok(())
}

fn check_freshness(signed_at: AmzDate, now: SystemTime) -> Result<(), StsError> {
    let signed_at_time = signed_at.to_system_time();
    let now_stamp = AmzDate::from_system_time(now);
    if let Some(earliest) = now.checked_sub(MAX_CLOCK_SKEW)
        && signed_at_time < earliest
    {
        let earliest = AmzDate::from_system_time(earliest);
        return Err(mismatch(format!(
            "Signature expired: {signed_at} is now earlier than {earliest} ({now_stamp} - 15 min.)"
        )));
    }
    if let Some(latest) = now.checked_add(MAX_CLOCK_SKEW)
        && signed_at_time > latest
    {
        let latest = AmzDate::from_system_time(latest);
        return Err(mismatch(format!(
            "Signature not yet current: {signed_at} is still later than {latest} ({now_stamp} + \
             15 min.)"
        )));
    }
    Ok(())
}

fn check_signature(
    authorization: &Authorization<'_>,
    request: &ReceivedRequest<'_>,
    host: &str,
    signed_at: AmzDate,
    credentials: &DevCredentials,
) -> Result<(), StsError> {
    // Only the headers the caller named go into the canonical request, taken from what was
    // received; a named header that was not received leaves the list aws-sigv4 reports short,
    // and that is a mismatch below.
    let signed_headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .copied()
        .filter(|(name, _)| {
            authorization
                .signed_headers
                .split(';')
                .any(|signed| name.eq_ignore_ascii_case(signed))
        })
        .collect();
    let uri = format!("https://{host}{}", request.path_and_query);
    let signed_parts = SignedParts {
        method: request.method,
        uri: &uri,
        headers: &signed_headers,
        body: request.body,
    };

    let computed = sigv4::compute_signature(
        &signed_parts,
        &authorization.scope,
        signed_at.to_system_time(),
        &credentials.secret_access_key,
    )
    .map_err(|_| mismatch(MISMATCH_MESSAGE))?;

    // The caller's list must be exactly the canonical one that was signed: lower-case, sorted,
    // each name once, every name present.
    let same_headers = computed.signed_headers == authorization.signed_headers;
    let same_signature = verify_slices_are_equal(
        computed.signature.expose().as_bytes(),
        authorization.signature.expose().as_bytes(),
    )
    .is_ok();
    if same_headers && same_signature {
        Ok(())
    } else {
        Err(mismatch(MISMATCH_MESSAGE))
    }
}

/// The one value of header `name`; a second value of a header the check reads is refused
/// rather than guessed between.
fn single_header<'a>(headers: &[(&str, &'a str)], name: &str) -> Result<Option<&'a str>, StsError> {
    let mut values = headers
        .iter()
        .filter(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| *value);
    let first = values.next();
    if values.next().is_some() {
        return Err(incomplete(format!(
            "The request gives the {name} header twice."
        )));
    }
    Ok(first)
}

fn incomplete(message: impl Into<String>) -> StsError {
    StsError::new(StsErrorCode::IncompleteSignature, message)
}

fn mismatch(message: impl Into<String>) -> StsError {
    StsError::new(StsErrorCode::SignatureDoesNotMatch, message)
}

/// STS's wording for a malformed `Authorization` header. It never quotes the header, which
/// holds the signature.
fn incomplete_message(reason: &sigv4::AuthorizationError) -> String {
    use sigv4::AuthorizationError::*;
    match reason {
        UnsupportedAlgorithm => "Unsupported AWS 'algorithm'.".to_owned(),
        MissingParameter(name) => format!("Authorization header requires '{name}' parameter."),
        DuplicateParameter(name) => {
            format!("Authorization header gives the '{name}' parameter twice.")
        }
        UnknownParameter => {
            "Authorization header requires each component to be of the form key=value.".to_owned()
        }
        MalformedCredential => "Credential must have exactly 5 slash-delimited elements, e.g. \
                                keyid/date/region/service/term."
            .to_owned(),
    }
}
