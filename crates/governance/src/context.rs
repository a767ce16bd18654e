//! The read-only world a decision needs beyond one plan: the organisation, the workflow
//! definitions and the shared sections of every group.

use std::collections::BTreeMap;

use crate::definition::Workflows;
use crate::ids::{GroupId, SectionId};
use crate::organisation::Organisation;
use crate::shared_section::SharedSection;

/// Shared sections by (group, section).
pub type SharedSections = BTreeMap<(GroupId, SectionId), SharedSection>;

/// What `decide` reads besides the state it decides on. Borrowed, so a projection can lend its
/// own maps without copying.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Councils, groups, people and roles.
    pub organisation: &'a Organisation,
    /// Workflow definitions.
    pub workflows: &'a Workflows,
    /// Shared sections of every group.
    pub shared_sections: &'a SharedSections,
}

impl<'a> Context<'a> {
    /// A shared section's state.
    pub fn shared_section(
        &self,
        group: &GroupId,
        section: &SectionId,
    ) -> Option<&'a SharedSection> {
        self.shared_sections.get(&(group.clone(), section.clone()))
    }
}
