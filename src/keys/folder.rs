//! The key folder: every `*.pem` file in it is a PKCS#8 RSA private key. All are published
//! in the JWKS; the one whose file name sorts last signs. `keygen` names files by creation
//! time, so the newest key signs and older ones stay published for tokens still in flight.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};

use super::pem;
use super::signer::{KeyRejected, LocalKey, TokenSigner as _};

/// Why the key folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyFolderError {
    /// The folder could not be listed.
    #[error("cannot read the key folder {path}")]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The folder holds no `*.pem` file.
    #[error(
        "the key folder {path} holds no *.pem key; create one with `internal-auth keygen --dir {path}`"
    )]
    Empty {
        /// The folder.
        path: PathBuf,
    },
    /// A key file could not be read.
    #[error("cannot read the key file {path}")]
    UnreadableFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A key file is not PEM-encoded PKCS#8.
    #[error("the key file {path} is not a PKCS#8 PEM key: {source}")]
    NotPkcs8 {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: pem::PemError,
    },
    /// A key file holds a key that cannot sign RS256.
    #[error("the key file {path} cannot be used: {source}")]
    Rejected {
        /// The file.
        path: PathBuf,
        /// What is wrong with the key.
        source: KeyRejected,
    },
    /// Two files hold the same key.
    #[error("the key files {first} and {second} hold the same key")]
    Duplicate {
        /// The first file.
        first: PathBuf,
        /// The file that repeats it.
        second: PathBuf,
    },
}

/// Why a new key could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// The RSA key could not be generated.
    #[error("could not generate an RSA-2048 key")]
    Generate,
    /// The key folder could not be created or written to.
    #[error("cannot write the key file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
}

/// A key read from the folder, with the file it came from.
#[derive(Debug)]
pub struct LoadedKey {
    /// The file.
    pub path: PathBuf,
    /// The parsed key.
    pub key: LocalKey,
}

/// Loads every key in `dir`, sorted by file name: the last one is the signing key.
pub fn load(dir: &Path) -> Result<Vec<LoadedKey>, KeyFolderError> {
    let paths = key_files(dir).map_err(|source| KeyFolderError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })?;
    if paths.is_empty() {
        return Err(KeyFolderError::Empty {
            path: dir.to_path_buf(),
        });
    }

    let mut keys: Vec<LoadedKey> = Vec::with_capacity(paths.len());
    for path in paths {
        let key = read_key(&path)?;
        if let Some(twin) = keys
            .iter()
            .find(|loaded| loaded.key.public_jwk().kid == key.public_jwk().kid)
        {
            return Err(KeyFolderError::Duplicate {
                first: twin.path.clone(),
                second: path,
            });
        }
        keys.push(LoadedKey { path, key });
    }
    Ok(keys)
}

/// The `*.pem` files in `dir`, sorted by name; other files are not keys and are ignored.
pub fn key_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "pem") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn read_key(path: &Path) -> Result<LocalKey, KeyFolderError> {
    let text = fs::read_to_string(path).map_err(|source| KeyFolderError::UnreadableFile {
        path: path.to_path_buf(),
        source,
    })?;
    let der = pem::decode_pkcs8(&text).map_err(|source| KeyFolderError::NotPkcs8 {
        path: path.to_path_buf(),
        source,
    })?;
    LocalKey::from_pkcs8_der(&der).map_err(|source| KeyFolderError::Rejected {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a new RSA-2048 key into `dir` (created if missing) with owner-only permissions
/// and returns its `kid` and file.
///
/// The file is named `<UTC time>-<kid prefix>.pem` so that names sort by creation time and
/// the newest key becomes the signing key at the next start.
pub fn generate(dir: &Path, now_unix: u64) -> Result<(String, PathBuf), KeygenError> {
    let key_pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeygenError::Generate)?;
    let der = key_pair.as_der().map_err(|_| KeygenError::Generate)?;
    let key = LocalKey::from_pkcs8_der(der.as_ref()).map_err(|_| KeygenError::Generate)?;
    let kid = key.public_jwk().kid.clone();

    let path = dir.join(format!(
        "{}-{}.pem",
        crate::keys::time_name(now_unix),
        &kid[..8]
    ));
    let write_error = |source| KeygenError::Write {
        path: path.clone(),
        source,
    };
    create_owner_only_dir(dir).map_err(write_error)?;
    let mut file = create_owner_only(&path).map_err(write_error)?;
    file.write_all(pem::encode_pkcs8(der.as_ref()).as_bytes())
        .map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    Ok((kid, path))
}

/// Creates `dir` and its missing parents; new folders are the owner's alone.
pub fn create_owner_only_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates a new file readable by its owner only; never overwrites one.
pub fn create_owner_only(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_loads_and_signs_with_its_kid() {
        let dir = tempfile::tempdir().unwrap();
        let (kid, path) = generate(dir.path(), 1_700_000_000).unwrap();
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("20231114T221320Z-")
        );
        let keys = load(dir.path()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key.public_jwk().kid, kid);
        assert_eq!(keys[0].key.public_jwk().modulus_bits(), 2048);
        assert_eq!(keys[0].key.sign_now(b"x").unwrap().len(), 256);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file is readable by others");
        }
    }

    #[test]
    fn the_key_whose_name_sorts_last_comes_last() {
        let dir = tempfile::tempdir().unwrap();
        let (older, _) = generate(dir.path(), 1_700_000_000).unwrap();
        let (newer, _) = generate(dir.path(), 1_800_000_000).unwrap();
        let keys = load(dir.path()).unwrap();
        assert_eq!(keys[0].key.public_jwk().kid, older);
        assert_eq!(keys[1].key.public_jwk().kid, newer);
    }

    #[test]
    fn an_empty_folder_is_refused_with_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("README.md"), "not a key").unwrap();
        let error = load(dir.path()).unwrap_err();
        assert!(matches!(error, KeyFolderError::Empty { .. }));
        assert!(error.to_string().contains("internal-auth keygen"));
    }

    #[test]
    fn a_missing_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = load(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(error, KeyFolderError::Unreadable { .. }));
    }

    #[test]
    fn a_file_that_is_not_a_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), 1_700_000_000).unwrap();
        fs::write(dir.path().join("broken.pem"), "hello").unwrap();
        let error = load(dir.path()).unwrap_err();
        assert!(matches!(error, KeyFolderError::NotPkcs8 { .. }));
        assert!(error.to_string().contains("broken.pem"));
    }

    #[test]
    fn the_same_key_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = generate(dir.path(), 1_700_000_000).unwrap();
        fs::copy(&path, dir.path().join("zz-copy.pem")).unwrap();
        assert!(matches!(
            load(dir.path()).unwrap_err(),
            KeyFolderError::Duplicate { .. }
        ));
    }
}
