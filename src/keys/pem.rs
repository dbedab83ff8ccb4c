//! Reading and writing the PEM files in the key folder: PKCS#8 private keys, one per file.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PKCS8_LABEL: &str = "PRIVATE KEY";

/// Why a PEM file could not be read as a PKCS#8 private key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PemError {
    /// The file holds a PKCS#1 `RSA PRIVATE KEY`; the service reads PKCS#8 only.
    #[error(
        "it holds a PKCS#1 key; convert it with `openssl pkcs8 -topk8 -nocrypt` or make a new one with `internal-auth keygen`"
    )]
    Pkcs1,
    /// The file is encrypted; the service has no passphrase to open it with.
    #[error("it holds an encrypted key, which the service cannot open")]
    Encrypted,
    /// No `-----BEGIN PRIVATE KEY-----` block, or more than one.
    #[error("it does not hold exactly one `BEGIN PRIVATE KEY` block")]
    NotOnePrivateKey,
    /// The block's content is not base64.
    #[error("its PEM block is not valid base64")]
    Base64,
}

/// The DER bytes of the single PKCS#8 private key in `text`.
pub fn decode_pkcs8(text: &str) -> Result<Vec<u8>, PemError> {
    if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        return Err(PemError::Pkcs1);
    }
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(PemError::Encrypted);
    }

    let begin = format!("-----BEGIN {PKCS8_LABEL}-----");
    let end = format!("-----END {PKCS8_LABEL}-----");
    if text.matches(&begin).count() != 1 || text.matches(&end).count() != 1 {
        return Err(PemError::NotOnePrivateKey);
    }
    let (_, after_begin) = text.split_once(&begin).ok_or(PemError::NotOnePrivateKey)?;
    let (body, _) = after_begin
        .split_once(&end)
        .ok_or(PemError::NotOnePrivateKey)?;

    let base64: String = body.split_ascii_whitespace().collect();
    STANDARD.decode(base64).map_err(|_| PemError::Base64)
}

/// `der` as a PKCS#8 PEM document with 64-column lines.
pub fn encode_pkcs8(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut pem = String::with_capacity(base64.len() + base64.len() / 64 + 64);
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    for line in base64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_keys_decode_to_the_same_bytes() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1200).collect();
        assert_eq!(decode_pkcs8(&encode_pkcs8(&der)), Ok(der));
    }

    #[test]
    fn other_pem_documents_are_refused_with_a_reason() {
        let pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(decode_pkcs8(pkcs1), Err(PemError::Pkcs1));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(decode_pkcs8(encrypted), Err(PemError::Encrypted));
        assert_eq!(decode_pkcs8("hello"), Err(PemError::NotOnePrivateKey));
        let twice = format!("{0}{0}", encode_pkcs8(b"ab"));
        assert_eq!(decode_pkcs8(&twice), Err(PemError::NotOnePrivateKey));
        let garbage = "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n";
        assert_eq!(decode_pkcs8(garbage), Err(PemError::Base64));
    }
}
