//! The service's configuration: one typed struct, read from a TOML file, then from
//! `INTERNAL_AUTH_*` environment variables, then validated whole before anything starts.
//!
//! Unknown keys are an error, so a typo (`ttl_secs`) stops the start instead of silently
//! leaving a default in force.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::partition::Partition;

/// Everything the service needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to bind.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The `iss` claim; the JWKS and discovery documents hang under it.
    pub issuer: String,
    /// The value callers must sign in `X-Internal-Auth-Server-Id`.
    pub server_id: String,
    /// The `aud` claim.
    pub audience: String,
    /// Token lifetimes.
    #[serde(default)]
    pub token: TokenSettings,
    /// Where the signing keys are.
    #[serde(default)]
    pub keys: KeySettings,
    /// How to reach STS.
    #[serde(default)]
    pub sts: StsSettings,
    /// The service identities roles map to.
    #[serde(default)]
    pub services: Vec<ServiceSettings>,
}

/// `[token]`: how long tokens live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// Lifetime when the caller asks for none (default 900).
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u64,
    /// A requested `expires_in` is capped here (default 3600).
    #[serde(default = "default_max_ttl")]
    pub max_ttl_seconds: u64,
}

/// `[keys]`: the signing key folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    /// Folder of PKCS#8 PEM private keys (default `keys`).
    #[serde(default = "default_key_dir")]
    pub dir: PathBuf,
}

/// `[sts]`: where forwarded requests go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StsSettings {
    /// Where to send forwarded requests instead of the signed host (a VPC endpoint, a
    /// proxy, a test double); the signed `Host` is kept.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// How long to wait for STS's whole answer (default 3000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Partitions whose STS hosts and role ARNs are accepted (default `["aws"]`).
    #[serde(default = "default_partitions")]
    pub partitions: Vec<String>,
}

/// `[[services]]`: one service identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// Becomes `sub` and `client_id`.
    pub name: String,
    /// The IAM role whose sessions are this service.
    pub role_arn: String,
    /// `org_id` values it may ask for; `["*"]` for any; absent for none.
    #[serde(default)]
    pub org_ids: Option<Vec<String>>,
    /// The role's unique id (`AROA...`): pins the role against deletion and re-creation.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// Copied into the `policies` claim.
    #[serde(default)]
    pub policies: Vec<String>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}
fn default_ttl() -> u64 {
    900
}
fn default_max_ttl() -> u64 {
    3600
}
fn default_key_dir() -> PathBuf {
    PathBuf::from("keys")
}
fn default_timeout_ms() -> u64 {
    3000
}
fn default_partitions() -> Vec<String> {
    vec!["aws".to_string()]
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            ttl_seconds: default_ttl(),
            max_ttl_seconds: default_max_ttl(),
        }
    }
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            dir: default_key_dir(),
        }
    }
}

impl Default for StsSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            timeout_ms: default_timeout_ms(),
            partitions: default_partitions(),
        }
    }
}

/// The longest token lifetime the service will ever be configured to grant: 12 hours.
pub const LONGEST_TTL_SECONDS: u64 = 12 * 3600;

/// Why the configuration cannot be used. Each message names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown or of the wrong type.
    #[error("the configuration file {path} is invalid: {message}")]
    Syntax {
        /// The file (or the environment).
        path: String,
        /// The parser's description, naming the key and line.
        message: String,
    },
    /// An `INTERNAL_AUTH_*` variable names no known key or holds an unusable value.
    #[error("the environment variable {variable} is invalid: {reason}")]
    Environment {
        /// The variable.
        variable: String,
        /// What is wrong.
        reason: String,
    },
    /// A value is impossible.
    #[error("invalid configuration: `{key}` {reason}")]
    Invalid {
        /// The key, dotted (`token.max_ttl_seconds`).
        key: String,
        /// What is wrong, as the end of a sentence.
        reason: String,
    },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Keys the environment may set, and how to read their values.
enum EnvKind {
    /// Taken as the raw string.
    Text,
    /// Read as a TOML value (numbers, arrays, inline tables).
    Toml,
}

