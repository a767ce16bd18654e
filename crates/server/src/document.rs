//! The document a council publishes: the plan's sections and the SHA-256 of their content, then
//! its record of approvals — who signed which revision when (and as deputy), each committee
//! decision with its meeting date and minute, any extension of the deadline beside the deadline
//! it replaced, the submission time, and where it is published,
//! each with the content hash it approved, so a reader can check that what was published is what
//! was approved.

use chrono::{DateTime, Utc};
use councilflow_governance::{PlanView, Projections};

use crate::cli::Format;

/// One line of the record of approvals.
struct Entry {
    stage: String,
    text: String,
}

/// ", content SHA-256 <hash>", or nothing for an act recorded before acts carried it.
fn hash(content_hash: Option<&str>) -> String {
    content_hash
        .map(|h| format!(", content SHA-256 {h}"))
        .unwrap_or_default()
}

fn london(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y, %H:%M %Z")
        .to_string()
}

fn record(projections: &Projections, view: &PlanView) -> Vec<Entry> {
    let org = projections.organisation();
    let Some(workflow) = projections.workflows().get(&view.plan.workflow) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for stage in &view.stages {
        for s in view.plan.sign_offs_for(workflow, &stage.id) {
            let r = &s.record;
            entries.push(Entry {
                stage: stage.title.clone(),
                text: format!(
                    "{}{} of {}, {}: signed revision {} on {}{}{}",
                    r.role.title(),
                    if r.deputy { " (deputy)" } else { "" },
                    org.council_name(&r.council),
                    org.person_name(&r.by),
                    r.plan_revision,
                    london(r.at),
                    hash(r.content_hash.as_deref()),
                    if s.stale {
                        " — stale: the plan changed afterwards"
                    } else {
                        ""
                    }
                ),
            });
        }
        for d in view.plan.decisions_for(workflow, &stage.id) {
            let r = &d.record;
            entries.push(Entry {
                stage: stage.title.clone(),
                text: format!(
                    "{} of {}, meeting of {}: {:?} (revision {}{}){}{}",
                    r.committee,
                    org.council_name(&r.council),
                    r.meeting_date.format("%-d %B %Y"),
                    r.decision,
                    r.plan_revision,
                    hash(r.content_hash.as_deref()),
                    r.minute_reference
                        .as_ref()
                        .map(|m| format!(", minute {m}"))
                        .unwrap_or_default(),
                    if d.stale {
                        " — stale: the plan changed afterwards"
                    } else {
                        ""
                    }
                ),
            });
        }
    }
    // The deadline the plan was judged against, and how it came to be that one: an extension
    // stands beside the deadline it replaced.
    if !view.plan.extensions.is_empty() {
        if let Some(original) = view.original_submission_deadline {
            entries.push(Entry {
                stage: "Deadline".into(),
                text: format!(
                    "submission due by {}{}",
                    london(original),
                    workflow
                        .submission_due_set_by
                        .as_ref()
                        .map(|by| format!(", as set by {by}"))
                        .unwrap_or_default()
                ),
            });
        }
        for e in &view.plan.extensions {
            entries.push(Entry {
                stage: "Deadline".into(),
                text: format!(
                    "extended to {} by {} on {}, reference {}; recorded by {} on {}",
                    london(e.due),
                    e.granted_by,
                    e.granted_on.format("%-d %B %Y"),
                    e.reference,
                    org.person_name(&e.by),
                    london(e.at)
                ),
            });
        }
    }
    if let Some(s) = &view.plan.submission {
        entries.push(Entry {
            stage: "Submission".into(),
            text: format!(
                "submitted on {} by {}{}; revision {}, content SHA-256 {}{}",
                london(s.at),
                org.person_name(&s.by),
                if s.late { " (after the deadline)" } else { "" },
                s.plan_revision,
                s.content_hash,
                s.reference
                    .as_ref()
                    .map(|r| format!(", reference {r}"))
                    .unwrap_or_default()
            ),
        });
    }
    if let Some(p) = &view.plan.publication {
        entries.push(Entry {
            stage: "Publication".into(),
            text: format!(
                "published at {} on {}{}",
                p.url,
                london(p.at),
                hash(p.content_hash.as_deref())
            ),
        });
    }
    entries
}

fn councils(projections: &Projections, view: &PlanView) -> String {
    let org = projections.organisation();
    view.plan
        .councils
        .iter()
        .map(|c| org.council_name(c))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn section_title(
    projections: &Projections,
    view: &PlanView,
    id: &councilflow_governance::SectionId,
) -> String {
    projections
        .workflows()
        .get(&view.plan.workflow)
        .and_then(|w| w.section(id))
        .map(|s| s.title.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The document in Markdown or HTML.
pub fn render(projections: &Projections, view: &PlanView, format: Format) -> String {
    match format {
        Format::Md => markdown(projections, view),
        Format::Html => html(projections, view),
    }
}

fn markdown(projections: &Projections, view: &PlanView) -> String {
    let mut out = format!(
        "# {}\n\n{} — revision {}, content SHA-256 {}\n\n",
        view.plan.title,
        councils(projections, view),
        view.plan.revision,
        view.plan.content_hash()
    );
    for section in &view.plan.sections {
        out.push_str(&format!(
            "## {}\n\n{}\n\n",
            section_title(projections, view, &section.id),
            if section.text.is_empty() {
                "_(not written)_"
            } else {
                &section.text
            }
        ));
    }
    out.push_str("## Record of approvals\n\n");
    let entries = record(projections, view);
    if entries.is_empty() {
        out.push_str("_No approvals recorded yet._\n");
    }
    for e in entries {
        out.push_str(&format!("- **{}**: {}\n", e.stage, e.text));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(projections: &Projections, view: &PlanView) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en-GB\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n<h1>{}</h1>\n<p>{} — revision {}, content SHA-256 <code>{}</code></p>\n",
        escape(&view.plan.title),
        escape(&view.plan.title),
        escape(&councils(projections, view)),
        view.plan.revision,
        view.plan.content_hash()
    );
    for section in &view.plan.sections {
        out.push_str(&format!(
            "<h2>{}</h2>\n",
            escape(&section_title(projections, view, &section.id))
        ));
        for paragraph in section.text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            out.push_str(&format!("<p>{}</p>\n", escape(paragraph)));
        }
    }
    out.push_str("<h2>Record of approvals</h2>\n<ul>\n");
    for e in record(projections, view) {
        out.push_str(&format!(
            "<li><strong>{}</strong>: {}</li>\n",
            escape(&e.stage),
            escape(&e.text)
        ));
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}
