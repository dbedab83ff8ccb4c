//! The development access key and secret that `serve --dev` and `token --dev` share. They
//! live in a JSON file in the keys folder, readable by its owner only, and are made up on
//! the first run: they open nothing but the in-process STS stand-in.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::keys::folder;
use crate::secret::Secret;

/// The file in the keys folder that holds the development credentials. Its name does not end
/// in `.pem`, so the signing-key loader passes it by.
pub const CREDENTIALS_FILE_NAME: &str = "dev-sts-credentials.json";

/// The prefix of a long-term AWS access key id.
const ACCESS_KEY_PREFIX: &str = "AKIA";
/// How many characters follow the prefix.
const ACCESS_KEY_SUFFIX_LENGTH: usize = 16;
/// How long an AWS secret access key is.
const SECRET_LENGTH: usize = 40;

const ACCESS_KEY_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The development access key id and secret the stand-in accepts signatures from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCredentials {
    /// The access key id, `AKIA` and 16 upper-case letters or digits.
    pub access_key_id: String,
    /// The secret access key, 40 characters; `Debug` prints `[redacted]`.
    pub secret_access_key: Secret<String>,
}

/// Why the development credentials could not be read or created.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// There is no credentials file yet.
    #[error(
        "no development STS credentials at {path}; run `internal-auth serve --dev` first, it creates them"
    )]
    Missing {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// The file or its folder could not be read or written.
    #[error("cannot read or write the development STS credentials at {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The file may be read by other users than its owner.
    #[error(
        "the development STS credentials at {path} are readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not the JSON this module writes.
    #[error(
        "the development STS credentials at {path} are malformed; delete the file to have new ones made"
    )]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// The system's random generator failed.
    #[error("the system's random generator failed")]
    Random,
}

/// The file's JSON form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCredentials {
    access_key_id: String,
    secret_access_key: String,
}

impl DevCredentials {
    /// Reads `<dir>/dev-sts-credentials.json`, creating the folder and the file, with fresh
    /// random credentials and owner-only permissions, when missing. The flag says whether the
    /// file was created. A file that other users may read is refused.
    pub fn load_or_create(dir: &Path) -> Result<(Self, bool), DevError> {
        let path = dir.join(CREDENTIALS_FILE_NAME);
        match Self::load(dir) {
            Err(DevError::Missing { .. }) => {}
            loaded => return loaded.map(|credentials| (credentials, false)),
        }

        folder::create_owner_only_dir(dir).map_err(|source| DevError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let credentials = Self::generate(&SystemRandom::new())?;
        match write_new(&path, &credentials) {
            Ok(()) => Ok((credentials, true)),
            // Another process made the file between our read and our write: use its.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                Self::load(dir).map(|credentials| (credentials, false))
            }
            Err(source) => Err(DevError::Io { path, source }),
        }
    }

    /// Reads the credentials `serve --dev` created in `dir`.
    pub fn load(dir: &Path) -> Result<Self, DevError> {
        let path = dir.join(CREDENTIALS_FILE_NAME);
        let io_error = |source| DevError::Io {
            path: path.clone(),
            source,
        };

        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(DevError::Missing { path });
            }
            Err(error) => return Err(io_error(error)),
        };
        // The permissions are read from the opened file, so that they are those of the file
        // that is read even if the name is replaced in between.
        check_owner_only(&file.metadata().map_err(io_error)?, &path)?;

        let mut text = String::new();
        file.take(4096)
            .read_to_string(&mut text)
            .map_err(|_| DevError::Malformed { path: path.clone() })?;
        let stored: StoredCredentials =
            serde_json::from_str(&text).map_err(|_| DevError::Malformed { path: path.clone() })?;
        let credentials = Self {
            access_key_id: stored.access_key_id,
            secret_access_key: Secret::new(stored.secret_access_key),
        };
        if !credentials.is_well_formed() {
            return Err(DevError::Malformed { path });
        }
        Ok(credentials)
    }

    /// Fresh credentials from `random`: `AKIA` and 16 upper-case letters or digits, and a
    /// 40-character secret of letters, digits, `+` and `/`, as AWS's look.
    pub fn generate(random: &dyn SecureRandom) -> Result<Self, DevError> {
        let suffix = random_text(random, ACCESS_KEY_ALPHABET, ACCESS_KEY_SUFFIX_LENGTH)?;
        let secret = random_text(random, SECRET_ALPHABET, SECRET_LENGTH)?;
        Ok(Self {
            access_key_id: format!("{ACCESS_KEY_PREFIX}{suffix}"),
            secret_access_key: Secret::new(secret),
        })
    }

    /// The same credentials in the form the AWS SDK signs with, for `token --dev`.
    pub fn to_aws_credentials(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.as_str(),
            self.secret_access_key.expose().as_str(),
            None,
            None,
            "internal-auth-dev",
        )
    }

    fn is_well_formed(&self) -> bool {
        let key_is_well_formed = self
            .access_key_id
            .strip_prefix(ACCESS_KEY_PREFIX)
            .is_some_and(|suffix| {
                suffix.len() == ACCESS_KEY_SUFFIX_LENGTH
                    && suffix
                        .bytes()
                        .all(|byte| ACCESS_KEY_ALPHABET.contains(&byte))
            });
        let secret = self.secret_access_key.expose();
        key_is_well_formed
            && secret.len() == SECRET_LENGTH
            && secret.bytes().all(|byte| SECRET_ALPHABET.contains(&byte))
    }
}

