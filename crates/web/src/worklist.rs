//! What waits on each person, kept up to date instead of worked out again on every request.
//!
//! "Waiting on you" asks the engine, for every plan the person reads, which acts waiting on
//! someone it would accept from them now. Across a thousand plans that is a thousand plans'
//! questions per request. A person's worklist keeps the answers, sorted as the page shows them,
//! and brings them up to date on the next request by asking again only about the plans with an
//! event since (`Projections::plans_changed_after`). It starts again from every plan when the
//! organisation or a shared section changed (they feed every plan's view and the person's scope),
//! after a restart, and when the day changes in London (the trial decisions use today's date).
//!
//! What stays true: a worklist answers exactly what asking every plan now would answer. The
//! engine's answers do not depend on the time of day, only on the plan, the organisation, the
//! shared sections and the date; all four are checked before a worklist is used. Lateness ("3
//! days overdue") is put into words on every request, for the rows shown.

use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use councilflow_governance::{PersonId, PlanId, PlanStatus, Projections, ReadScope};
use lru::LruCache;

use crate::candidates::{self, Candidate, Held};

/// People whose worklists are kept; the least recently seen are dropped first.
const PEOPLE_KEPT: usize = 1_000;

/// The statuses, in the order "Your plans" lists them.
pub(crate) const STATUSES: [PlanStatus; 5] = [
    PlanStatus::Drafting,
    PlanStatus::InApproval,
    PlanStatus::Approved,
    PlanStatus::Submitted,
    PlanStatus::Published,
];

/// Where an act sorts: overdue first (ascending deadline), acts with no deadline last; then by
/// plan and the act's place among the plan's.
pub(crate) type ActKey = (bool, Option<DateTime<Utc>>, PlanId, usize);

pub(crate) struct Worklists {
    people: Mutex<LruCache<PersonId, Arc<Mutex<Worklist>>>>,
}

impl Default for Worklists {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(PEOPLE_KEPT).unwrap_or(NonZeroUsize::MIN);
        Worklists {
            people: Mutex::new(LruCache::new(capacity)),
        }
    }
}

impl Worklists {
    /// The person's worklist (empty the first time). Lock it, then [`Worklist::refresh`] it
    /// under the projections' read lock before reading it.
    pub(crate) fn of(&self, person: &PersonId) -> Arc<Mutex<Worklist>> {
        let mut people = self.people.lock().unwrap_or_else(PoisonError::into_inner);
        people.get_or_insert(person.clone(), Arc::default).clone()
    }
}

#[derive(Default)]
pub(crate) struct Worklist {
    /// The ledger position and London date it is up to date with.
    at: Option<(u64, NaiveDate)>,
    plans: HashMap<PlanId, Entry>,
    acts: BTreeSet<ActKey>,
    /// Each status's plans, by when they started.
    by_status: [BTreeSet<(DateTime<Utc>, PlanId)>; 5],
}

/// What one plan contributes.
struct Entry {
    candidates: Vec<Candidate>,
    keys: Vec<ActKey>,
    listed: Option<(usize, DateTime<Utc>)>,
}

impl Worklist {
    /// Brings the worklist up to date with `projections` for `person`.
    pub(crate) fn refresh(
        &mut self,
        projections: &Projections,
        person: &PersonId,
        now: DateTime<Utc>,
    ) {
        let today = now.with_timezone(&London).date_naive();
        let Some(position) = projections.last_position() else {
            *self = Worklist::default();
            return;
        };
        let scope = ReadScope::of(projections.organisation(), person);
        let held = Held::of(projections, person);
        let ask = Ask {
            projections,
            person,
            scope: &scope,
            held: &held,
            now,
        };
        match self.at {
            Some((at, date)) if at == position && date == today => return,
            Some((at, date)) if date == today => {
                if let Some(changed) = projections.plans_changed_after(at) {
                    for id in changed {
                        self.update(&ask, id);
                    }
                    self.at = Some((position, today));
                    return;
                }
            }
            _ => {}
        }
        *self = Worklist::default();
        for plan in projections.plans() {
            self.update(&ask, &plan.id);
        }
        self.at = Some((position, today));
    }

