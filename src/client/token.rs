//! [`Token`]: an issued JWT and the times that bound its use.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::secret::Secret;

/// A JWT issued by internal-auth.
///
/// Cloning is cheap (the JWT is shared), and `Debug` prints `[redacted]` in place of it:
/// a token is a bearer credential, so it must not reach a log.
#[derive(Debug, Clone)]
pub struct Token {
    jwt: Secret<Arc<str>>,
    issued_at: SystemTime,
    expires_at: SystemTime,
    lifetime: Duration,
}

impl Token {
    /// A token granted for `lifetime`, counted from `issued_at`; `None` when the end does
    /// not fit in a `SystemTime`.
    pub(crate) fn new(jwt: String, issued_at: SystemTime, lifetime: Duration) -> Option<Self> {
        Some(Self {
            jwt: Secret::new(Arc::from(jwt)),
            issued_at,
            expires_at: issued_at.checked_add(lifetime)?,
            lifetime,
        })
    }

    /// The JWT, for an `Authorization: Bearer` header.
    pub fn as_str(&self) -> &str {
        self.jwt.expose()
    }

    /// When the request for this token was signed, by the client's clock. The service
    /// issued it a little later, so [`Token::expires_at`] errs on the early side.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When the token stops being valid, by the client's clock.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The lifetime the service granted (`exp - iat`).
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::Token;

    #[test]
    fn debug_never_prints_the_jwt() {
        let token = Token::new(
            "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl".into(),
            UNIX_EPOCH,
            Duration::from_secs(60),
        )
        .expect("fits");
        let printed = format!("{token:?}");
        assert!(!printed.contains("eyJ"), "{printed}");
        assert_eq!(token.as_str(), "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl");
    }

    #[test]
    fn expiry_is_issue_time_plus_lifetime() {
        let token = Token::new("a.b.c".into(), UNIX_EPOCH, Duration::from_secs(600)).expect("fits");
        assert_eq!(token.expires_at(), UNIX_EPOCH + Duration::from_secs(600));
        assert_eq!(token.lifetime(), Duration::from_secs(600));
    }

    #[test]
    fn a_lifetime_past_the_end_of_time_is_refused() {
        assert!(Token::new("a.b.c".into(), UNIX_EPOCH, Duration::MAX).is_none());
    }
}
