//! The token itself: its claims, its lifetime, and its RS256 signature.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::keys::{KeySet, SignError};
use crate::secret::Secret;

/// The claims of an internal-auth access token, as the contract lists them.
#[derive(Debug, Serialize)]
pub struct Claims<'a> {
    /// The configured issuer.
    pub iss: &'a str,
    /// The service's name.
    pub sub: &'a str,
    /// The service's name again: OAuth access tokens (RFC 9068) name the client here.
    pub client_id: &'a str,
    /// The configured audience.
    pub aud: &'a str,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Not before; equal to `iat`.
    pub nbf: u64,
    /// Expiry; `exp - iat` is the granted lifetime.
    pub exp: u64,
    /// Unique per token: 128 random bits, base64url.
    pub jti: &'a str,
    /// The caller's ARN exactly as STS returned it.
    #[serde(rename = "callerIdentity")]
    pub caller_identity: &'a str,
    /// The caller's AWS account id.
    pub account: &'a str,
    /// The service's configured policies.
    pub policies: &'a [String],
    /// The organisation asked for, when the service may act for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<&'a str>,
}

/// How long tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimePolicy {
    /// The lifetime when the caller asks for none.
    pub default_seconds: u64,
    /// The longest lifetime granted; longer requests are capped here.
    pub max_seconds: u64,
}

/// A requested lifetime that cannot be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expires_in must be at least one second")]
pub struct ZeroLifetime;

impl LifetimePolicy {
    /// The lifetime to grant for `requested`: the default when absent, capped at the
    /// maximum, never zero.
    pub fn grant(&self, requested: Option<u64>) -> Result<u64, ZeroLifetime> {
        match requested {
            Some(0) => Err(ZeroLifetime),
            Some(seconds) => Ok(seconds.min(self.max_seconds)),
            None => Ok(self.default_seconds.min(self.max_seconds)),
        }
    }
}

/// A new `jti`: 128 bits from the operating system's CSPRNG.
pub fn new_jti(rng: &SystemRandom) -> Result<String, SignError> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes).map_err(|_| SignError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Serialises `claims` and signs them with the key set's signing key.
pub async fn sign(keys: &KeySet, claims: &Claims<'_>) -> Result<Secret<String>, SignError> {
    let payload = serde_json::to_vec(claims).map_err(|_| SignError)?;
    let header = keys.header_b64();

    // header.payload.signature, with room for all three from the start.
    let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 350 + 4);
    token.push_str(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);

    let signature = keys.signer().sign(token.as_bytes()).await?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_defaults_caps_and_refuses_zero() {
        let policy = LifetimePolicy {
            default_seconds: 900,
            max_seconds: 3600,
        };
        assert_eq!(policy.grant(None), Ok(900));
        assert_eq!(policy.grant(Some(60)), Ok(60));
        assert_eq!(policy.grant(Some(36_000)), Ok(3600));
        assert_eq!(policy.grant(Some(u64::MAX)), Ok(3600));
        assert_eq!(policy.grant(Some(0)), Err(ZeroLifetime));
    }

    #[test]
    fn jtis_are_128_bits_and_differ() {
        let rng = SystemRandom::new();
        let first = new_jti(&rng).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&first).unwrap().len(), 16);
        assert_ne!(first, new_jti(&rng).unwrap());
    }

    #[tokio::test]
    async fn a_signed_token_verifies_with_the_published_key() {
        let dir = tempfile::tempdir().unwrap();
        crate::keys::folder::generate(dir.path(), 1).unwrap();
        let keys = KeySet::load_folder(dir.path()).unwrap();
        let policies = vec!["read".to_string()];
        let claims = Claims {
            iss: "https://issuer",
            sub: "billing",
            client_id: "billing",
            aud: "internal-api",
            iat: 10,
            nbf: 10,
            exp: 910,
            jti: "j",
            caller_identity: "arn:aws:sts::123456789012:assumed-role/billing-api/s",
            account: "123456789012",
            policies: &policies,
            org_id: None,
        };
        let token = sign(&keys, &claims).await.unwrap().into_inner();

        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let jwk = keys.signer().public_jwk();
        let public = aws_lc_rs::signature::RsaPublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(&jwk.n).unwrap(),
            e: URL_SAFE_NO_PAD.decode(&jwk.e).unwrap(),
        };
        public
            .verify(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                signing_input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .unwrap();

        let payload = signing_input.split('.').nth(1).unwrap();
        let decoded: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(decoded["callerIdentity"], claims.caller_identity);
        assert_eq!(decoded["policies"], serde_json::json!(["read"]));
        assert!(decoded.get("org_id").is_none());
    }
}
