//! The `councilflow` binary: parses the command line and hands over to the library.

// The projections and the ledger allocate many small objects; mimalloc keeps that cheap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    councilflow_server::cli::main()
}
