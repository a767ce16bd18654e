//! The operator commands: people, token, verify, export, import, export-plan, recover.
//!
//! The ledger holds the data folder's lock while a server runs (see the ledger's `lock.rs`). `people` and `token` still work
//! then: they fall back on the snapshot of role assignments the server keeps beside the ledger
//! (`people.tsv`), and tokens live in their own append-only file. `verify`, `export` and
//! `export-plan` need the ledger itself and say so plainly when a server holds it.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use councilflow_api::service::{people_lines, PEOPLE_FILE};
use councilflow_api::TokenStore;
use councilflow_governance::{
    streams, CouncilId, DomainEvent, EventMeta, Organisation, PersonId, PlanId, Projections,
    Workflows,
};
use councilflow_ledger::{Config, Ledger, LedgerError};

use crate::cli::{
    DataArgs, ExportArgs, ExportPlanArgs, FeedTokenArgs, ImportArgs, RecoverArgs, SessionsArgs,
    SignInLinkArgs, TokenArgs, VerifyArgs,
};
use crate::definitions::{self, Kind};
use crate::document;

/// Says so when `data` holds no ledger, rather than creating one.
fn require_ledger(data: &Path) -> anyhow::Result<()> {
    if !councilflow_ledger::holds_ledger(data) {
        bail!(
            "{} holds no councilflow ledger (start the server with --data {} first)",
            data.display(),
            data.display()
        );
    }
    Ok(())
}

/// Opens the ledger, or says why not in words an operator can act on.
fn open_ledger(data: &Path, why: &str) -> anyhow::Result<Ledger> {
    require_ledger(data)?;
    match Ledger::open(Config::new(data)) {
        Ok(ledger) => Ok(ledger),
        Err(LedgerError::InUse(_)) => bail!(
            "the data folder {} is in use by a running councilflow server; {why} needs it to \
             itself: stop the server (SIGTERM or Ctrl-C) and run this again",
            data.display()
        ),
        Err(e) => Err(e).context(format!("opening the ledger in {}", data.display())),
    }
}

/// The organisation as the ledger records it.
fn organisation(ledger: &Ledger) -> anyhow::Result<Organisation> {
    let events = ledger.read_stream(streams::ORG, 1, usize::MAX)?;
    let mut org = Organisation::default();
    for event in events {
        let domain = DomainEvent::from_parts(&event.kind, &event.payload_json())
            .with_context(|| format!("decoding organisation event {}", event.position))?;
        if let DomainEvent::Org(event) = domain {
            org.apply(&event);
        }
    }
    Ok(org)
}

/// The role-assignment lines: from the ledger, or from a running server's snapshot.
fn people_text(data: &Path) -> anyhow::Result<String> {
    require_ledger(data)?;
    match Ledger::open(Config::new(data)) {
        Ok(ledger) => {
            let org = organisation(&ledger)?;
            ledger.shutdown();
            Ok(people_lines(&org))
        }
        Err(LedgerError::InUse(_)) => {
            std::fs::read_to_string(data.join(PEOPLE_FILE)).with_context(|| {
                format!(
                    "a server is running on {} but its people snapshot is not readable",
                    data.display()
                )
            })
        }
        Err(e) => Err(e).context(format!("opening the ledger in {}", data.display())),
    }
}

pub fn people(args: &DataArgs) -> anyhow::Result<()> {
    print!("{}", people_text(&args.data)?);
    Ok(())
}

pub fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let data = &args.data.data;
    let store = TokenStore::new(data);
    if let Some(token) = &args.revoke {
        store.revoke(token).context("recording the revocation")?;
        println!("revoked");
        return Ok(());
    }
    let person = match (&args.person, &args.revoke_person) {
        (Some(p), None) | (None, Some(p)) => p,
        _ => bail!("say --person ID (to issue), --revoke TOKEN or --revoke-person ID"),
    };
    let id = known_person(data, person)?;
    if args.revoke_person.is_some() {
        store
            .revoke_person(&id)
            .context("recording the revocation")?;
        println!("revoked every token of {id}");
        return Ok(());
    }
    let token = store.issue(&id).context("recording the token")?;
    eprintln!("a bearer token for {id} (send it as `Authorization: Bearer <token>`):");
    println!("{token}");
    Ok(())
}

