//! The HTTP application: the GraphQL routes (from the api crate) with the server's own pages
//! (`/healthz`) and the web application (its pages, a plan's document, a council's calendar),
//! start-up and clean shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use councilflow_api::graphql::{self, Schemas};
use councilflow_api::{Service, Settings};

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use councilflow_reminders::Mailer;

use crate::cli::{MailArgs, ServeArgs};
use crate::definitions::{self, Kind, Source};
use crate::reminders::{self, ReminderSettings};

/// What `serve` needs, already resolved.
pub struct ServeSettings {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub workflows: definitions::Files,
    pub seeds: definitions::Files,
    pub mail: MailArgs,
    /// How long a write waits to show before it is answered UNAVAILABLE.
    pub write_visible_within: Duration,
    /// The councils whose people sign in with their own accounts (OpenID Connect), if any.
    pub sign_in_providers: Option<PathBuf>,
}

/// A built application: bound to its port, its reminder task started, ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    service: Service,
    schema: Schemas,
    mailer: Arc<Mailer>,
    reminders: JoinHandle<()>,
    stop_reminders: watch::Sender<bool>,
    /// Tells the web application's live streams that the server is stopping.
    stop_streams: watch::Sender<bool>,
    /// The web application's routes.
    web: axum::Router,
}

impl Application {
    /// Opens the service (ledger, projections, seeds) and binds the listener.
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Application> {
        let service = Service::open(Settings {
            write_visible_within: settings.write_visible_within,
            ..Settings::new(settings.data.clone(), settings.workflows, settings.seeds)
        })
        .await
        .with_context(|| format!("starting on the data folder {}", settings.data.display()))?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        let schema = graphql::build_schema(service.clone());
        let mail = &settings.mail;
        let timeout = Duration::from_secs(mail.smtp_timeout_secs.max(1));
        let mailer = Arc::new(match &mail.smtp_url {
            Some(url) => Mailer::smtp(url, timeout).map_err(anyhow::Error::msg)?,
            None => Mailer::files(&settings.data.join("mail"), timeout)
                .context("creating the folder for .eml files")?,
        });
        let address = listener.local_addr().context("reading the bound address")?;
        let reminder_settings = ReminderSettings {
            interval: Duration::from_secs(mail.reminder_interval_secs),
            retry_base: Duration::from_secs(mail.reminder_retry_secs),
            public_url: mail
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{address}")),
            from: mail.mail_from.parse().with_context(|| {
                format!("the From address {:?} is not an address", mail.mail_from)
            })?,
        };
        councilflow_web::check_templates().map_err(anyhow::Error::msg)?;
        let sign_in_providers = match &settings.sign_in_providers {
            Some(path) => councilflow_web::auth::providers::load(
                path,
                service.read().projections.organisation(),
            )
            .map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        let (stop_streams, stopping) = watch::channel(false);
        let web = councilflow_web::router(
            service.clone(),
            mailer.clone(),
            councilflow_web::WebSettings {
                public_url: reminder_settings.public_url.clone(),
                mail_from: reminder_settings.from.clone(),
                document: |projections, view| {
                    crate::document::render(projections, view, crate::cli::Format::Html)
                },
                sign_in_providers,
                stopping,
            },
        )
        .map_err(anyhow::Error::msg)?;
        let (stop_reminders, stopped) = watch::channel(false);
        let reminders =
            reminders::spawn(service.clone(), mailer.clone(), reminder_settings, stopped);
        Ok(Application {
            listener,
            service,
            schema,
            mailer,
            reminders,
            stop_reminders,
            stop_streams,
            web,
        })
    }

    /// Where reminders go (SMTP or a folder of .eml files).
    pub fn mail_destination(&self) -> &str {
        self.mailer.describe()
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish and closes the ledger
    /// after the writes queued in it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let stop = shutdown_signal()?;
        self.run_until(stop).await
    }

    /// Serves until `stop` completes, then shuts down as [`Application::run_until_stopped`]:
    /// requests in flight finish, the reminder task ends its round, the ledger takes the writes
    /// queued in it and closes, and the projector stops. When this returns, nothing of the
    /// application is left running and the data folder is free.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop_streams = self.stop_streams;
        let router = crate::pages::with_private_headers(
            graphql::http::router(self.service.clone(), self.schema)
                .merge(crate::pages::router(self.service.clone()))
                .merge(self.web),
        );
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            stop.await;
            // Live streams never end by themselves: end them, or the shutdown waits on them.
            let _ = stop_streams.send(true);
        })
        .await
        .context("serving HTTP")?;
        tracing::info!("stopping: finishing the writes in flight");
        let _ = self.stop_reminders.send(true);
        if let Err(e) = self.reminders.await {
            tracing::error!(error = %e, "the reminder task ended abnormally");
        }
        self.service.close().await;
        Ok(())
    }
}

