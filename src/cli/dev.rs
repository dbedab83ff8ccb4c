//! `serve --dev`: the whole flow on a laptop. Keys are generated when the folder holds
//! none, and an in-process STS stand-in, which checks SigV4 signatures exactly as STS does,
//! takes the place of AWS. Every forwarded request goes through the same checks and code
//! path as in production; only the last hop differs.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use super::CommandResult;
use super::serve::ServeArgs;
use crate::app::{Application, Overrides, StartError};
use crate::client::{TokenClient, TokenClientBuilder};
use crate::clock::{Clock, SystemClock};
use crate::config::{KeySettings, ServiceSettings, Settings, StsSettings, TokenSettings};
use crate::dev::{self, DevCredentials, StsStandIn};
use crate::keys::folder;

/// Where `serve --dev` listens unless told otherwise.
pub const DEV_LISTEN: &str = "127.0.0.1:8080";

/// A running development service and its STS stand-in.
pub struct DevService {
    /// The token service, bound and ready to run.
    pub application: Application,
    /// The STS stand-in it forwards to.
    pub stand_in: StsStandIn,
    /// The settings in force, with the stand-in as `sts.endpoint`.
    pub settings: Settings,
}

/// Why the development service did not start.
#[derive(Debug, thiserror::Error)]
pub enum DevStartError {
    /// Dev mode listens on loopback only.
    #[error(
        "serve --dev listens on loopback only (127.0.0.1 or ::1), not {0}: development mode must never face a network"
    )]
    NotLoopback(SocketAddr),
    /// The settings are unusable.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The development credentials could not be read or created.
    #[error(transparent)]
    Credentials(#[from] dev::DevError),
    /// A key could not be generated.
    #[error(transparent)]
    Keygen(#[from] folder::KeygenError),
    /// The stand-in or the service could not bind.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}

/// Starts the development service on `listen`, taking services and lifetimes from
/// `file_settings` when given, and keys from `keys` (default: the settings' `keys.dir`).
pub async fn start(
    listen: SocketAddr,
    file_settings: Option<Settings>,
    keys: Option<PathBuf>,
    clock: Arc<dyn Clock>,
) -> Result<DevService, DevStartError> {
    if !listen.ip().is_loopback() {
        return Err(DevStartError::NotLoopback(listen));
    }
    let listener = TcpListener::bind(listen).map_err(|source| DevStartError::Bind {
        address: listen,
        source,
    })?;
    let address = listener
        .local_addr()
        .map_err(|source| DevStartError::Bind {
            address: listen,
            source,
        })?;

    let mut settings = match file_settings {
        Some(settings) => settings,
        None => default_dev_settings(address),
    };
    settings.listen = address;
    if let Some(keys) = keys {
        settings.keys.dir = keys;
    }
    add_dev_service(&mut settings);
    ensure_a_key(&settings.keys.dir, clock.unix_seconds())?;

    let (credentials, created) = DevCredentials::load_or_create(&settings.keys.dir)?;
    if created {
        tracing::info!(
            folder = %settings.keys.dir.display(),
            "created development STS credentials (owner-only file in the key folder)"
        );
    }
    let stand_in = StsStandIn::start(credentials, Arc::clone(&clock))
        .await
        .map_err(|source| DevStartError::Bind {
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            source,
        })?;
    settings.sts.endpoint = Some(stand_in.endpoint());

    let overrides = Overrides {
        clock,
        listener: Some(listener),
        ..Overrides::default()
    };
    let application = Application::build(&settings, overrides).await?;
    Ok(DevService {
        application,
        stand_in,
        settings,
    })
}

pub(super) async fn serve(args: ServeArgs) -> CommandResult {
    let listen = args.listen.unwrap_or_else(|| {
        DEV_LISTEN
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
    });
    let file_settings = match &args.config {
        Some(path) => Some(Settings::load(path)?),
        None => None,
    };

    tracing::warn!(
        "DEVELOPMENT MODE: generated keys and a local STS stand-in; never expose this process to a network"
    );
    let service = start(listen, file_settings, args.keys, Arc::new(SystemClock)).await?;
    tracing::info!(
        address = %service.application.address(),
        issuer = %service.settings.issuer,
        server_id = %service.settings.server_id,
        "internal-auth (dev) is listening; get a token with `internal-auth token --dev`"
    );
    service.application.run_until_stopped().await?;
    service.stand_in.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// A token client for the development service: development credentials from `keys`,
/// the dev service's address and server id unless `url` and `server_id` say otherwise.
pub fn token_client(
    keys: &Path,
    url: Option<String>,
    server_id: Option<String>,
) -> Result<TokenClientBuilder, dev::DevError> {
    let credentials = DevCredentials::load(keys)?;
    Ok(TokenClient::builder()
        .url(url.unwrap_or_else(|| format!("http://{DEV_LISTEN}")))
        .server_id(server_id.unwrap_or_else(|| dev::DEV_SERVER_ID.to_string()))
        .static_credentials(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.expose().clone(),
            None,
        )
        // Set, so that the client never asks instance metadata for a region.
        .region(dev::DEV_STS_REGION))
}

fn default_dev_settings(address: SocketAddr) -> Settings {
    Settings {
        listen: address,
        issuer: format!("http://{address}"),
        server_id: dev::DEV_SERVER_ID.to_string(),
        audience: "internal-api".to_string(),
        token: TokenSettings::default(),
        keys: KeySettings::default(),
        sts: StsSettings::default(),
        services: Vec::new(),
    }
}

/// Maps the stand-in's role to `dev-service`, unless the file already maps that role.
fn add_dev_service(settings: &mut Settings) {
    let already_mapped = settings
        .services
        .iter()
        .any(|service| service.role_arn.eq_ignore_ascii_case(dev::DEV_ROLE_ARN));
    if !already_mapped {
        settings.services.push(ServiceSettings {
            name: dev::DEV_SERVICE_NAME.to_string(),
            role_arn: dev::DEV_ROLE_ARN.to_string(),
            org_ids: Some(vec!["*".to_string()]),
            unique_id: None,
            policies: Vec::new(),
        });
    }
}

/// Generates a signing key when the folder holds none (or does not exist yet). A folder
/// holding a broken key is left for the normal start-up to report.
fn ensure_a_key(dir: &Path, now_unix: u64) -> Result<(), DevStartError> {
    let holds_a_key = folder::key_files(dir).is_ok_and(|files| !files.is_empty());
    if !holds_a_key {
        let (kid, path) = folder::generate(dir, now_unix)?;
        tracing::info!(kid = %kid, path = %path.display(), "the key folder held no key: generated one");
    }
    Ok(())
}
