//! The `token` command: gets one token with the default AWS credential chain and prints it
//! alone on stdout, so that `TOKEN=$(internal-auth token ...)` works.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::CommandResult;
use crate::client::TokenClient;

/// Arguments of `internal-auth token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Base URL of internal-auth; tokens are asked for at URL/v1/token. Required unless
    /// --dev.
    #[arg(long, value_name = "URL", required_unless_present = "dev")]
    pub url: Option<String>,

    /// The server id of the internal-auth deployment (its `server_id` setting). Required
    /// unless --dev.
    #[arg(long, value_name = "ID", required_unless_present = "dev")]
    pub server_id: Option<String>,

    /// The organisation to ask a token for.
    #[arg(long, value_name = "ORG")]
    pub org_id: Option<String>,

    /// The lifetime to ask for, in seconds; the service caps it.
    #[arg(long, value_name = "SECS")]
    pub expires_in: Option<u64>,

    /// Trade development credentials at a local `serve --dev` instead of real AWS ones.
    #[arg(long)]
    pub dev: bool,

    /// With --dev: the key folder that holds the development credentials.
    #[arg(long, value_name = "DIR", default_value = "keys")]
    pub keys: PathBuf,
}

pub(super) async fn run(args: TokenArgs) -> CommandResult {
    let mut builder = if args.dev {
        super::dev::token_client(&args.keys, args.url, args.server_id)?
    } else {
        // clap enforces both unless --dev; checked again rather than unwrapped.
        let (Some(url), Some(server_id)) = (args.url, args.server_id) else {
            return Err("token needs --url and --server-id (or --dev)".into());
        };
        TokenClient::builder().url(url).server_id(server_id)
    };
    if let Some(org_id) = args.org_id {
        builder = builder.org_id(org_id);
    }
    if let Some(seconds) = args.expires_in {
        builder = builder.expires_in(Duration::from_secs(seconds));
    }
    let client = builder.build().await?;
    let token = client.token().await?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", token.as_str())
        .and_then(|()| stdout.flush())
        .map_err(|error| format!("could not write the token to stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<super::TokenArgs, clap::Error> {
        let cli = Cli::try_parse_from(["internal-auth", "token"].iter().chain(args))?;
        match cli.command {
            Command::Token(args) => Ok(args),
            other => panic!("parsed as another command: {other:?}"),
        }
    }

    #[test]
    fn url_and_server_id_are_required_without_dev() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--url", "https://a.example"]).is_err());
        assert!(parse(&["--server-id", "s"]).is_err());
        let args = parse(&["--url", "https://a.example", "--server-id", "s"]).expect("valid");
        assert_eq!(args.url.as_deref(), Some("https://a.example"));
        assert_eq!(args.keys.to_str(), Some("keys"));
    }

    #[test]
    fn dev_needs_neither_url_nor_server_id() {
        let args = parse(&["--dev", "--keys", "elsewhere"]).expect("valid");
        assert!(args.dev);
        assert_eq!(args.keys.to_str(), Some("elsewhere"));
    }

    #[tokio::test]
    async fn dev_without_credentials_says_to_start_the_dev_service() {
        let empty = tempfile::tempdir().expect("temp dir");
        let keys = empty.path().to_str().expect("utf-8 path");
        let args = parse(&["--dev", "--keys", keys]).expect("valid");
        let error = super::run(args).await.expect_err("no credentials yet");
        assert!(error.to_string().contains("serve --dev"), "{error}");
    }

    #[tokio::test]
    async fn a_bad_setting_is_one_sentence() {
        let args = parse(&["--url", "http://auth.example", "--server-id", "s"]).expect("valid");
        let error = super::run(args).await.expect_err("plain http");
        assert_eq!(
            error.to_string(),
            "invalid internal-auth client setting: url `http://auth.example` must use https \
             (http is allowed on a loopback address only)"
        );
    }
}
