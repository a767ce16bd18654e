//! `councilflow-fill`: fills a fresh data folder with a given number of events of governance
//! activity, for the growth benchmark (`bench/run`): start-up time, memory and query latency with
//! 10k, 100k and 1M events in the log.
//!
//! It goes through the real service, in process (no HTTP): the same decide, durable append and
//! projector as the server, so the log holds exactly what a server would have written. Stockport
//! productivity plans are started by its drafter, then edited by concurrent writers (each writer
//! owns its plans, so no edit is decided against a stale revision); every tenth plan also gets its
//! portfolio holder's sign-off, so stages have acts as well as text.
//!
//! With `--group`, the Derbyshire Chief Executives Group's members start their plans as the seeds
//! allow (Derbyshire Dales's, and the High Peak and Staffordshire Moorlands alliance's), and the
//! group proposes its barriers section, agreed by five of its nine councils: a board of nine rows
//! with something in each, for the web part of the benchmark.
//!
//! ```sh
//! councilflow-fill --data DIR --events 100000 [--plans 100] [--writers 32] [--group]
//! ```
//!
//! The last line printed is one JSON object: `{"events", "plans", "seconds", "per_s"}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Parser;
use councilflow_api::{Service, Settings};
use councilflow_governance::{
    CouncilId, GroupId, PersonId, Plan, PlanCommand, PlanId, Role, SectionId, SharedSection,
    SharedSectionCommand, StageId, WorkflowId,
};
use councilflow_server::definitions::{self, Kind};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Fill a fresh data folder with governance events (for benchmarks)")]
struct Args {
    /// The data folder to create (must not exist or be empty).
    #[arg(long)]
    data: PathBuf,
    /// Stop once the log holds at least this many events.
    #[arg(long)]
    events: u64,
    /// Plans to spread the edits over (default: one per 1,000 events, 10 to 1,000).
    #[arg(long)]
    plans: Option<usize>,
    /// Concurrent writers.
    #[arg(long, default_value_t = 32)]
    writers: usize,
    /// Also the Derbyshire group's member plans and its barriers section, part agreed.
    #[arg(long)]
    group: bool,
}

const DRAFTER: &str = "ravi-patel";
const PORTFOLIO_HOLDER: &str = "maria-costa";
const SECTIONS: [&str; 5] = [
    "achievements",
    "transforming-services",
    "technology-and-data",
    "reducing-wasteful-spend",
    "measuring-delivery",
];

/// A section text of a few hundred bytes that differs from edit to edit.
fn text(plan: usize, edit: u64) -> String {
    format!(
        "Plan {plan}, revision {edit}. Since 2020 the council has moved its customer contact \
         online, shared a chief executive and a senior team with its neighbour, and used data from \
         its housing repairs service to plan work a week ahead. It will measure delivery through \
         quarterly reports to cabinet, with the S151 officer's view of the savings achieved \
         against the medium-term financial strategy."
    )
}

fn is_empty_or_missing(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !is_empty_or_missing(&args.data) {
        bail!(
            "{} is not empty: the fill writes into a fresh folder",
            args.data.display()
        );
    }
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating {}", args.data.display()))?;
    let (workflows, _) = definitions::load(Path::new("workflows"), true, Kind::Workflows)?;
    let (seeds, _) = definitions::load(Path::new("seeds"), true, Kind::Seeds)?;
    let plans = args
        .plans
        .unwrap_or((args.events / 1_000).clamp(10, 1_000) as usize);
    let writers = args.writers.clamp(1, plans);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let (ids, events) = runtime.block_on(async {
        let service = Service::open(Settings::new(args.data.clone(), workflows, seeds)).await?;
        let ids = fill(&service, args.events, plans, writers).await?;
        if args.group {
            fill_group(&service).await?;
        }
        // The durable head: every event in the folder, seeds included.
        let events = service.ledger().head().position;
        // A clean stop, as a server's: it leaves the projection snapshot.
        service.close().await;
        anyhow::Ok((ids, events))
    })?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "filled {} with {events} events over {} plans in {seconds:.1} s",
        args.data.display(),
        ids.len()
    );
    println!(
        "{}",
        serde_json::json!({
            "events": events,
            "plans": ids,
            "seconds": seconds,
            "per_s": events as f64 / seconds,
        })
    );
    Ok(())
}

