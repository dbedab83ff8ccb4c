//! Rules 2 and 3: the URL is exactly `https://<host>/`, and the host is an allow-listed STS
//! endpoint.
//!
//! The URL is read by hand on purpose. General URL parsers are lenient: they lower-case the
//! host, decode `%2e`, drop `:443`, strip a trailing dot and treat `\` as `/`, so the host
//! they report is not the text the caller signed and another parser (ours, STS's, a proxy's)
//! may see a different one. Here the URL is either the one obvious form or refused.

use crate::partition::Partition;

use super::error::{RequestError, UrlDefect};

/// Rule 2: the URL is exactly `https://` + host + `/`; returns the host.
///
/// Defends against steering the request elsewhere through the URL's corners: user info
/// (`https://sts.amazonaws.com@evil.example/`), a port, a query holding another action
/// (`/?Action=AssumeRole`), a fragment, another path, or encodings that parsers disagree on.
pub(super) fn check_url(unverified_url: &str) -> Result<&str, UrlDefect> {
    let rest = unverified_url
        .strip_prefix("https://")
        .ok_or(UrlDefect::NotHttps)?;

    for byte in rest.bytes() {
        match byte {
            b' ' | 0x00..=0x1F | 0x7F => return Err(UrlDefect::Whitespace),
            0x80..=0xFF => return Err(UrlDefect::NonAscii),
            b'\\' => return Err(UrlDefect::Backslash),
            b'%' => return Err(UrlDefect::PercentEncoding),
            _ => {}
        }
    }

    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after_authority) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(UrlDefect::UserInfo);
    }
    if authority.starts_with('[') {
        return Err(UrlDefect::IpLiteral);
    }
    if authority.contains(':') {
        return Err(UrlDefect::Port);
    }
    if after_authority.contains('?') {
        return Err(UrlDefect::Query);
    }
    if after_authority.contains('#') {
        return Err(UrlDefect::Fragment);
    }
    if after_authority != "/" {
        return Err(UrlDefect::Path);
    }

    check_host_name(authority)?;
    Ok(authority)
}

/// The host is a plain lower-case DNS name, so that the allow-list compares the very text
/// that was signed.
fn check_host_name(host: &str) -> Result<(), UrlDefect> {
    if host.is_empty() {
        return Err(UrlDefect::EmptyHost);
    }
    if host.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return Err(UrlDefect::UpperCase);
    }
    if host.ends_with('.') {
        return Err(UrlDefect::TrailingDot);
    }
    if host
        .bytes()
        .all(|byte| byte.is_ascii_digit() || byte == b'.')
    {
        return Err(UrlDefect::IpLiteral);
    }
    let is_host_byte =
        |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"-.".contains(&byte);
    if !host.bytes().all(is_host_byte) {
        return Err(UrlDefect::InvalidHostCharacter);
    }
    Ok(())
}

