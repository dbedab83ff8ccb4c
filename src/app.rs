//! Building the service from its settings: load and test the keys, index the services,
//! bind the socket. [`Application::build`] returns a bound server and its address, so tests
//! run the real thing on port 0.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, ServiceSettings, Settings};
use crate::forwarded::RequestPolicy;
use crate::http;
use crate::identity::{OrgIds, RoleArn, ServiceDirectory, ServiceIdentity};
use crate::keys::{KeyFolderError, KeyRing, KeySet};
use crate::metrics::Metrics;
use crate::partition::Partition;
use crate::replay::{InMemoryReplayCache, ReplayCache};
use crate::sts::{StsClient, StsClientError};
use crate::token::LifetimePolicy;

/// How many fresh signatures the in-memory replay cache holds: 20 minutes of traffic (the
/// longest a signature stays fresh: dated up to 5 minutes ahead, accepted until 15 minutes
/// old) at about 1,700 tokens a second, above one core's peak of about 1,350.
///
/// The number is 72 shards of 28,672 entries: 7/8 of 32,768 slots, the most a table of that
/// size holds. Tables grow with the traffic, so an idle replica holds next to nothing.
/// Measured in a throwaway program with the binary's allocator (resident memory of the
/// process, which starts at 3 MiB): 1,350 tokens a second, each fresh for 15 minutes,
/// reach a steady 1.22 million entries in 34 MiB, with a peak of 50 MiB while the tables
/// double (the allocator returns the old ones a little later); 2,500 a second, enough to
/// fill the cache, give 38 MiB with a peak of 54 MiB.
///
/// Known limitation: the cache lives in one replica's memory, so with several replicas a
/// signature used at one could be used once more at another until a shared store replaces
/// it. A replica minting faster than about 2,300 tokens a second for 15 minutes fills it,
/// and then refuses new requests (503, `replay_check_unavailable`) until entries expire.
pub const REPLAY_CACHE_CAPACITY: usize = 2_064_384;

/// Everything a request handler needs, built once at start-up and shared by all workers.
pub struct AppState {
    /// The `iss` claim.
    pub issuer: String,
    /// The `aud` claim.
    pub audience: String,
    /// What a forwarded request must satisfy (rules 1 to 9); its partitions also bound the
    /// caller's ARN (rule 15).
    pub request_policy: RequestPolicy,
    /// Token lifetimes.
    pub lifetime: LifetimePolicy,
    /// The configured services, indexed by role.
    pub directory: ServiceDirectory,
    /// The signing and published keys.
    pub keys: KeyRing,
    /// Signatures already used (rule 10).
    pub replay: Arc<dyn ReplayCache>,
    /// Sends checked requests to STS.
    pub sts: StsClient,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness for `jti`.
    pub rng: SystemRandom,
    /// The discovery document, serialised once.
    pub discovery_body: web::Bytes,
}

/// Why the service did not start. Each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key folder is missing, empty or holds a bad key.
    #[error(transparent)]
    Keys(#[from] KeyFolderError),
    /// The signing key could not sign its start-up test.
    #[error("the signing key could not sign a test message")]
    SigningSelfTest,
    /// The HTTP client for STS could not be built, or `sts.endpoint` is not a URL.
    #[error(transparent)]
    StsClient(#[from] StsClientError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}

/// What the process may choose beyond the settings; tests set these.
pub struct Overrides {
    /// The clock (default: the system's).
    pub clock: Arc<dyn Clock>,
    /// The replay cache (default: in memory, [`REPLAY_CACHE_CAPACITY`]).
    pub replay: Option<Arc<dyn ReplayCache>>,
    /// Worker threads (default: one per available core).
    pub workers: Option<usize>,
    /// An already bound socket to serve on instead of binding `settings.listen`.
    pub listener: Option<TcpListener>,
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            replay: None,
            workers: None,
            listener: None,
        }
    }
}

