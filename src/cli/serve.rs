//! `internal-auth serve`: runs the token service from a configuration file, or, with
//! `--dev`, on a laptop with generated keys and an in-process STS stand-in.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::CommandResult;
use crate::app::{Application, Overrides};
use crate::config::Settings;

/// Arguments of `internal-auth serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run locally with no AWS account: generated keys, an in-process STS stand-in,
    /// loopback only. With --config, the file's services and lifetimes are used.
    #[arg(long)]
    pub dev: bool,
    /// Address to listen on (default: the file's `listen`; 127.0.0.1:8080 with --dev).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// With --dev: the key folder (default: the file's `keys.dir`, else `keys`).
    #[arg(long, value_name = "DIR", requires = "dev")]
    pub keys: Option<PathBuf>,
}

pub(super) async fn run(args: ServeArgs) -> CommandResult {
    if args.dev {
        return super::dev::serve(args).await;
    }
    let Some(path) = args.config else {
        return Err("serve needs --config FILE (or --dev to run locally without AWS)".into());
    };
    let mut settings = Settings::load(&path)?;
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    serve(&settings, Overrides::default()).await
}

/// Builds the service from `settings` and serves until SIGINT or SIGTERM.
pub(super) async fn serve(settings: &Settings, overrides: Overrides) -> CommandResult {
    let application = Application::build(settings, overrides).await?;
    tracing::info!(
        address = %application.address(),
        issuer = %settings.issuer,
        services = settings.services.len(),
        "internal-auth is listening"
    );
    application.run_until_stopped().await?;
    tracing::info!("internal-auth stopped");
    Ok(ExitCode::SUCCESS)
}
