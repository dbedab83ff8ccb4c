//! The `internal-auth` command line: `serve`, `keygen`, `token` and `verify`.
//!
//! Each command is a function that returns an error instead of exiting; [`main`] turns
//! that error into one line on stderr and a non-zero exit code, never a panic.

pub mod dev;
mod keygen;
mod serve;
mod token;
mod verify;

use std::error::Error;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use keygen::KeygenArgs;
pub use serve::ServeArgs;
pub use token::TokenArgs;
pub use verify::VerifyArgs;

/// What a command returns: its exit code, or an error to print as one line.
pub type CommandResult = Result<ExitCode, Box<dyn Error + Send + Sync>>;

/// Trades a signed STS GetCallerIdentity request for a short-lived RS256 JWT.
#[derive(Debug, Parser)]
#[command(name = "internal-auth", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of the `internal-auth` binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the token service.
    Serve(ServeArgs),
    /// Write a new RSA-2048 signing key into a folder and print its kid.
    Keygen(KeygenArgs),
    /// Get a token with the default AWS credential chain and print it on stdout.
    Token(TokenArgs),
    /// Check a token against its issuer's JWKS and print its claims.
    Verify(VerifyArgs),
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    init_logging(&cli.command);
    one_line_panics();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return report(&error),
    };

    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Keygen(args) => keygen::run(&args),
            Command::Token(args) => token::run(args).await,
            Command::Verify(args) => verify::run(args).await,
        }
    });

    match outcome {
        Ok(code) => code,
        Err(error) => report(error.as_ref()),
    }
}

/// Help and version go out as clap writes them; a wrong command line is one line on stderr
/// and exit code 2, with a pointer to `--help` instead of the whole usage text.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
        }
        _ => {
            // clap's message runs until the first blank line; the usage text follows it.
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|line| !line.is_empty())
                .collect();
            eprintln!("{} (see internal-auth --help)", message.join(" "));
            ExitCode::from(2)
        }
    }
}

/// A panic is a bug; it is reported as one line naming where it happened, not a backtrace.
fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|location| format!(" at {}:{}", location.file(), location.line()))
            .unwrap_or_default();
        eprintln!("error: internal error{location}; please report it");
    }));
}

/// Logs go to stderr so that `token` and `verify` keep stdout for their answer. `RUST_LOG`
/// sets the level; the service logs at `info` by default, the one-shot commands at `warn`.
fn init_logging(command: &Command) {
    let default_level = match command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // aws-sigv4 logs canonical requests, session token included, at debug and trace: keep
    // it quiet whatever RUST_LOG says, so no log ever holds a credential.
    let filter = match "aws_sigv4=info".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Prints an error and its causes as one line, `error: what failed: why`.
fn report(error: &(dyn Error + 'static)) -> ExitCode {
    eprintln!("error: {}", crate::error_chain::ErrorChain(error));
    ExitCode::FAILURE
}