/// `length` characters drawn uniformly from `alphabet` (at most 256 symbols).
fn random_text(
    random: &dyn SecureRandom,
    alphabet: &[u8],
    length: usize,
) -> Result<String, DevError> {
    // Bytes at or above the largest multiple of the alphabet's size are drawn again, so that
    // every symbol is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut text = String::with_capacity(length);
    let mut buffer = [0_u8; 64];
    while text.len() < length {
        random.fill(&mut buffer).map_err(|_| DevError::Random)?;
        for &byte in &buffer {
            if usize::from(byte) < limit && text.len() < length {
                text.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
            }
        }
    }
    Ok(text)
}

/// Writes `credentials` to a new file at `path` that only its owner may read; never replaces
/// an existing file.
fn write_new(path: &Path, credentials: &DevCredentials) -> io::Result<()> {
    let stored = StoredCredentials {
        access_key_id: credentials.access_key_id.clone(),
        secret_access_key: credentials.secret_access_key.expose().clone(),
    };
    let json = serde_json::to_string_pretty(&stored).map_err(io::Error::other)?;

    let mut file = folder::create_owner_only(path)?;
    file.write_all(json.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(unix)]
fn check_owner_only(metadata: &fs::Metadata, path: &Path) -> Result<(), DevError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(DevError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

// Known limitation: outside Unix the file's permissions are not checked, so a credentials
// file that other users can read is used without a warning.
#[cfg(not(unix))]
fn check_owner_only(_metadata: &fs::Metadata, _path: &Path) -> Result<(), DevError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_look_like_aws_ones() {
        let credentials = DevCredentials::generate(&SystemRandom::new()).unwrap();
        assert!(credentials.is_well_formed());
        assert_eq!(credentials.access_key_id.len(), 20);
        assert!(credentials.access_key_id.starts_with("AKIA"));
        assert_eq!(credentials.secret_access_key.expose().len(), 40);

        let other = DevCredentials::generate(&SystemRandom::new()).unwrap();
        assert_ne!(credentials.access_key_id, other.access_key_id);
        assert_ne!(credentials.secret_access_key, other.secret_access_key);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let credentials = DevCredentials::generate(&SystemRandom::new()).unwrap();
        let debug = format!("{credentials:?}");
        assert!(!debug.contains(credentials.secret_access_key.expose().as_str()));
        assert!(debug.contains(&credentials.access_key_id));
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn credentials_are_created_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("nested").join("keys");

        let (created, was_created) = DevCredentials::load_or_create(&keys).unwrap();
        assert!(was_created);
        let (again, was_created) = DevCredentials::load_or_create(&keys).unwrap();
        assert!(!was_created);
        assert_eq!(again, created);
        assert_eq!(DevCredentials::load(&keys).unwrap(), created);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_and_new_folder_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        DevCredentials::load_or_create(&keys).unwrap();

        let file_mode = fs::metadata(keys.join(CREDENTIALS_FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(file_mode & 0o777, 0o600);
        let dir_mode = fs::metadata(&keys).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o077, 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        DevCredentials::load_or_create(dir.path()).unwrap();
        let path = dir.path().join(CREDENTIALS_FILE_NAME);

        for mode in [0o640, 0o604, 0o660, 0o606] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let error = DevCredentials::load(dir.path()).unwrap_err();
            assert!(
                matches!(error, DevError::TooOpen { mode: found, .. } if found == mode),
                "{mode:o}: {error:?}"
            );
            assert!(matches!(
                DevCredentials::load_or_create(dir.path()),
                Err(DevError::TooOpen { .. })
            ));
        }
    }

    #[test]
    fn loading_without_a_file_says_to_run_serve_dev_first() {
        let dir = tempfile::tempdir().unwrap();
        let error = DevCredentials::load(dir.path()).unwrap_err();
        assert!(matches!(error, DevError::Missing { .. }));
        assert!(error.to_string().contains("serve --dev"));
    }

    #[test]
    fn malformed_files_are_refused_without_showing_their_content() {
        let cases = [
            "not json",
            "{}",
            r#"{"access_key_id": "AKIAABCDEFGHIJKLMNOP"}"#,
            r#"{"access_key_id": "AKIAABCDEFGHIJKLMNOP", "secret_access_key": "short"}"#,
            r#"{"access_key_id": "ASIAABCDEFGHIJKLMNOP",
                "secret_access_key": "0123456789012345678901234567890123456789"}"#,
            r#"{"access_key_id": "AKIAabcdefghijklmnop",
                "secret_access_key": "0123456789012345678901234567890123456789"}"#,
            r#"{"access_key_id": "AKIAABCDEFGHIJKLMNOP",
                "secret_access_key": "0123456789012345678901234567890123456789",
                "extra": 1}"#,
        ];
        for text in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(CREDENTIALS_FILE_NAME);
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            options
                .open(&path)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();

            let error = DevCredentials::load(dir.path()).unwrap_err();
            assert!(
                matches!(error, DevError::Malformed { .. }),
                "{text}: {error:?}"
            );
            assert!(!error.to_string().contains("0123456789"));
        }
    }

    #[test]
    fn a_well_formed_file_written_by_hand_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = DevCredentials {
            access_key_id: "AKIAABCDEFGHIJKLMN12".into(),
            secret_access_key: Secret::new("abcdefghijklmnopqrstuvwxyz0123456789+/AB".into()),
        };
        write_new(&dir.path().join(CREDENTIALS_FILE_NAME), &credentials).unwrap();
        assert_eq!(DevCredentials::load(dir.path()).unwrap(), credentials);
    }
}