/// Rule 3: the host is exactly one of the STS endpoints of the allowed partitions; returns
/// the region it serves.
///
/// Defends against sending the caller's signed request, and trusting the answer, to any
/// host but STS itself: only exact names from the built-in list pass, never a suffix match
/// such as `sts.eu-central-1.amazonaws.com.evil.example`.
pub(super) fn check_host_allowed(
    host: &str,
    partitions: &[Partition],
) -> Result<&'static str, RequestError> {
    partitions
        .iter()
        .find_map(|partition| partition.sts_region_for_host(host))
        .ok_or(RequestError::HostNotAllowed)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_one_accepted_form_yields_the_host() {
        assert_eq!(
            check_url("https://sts.eu-central-1.amazonaws.com/"),
            Ok("sts.eu-central-1.amazonaws.com")
        );
    }

    #[test]
    fn every_other_form_is_refused_with_its_defect() {
        for (url, defect) in [
            ("http://sts.amazonaws.com/", UrlDefect::NotHttps),
            ("HTTPS://sts.amazonaws.com/", UrlDefect::NotHttps),
            ("https:/sts.amazonaws.com/", UrlDefect::NotHttps),
            (" https://sts.amazonaws.com/", UrlDefect::NotHttps),
            ("//sts.amazonaws.com/", UrlDefect::NotHttps),
            ("https://sts.amazonaws.com/ ", UrlDefect::Whitespace),
            ("https://sts.amazonaws.com\t/", UrlDefect::Whitespace),
            ("https://sts.amazonaws.com/\r\n", UrlDefect::Whitespace),
            ("https://stś.amazonaws.com/", UrlDefect::NonAscii),
            (
                "https://sts.amazonaws.com\\@evil.example/",
                UrlDefect::Backslash,
            ),
            ("https://sts%2eamazonaws.com/", UrlDefect::PercentEncoding),
            ("https://sts.amazonaws.com/%2f", UrlDefect::PercentEncoding),
            ("https://user@sts.amazonaws.com/", UrlDefect::UserInfo),
            (
                "https://sts.amazonaws.com@evil.example/",
                UrlDefect::UserInfo,
            ),
            ("https://[::1]/", UrlDefect::IpLiteral),
            ("https://sts.amazonaws.com:443/", UrlDefect::Port),
            ("https://sts.amazonaws.com:/", UrlDefect::Port),
            (
                "https://sts.amazonaws.com/?Action=AssumeRole",
                UrlDefect::Query,
            ),
            ("https://sts.amazonaws.com?x/", UrlDefect::Query),
            ("https://sts.amazonaws.com/#", UrlDefect::Fragment),
            (
                "https://evil.example#@sts.amazonaws.com/",
                UrlDefect::Fragment,
            ),
            ("https://sts.amazonaws.com", UrlDefect::Path),
            ("https://sts.amazonaws.com/x", UrlDefect::Path),
            ("https://sts.amazonaws.com//", UrlDefect::Path),
            ("https:///", UrlDefect::EmptyHost),
            ("https://STS.amazonaws.com/", UrlDefect::UpperCase),
            ("https://sts.amazonaws.com./", UrlDefect::TrailingDot),
            ("https://169.254.169.254/", UrlDefect::IpLiteral),
            (
                "https://sts_x.amazonaws.com/",
                UrlDefect::InvalidHostCharacter,
            ),
        ] {
            assert_eq!(check_url(url), Err(defect), "{url:?}");
        }
    }

    #[test]
    fn only_hosts_of_allowed_partitions_pass() {
        let aws = [Partition::Aws];
        assert_eq!(
            check_host_allowed("sts.amazonaws.com", &aws),
            Ok("us-east-1")
        );
        assert_eq!(
            check_host_allowed("sts.eu-central-1.amazonaws.com.evil.example", &aws),
            Err(RequestError::HostNotAllowed)
        );
        assert_eq!(
            check_host_allowed("sts.cn-north-1.amazonaws.com.cn", &aws),
            Err(RequestError::HostNotAllowed)
        );
        assert_eq!(
            check_host_allowed("sts.cn-north-1.amazonaws.com.cn", &Partition::ALL),
            Ok("cn-north-1")
        );
        assert_eq!(
            check_host_allowed("sts.amazonaws.com", &[]),
            Err(RequestError::HostNotAllowed)
        );
    }

    proptest! {
        #[test]
        fn an_accepted_url_is_exactly_https_host_slash(unverified_url in ".*") {
            if let Ok(host) = check_url(&unverified_url) {
                prop_assert_eq!(format!("https://{host}/"), unverified_url.as_str());
                prop_assert!(host.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit() || b == b'-' || b == b'.'));
            }
        }

        #[test]
        fn url_like_strings_are_accepted_only_in_the_strict_form(
            unverified_url in "(https?|HTTPS)://[a-zA-Z0-9.@:%_-]{0,20}[/?#]{0,2}[a-z/]{0,3}"
        ) {
            if let Ok(host) = check_url(&unverified_url) {
                prop_assert_eq!(format!("https://{host}/"), unverified_url.as_str());
                prop_assert!(!host.is_empty() && !host.ends_with('.'));
            }
        }
    }
}