/// Installs the SIGTERM and Ctrl-C handlers *now* and returns a future that completes on either.
/// Installing them before anything announces the server matters: a signal that arrives before
/// installation kills the process without closing the ledger.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("installing the Ctrl-C handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Where `serve`'s workflow definitions and seeds came from.
pub struct Sources {
    pub workflows: Source,
    pub seeds: Source,
}

/// Resolves `serve`'s arguments: reads the definition files (from their folders, or the copies
/// embedded in the binary).
pub fn serve_settings(args: &ServeArgs) -> anyhow::Result<(ServeSettings, Sources)> {
    let workflows_dir = args
        .definitions
        .workflows
        .clone()
        .unwrap_or_else(|| PathBuf::from("./workflows"));
    let seeds_dir = args
        .definitions
        .seeds
        .clone()
        .unwrap_or_else(|| PathBuf::from("./seeds"));
    let (workflows, workflows_from) = definitions::load(
        &workflows_dir,
        args.definitions.workflows.is_none(),
        Kind::Workflows,
    )?;
    let (seeds, seeds_from) =
        definitions::load(&seeds_dir, args.definitions.seeds.is_none(), Kind::Seeds)?;
    Ok((
        ServeSettings {
            data: args.data.data.clone(),
            listen: args.listen,
            workflows,
            seeds,
            mail: args.mail.clone(),
            write_visible_within: Duration::from_millis(args.write_visible_timeout_ms),
            sign_in_providers: args.sign_in_providers.clone(),
        },
        Sources {
            workflows: workflows_from,
            seeds: seeds_from,
        },
    ))
}

/// `councilflow serve`: resolves the settings, builds, prints where to go, runs.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (settings, sources) = serve_settings(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let stop = shutdown_signal()?;
        let app = Application::build(settings).await?;
        let address = app.address();
        let describe = |s: &Source| match s {
            Source::Folder(f) => f.clone(),
            Source::Embedded => "embedded defaults".to_owned(),
        };
        let head = app.service().ledger().head();
        // The first line is what scripts and tests wait for.
        println!("councilflow listening on http://{address}");
        println!("  web:        http://{address}/");
        let public = args
            .mail
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let default_public = public == "http://127.0.0.1:8080";
        println!(
            "  sign in:    councilflow sign-in-link --person <id> --data {}{}",
            args.data.data.display(),
            if default_public {
                String::new()
            } else {
                format!(" --public-url {public}")
            }
        );
        println!("  GraphiQL:   http://{address}/graphql");
        println!(
            "  data:       {} ({} events, head {})",
            args.data.data.display(),
            head.position,
            head.hash
        );
        println!(
            "  workflows:  {}; seeds: {}",
            describe(&sources.workflows),
            describe(&sources.seeds)
        );
        println!("  reminders:  {}", app.mail_destination());
        println!(
            "  get a token: councilflow token --person <id> --data {}   (people: councilflow people --data {})",
            args.data.data.display(),
            args.data.data.display()
        );
        println!("  then send:  Authorization: Bearer <token>");
        app.run_until(stop).await
    })
}
