//! The `keygen` command.

use super::CommandResult;

/// Arguments of `internal-auth keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {}

pub(super) fn run(_args: &KeygenArgs) -> CommandResult {
    Err("not built yet".into())
}
