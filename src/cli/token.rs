//! The `token` command.

use super::CommandResult;

/// Arguments of `internal-auth token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {}

pub(super) async fn run(_args: TokenArgs) -> CommandResult {
    Err("not built yet".into())
}