    /// Asks again about one plan.
    fn update(&mut self, ask: &Ask<'_>, id: &PlanId) {
        if let Some(old) = self.plans.remove(id) {
            for key in &old.keys {
                self.acts.remove(key);
            }
            if let Some((i, started)) = old.listed {
                self.by_status[i].remove(&(started, id.clone()));
            }
        }
        let projections = ask.projections;
        let Some(plan) = projections.plan(id).filter(|p| ask.scope.plan_fully(p)) else {
            return;
        };
        let Some(view) = projections.plan_view(id) else {
            return;
        };
        let candidates = candidates::waiting_on(projections, &view, ask.person, ask.held, ask.now);
        let keys: Vec<ActKey> = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let due = c.due(&view);
                (due.is_none(), due, id.clone(), i)
            })
            .collect();
        self.acts.extend(keys.iter().cloned());
        let listed = STATUSES
            .iter()
            .position(|s| *s == view.status)
            .map(|i| (i, plan.started_at));
        if let Some((i, started)) = listed {
            self.by_status[i].insert((started, id.clone()));
        }
        self.plans.insert(
            id.clone(),
            Entry {
                candidates,
                keys,
                listed,
            },
        );
    }

    /// Every act, in the order shown.
    pub(crate) fn acts(&self) -> impl Iterator<Item = (&PlanId, &Candidate)> {
        self.acts.iter().filter_map(|(_, _, id, i)| {
            let candidate = self.plans.get(id)?.candidates.get(*i)?;
            Some((id, candidate))
        })
    }

    pub(crate) fn act_count(&self) -> usize {
        self.acts.len()
    }

    /// Each status's plans, latest started first.
    pub(crate) fn plans_by_status(
        &self,
    ) -> impl Iterator<Item = (PlanStatus, usize, impl Iterator<Item = &PlanId>)> {
        STATUSES
            .iter()
            .zip(&self.by_status)
            .map(|(status, plans)| (*status, plans.len(), plans.iter().rev().map(|(_, id)| id)))
    }
}

