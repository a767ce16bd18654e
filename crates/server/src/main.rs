//! The `councilflow` binary: parses the command line and hands over to the library.

// The projections and the ledger allocate many small objects; mimalloc keeps that cheap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Test builds only (the `fail` crate's `failpoints` feature, on through the server's
    // dev-dependencies): faults named in `FAILPOINTS` are injected, so the tests can show what a
    // panic or a stall does to a running server. A release build has no fail points at all.
    let _faults = fail::has_failpoints().then(fail::FailScenario::setup);
    councilflow_server::cli::main()
}
