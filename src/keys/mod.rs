//! Signing keys: the key folder, the signer interface, and the set of keys the service
//! publishes and signs with.

pub mod folder;
pub mod jwk;
pub mod pem;
pub mod signer;
pub mod turns;

use std::path::Path;
use std::sync::{Arc, RwLock};

use actix_web::web::Bytes;
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use folder::{KeyFolderError, KeygenError};
pub use jwk::PublicJwk;
pub use signer::{LocalKey, SignError, TokenSigner};

/// The keys in force: every published public key, the prepared JWKS document, and the one
/// key that signs. Everything a request needs is computed once here, when keys are loaded.
pub struct KeySet {
    signer: Arc<dyn TokenSigner>,
    header_b64: String,
    jwks_body: Bytes,
    jwks_etag: String,
}

#[derive(serde::Serialize)]
struct JwksDocument<'a> {
    keys: Vec<&'a PublicJwk>,
}

#[derive(serde::Serialize)]
struct TokenHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl KeySet {
    /// Publishes `published` (which must include the signer's own key) and signs with
    /// `signer`.
    pub fn new(signer: Arc<dyn TokenSigner>, published: &[&PublicJwk]) -> Self {
        let document = JwksDocument {
            keys: published.to_vec(),
        };
        let jwks_body = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
        let jwks_etag = format!(
            "\"{}\"",
            URL_SAFE_NO_PAD.encode(&digest::digest(&digest::SHA256, &jwks_body).as_ref()[..16])
        );

        let header = TokenHeader {
            alg: "RS256",
            typ: "at+jwt",
            kid: &signer.public_jwk().kid,
        };
        let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());

        Self {
            signer,
            header_b64,
            jwks_body,
            jwks_etag,
        }
    }

    /// Loads every key in `dir`; the key whose file name sorts last signs.
    pub fn load_folder(dir: &Path) -> Result<Self, KeyFolderError> {
        let mut keys = folder::load(dir)?;
        let published: Vec<PublicJwk> = keys
            .iter()
            .map(|loaded| loaded.key.public_jwk().clone())
            .collect();
        // `load` never returns an empty list.
        let newest = keys.pop().ok_or_else(|| KeyFolderError::Empty {
            path: dir.to_path_buf(),
        })?;
        for loaded in &keys {
            tracing::info!(kid = %loaded.key.public_jwk().kid, path = %loaded.path.display(), "published key");
        }
        tracing::info!(kid = %newest.key.public_jwk().kid, path = %newest.path.display(), "signing key");
        let references: Vec<&PublicJwk> = published.iter().collect();
        Ok(Self::new(Arc::new(newest.key), &references))
    }

    /// The key that signs new tokens.
    pub fn signer(&self) -> &dyn TokenSigner {
        self.signer.as_ref()
    }

    /// The base64url JOSE header of tokens signed by [`Self::signer`], computed once.
    pub fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// The JWKS document, serialised once; cloning it only counts a reference.
    pub fn jwks_body(&self) -> &Bytes {
        &self.jwks_body
    }

    /// A strong `ETag` for the JWKS document.
    pub fn jwks_etag(&self) -> &str {
        &self.jwks_etag
    }
}

/// The current [`KeySet`], replaceable while the service runs (for a reload of the key
/// folder) without stopping requests that are signing with the previous set.
pub struct KeyRing {
    current: RwLock<Arc<KeySet>>,
}

impl KeyRing {
    /// A ring holding `keys`.
    pub fn new(keys: KeySet) -> Self {
        Self {
            current: RwLock::new(Arc::new(keys)),
        }
    }

    /// The keys in force now. The lock is held only to clone an `Arc`.
    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts `keys` in force for every request that starts from now on.
    pub fn replace(&self, keys: KeySet) {
        let keys = Arc::new(keys);
        match self.current.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }
}

/// `yyyyMMddTHHmmssZ` for a Unix time: sortable, and the form AWS uses too.
pub fn time_name(unix_seconds: u64) -> String {
    crate::amz_date::AmzDate::from_unix_seconds(unix_seconds).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_names_are_utc_in_the_aws_form() {
        assert_eq!(time_name(0), "19700101T000000Z");
        assert_eq!(time_name(951_782_400), "20000229T000000Z");
        assert_eq!(time_name(1_796_292_000), "20261203T100000Z");
    }

    #[test]
    fn jwks_lists_every_key_without_private_members() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = folder::generate(dir.path(), 1).unwrap();
        let (second, _) = folder::generate(dir.path(), 2).unwrap();
        let keys = KeySet::load_folder(dir.path()).unwrap();
        assert_eq!(keys.signer().public_jwk().kid, second);

        let jwks: serde_json::Value = serde_json::from_slice(keys.jwks_body()).unwrap();
        let listed: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap())
            .collect();
        assert_eq!(listed, [first.as_str(), second.as_str()]);
        for key in jwks["keys"].as_array().unwrap() {
            let members: Vec<&String> = key.as_object().unwrap().keys().collect();
            assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
        }
    }

    #[test]
    fn the_header_names_the_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        let (kid, _) = folder::generate(dir.path(), 1).unwrap();
        let keys = KeySet::load_folder(dir.path()).unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(keys.header_b64()).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": kid})
        );
    }
}
