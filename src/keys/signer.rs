//! What signs a token. Today that is an RSA key read from a file; a key held in AWS KMS
//! will be another [`TokenSigner`], so nothing above this interface changes with it.

use std::future::Future;
use std::pin::Pin;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};

use super::jwk::{InvalidPublicKey, PublicJwk};

/// The future a [`TokenSigner`] returns: ready at once for a local key, a network call for
/// a remote one.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SignError>> + Send + 'a>>;

/// Produces RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signatures with one key.
pub trait TokenSigner: Send + Sync + 'static {
    /// The key's public half, whose `kid` goes into the token header.
    fn public_jwk(&self) -> &PublicJwk;

    /// Signs the JWS signing input (`base64url(header) "." base64url(claims)`).
    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> SignFuture<'a>;
}

/// A signature could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the signing key could not produce a signature")]
pub struct SignError;

/// Why a private key could not be used for signing.
#[derive(Debug, thiserror::Error)]
pub enum KeyRejected {
    /// aws-lc-rs refused the key: not RSA, inconsistent or of an unsupported size.
    #[error("it is not a usable RSA private key ({0})")]
    Unusable(String),
    /// The public half could not be described as a JWK.
    #[error(transparent)]
    PublicKey(#[from] InvalidPublicKey),
    /// The key is shorter than RFC 7518 allows for RS256.
    #[error("its modulus has {0} bits; RS256 needs at least 2048")]
    TooShort(usize),
}

/// An RSA private key held in memory, parsed once when loaded.
///
/// aws-lc-rs signs in constant time with blinding, and keeping the parsed key avoids the
/// cost of re-reading the DER on every token, which halves throughput.
pub struct LocalKey {
    key_pair: RsaKeyPair,
    public: PublicJwk,
    rng: SystemRandom,
}

impl LocalKey {
    /// Parses a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyRejected> {
        let key_pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|error| KeyRejected::Unusable(error.to_string()))?;
        let public = PublicJwk::from_pkcs1_der(key_pair.public_key().as_ref())?;
        let bits = public.modulus_bits();
        if bits < 2048 {
            return Err(KeyRejected::TooShort(bits));
        }
        Ok(Self {
            key_pair,
            public,
            rng: SystemRandom::new(),
        })
    }

    /// Signs synchronously; [`TokenSigner::sign`] wraps this.
    pub fn sign_now(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, signing_input, &mut signature)
            .map_err(|_| SignError)?;
        Ok(signature)
    }
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

impl TokenSigner for LocalKey {
    fn public_jwk(&self) -> &PublicJwk {
        &self.public
    }

    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> SignFuture<'a> {
        // One RSA-2048 signature takes well under a millisecond: cheaper to do in place
        // than to hand to a blocking thread, in turns so that the worker's I/O goes on.
        Box::pin(async move {
            super::turns::take_turn().await;
            self.sign_now(signing_input)
        })
    }
}