const ENV_KEYS: &[(&str, EnvKind)] = &[
    ("listen", EnvKind::Text),
    ("issuer", EnvKind::Text),
    ("server_id", EnvKind::Text),
    ("audience", EnvKind::Text),
    ("token.ttl_seconds", EnvKind::Toml),
    ("token.max_ttl_seconds", EnvKind::Toml),
    ("keys.dir", EnvKind::Text),
    ("sts.endpoint", EnvKind::Text),
    ("sts.timeout_ms", EnvKind::Toml),
    ("sts.partitions", EnvKind::Toml),
    ("services", EnvKind::Toml),
];

const ENV_PREFIX: &str = "INTERNAL_AUTH_";

impl Settings {
    /// Reads `path`, applies the environment, and validates the result.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string(), std::env::vars())
    }

    /// Parses `text` (named `origin` in errors), applies `environment`, validates.
    pub fn from_toml(
        text: &str,
        origin: &str,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| ConfigError::Syntax {
                    path: origin.to_string(),
                    message: error.message().to_string() + &line_of(text, error.span()),
                })?;
        apply_environment(&mut table, environment)?;
        let settings: Settings =
            toml::Value::Table(table)
                .try_into()
                .map_err(|error: toml::de::Error| ConfigError::Syntax {
                    path: origin.to_string(),
                    message: error.message().to_string(),
                })?;
        settings.validate()?;
        Ok(settings)
    }

    /// The partitions named in `sts.partitions`.
    pub fn partitions(&self) -> Result<Vec<Partition>, ConfigError> {
        self.sts
            .partitions
            .iter()
            .map(|name| {
                name.parse().map_err(|_| {
                    invalid(
                        "sts.partitions",
                        format!("names `{name}`, which is not aws, aws-us-gov or aws-cn"),
                    )
                })
            })
            .collect()
    }

    /// Checks every value that the types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_issuer(&self.issuer)?;
        validate_printable("server_id", &self.server_id)?;
        validate_printable("audience", &self.audience)?;

        if self.token.ttl_seconds == 0 {
            return Err(invalid("token.ttl_seconds", "must be at least 1"));
        }
        if self.token.max_ttl_seconds < self.token.ttl_seconds {
            return Err(invalid(
                "token.max_ttl_seconds",
                format!(
                    "({}) must be at least token.ttl_seconds ({})",
                    self.token.max_ttl_seconds, self.token.ttl_seconds
                ),
            ));
        }
        if self.token.max_ttl_seconds > LONGEST_TTL_SECONDS {
            return Err(invalid(
                "token.max_ttl_seconds",
                format!("must be at most {LONGEST_TTL_SECONDS} (12 hours)"),
            ));
        }

        if let Some(endpoint) = &self.sts.endpoint {
            validate_endpoint(endpoint)?;
        }
        if !(1..=60_000).contains(&self.sts.timeout_ms) {
            return Err(invalid("sts.timeout_ms", "must be between 1 and 60000"));
        }
        if self.sts.partitions.is_empty() {
            return Err(invalid(
                "sts.partitions",
                "must name at least one partition",
            ));
        }
        self.partitions()?;

        if self.services.is_empty() {
            return Err(invalid(
                "services",
                "is empty: configure at least one [[services]] entry, or no caller can get a token",
            ));
        }
        for (index, service) in self.services.iter().enumerate() {
            validate_service(index, service)?;
        }
        Ok(())
    }
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

