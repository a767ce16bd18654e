//! What a person reads: a draft is its councils' own, a published plan is everyone's to read as
//! published, a group's shared sections are read by the group and its member councils, and only
//! an explicit assignment reads every council.

use councilflow_governance::{GroupId, PlanAccess, PlanId, ReadScope};

use crate::approvals::{drafted, through_committee, DD};
use crate::common::*;

fn scope(w: &World, person: &str) -> ReadScope {
    ReadScope::of(w.p.organisation(), &pid(person))
}

fn access(w: &World, person: &str) -> Option<PlanAccess> {
    scope(w, person).plan(w.p.plan(&PlanId::parse(DD).unwrap()).unwrap())
}

#[test]
fn a_draft_is_read_by_its_councils_people_and_by_no_one_else() {
    // Given a Derbyshire Dales plan in draft,
    let w = drafted();
    // then its drafter, its chief executive and an all-councils reader read all of it,
    for person in ["nadia-bell", "martin-ashby", "regional-dashboard"] {
        assert_eq!(access(&w, person), Some(PlanAccess::Full), "{person}");
    }
    // and for another council's drafter, the group's officer and another council's reader it
    // does not exist.
    for person in ["ravi-patel", "rachel-ingham", "performance-dashboard"] {
        assert_eq!(access(&w, person), None, "{person}");
    }
}

#[test]
fn a_published_plan_is_read_as_published_by_anyone_and_fully_by_its_councils() {
    // Given a Derbyshire Dales plan approved by its committee,
    let mut w = drafted();
    through_committee(&mut w);
    w.act(DD, "ellie-shaw", submit(), "2024-07-19T09:00:00+01:00")
        .unwrap();
    assert_eq!(access(&w, "ravi-patel"), None, "submitted is not published");
    // when it is published,
    w.act(DD, "ellie-shaw", publish(), "2024-07-20T09:00:00+01:00")
        .unwrap();
    // then anyone reads it as published, and only its councils' people read its drafts.
    for person in ["ravi-patel", "rachel-ingham", "performance-dashboard"] {
        assert_eq!(access(&w, person), Some(PlanAccess::Published), "{person}");
    }
    assert_eq!(access(&w, "nadia-bell"), Some(PlanAccess::Full));
}

#[test]
fn a_groups_shared_sections_are_read_by_the_group_and_its_member_councils() {
    // Given the Derbyshire chief executives' group,
    let w = World::new();
    let group = GroupId::parse("derbyshire-chief-executives").unwrap();
    let reads = |person: &str| scope(&w, person).shared_sections(w.p.organisation(), &group);
    // then its officer and the people of its member councils read its shared sections,
    assert!(reads("rachel-ingham"));
    assert!(reads("nadia-bell"), "Derbyshire Dales is a member");
    assert!(reads("regional-dashboard"));
    // and people of councils outside it do not.
    assert!(!reads("ravi-patel"), "Stockport is not a member");
    assert!(!reads("performance-dashboard"), "Ashfield is not a member");
}

#[test]
fn a_persons_record_is_read_by_themselves_and_those_who_work_where_they_do() {
    // Given the seeded people,
    let w = World::new();
    let org = w.p.organisation();
    let ravi = org.person(&pid("ravi-patel")).unwrap();
    // then Ravi Patel is read by himself, by Stockport's chief executive and by the regional body,
    for person in ["ravi-patel", "fiona-grant", "regional-dashboard"] {
        assert!(scope(&w, person).person(ravi), "{person}");
    }
    // and not by another council's drafter, the Derbyshire group's officer or Ashfield's reader.
    for person in ["nadia-bell", "rachel-ingham", "performance-dashboard"] {
        assert!(!scope(&w, person).person(ravi), "{person}");
    }
}

#[test]
fn someone_unknown_to_the_organisation_reads_only_published_plans() {
    // Given a draft and a person id no seed names,
    let w = drafted();
    // then it does not exist for them.
    assert_eq!(access(&w, "nobody-at-all"), None);
    assert!(!scope(&w, "nobody-at-all").reads_everything());
}
