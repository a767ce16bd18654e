//! The `councilflow` binary. The server (`serve`) and its commands arrive with the server issue;
//! until then this only says so.

fn main() {
    eprintln!(
        "councilflow: the GraphQL server is not built yet; the ledger and governance crates are \
         (see README.md)"
    );
    std::process::exit(2);
}
