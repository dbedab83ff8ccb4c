//! What each issuer profile demands beyond the standard claims: Cognito's `token_use` and
//! client ids, internal-auth's RFC 9068 access-token shape.

use super::claims::Claims;
use super::error::VerifyError;
use super::issuer::{Audiences, Profile};

/// Checks the header's `typ` for `profile`; done before any key is fetched.
pub(super) fn check_type(
    profile: Profile,
    unverified_typ: Option<&str>,
) -> Result<(), VerifyError> {
    match profile {
        // Cognito sets no `typ`; its `token_use` claim plays that part.
        Profile::Cognito => Ok(()),
        // RFC 9068 2.1: `typ` is `at+jwt` (the `application/` prefix may be written, and
        // media types compare case-insensitively). This keeps an ID token or any other JWT
        // from the same issuer from passing as an access token.
        Profile::InternalAuth => {
            let is_access_token = unverified_typ.is_some_and(|typ| {
                typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
            });
            if is_access_token {
                Ok(())
            } else {
                Err(VerifyError::WrongType)
            }
        }
    }
}

/// Checks the profile's claims of a token whose signature and lifetime already passed.
pub(super) fn check_claims(
    profile: Profile,
    audiences: &Audiences,
    claims: &Claims,
) -> Result<(), VerifyError> {
    match profile {
        Profile::Cognito => check_cognito(audiences, claims),
        Profile::InternalAuth => check_internal_auth(audiences, claims),
    }
}

/// Cognito: an ID token names the app client in `aud`; an access token has no `aud` and
/// names it in `client_id`. Refresh tokens are opaque and never reach here, so any other
/// `token_use` is refused.
fn check_cognito(audiences: &Audiences, claims: &Claims) -> Result<(), VerifyError> {
    let token_use = match claims.all.get("token_use") {
        None => return Err(VerifyError::MissingClaim("token_use")),
        Some(value) => value.as_str().ok_or(VerifyError::Malformed)?,
    };
    match token_use {
        "id" => check_audience(audiences, &claims.aud),
        "access" => {
            let client_id = claims
                .client_id
                .as_deref()
                .ok_or(VerifyError::MissingClaim("client_id"))?;
            if audiences.accepts(client_id) {
                Ok(())
            } else {
                Err(VerifyError::WrongAudience)
            }
        }
        _ => Err(VerifyError::WrongTokenUse),
    }
}

/// internal-auth (RFC 9068 2.2): `sub`, `client_id` and `jti` are present, `aud` is ours.
fn check_internal_auth(audiences: &Audiences, claims: &Claims) -> Result<(), VerifyError> {
    if claims.client_id.is_none() {
        return Err(VerifyError::MissingClaim("client_id"));
    }
    if claims.jti.is_none() {
        return Err(VerifyError::MissingClaim("jti"));
    }
    check_audience(audiences, &claims.aud)
}

/// At least one of the token's audiences is accepted (RFC 7519 4.1.3); with the check
/// switched off, anything goes, an absent `aud` included.
fn check_audience(audiences: &Audiences, token_audiences: &[String]) -> Result<(), VerifyError> {
    if audiences.is_any() {
        return Ok(());
    }
    if token_audiences.is_empty() {
        return Err(VerifyError::MissingClaim("aud"));
    }
    if token_audiences.iter().any(|one| audiences.accepts(one)) {
        Ok(())
    } else {
        Err(VerifyError::WrongAudience)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const NOW: u64 = 1_800_000_000;

    fn claims(profile: Profile, extra: &Value) -> Claims {
        let mut all = json!({"iss": "i", "sub": "s", "exp": NOW + 600, "iat": NOW});
        if let (Some(all), Some(extra)) = (all.as_object_mut(), extra.as_object()) {
            all.extend(extra.clone());
        }
        Claims::checked(
            profile,
            all.as_object().cloned().unwrap_or_default(),
            NOW,
            60,
        )
        .expect("valid standard claims")
    }

    fn accepted() -> Audiences {
        Audiences::Accepted(vec!["api".to_owned(), "app-client".to_owned()])
    }

    #[test]
    fn internal_auth_needs_the_at_jwt_type() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
            assert_eq!(
                check_type(Profile::InternalAuth, Some(typ)),
                Ok(()),
                "{typ}"
            );
        }
        for typ in [None, Some("JWT"), Some("at+jwt "), Some("")] {
            assert_eq!(
                check_type(Profile::InternalAuth, typ),
                Err(VerifyError::WrongType),
                "{typ:?}"
            );
        }
        assert_eq!(check_type(Profile::Cognito, None), Ok(()));
    }

    #[test]
    fn internal_auth_claims_are_checked() {
        let full = json!({"client_id": "billing", "jti": "j", "aud": "api"});
        let cases = [
            (full, Ok(())),
            (
                json!({"jti": "j", "aud": "api"}),
                Err(VerifyError::MissingClaim("client_id")),
            ),
            (
                json!({"client_id": "b", "aud": "api"}),
                Err(VerifyError::MissingClaim("jti")),
            ),
            (
                json!({"client_id": "b", "jti": "j"}),
                Err(VerifyError::MissingClaim("aud")),
            ),
            (
                json!({"client_id": "b", "jti": "j", "aud": ["other"]}),
                Err(VerifyError::WrongAudience),
            ),
            (
                json!({"client_id": "b", "jti": "j", "aud": ["other", "api"]}),
                Ok(()),
            ),
        ];
        for (extra, expected) in cases {
            let claims = claims(Profile::InternalAuth, &extra);
            assert_eq!(
                check_claims(Profile::InternalAuth, &accepted(), &claims),
                expected,
                "{extra}"
            );
        }
    }

    #[test]
    fn cognito_claims_are_checked_by_token_use() {
        let cases = [
            (json!({"token_use": "id", "aud": "app-client"}), Ok(())),
            (
                json!({"token_use": "id", "aud": "other"}),
                Err(VerifyError::WrongAudience),
            ),
            (
                json!({"token_use": "id"}),
                Err(VerifyError::MissingClaim("aud")),
            ),
            (
                json!({"token_use": "access", "client_id": "app-client"}),
                Ok(()),
            ),
            (
                json!({"token_use": "access", "client_id": "other", "aud": "app-client"}),
                Err(VerifyError::WrongAudience),
            ),
            (
                json!({"token_use": "access"}),
                Err(VerifyError::MissingClaim("client_id")),
            ),
            (
                json!({"token_use": "refresh"}),
                Err(VerifyError::WrongTokenUse),
            ),
            (json!({"token_use": 1}), Err(VerifyError::Malformed)),
            (
                json!({"aud": "app-client"}),
                Err(VerifyError::MissingClaim("token_use")),
            ),
        ];
        for (extra, expected) in cases {
            let claims = claims(Profile::Cognito, &extra);
            assert_eq!(
                check_claims(Profile::Cognito, &accepted(), &claims),
                expected,
                "{extra}"
            );
        }
    }

    #[test]
    fn any_audience_skips_only_the_audience_check() {
        let claims = claims(
            Profile::InternalAuth,
            &json!({"client_id": "b", "jti": "j"}),
        );
        assert_eq!(
            check_claims(Profile::InternalAuth, &Audiences::Any, &claims),
            Ok(())
        );
        let refresh = self::claims(Profile::Cognito, &json!({"token_use": "refresh"}));
        assert_eq!(
            check_claims(Profile::Cognito, &Audiences::Any, &refresh),
            Err(VerifyError::WrongTokenUse)
        );
    }
}
