//! Where a checked request goes (rule 11): the signed, allow-listed host over HTTPS, or
//! `sts.endpoint` when one is configured. The signed `Host` header is sent either way.

use std::fmt;

/// A scheme, host and port that connections are made to and pooled by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Whether the connection is wrapped in TLS.
    pub tls: bool,
    /// A DNS name or an IP address (without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl Origin {
    /// The signed host itself, which the request policy has already checked against the
    /// allow-list: always HTTPS on port 443.
    pub fn signed_host(host: &str) -> Self {
        Self {
            tls: true,
            host: host.to_owned(),
            port: 443,
        }
    }

    /// Reads `sts.endpoint`: `https://` or `http://`, a host, an optional port and an
    /// optional trailing `/`, nothing else.
    pub fn from_endpoint(endpoint: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(rest) = endpoint.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = endpoint.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err("it must start with https:// or http://".into());
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = split_authority(authority, default_port)?;
        if host.is_empty()
            || !host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b".-_:".contains(&byte))
        {
            return Err(format!("{authority:?} is not a host and port"));
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_authority(authority: &str, default_port: u16) -> Result<(&str, u16), String> {
    let bad_port = || format!("{authority:?} has a port that is not a number from 1 to 65535");
    let parse_port = |digits: &str| match digits.parse::<u16>() {
        Ok(port) if port != 0 && digits.bytes().all(|byte| byte.is_ascii_digit()) => Ok(port),
        _ => Err(bad_port()),
    };
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("{authority:?} opens an IPv6 address it does not close"))?;
        return match after {
            "" => Ok((host, default_port)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, parse_port(port)?)),
                None => Err(bad_port()),
            },
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((host, parse_port(port)?)),
        None => Ok((authority, default_port)),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_read_with_their_default_ports() {
        let cases = [
            (
                "https://sts.eu-central-1.amazonaws.com",
                true,
                "sts.eu-central-1.amazonaws.com",
                443,
            ),
            ("http://127.0.0.1:5000/", false, "127.0.0.1", 5000),
            ("http://localhost", false, "localhost", 80),
            ("https://[::1]:8443", true, "::1", 8443),
            ("http://[::1]/", false, "::1", 80),
        ];
        for (endpoint, tls, host, port) in cases {
            let origin = Origin::from_endpoint(endpoint).unwrap();
            assert_eq!(
                (origin.tls, origin.host.as_str(), origin.port),
                (tls, host, port)
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for endpoint in [
            "ftp://x",
            "https://",
            "https://host:0",
            "https://host:99999",
            "https://host:+80",
            "https://host:",
            "https://[::1",
            "https://[::1]x",
            "https://user@host",
            "https://host/path",
            "https://host?query",
        ] {
            assert!(Origin::from_endpoint(endpoint).is_err(), "{endpoint}");
        }
    }

    #[test]
    fn the_signed_host_is_https_on_443() {
        let origin = Origin::signed_host("sts.us-east-1.amazonaws.com");
        assert_eq!(
            origin.to_string(),
            "https://sts.us-east-1.amazonaws.com:443"
        );
    }
}
