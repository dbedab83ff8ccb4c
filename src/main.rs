//! The `internal-auth` command: parses the command line and hands over to the library.

/// A mint allocates and frees a few dozen small buffers across one task; mimalloc's
/// per-thread free lists serve that pattern with less work than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    internal_auth::cli::main()
}
