//! The `internal-auth` command: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    internal_auth::cli::main()
}
