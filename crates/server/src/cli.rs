//! The command line. Every flag also reads an environment variable `COUNCILFLOW_<FLAG>`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{app, commands};

#[derive(Parser)]
#[command(
    name = "councilflow",
    version,
    about = "Council plans through their governance route, recorded in a hash-chained ledger"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve GraphQL (POST /graphql, GraphiQL on GET /graphql, subscriptions at /graphql/ws).
    Serve(ServeArgs),
    /// One line per role assignment: person-id<TAB>role<TAB>council-or-group.
    People(DataArgs),
    /// Issue a bearer token for a person (the last line printed is the token), or revoke.
    Token(TokenArgs),
    /// Issue a calendar feed address for a person and council (the last line printed), list a
    /// person's feeds, or revoke one. A feed token reads that calendar only.
    FeedToken(FeedTokenArgs),
    /// A sign-in link for a person, for a first session on one's own machine (the last line
    /// printed; it works once, for 15 minutes).
    SignInLink(SignInLinkArgs),
    /// Sign a person out everywhere: ends their sessions and unused sign-in links.
    Sessions(SessionsArgs),
    /// Check the ledger's hash chain and indexes (or an export file on its own).
    Verify(VerifyArgs),
    /// Write the whole ledger as newline-delimited JSON.
    Export(ExportArgs),
    /// Load an export into a fresh data folder, checking the chain on the way in.
    Import(ImportArgs),
    /// The document to publish for a plan, with its record of approvals.
    ExportPlan(ExportPlanArgs),
    /// Open a data folder whose write-ahead file is missing or damaged, setting aside (not
    /// deleting) the events it no longer proves; only when `serve` refused and said to.
    Recover(RecoverArgs),
}

#[derive(Args, Clone)]
pub struct DataArgs {
    /// The data folder (the ledger, tokens).
    #[arg(long, env = "COUNCILFLOW_DATA", default_value = "./data")]
    pub data: PathBuf,
}

#[derive(Args, Clone)]
pub struct DefinitionArgs {
    /// Workflow definitions (*.toml); the embedded copies when the default folder is absent.
    #[arg(long, env = "COUNCILFLOW_WORKFLOWS")]
    pub workflows: Option<PathBuf>,
    /// Organisation seeds (*.toml); the embedded copies when the default folder is absent.
    #[arg(long, env = "COUNCILFLOW_SEEDS")]
    pub seeds: Option<PathBuf>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "COUNCILFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub definitions: DefinitionArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    /// Longest a write waits to show in what the server reads before it is answered
    /// UNAVAILABLE (it is recorded all the same).
    #[arg(long, env = "COUNCILFLOW_WRITE_VISIBLE_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub write_visible_timeout_ms: u64,
    /// A TOML file naming the councils whose people sign in with their own accounts (OpenID
    /// Connect): per council id, `issuer`, `client_id`, and `client_secret_env` or
    /// `client_secret_file` (never the secret itself). See docs/sign-in-providers.md.
    #[arg(long, env = "COUNCILFLOW_SIGN_IN_PROVIDERS")]
    pub sign_in_providers: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct MailArgs {
    /// SMTP server for reminders, as a lettre URL: smtp://host:port, smtp://host:587?tls=required
    /// (STARTTLS), smtps://user:password@host:465. Without it, reminders are written as .eml files
    /// under DATA/mail.
    #[arg(long, env = "COUNCILFLOW_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Longest a single send may take before it counts as a temporary failure.
    #[arg(long, env = "COUNCILFLOW_SMTP_TIMEOUT_SECS", default_value_t = 30)]
    pub smtp_timeout_secs: u64,
    /// The From address of reminders.
    #[arg(
        long,
        env = "COUNCILFLOW_MAIL_FROM",
        default_value = "councilflow <councilflow@localhost>"
    )]
    pub mail_from: String,
    /// The address people reach this server at, for links in reminders (default: the listen address).
    #[arg(long, env = "COUNCILFLOW_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How often the reminder task looks for reminders due.
    #[arg(long, env = "COUNCILFLOW_REMINDER_INTERVAL_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub reminder_interval_secs: u64,
    /// The wait before the first retry of a failed reminder (doubling each time, capped at 6 h).
    #[arg(long, env = "COUNCILFLOW_REMINDER_RETRY_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub reminder_retry_secs: u64,
}