/// Overlays `INTERNAL_AUTH_<KEY>` (nested keys joined with `__`) on the file's table.
///
/// Variables whose first part is not one of our keys are left alone, so a neighbour such as
/// `INTERNAL_AUTH_BIN` or `INTERNAL_AUTH_TOKEN` (used by scripts around the service) does
/// not stop it; a variable for a known section with an unknown key does, since that is a
/// typo.
fn apply_environment(
    table: &mut toml::Table,
    environment: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (variable, value) in environment {
        let Some(rest) = variable.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let key = rest.to_ascii_lowercase().replace("__", ".");
        let Some((_, kind)) = ENV_KEYS.iter().find(|(known, _)| *known == key) else {
            let section = key.split('.').next().unwrap_or_default();
            let is_section = ["token", "keys", "sts"].contains(&section) && key.contains('.');
            if is_section {
                return Err(ConfigError::Environment {
                    variable,
                    reason: format!("`{key}` is not a configuration key"),
                });
            }
            continue;
        };

        let parsed = match kind {
            EnvKind::Text => toml::Value::String(value),
            EnvKind::Toml => {
                parse_toml_value(&value).map_err(|reason| ConfigError::Environment {
                    variable: variable.clone(),
                    reason,
                })?
            }
        };

        let mut parts = key.split('.');
        let first = parts.next().unwrap_or_default();
        match parts.next() {
            None => {
                table.insert(first.to_string(), parsed);
            }
            Some(leaf) => {
                let section = table
                    .entry(first.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let Some(section) = section.as_table_mut() else {
                    return Err(ConfigError::Environment {
                        variable,
                        reason: format!("`{first}` in the file is not a table"),
                    });
                };
                section.insert(leaf.to_string(), parsed);
            }
        }
    }
    Ok(())
}

fn parse_toml_value(text: &str) -> Result<toml::Value, String> {
    let document: toml::Table = format!("value = {text}")
        .parse()
        .map_err(|error: toml::de::Error| format!("not a TOML value ({})", error.message()))?;
    document
        .get("value")
        .cloned()
        .ok_or_else(|| "not a TOML value".to_string())
}

fn validate_issuer(issuer: &str) -> Result<(), ConfigError> {
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .ok_or_else(|| {
            invalid(
                "issuer",
                "must start with https:// (or http:// for local use)",
            )
        })?;
    if rest.is_empty() || issuer.ends_with('/') || issuer.contains(['?', '#', ' ']) {
        return Err(invalid(
            "issuer",
            "must be a URL with a host, without a trailing slash, query or fragment",
        ));
    }
    Ok(())
}

fn validate_endpoint(endpoint: &str) -> Result<(), ConfigError> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .ok_or_else(|| invalid("sts.endpoint", "must start with https:// or http://"))?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return Err(invalid(
            "sts.endpoint",
            "must be a scheme, a host and an optional port, with no path, query or user info",
        ));
    }
    Ok(())
}

fn validate_printable(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty()
        || value.len() > 256
        || !value.bytes().all(|byte| (0x21..0x7f).contains(&byte))
    {
        return Err(invalid(
            key,
            "must be 1 to 256 printable ASCII characters without spaces",
        ));
    }
    Ok(())
}