/// The Derbyshire group's member plans (those the seeds have drafters for) and its barriers
/// section, proposed and agreed by five of the nine member councils.
async fn fill_group(service: &Service) -> anyhow::Result<()> {
    let workflow = WorkflowId::parse("productivity-plan-2024")?;
    for (n, (drafter, councils)) in [
        ("nadia-bell", &["derbyshire-dales"][..]),
        (
            "sam-whitfield",
            &["high-peak", "staffordshire-moorlands"][..],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id = PlanId::parse(&format!("derbyshire-fill-{n}"))?;
        let command = PlanCommand::Start {
            plan: id.clone(),
            workflow: workflow.clone(),
            councils: councils
                .iter()
                .map(|c| CouncilId::parse(c))
                .collect::<Result<_, _>>()?,
            route: None,
            title: None,
            key_dates: Default::default(),
        };
        service
            .execute::<Plan>(&PersonId::parse(drafter)?, &id, command, None)
            .await?;
    }
    let group = GroupId::parse("derbyshire-chief-executives")?;
    let section = SectionId::parse("barriers")?;
    let key = (group.clone(), section.clone());
    let propose = SharedSectionCommand::Propose {
        group: group.clone(),
        section: section.clone(),
        text: "Funding certainty over several years is the main barrier.".to_owned(),
        expected_revision: None,
    };
    service
        .execute::<SharedSection>(&PersonId::parse("rachel-ingham")?, &key, propose, None)
        .await?;
    for (council, chief) in [
        ("amber-valley", "grace-whitaker"),
        ("bolsover", "ian-dunmore"),
        ("chesterfield", "kate-lindqvist"),
        ("derbyshire-dales", "martin-ashby"),
        ("erewash", "marcus-oduya"),
    ] {
        let agree = SharedSectionCommand::Agree {
            group: group.clone(),
            section: section.clone(),
            revision: 1,
            council: CouncilId::parse(council)?,
        };
        service
            .execute::<SharedSection>(&PersonId::parse(chief)?, &key, agree, None)
            .await?;
    }
    Ok(())
}

async fn fill(
    service: &Service,
    target: u64,
    plans: usize,
    writers: usize,
) -> anyhow::Result<Vec<String>> {
    let drafter = PersonId::parse(DRAFTER)?;
    let holder = PersonId::parse(PORTFOLIO_HOLDER)?;
    let mut ids = Vec::with_capacity(plans);
    for n in 0..plans {
        let id = PlanId::parse(&format!("stockport-fill-{n:04}"))?;
        let command = PlanCommand::Start {
            plan: id.clone(),
            workflow: WorkflowId::parse("productivity-plan-2024")?,
            councils: vec![CouncilId::parse("stockport")?],
            route: None,
            title: None,
            key_dates: Default::default(),
        };
        service
            .execute::<Plan>(&drafter, &id, command, None)
            .await?;
        if n % 10 == 0 {
            let sign_off = PlanCommand::SignOff {
                stage: StageId::parse("member-oversight")?,
                role: Role::parse("portfolio-holder")?,
                council: None,
                comment: None,
                // A plan just started, nothing edited yet.
                expected_revision: 0,
            };
            service
                .execute::<Plan>(&holder, &id, sign_off, None)
                .await?;
        }
        ids.push(id);
    }
    let ids = Arc::new(ids);
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let (service, ids, drafter) = (service.clone(), ids.clone(), drafter.clone());
        tasks.push(tokio::spawn(async move {
            let mine: Vec<usize> = (w..ids.len()).step_by(writers).collect();
            let mut edit = 0u64;
            while service.read().position < target {
                let p = mine[edit as usize % mine.len()];
                let section =
                    SectionId::parse(SECTIONS[(edit as usize / mine.len()) % SECTIONS.len()])?;
                let command = PlanCommand::EditSection {
                    section,
                    text: text(p, edit),
                    expected_revision: None,
                };
                service
                    .execute::<Plan>(&drafter, &ids[p], command, None)
                    .await?;
                edit += 1;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(ids.iter().map(ToString::to_string).collect())
}
