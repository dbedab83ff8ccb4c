//! The `serve` command.

use super::CommandResult;

/// Arguments of `internal-auth serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub(super) async fn run(_args: ServeArgs) -> CommandResult {
    Err("not built yet".into())
}
