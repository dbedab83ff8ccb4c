//! The public half of a signing key as a JSON Web Key, and its RFC 7638 thumbprint, which
//! is the key's `kid`.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;

/// An RSA public key as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    /// Always `RSA`.
    pub kty: &'static str,
    /// The modulus, base64url without padding.
    pub n: String,
    /// The public exponent, base64url without padding.
    pub e: String,
    /// The RFC 7638 SHA-256 thumbprint of the key.
    pub kid: String,
    /// Always `RS256`: the only algorithm the key signs with.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// Why a public key could not be described.
#[derive(Debug, thiserror::Error)]
#[error("the public key is not a valid PKCS#1 RSA public key")]
pub struct InvalidPublicKey(#[source] rsa::pkcs1::Error);

impl PublicJwk {
    /// Describes the key whose PKCS#1 `RSAPublicKey` DER encoding is `der`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, InvalidPublicKey> {
        let key = rsa::RsaPublicKey::from_pkcs1_der(der).map_err(InvalidPublicKey)?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let kid = thumbprint(&n, &e);
        Ok(Self {
            kty: "RSA",
            n,
            e,
            kid,
            alg: "RS256",
            use_: "sig",
        })
    }

    /// The modulus length in bits.
    pub fn modulus_bits(&self) -> usize {
        let bytes = URL_SAFE_NO_PAD.decode(&self.n).unwrap_or_default();
        let leading_zeros = bytes.iter().take_while(|byte| **byte == 0).count();
        match bytes.get(leading_zeros) {
            Some(first) => (bytes.len() - leading_zeros) * 8 - first.leading_zeros() as usize,
            None => 0,
        }
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no white space.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::thumbprint;

    /// The worked example of RFC 7638, section 3.1.
    #[test]
    fn thumbprint_matches_the_rfc_7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