fn validate_service(index: usize, service: &ServiceSettings) -> Result<(), ConfigError> {
    let key = |field: &str| format!("services[{index}].{field}");
    if service.name.is_empty()
        || !service
            .name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:@".contains(&byte))
    {
        return Err(invalid(
            key("name"),
            "must be non-empty and use only letters, digits and - _ . : @",
        ));
    }
    if let Some(org_ids) = &service.org_ids {
        for org_id in org_ids {
            validate_printable(&key("org_ids"), org_id)?;
        }
    }
    if let Some(unique_id) = &service.unique_id
        && (!unique_id.starts_with("AROA")
            || !unique_id.bytes().all(|byte| byte.is_ascii_alphanumeric()))
    {
        return Err(invalid(
            key("unique_id"),
            "must be a role's unique id: AROA followed by letters and digits",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
issuer = "https://internal-auth.example"
server_id = "internal-auth.prod"
audience = "internal-api"

[[services]]
name = "billing"
role_arn = "arn:aws:iam::123456789012:role/billing-api"
"#;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(text, "test.toml", Vec::new())
    }

    fn parse_with_env(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env = env
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()));
        Settings::from_toml(text, "test.toml", env)
    }

    #[test]
    fn a_minimal_file_gets_the_documented_defaults() {
        let settings = parse(MINIMAL).unwrap();
        assert_eq!(settings.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(settings.token.ttl_seconds, 900);
        assert_eq!(settings.token.max_ttl_seconds, 3600);
        assert_eq!(settings.keys.dir, PathBuf::from("keys"));
        assert_eq!(settings.sts.timeout_ms, 3000);
        assert_eq!(settings.partitions().unwrap(), [Partition::Aws]);
        assert_eq!(settings.services[0].org_ids, None);
    }

    #[test]
    fn unknown_keys_stop_the_start_and_are_named() {
        let error = parse(&format!("{MINIMAL}\n[token]\nttl_secs = 5\n")).unwrap_err();
        assert!(error.to_string().contains("ttl_secs"), "{error}");
        let error = parse(&format!("colour = \"blue\"\n{MINIMAL}")).unwrap_err();
        assert!(error.to_string().contains("colour"), "{error}");
    }

    #[test]
    fn impossible_values_name_their_key() {
        let cases = [
            ("[token]\nttl_seconds = 0", "token.ttl_seconds"),
            (
                "[token]\nttl_seconds = 100\nmax_ttl_seconds = 50",
                "token.max_ttl_seconds",
            ),
            ("[token]\nmax_ttl_seconds = 86400", "token.max_ttl_seconds"),
            ("[sts]\ntimeout_ms = 0", "sts.timeout_ms"),
            ("[sts]\nendpoint = \"ftp://x\"", "sts.endpoint"),
            ("[sts]\nendpoint = \"http://x/path\"", "sts.endpoint"),
            ("[sts]\npartitions = [\"aws-moon\"]", "sts.partitions"),
        ];
        for (extra, key) in cases {
            let error = parse(&format!("{MINIMAL}\n{extra}\n")).unwrap_err();
            assert!(error.to_string().contains(key), "{extra}: {error}");
        }
        let error =
            parse(&MINIMAL.replace("https://internal-auth.example", "https://x/")).unwrap_err();
        assert!(error.to_string().contains("`issuer`"), "{error}");
    }

    #[test]
    fn no_services_is_an_error() {
        let text = MINIMAL.split("[[services]]").next().unwrap();
        let error = parse(text).unwrap_err();
        assert!(error.to_string().contains("`services`"), "{error}");
    }

    #[test]
    fn missing_required_keys_are_named() {
        let error = parse(&MINIMAL.replace("server_id = \"internal-auth.prod\"", "")).unwrap_err();
        assert!(error.to_string().contains("server_id"), "{error}");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let settings = parse_with_env(
            MINIMAL,
            &[
                ("INTERNAL_AUTH_SERVER_ID", "internal-auth.staging"),
                ("INTERNAL_AUTH_STS__TIMEOUT_MS", "1500"),
                ("INTERNAL_AUTH_TOKEN__TTL_SECONDS", "60"),
                ("INTERNAL_AUTH_LISTEN", "127.0.0.1:9000"),
            ],
        )
        .unwrap();
        assert_eq!(settings.server_id, "internal-auth.staging");
        assert_eq!(settings.sts.timeout_ms, 1500);
        assert_eq!(settings.token.ttl_seconds, 60);
        assert_eq!(settings.listen, "127.0.0.1:9000".parse().unwrap());
    }

    #[test]
    fn a_typo_in_a_section_variable_is_an_error_but_neighbours_are_left_alone() {
        let error = parse_with_env(MINIMAL, &[("INTERNAL_AUTH_STS__TIMEOUTMS", "1")]).unwrap_err();
        assert!(
            error.to_string().contains("INTERNAL_AUTH_STS__TIMEOUTMS"),
            "{error}"
        );
        parse_with_env(
            MINIMAL,
            &[
                ("INTERNAL_AUTH_BIN", "/x"),
                ("INTERNAL_AUTH_TOKEN", "eyJ..."),
            ],
        )
        .unwrap();
    }

    #[test]
    fn services_can_come_from_the_environment() {
        let text = MINIMAL.split("[[services]]").next().unwrap();
        let settings = parse_with_env(
            text,
            &[(
                "INTERNAL_AUTH_SERVICES",
                r#"[{ name = "x", role_arn = "arn:aws:iam::123456789012:role/x", org_ids = ["*"] }]"#,
            )],
        )
        .unwrap();
        assert_eq!(settings.services[0].name, "x");
    }
}
