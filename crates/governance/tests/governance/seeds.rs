//! Organisation seeds: the shipped files load with every role the routes need, bad seeds are
//! refused with file and line, and syncing is idempotent and records changes as events.

use councilflow_governance::{load_seeds, sync_events, OrgEvent, Organisation, Role, Scope};

use crate::common::*;

#[test]
fn every_shipped_seed_file_loads() {
    let org = shipped_seed();
    for id in [
        "high-peak",
        "staffordshire-moorlands",
        "stockport",
        "derbyshire-dales",
        "ashfield",
    ] {
        assert!(org.council(&cid(id)).is_some(), "{id}");
    }
    assert!(org
        .group(
            &"high-peak-staffordshire-moorlands-alliance"
                .parse()
                .unwrap()
        )
        .is_some());
    assert_eq!(org.group(&DCX.parse().unwrap()).unwrap().members.len(), 9);
}

#[test]
fn every_council_with_a_route_has_someone_in_each_role_its_route_needs() {
    let org = shipped_seed();
    let workflows = shipped_workflows();
    for council in org.councils.values().filter(|c| c.route.is_some()) {
        let scope = Scope::Council(council.id.clone());
        let mut needed = vec![
            Role::Drafter,
            Role::ChiefExecutive,
            Role::S151Officer,
            Role::MonitoringOfficer,
        ];
        needed.extend([Role::PortfolioHolder, Role::CommitteeClerk, Role::Submitter]);
        for w in workflows.iter() {
            for stage in w.route_stages(council.route.as_ref().unwrap()) {
                needed.extend(stage.roles.iter().copied());
            }
        }
        for role in needed {
            assert!(
                !org.holders(role, &scope).is_empty(),
                "{} has no {role}",
                council.id
            );
        }
    }
}

#[test]
fn every_member_council_of_a_group_has_a_chief_executive() {
    let org = shipped_seed();
    for g in org.groups.values() {
        for c in &g.members {
            assert!(
                !org.holders(Role::ChiefExecutive, &Scope::Council(c.clone()))
                    .is_empty(),
                "{c}"
            );
        }
    }
}

#[test]
fn one_person_is_chief_executive_of_both_alliance_councils() {
    let org = shipped_seed();
    let hp = org.holders(Role::ChiefExecutive, &Scope::Council(cid("high-peak")));
    let sm = org.holders(
        Role::ChiefExecutive,
        &Scope::Council(cid("staffordshire-moorlands")),
    );
    assert_eq!(hp[0].0.id, sm[0].0.id);
}

#[test]
fn a_deputy_acts_for_a_statutory_role_and_there_is_a_reader() {
    let org = shipped_seed();
    let mos = org.holders(
        Role::MonitoringOfficer,
        &Scope::Council(cid("derbyshire-dales")),
    );
    assert_eq!(
        mos.iter()
            .map(|(p, deputy)| (p.id.as_str(), *deputy))
            .collect::<Vec<_>>(),
        [("harriet-doyle", false), ("owen-price", true)]
    );
    assert!(org
        .people
        .values()
        .any(|p| p.roles.iter().any(|r| r.role == Role::Reader)));
    assert!(org
        .people
        .values()
        .all(|p| p.email.as_str().ends_with("@example.org")));
}

#[test]
fn loading_the_same_seeds_again_records_nothing() {
    let seed = shipped_seed();
    let first = sync_events(&Organisation::default(), &seed);
    assert!(!first.is_empty());
    let org = Organisation::from_events(&first);
    assert_eq!(org, seed);
    assert!(sync_events(&org, &seed).is_empty());
}

#[test]
fn a_changed_seed_records_exactly_its_changes() {
    let seed = shipped_seed();
    let org = Organisation::from_events(&sync_events(&Organisation::default(), &seed));
    let mut changed = seed.clone();
    changed.councils.get_mut(&cid("ashfield")).unwrap().name =
        "Ashfield District Council (renamed)".into();
    let owen = changed.people.get_mut(&pid("owen-price")).unwrap();
    owen.roles.clear();
    changed.people.remove(&pid("performance-dashboard"));
    let events = sync_events(&org, &changed);
    let kinds: Vec<&str> = events.iter().map(OrgEvent::kind).collect();
    assert_eq!(kinds, ["CouncilUpdated", "RoleRevoked", "RoleRevoked"]);
    let after = Organisation::from_events(
        sync_events(&Organisation::default(), &seed)
            .iter()
            .chain(&events),
    );
    // Nothing is deleted: the dropped person stays, without roles.
    assert!(after
        .person(&pid("performance-dashboard"))
        .unwrap()
        .roles
        .is_empty());
    assert!(sync_events(&after, &changed).is_empty());
}