/// What every plan is asked with, for one person at one moment.
struct Ask<'a> {
    projections: &'a Projections,
    person: &'a PersonId,
    scope: &'a ReadScope,
    held: &'a Held<'a>,
    now: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    //! A worklist brought up to date event by event answers what one built afresh answers.

    use std::collections::BTreeMap;

    use chrono::Duration;
    use councilflow_governance::{
        load_seeds, sync_events, Aggregate, CouncilId, DomainEvent, EventMeta, Organisation, Plan,
        PlanCommand, Projections, Role, SectionId, StageId, Workflows,
    };

    use super::*;

    fn toml_files(dir: &str) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    struct World {
        p: Projections,
        position: u64,
        now: DateTime<Utc>,
    }

    impl World {
        fn commit(&mut self, events: Vec<DomainEvent>) {
            for e in events {
                self.position += 1;
                let meta = EventMeta {
                    position: self.position,
                    recorded_at: self.now,
                };
                self.p.apply(&meta, &e);
            }
        }

        /// Decides `cmd` as `actor` and records what the engine accepts; a refusal records
        /// nothing.
        fn act(&mut self, plan: &str, actor: &str, cmd: PlanCommand) {
            self.now += Duration::minutes(5);
            let id = PlanId::parse(plan).unwrap();
            let actor = PersonId::parse(actor).unwrap();
            let decided = Plan::decide(&self.p.context(), self.p.plan(&id), &cmd, &actor, self.now);
            if let Ok(events) = decided {
                self.commit(events.into_iter().map(DomainEvent::from).collect());
            }
        }

        fn revision(&self, plan: &str) -> u64 {
            self.p
                .plan(&PlanId::parse(plan).unwrap())
                .map_or(0, |p| p.revision)
        }
    }

    /// The acts in order, and each status's count and plans, as the page would show them.
    type Shown = (Vec<String>, Vec<(PlanStatus, usize, Vec<String>)>);

    fn shown(worklist: &Worklist) -> Shown {
        let acts = worklist
            .acts()
            .map(|(id, c)| format!("{id} {c:?}"))
            .collect();
        let plans = worklist
            .plans_by_status()
            .map(|(s, n, ids)| (s, n, ids.map(|id| id.to_string()).collect()))
            .collect();
        (acts, plans)
    }

    #[test]
    fn a_worklist_kept_up_to_date_answers_what_one_built_afresh_answers() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let workflows = toml_files(&format!("{root}/workflows"));
        let workflows =
            Workflows::load(workflows.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap();
        let seeds = toml_files(&format!("{root}/seeds"));
        let seed = load_seeds(seeds.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap();
        let mut w = World {
            p: Projections::new(workflows),
            position: 0,
            now: "2024-05-01T09:00:00Z".parse().unwrap(),
        };
        w.commit(
            sync_events(&Organisation::default(), &seed)
                .into_iter()
                .map(DomainEvent::from)
                .collect(),
        );
        let people: Vec<PersonId> = ["ravi-patel", "maria-costa", "kwame-mensah", "nadia-bell"]
            .iter()
            .map(|p| PersonId::parse(p).unwrap())
            .collect();
        let mut kept: Vec<Worklist> = people.iter().map(|_| Worklist::default()).collect();
        fn check(people: &[PersonId], kept: &mut [Worklist], w: &World) {
            for (person, worklist) in people.iter().zip(kept.iter_mut()) {
                worklist.refresh(&w.p, person, w.now);
                let mut fresh = Worklist::default();
                fresh.refresh(&w.p, person, w.now);
                assert_eq!(shown(worklist), shown(&fresh), "{person} at {}", w.position);
            }
        }

        // Given plans started, drafted and signed, with the worklists read after every act
        let plans = ["stockport-a", "stockport-b", "dd-a"];
        for (plan, council, drafter) in [
            (plans[0], "stockport", "ravi-patel"),
            (plans[1], "stockport", "ravi-patel"),
            (plans[2], "derbyshire-dales", "nadia-bell"),
        ] {
            let start = PlanCommand::Start {
                plan: PlanId::parse(plan).unwrap(),
                workflow: "productivity-plan-2024".parse().unwrap(),
                councils: vec![CouncilId::parse(council).unwrap()],
                route: None,
                title: None,
                key_dates: BTreeMap::new(),
            };
            w.act(plan, drafter, start);
            check(&people, &mut kept, &w);
        }
        for section in [
            "achievements",
            "transforming-services",
            "technology-and-data",
        ] {
            for (plan, drafter) in [(plans[0], "ravi-patel"), (plans[2], "nadia-bell")] {
                let edit = PlanCommand::EditSection {
                    section: SectionId::parse(section).unwrap(),
                    text: format!("{section}, drafted"),
                    expected_revision: None,
                };
                w.act(plan, drafter, edit);
                check(&people, &mut kept, &w);
            }
        }
        let sign = PlanCommand::SignOff {
            stage: StageId::parse("member-oversight").unwrap(),
            role: Role::PortfolioHolder,
            council: None,
            comment: None,
            expected_revision: w.revision(plans[0]),
        };
        w.act(plans[0], "maria-costa", sign);
        check(&people, &mut kept, &w);
        // (The acts were accepted: there is something to compare.)
        assert_eq!(w.p.plans().count(), 3);
        let signed = w.p.plan(&PlanId::parse(plans[0]).unwrap()).unwrap();
        assert_eq!(signed.sign_offs.len(), 1);
        assert!(kept[0].act_count() > 5, "Ravi has sections to draft");

        // When the organisation changes (Ravi is no longer Stockport's drafter)
        let mut changed = seed.clone();
        let ravi = PersonId::parse("ravi-patel").unwrap();
        if let Some(p) = changed.people.get_mut(&ravi) {
            p.roles.retain(|r| r.role != Role::Drafter);
        }
        let events = sync_events(w.p.organisation(), &changed);
        assert!(!events.is_empty());
        w.commit(events.into_iter().map(DomainEvent::from).collect());
        // Then every worklist still answers as one built afresh
        check(&people, &mut kept, &w);
        // And across a change of day
        w.now += Duration::days(1);
        check(&people, &mut kept, &w);
    }
}
