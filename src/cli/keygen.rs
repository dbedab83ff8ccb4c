//! `internal-auth keygen --dir DIR`: writes one new RSA-2048 signing key and prints its kid.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::CommandResult;
use crate::clock::{Clock as _, SystemClock};
use crate::keys::folder;

/// Arguments of `internal-auth keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Folder to write the key into; created if missing.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

pub(super) fn run(args: &KeygenArgs) -> CommandResult {
    let (kid, path) = folder::generate(&args.dir, SystemClock.unix_seconds())?;
    tracing::info!(kid = %kid, path = %path.display(), "wrote a new signing key");
    writeln!(std::io::stdout().lock(), "{kid}")?;
    Ok(ExitCode::SUCCESS)
}