/// A bound, not yet running, token service.
pub struct Application {
    server: Server,
    address: SocketAddr,
}

impl Application {
    /// Validates `settings`, loads the keys and binds `settings.listen`.
    pub async fn build(settings: &Settings, overrides: Overrides) -> Result<Self, StartError> {
        let state = web::Data::new(build_state(settings, overrides.clock, overrides.replay).await?);

        let listener = match overrides.listener {
            Some(listener) => listener,
            None => TcpListener::bind(settings.listen).map_err(|source| StartError::Bind {
                address: settings.listen,
                source,
            })?,
        };
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: settings.listen,
            source,
        })?;

        let mut seed = [0u8; 8];
        let _ = state.rng.fill(&mut seed);
        http::request_span::seed_request_ids(u64::from_le_bytes(seed));

        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(http::request_span::in_request_span))
                .app_data(state.clone())
                .configure(http::routes)
        })
        .shutdown_timeout(10);
        if let Some(workers) = overrides.workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                address: settings.listen,
                source,
            })?
            .run();
        Ok(Self { server, address })
    }

    /// The address the service listens on (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (SIGINT or SIGTERM, or through [`Self::handle`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn build_state(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    replay: Option<Arc<dyn ReplayCache>>,
) -> Result<AppState, StartError> {
    settings.validate()?;
    let partitions = settings.partitions()?;
    let directory = build_directory(&settings.services, &partitions)?;

    let keys = KeySet::load_folder(&settings.keys.dir)?;
    // Prove the key signs before the service says it is ready.
    keys.signer()
        .sign(b"internal-auth start-up self-test")
        .await
        .map_err(|_| StartError::SigningSelfTest)?;

    let sts = StsClient::new(
        settings.sts.endpoint.as_deref(),
        Duration::from_millis(settings.sts.timeout_ms),
    )?;

    Ok(AppState {
        issuer: settings.issuer.clone(),
        audience: settings.audience.clone(),
        request_policy: RequestPolicy {
            server_id: settings.server_id.clone(),
            partitions,
        },
        lifetime: LifetimePolicy {
            default_seconds: settings.token.ttl_seconds,
            max_seconds: settings.token.max_ttl_seconds,
        },
        directory,
        keys: KeyRing::new(keys),
        replay: replay.unwrap_or_else(|| Arc::new(InMemoryReplayCache::new(REPLAY_CACHE_CAPACITY))),
        sts,
        metrics: Metrics::default(),
        clock,
        rng: SystemRandom::new(),
        discovery_body: http::well_known::discovery_document(&settings.issuer).into(),
    })
}

fn build_directory(
    services: &[ServiceSettings],
    partitions: &[Partition],
) -> Result<ServiceDirectory, ConfigError> {
    let mut identities = Vec::with_capacity(services.len());
    for (index, service) in services.iter().enumerate() {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: format!("services[{index}].{key}"),
            reason,
        };
        let role: RoleArn = service
            .role_arn
            .parse()
            .map_err(|error| invalid("role_arn", format!("is not an IAM role ARN: {error}")))?;
        if !partitions.contains(&role.partition()) {
            return Err(invalid(
                "role_arn",
                format!(
                    "is in partition {}, which sts.partitions does not list",
                    role.partition()
                ),
            ));
        }
        if role.has_path() {
            tracing::info!(
                service = %service.name,
                role_arn = %service.role_arn,
                "STS never reveals a role's path, so this role is matched on partition, account and name only"
            );
        }
        let org_ids = OrgIds::from_config(service.org_ids.as_deref())
            .map_err(|error| invalid("org_ids", error.to_string()))?;
        identities.push(ServiceIdentity {
            name: service.name.clone(),
            role,
            org_ids,
            unique_id: service.unique_id.clone(),
            policies: service.policies.clone(),
        });
    }
    ServiceDirectory::new(identities).map_err(|error| ConfigError::Invalid {
        key: "services".to_string(),
        reason: error.to_string(),
    })
}