fn refused(files: &[(&str, &str)]) -> councilflow_governance::DefinitionError {
    load_seeds(files.iter().copied()).unwrap_err()
}

const COUNCILS: &str = "[[councils]]\nid = \"a\"\nname = \"A Council\"\n";

#[test]
fn a_minimal_seed_is_accepted() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"p@example.org\"\nroles = [{ role = \"drafter\", council = \"a\" }]\n";
    let org = load_seeds([("c.toml", COUNCILS), ("p.toml", people)]).unwrap();
    assert_eq!(org.people.len(), 1);
}

#[test]
fn a_role_at_an_unknown_council_is_refused_with_the_file_and_line() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"p@example.org\"\nroles = [\n  { role = \"drafter\", council = \"b\" },\n]\n";
    let err = refused(&[("c.toml", COUNCILS), ("p.toml", people)]);
    assert_eq!((err.file.as_str(), err.line), ("p.toml", Some(6)));
    assert!(err.message.contains("council 'b'"), "{}", err.message);
}

#[test]
fn an_unknown_role_in_a_seed_is_refused() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"p@example.org\"\nroles = [{ role = \"mayor\", council = \"a\" }]\n";
    let err = refused(&[("c.toml", COUNCILS), ("p.toml", people)]);
    assert_eq!(err.line, Some(5));
    assert!(err.message.contains("unknown role 'mayor'"));
}

#[test]
fn a_duplicate_council_id_across_files_is_refused() {
    let err = refused(&[("c.toml", COUNCILS), ("d.toml", COUNCILS)]);
    assert_eq!((err.file.as_str(), err.line), ("d.toml", Some(2)));
    assert!(
        err.message.contains("duplicate council id 'a'"),
        "{}",
        err.message
    );
}

#[test]
fn a_group_naming_an_unknown_member_is_refused() {
    let groups = "[[groups]]\nid = \"g\"\nname = \"G\"\nmembers = [\"a\", \"z\"]\n";
    let err = refused(&[("c.toml", COUNCILS), ("g.toml", groups)]);
    assert_eq!(err.line, Some(4));
    assert!(err.message.contains("council 'z'"));
}

#[test]
fn a_malformed_email_address_is_refused() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"not an address\"\n";
    let err = refused(&[("p.toml", people)]);
    assert_eq!(err.line, Some(4));
    assert!(err.message.contains("not an e-mail address"));
}

#[test]
fn an_unknown_key_in_a_seed_is_refused() {
    let err = refused(&[(
        "c.toml",
        "[[councils]]\nid = \"a\"\nname = \"A\"\nmayor = \"x\"\n",
    )]);
    assert_eq!(err.line, Some(4));
    assert!(
        err.message.contains("unknown field `mayor`"),
        "{}",
        err.message
    );
}

#[test]
fn a_deputy_for_a_non_statutory_role_is_refused() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"p@example.org\"\nroles = [{ role = \"drafter\", council = \"a\", deputy = true }]\n";
    let err = refused(&[("c.toml", COUNCILS), ("p.toml", people)]);
    assert!(
        err.message.contains("only statutory roles"),
        "{}",
        err.message
    );
}

#[test]
fn only_a_reader_is_held_across_all_councils() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"p@example.org\"\nroles = [{ role = \"drafter\", all_councils = true }]\n";
    let err = refused(&[("c.toml", COUNCILS), ("p.toml", people)]);
    assert_eq!(err.line, Some(5));
    assert!(
        err.message
            .contains("only a reader is held across all councils"),
        "{}",
        err.message
    );
}

#[test]
fn a_role_at_a_council_and_across_all_councils_at_once_is_refused() {
    let people = "[[people]]\nid = \"p\"\nname = \"P\"\nemail = \"p@example.org\"\nroles = [{ role = \"reader\", council = \"a\", all_councils = true }]\n";
    let err = refused(&[("c.toml", COUNCILS), ("p.toml", people)]);
    assert!(err.message.contains("exactly one of"), "{}", err.message);
}