pub fn feed_token(args: &FeedTokenArgs) -> anyhow::Result<()> {
    let data = &args.data.data;
    let store = TokenStore::new(data);
    if let Some(id) = &args.revoke {
        store
            .revoke_calendar_feed(id)
            .context("recording the revocation")?;
        println!("revoked calendar feed {id}");
        return Ok(());
    }
    let Some(person) = &args.person else {
        bail!("say --person ID --council ID (to issue), --person ID --list, or --revoke FEED-ID");
    };
    let person = PersonId::parse(person).map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.list {
        for feed in store.calendar_feeds_of(&person) {
            println!(
                "{}\t{}\t{}",
                feed.id,
                feed.council,
                feed.created_at.to_rfc3339()
            );
        }
        return Ok(());
    }
    let Some(council) = &args.council else {
        bail!("say --council ID: the council whose calendar the feed reads");
    };
    let council = CouncilId::parse(council).map_err(|e| anyhow::anyhow!("{e}"))?;
    // people.tsv: person<TAB>role<TAB>council, group, or * (every council).
    let holds_a_role = people_text(data)?.lines().any(|line| {
        let mut fields = line.split('\t');
        fields.next() == Some(person.as_str())
            && matches!(fields.nth(1), Some(c) if c == council.as_str() || c == "*")
    });
    if !holds_a_role {
        bail!(
            "{person} holds no role at {council}, so cannot read its calendar; \
             `councilflow people --data {}` lists who does",
            data.display()
        );
    }
    let (feed, token) = store
        .issue_calendar_feed(&person, &council)
        .context("recording the feed token")?;
    eprintln!(
        "calendar feed {} of {council} for {person}; it reads that calendar only \
         (revoke with `councilflow feed-token --revoke {}`). Subscribe to:",
        feed.id, feed.id
    );
    println!(
        "{}{}",
        args.url.public_url.trim_end_matches('/'),
        councilflow_api::graphql::feed_address(&council, &token)
    );
    Ok(())
}

/// A person known to the data folder, or why not.
fn known_person(data: &Path, person: &str) -> anyhow::Result<PersonId> {
    let id = PersonId::parse(person).map_err(|e| anyhow::anyhow!("{e}"))?;
    let known = people_text(data)?
        .lines()
        .any(|line| line.split('\t').next() == Some(id.as_str()));
    if !known {
        bail!(
            "no person {id} holds a role here; `councilflow people --data {}` lists them",
            data.display()
        );
    }
    Ok(id)
}

pub fn sign_in_link(args: &SignInLinkArgs) -> anyhow::Result<()> {
    let data = &args.data.data;
    let person = known_person(data, &args.person)?;
    let store = councilflow_web::AuthStore::new(data);
    let secret = store
        .issue_link(&person, args.next.as_deref())
        .context("recording the sign-in link")?;
    eprintln!("a sign-in link for {person}: open it and press \"Sign in\" (it works once, for 15 minutes):");
    println!(
        "{}",
        councilflow_web::sign_in_link(&args.url.public_url, &secret)
    );
    Ok(())
}

pub fn sessions(args: &SessionsArgs) -> anyhow::Result<()> {
    let data = &args.data.data;
    let person = known_person(data, &args.revoke_person)?;
    councilflow_web::AuthStore::new(data)
        .revoke_person(&person)
        .context("recording the revocation")?;
    println!("signed {person} out everywhere");
    Ok(())
}

pub fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let report = match &args.export {
        Some(file) => councilflow_ledger::verify_export_file(file)
            .with_context(|| format!("{} does not verify", file.display()))?,
        None => {
            let ledger = open_ledger(&args.data.data, "verify")?;
            let report = ledger.verify().context("the ledger does not verify")?;
            ledger.shutdown();
            report
        }
    };
    println!(
        "ok: {} events in {} streams; head {} {}",
        report.events, report.streams, report.head.position, report.head.hash
    );
    print_set_aside(&report.set_aside);
    Ok(())
}

