//! The `verify` command.

use super::CommandResult;

/// Arguments of `internal-auth verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {}

pub(super) async fn run(_args: VerifyArgs) -> CommandResult {
    Err("not built yet".into())
}
