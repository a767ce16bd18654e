//! Parsed documents, so that a query sent again (every client sends the same few) is not parsed
//! again: parsing was the largest single cost of a plan query under load (about a third of the
//! CPU in a profile of `bench/run`'s read test).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use lru::LruCache;

use super::limits;

/// A parsed document, whether every operation in it is a query (decided once, at parse
/// time), and whether it has passed strict validation.
/// The document is shared so that a hit takes only a reference count under the cache's
/// lock; the copy async-graphql needs (it takes the document by value) is made after it.
struct Entry {
    document: Arc<ExecutableDocument>,
    reads_only: bool,
    validated: bool,
}

/// Which schema runs a document.
pub(super) enum Validation {
    /// Read-only and validated in full before: the fast schema.
    Fast,
    /// The strict schema (mutations always; documents that are not cached).
    Strict,
    /// The strict schema, then [`mark_validated`] if it passed: a cached read-only document
    /// not yet validated.
    StrictOnce,
    /// Introspection alone, already held to [`check_introspection_depth`]: the introspection
    /// schema, which validates in full but leaves depth to that check.
    Introspection,
}

/// Documents kept, least recently used dropped first.
const ENTRIES: usize = 256;
/// Only documents up to this size are kept, so the cache stays within a few MiB whatever
/// clients send (a parsed document takes several times its text).
const MAX_QUERY_BYTES: usize = 8 * 1024;

/// One cache for the process: a parsed document depends on its text only, not on the schema.
fn cache() -> &'static Mutex<LruCache<String, Entry>> {
    static CACHE: OnceLock<Mutex<LruCache<String, Entry>>> = OnceLock::new();
    CACHE.get_or_init(|| {
        Mutex::new(LruCache::new(
            NonZeroUsize::new(ENTRIES).expect("a non-zero size"),
        ))
    })
}

/// The parsed document of `query` and the schema to run it on, if it parses and passes the
/// checks made before execution (the alias limit); `Ok(None)` if it does not parse; `Err`
/// with the refusal.
pub(super) fn prepare(query: &str) -> Result<Option<(ExecutableDocument, Validation)>, String> {
    let cached = cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(query)
        .map(|entry| {
            let validation = match (entry.reads_only, entry.validated) {
                (true, true) => Validation::Fast,
                (true, false) => Validation::StrictOnce,
                (false, _) => Validation::Strict,
            };
            (Arc::clone(&entry.document), validation)
        });
    if let Some((document, validation)) = cached {
        return Ok(Some((ExecutableDocument::clone(&document), validation)));
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Ok(None);
    };
    check_aliases(&document)?;
    if introspection_only(&document) {
        check_introspection_depth(&document)?;
        return Ok(Some((document, Validation::Introspection)));
    }
    if query.len() > MAX_QUERY_BYTES {
        return Ok(Some((document, Validation::Strict)));
    }
    let reads_only = document
        .operations
        .iter()
        .all(|(_, op)| op.node.ty == OperationType::Query);
    let entry = Entry {
        document: Arc::new(document.clone()),
        reads_only,
        validated: false,
    };
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .put(query.to_owned(), entry);
    let validation = if reads_only {
        Validation::StrictOnce
    } else {
        Validation::Strict
    };
    Ok(Some((document, validation)))
}

/// Records that the read-only `query` passed strict validation: from now on it runs on the
/// fast schema.
pub(super) fn mark_validated(query: &str) {
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(entry) = cache.get_mut(query) {
        entry.validated = true;
    }
}

/// Counts aliases in the document; refuses more than [`limits::ALIASES`].
fn check_aliases(document: &ExecutableDocument) -> Result<(), String> {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + count(&f.node.selection_set.node)
                }
                Selection::InlineFragment(i) => count(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let mut aliases = 0;
    for (_, operation) in document.operations.iter() {
        aliases += count(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        aliases += count(&fragment.node.selection_set.node);
    }
    if aliases > limits::ALIASES {
        return Err(format!(
            "the query uses {aliases} aliases; the limit is {}",
            limits::ALIASES
        ));
    }
    Ok(())
}

/// Whether every operation is a query that asks only for `__schema`, `__type` or `__typename`:
/// what GraphiQL, code generators and API tools send to learn the schema.
fn introspection_only(document: &ExecutableDocument) -> bool {
    fn only_meta(set: &SelectionSet, document: &ExecutableDocument, depth: usize) -> bool {
        depth < limits::RECURSION
            && set.items.iter().all(|item| match &item.node {
                Selection::Field(f) => {
                    matches!(
                        f.node.name.node.as_str(),
                        "__schema" | "__type" | "__typename"
                    )
                }
                Selection::InlineFragment(i) => {
                    only_meta(&i.node.selection_set.node, document, depth + 1)
                }
                Selection::FragmentSpread(s) => document
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| only_meta(&f.node.selection_set.node, document, depth + 1)),
            })
    }
    document.operations.iter().all(|(_, op)| {
        op.node.ty == OperationType::Query && only_meta(&op.node.selection_set.node, document, 0)
    })
}

/// The depth limit for introspection, where `ofType` does not count. The standard introspection
/// query (graphql-js's `getIntrospectionQuery`) unwraps a type through nine nested `ofType`
/// fields, deeper than [`limits::DEPTH`] allows data queries; but `ofType` is one type, not a
/// list, so nesting it adds a line to the answer, never multiplies it. Every other field still
/// counts, so `fields { type { fields { type ... } } }`, which does multiply, stays refused.
fn check_introspection_depth(document: &ExecutableDocument) -> Result<(), String> {
    fn depth(set: &SelectionSet, document: &ExecutableDocument, nesting: usize) -> usize {
        if nesting > limits::RECURSION {
            // Fragments that spread each other: validation refuses the cycle.
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.name.node.as_str() != "ofType")
                        + depth(&f.node.selection_set.node, document, nesting + 1)
                }
                Selection::InlineFragment(i) => {
                    depth(&i.node.selection_set.node, document, nesting + 1)
                }
                Selection::FragmentSpread(s) => document
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .map_or(0, |f| {
                        depth(&f.node.selection_set.node, document, nesting + 1)
                    }),
            })
            .max()
            .unwrap_or(0)
    }
    for (_, operation) in document.operations.iter() {
        let deepest = depth(&operation.node.selection_set.node, document, 0);
        if deepest > limits::DEPTH {
            return Err(format!(
                "the query is nested deeper than the limit of {} (in introspection, `ofType` \
                 does not count)",
                limits::DEPTH
            ));
        }
    }
    Ok(())
}
