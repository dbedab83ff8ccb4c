//! The claims of a verified token, and the checks every profile shares: lifetime
//! (`exp`, `nbf`, `iat`) and the shape of the standard claims.

use serde_json::{Map, Value};

use super::error::VerifyError;
use super::issuer::Profile;

/// The claims of a token that passed every check.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// `iss`: the trusted issuer that signed the token.
    pub iss: String,
    /// `sub`: the subject (a user for Cognito, a service for internal-auth).
    pub sub: String,
    /// `aud`: the audiences, one or many; empty when the token has none (Cognito access
    /// tokens).
    pub aud: Vec<String>,
    /// `exp`: expiry, seconds since the epoch.
    pub exp: u64,
    /// `nbf`: start of validity, seconds since the epoch, when present.
    pub nbf: Option<u64>,
    /// `iat`: issue time, seconds since the epoch.
    pub iat: u64,
    /// `jti`: the token's unique id, when present (always for internal-auth).
    pub jti: Option<String>,
    /// `client_id`: the OAuth client, when present (always for internal-auth and for
    /// Cognito access tokens).
    pub client_id: Option<String>,
    /// The profile of the issuer that matched.
    pub profile: Profile,
    /// Every claim of the token, the standard ones included, as signed.
    pub all: Map<String, Value>,
}

impl Claims {
    /// Reads the standard claims from `all` and checks the token's lifetime against `now`
    /// (seconds since the epoch), allowing `leeway` seconds of clock skew either way.
    pub(super) fn checked(
        profile: Profile,
        all: Map<String, Value>,
        now: u64,
        leeway: u64,
    ) -> Result<Self, VerifyError> {
        let exp = numeric_date(&all, "exp")?.ok_or(VerifyError::MissingClaim("exp"))?;
        let nbf = numeric_date(&all, "nbf")?;
        let iat = numeric_date(&all, "iat")?.ok_or(VerifyError::MissingClaim("iat"))?;

        // RFC 7519 4.1.4: the token MUST NOT be accepted on or after `exp`.
        if now >= exp.saturating_add(leeway) {
            return Err(VerifyError::Expired);
        }
        // RFC 7519 4.1.5: the token MUST NOT be accepted before `nbf`.
        if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(VerifyError::NotYetValid);
        }
        // A token issued in the future comes from a badly skewed or forged clock; its
        // `exp` cannot be trusted to mean what it says.
        if iat > now.saturating_add(leeway) {
            return Err(VerifyError::IssuedInTheFuture);
        }

        let iss = string(&all, "iss")?.ok_or(VerifyError::MissingClaim("iss"))?;
        let sub = string(&all, "sub")?.ok_or(VerifyError::MissingClaim("sub"))?;
        let jti = string(&all, "jti")?;
        let client_id = string(&all, "client_id")?;
        let aud = audiences(&all)?;

        Ok(Self {
            iss,
            sub,
            aud,
            exp,
            nbf,
            iat,
            jti,
            client_id,
            profile,
            all,
        })
    }
}

/// A NumericDate claim (RFC 7519 2): whole or fractional seconds, read down to the second.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, VerifyError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    if let Some(seconds) = value.as_u64() {
        return Ok(Some(seconds));
    }
    match value.as_f64() {
        // The cast saturates; the range check keeps it meaningful.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(seconds) if seconds.is_finite() && (0.0..1.0e15).contains(&seconds) => {
            Ok(Some(seconds as u64))
        }
        _ => Err(VerifyError::Malformed),
    }
}

/// A string claim; present with another JSON type is malformed.
fn string(claims: &Map<String, Value>, name: &'static str) -> Result<Option<String>, VerifyError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(VerifyError::Malformed),
    }
}

/// `aud`: one string or an array of strings (RFC 7519 4.1.3).
fn audiences(claims: &Map<String, Value>) -> Result<Vec<String>, VerifyError> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one.clone()]),
        Some(Value::Array(many)) => many
            .iter()
            .map(|one| {
                one.as_str()
                    .map(str::to_owned)
                    .ok_or(VerifyError::Malformed)
            })
            .collect(),
        Some(_) => Err(VerifyError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;
    const LEEWAY: u64 = 60;

    fn claims(value: &Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn check(value: Value) -> Result<Claims, VerifyError> {
        let Value::Object(all) = value else {
            panic!("claims must be an object");
        };
        Claims::checked(Profile::InternalAuth, all, NOW, LEEWAY)
    }

    fn valid() -> Value {
        json!({"iss": "i", "sub": "s", "exp": NOW + 600, "iat": NOW, "nbf": NOW})
    }

    fn with(name: &str, value: Value) -> Value {
        let mut all = valid();
        all[name] = value;
        all
    }

    fn without(name: &str) -> Value {
        let mut all = claims(&valid());
        all.remove(name);
        Value::Object(all)
    }

    #[test]
    fn a_current_token_passes_and_keeps_all_its_claims() {
        let checked = check(with("aud", json!(["a", "b"]))).expect("valid");
        assert_eq!(checked.aud, ["a", "b"]);
        assert_eq!(checked.exp, NOW + 600);
        assert_eq!(checked.all["aud"], json!(["a", "b"]));
        let fractional = check(with("exp", json!((NOW + 600) as f64 + 0.5))).expect("valid");
        assert_eq!(fractional.exp, NOW + 600);
    }

    #[test]
    fn the_leeway_is_allowed_at_each_edge_and_no_further() {
        assert!(check(with("exp", json!(NOW - LEEWAY + 1))).is_ok());
        assert!(check(with("nbf", json!(NOW + LEEWAY))).is_ok());
        assert!(check(with("iat", json!(NOW + LEEWAY))).is_ok());

        assert_eq!(
            check(with("exp", json!(NOW - LEEWAY))),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            check(with("nbf", json!(NOW + LEEWAY + 1))),
            Err(VerifyError::NotYetValid)
        );
        assert_eq!(
            check(with("iat", json!(NOW + LEEWAY + 1))),
            Err(VerifyError::IssuedInTheFuture)
        );
    }

    #[test]
    fn missing_or_mistyped_claims_are_refused() {
        let cases = [
            (without("exp"), VerifyError::MissingClaim("exp")),
            (without("iat"), VerifyError::MissingClaim("iat")),
            (without("sub"), VerifyError::MissingClaim("sub")),
            (with("exp", json!("soon")), VerifyError::Malformed),
            (with("exp", json!(-5)), VerifyError::Malformed),
            (with("exp", json!(1.0e300)), VerifyError::Malformed),
            (with("nbf", json!(null)), VerifyError::Malformed),
            (with("sub", json!(7)), VerifyError::Malformed),
            (with("jti", json!(["x"])), VerifyError::Malformed),
            (with("aud", json!(5)), VerifyError::Malformed),
            (with("aud", json!(["a", 5])), VerifyError::Malformed),
        ];
        for (value, expected) in cases {
            assert_eq!(check(value.clone()), Err(expected), "{value}");
        }
    }
}