/// Lists the events recovery set aside, one tab-separated line each with its payload, so an
/// operator can inspect them (they are not part of the chain).
fn print_set_aside(set_aside: &[councilflow_ledger::SetAside]) {
    if set_aside.is_empty() {
        return;
    }
    println!(
        "{} events were set aside at recovery because the write-ahead file did not prove them; \
         they are not part of the chain (each line: when, position, stream, version, kind, \
         actor, time, payload):",
        set_aside.len()
    );
    for s in set_aside {
        let e = &s.event;
        println!(
            "set-aside\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.at.to_rfc3339(),
            e.position,
            e.stream,
            e.version,
            e.kind,
            e.actor,
            e.at.to_rfc3339(),
            e.payload
        );
    }
}

pub fn recover(args: &RecoverArgs) -> anyhow::Result<()> {
    let data = &args.data.data;
    require_ledger(data)?;
    if !args.accept_loss {
        bail!(
            "recover opens a data folder whose write-ahead file is missing or damaged by setting \
             aside the events the file no longer proves; say --accept-loss to do so (first try \
             to restore the folder, {} included, from a backup)",
            councilflow_ledger::WAL_FILE
        );
    }
    let mut config = Config::new(data);
    config.accept_wal_damage = true;
    let ledger = match Ledger::open(config) {
        Ok(ledger) => ledger,
        Err(LedgerError::InUse(_)) => bail!(
            "the data folder {} is in use by a running councilflow server; stop it first",
            data.display()
        ),
        Err(e) => return Err(e).context(format!("recovering {}", data.display())),
    };
    let report = ledger.verify().context("the ledger does not verify")?;
    ledger.shutdown();
    println!(
        "recovered: {} events in {} streams; head {} {}",
        report.events, report.streams, report.head.position, report.head.hash
    );
    print_set_aside(&report.set_aside);
    Ok(())
}

pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let ledger = open_ledger(&args.data.data, "export")?;
    let report = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let report = ledger.export(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            report
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let report = ledger.export(&mut out)?;
            out.flush()?;
            report
        }
    };
    ledger.shutdown();
    eprintln!(
        "exported {} events, head {}",
        report.events, report.head.hash
    );
    Ok(())
}

pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("opening {}", args.input.display()))?;
    let report = Ledger::import(Config::new(&args.data.data), std::io::BufReader::new(file))
        .with_context(|| format!("importing {}", args.input.display()))?;
    println!(
        "imported {} events into {}; head {}",
        report.events,
        args.data.data.display(),
        report.head.hash
    );
    Ok(())
}

pub fn export_plan(args: &ExportPlanArgs) -> anyhow::Result<()> {
    let plan = PlanId::parse(&args.plan).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = args
        .definitions
        .workflows
        .clone()
        .unwrap_or_else(|| "./workflows".into());
    let (files, _) =
        definitions::load(&dir, args.definitions.workflows.is_none(), Kind::Workflows)?;
    let workflows = Workflows::load(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))?;
    let ledger = open_ledger(&args.data.data, "export-plan")?;
    let mut projections = Projections::new(workflows);
    let mut from = 1;
    loop {
        let page = ledger.read_all(from, 4096)?;
        for event in &page.events {
            if !DomainEvent::kinds().any(|k| k == event.kind) {
                continue;
            }
            let domain = DomainEvent::from_parts(&event.kind, &event.payload_json())
                .with_context(|| format!("decoding event {}", event.position))?;
            projections.apply(
                &EventMeta {
                    position: event.position,
                    recorded_at: event.at,
                },
                &domain,
            );
        }
        match page.next {
            Some(next) => from = next,
            None => break,
        }
    }
    ledger.shutdown();
    let view = projections
        .plan_view(&plan)
        .with_context(|| format!("there is no plan {plan}"))?;
    let text = document::render(&projections, &view, args.format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