#[derive(Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The person to issue a token for.
    #[arg(long, env = "COUNCILFLOW_PERSON", conflicts_with_all = ["revoke", "revoke_person"])]
    pub person: Option<String>,
    /// Revoke this token.
    #[arg(long, env = "COUNCILFLOW_REVOKE")]
    pub revoke: Option<String>,
    /// Revoke every token of this person.
    #[arg(long, env = "COUNCILFLOW_REVOKE_PERSON")]
    pub revoke_person: Option<String>,
}

#[derive(Args)]
pub struct FeedTokenArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The person whose feeds these are.
    #[arg(long, env = "COUNCILFLOW_PERSON")]
    pub person: Option<String>,
    /// Issue a feed of this council's calendar (the person must hold a role there).
    #[arg(long, env = "COUNCILFLOW_COUNCIL", requires = "person", conflicts_with_all = ["list", "revoke"])]
    pub council: Option<String>,
    /// List the person's feeds in force (id, council, created).
    #[arg(long, requires = "person", conflicts_with = "revoke")]
    pub list: bool,
    /// Revoke the feed with this id (from --list).
    #[arg(long, env = "COUNCILFLOW_REVOKE_FEED")]
    pub revoke: Option<String>,
    #[command(flatten)]
    pub url: PublicUrlArgs,
}

#[derive(Args)]
pub struct SignInLinkArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The person to sign in.
    #[arg(long, env = "COUNCILFLOW_PERSON")]
    pub person: String,
    /// Where to go once signed in (a path, such as /plans/<id>).
    #[arg(long)]
    pub next: Option<String>,
    #[command(flatten)]
    pub url: PublicUrlArgs,
}

/// Where people reach the server, for commands that print an address.
#[derive(Args)]
pub struct PublicUrlArgs {
    /// The address people reach the server at (as given to `serve`), to print full addresses.
    #[arg(
        long,
        env = "COUNCILFLOW_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

#[derive(Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// End every session of this person.
    #[arg(long, env = "COUNCILFLOW_REVOKE_PERSON")]
    pub revoke_person: String,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Verify this export file instead of the data folder.
    #[arg(long, env = "COUNCILFLOW_EXPORT_FILE")]
    pub export: Option<PathBuf>,
}

#[derive(Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Required: says that you accept losing the writes the write-ahead file no longer proves
    /// (they are set aside where `councilflow verify` lists them, not deleted).
    #[arg(long)]
    pub accept_loss: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Write here instead of standard output.
    #[arg(long, env = "COUNCILFLOW_OUTPUT")]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The fresh data folder to create.
    #[command(flatten)]
    pub data: DataArgs,
    /// The export file.
    #[arg(long, env = "COUNCILFLOW_INPUT")]
    pub input: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Md,
    Html,
}

#[derive(Args)]
pub struct ExportPlanArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub definitions: DefinitionArgs,
    /// The plan id.
    #[arg(long, env = "COUNCILFLOW_PLAN")]
    pub plan: String,
    #[arg(long, env = "COUNCILFLOW_FORMAT", value_enum, default_value = "md")]
    pub format: Format,
    /// Write here instead of standard output.
    #[arg(long, env = "COUNCILFLOW_OUTPUT")]
    pub output: Option<PathBuf>,
}

/// Parses the command line, runs the command, and turns errors into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COUNCILFLOW_LOG").unwrap_or_else(|_| {
                "councilflow=info,councilflow_server=info,councilflow_api=info,warn".into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Serve(args) => app::serve(args),
        Command::People(args) => commands::people(&args),
        Command::Token(args) => commands::token(&args),
        Command::FeedToken(args) => commands::feed_token(&args),
        Command::SignInLink(args) => commands::sign_in_link(&args),
        Command::Sessions(args) => commands::sessions(&args),
        Command::Verify(args) => commands::verify(&args),
        Command::Export(args) => commands::export(&args),
        Command::Import(args) => commands::import(&args),
        Command::ExportPlan(args) => commands::export_plan(&args),
        Command::Recover(args) => commands::recover(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("councilflow: {e:#}");
            ExitCode::FAILURE
        }
    }
}
