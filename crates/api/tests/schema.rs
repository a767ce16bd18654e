//! The served schema: `schema.graphql` at the repository root is exactly what the code serves,
//! and every type, field, argument and enum value of the contract core is served.
//!
//! After an intended schema change, refresh the file with
//! `UPDATE_SCHEMA=1 cargo test -p councilflow-api --test schema`.

use std::collections::BTreeSet;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Every `Type`, `Type.field`, `Type.field(arg)`, `Input.field` and `Enum.VALUE` a document
/// defines, with field and argument types, so a changed type is caught as well as a missing name.
fn names(sdl: &str) -> BTreeSet<String> {
    let document = parse_schema(sdl).expect("the SDL parses");
    let mut out = BTreeSet::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(t) = definition else {
            continue;
        };
        let t = t.node;
        let name = t.name.node.to_string();
        out.insert(name.clone());
        match t.kind {
            TypeKind::Object(o) => {
                for f in o.fields {
                    let f = f.node;
                    out.insert(format!("{name}.{}: {}", f.name.node, f.ty.node));
                    for a in f.arguments {
                        let a = a.node;
                        out.insert(format!(
                            "{name}.{}({}: {})",
                            f.name.node, a.name.node, a.ty.node
                        ));
                    }
                }
            }
            TypeKind::InputObject(i) => {
                for f in i.fields {
                    let f = f.node;
                    out.insert(format!("{name}.{}: {}", f.name.node, f.ty.node));
                }
            }
            TypeKind::Enum(e) => {
                for v in e.values {
                    out.insert(format!("{name}.{}", v.node.value.node));
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn schema_graphql_is_exactly_the_served_schema() {
    let served = councilflow_api::graphql::sdl();
    let path = format!("{ROOT}/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &served).unwrap();
    }
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == served,
        "schema.graphql differs from the served schema; if the change is intended, run \
         UPDATE_SCHEMA=1 cargo test -p councilflow-api --test schema"
    );
}

#[test]
fn every_type_field_argument_and_enum_value_of_the_contract_is_served_with_its_type() {
    let contract = std::fs::read_to_string(format!("{ROOT}/docs/contract/core.graphql")).unwrap();
    let served = names(&councilflow_api::graphql::sdl());
    let missing: Vec<String> = names(&contract).difference(&served).cloned().collect();
    assert!(missing.is_empty(), "the served schema lacks: {missing:#?}");
}

#[test]
fn the_contract_copy_matches_the_shared_contract_when_it_is_beside_the_checkout() {
    // CI and developers have ../shared beside the repository; a fresh clone elsewhere may not.
    let shared = format!("{ROOT}/../shared/contract/core.graphql");
    if let Ok(upstream) = std::fs::read_to_string(&shared) {
        let copy = std::fs::read_to_string(format!("{ROOT}/docs/contract/core.graphql")).unwrap();
        assert_eq!(
            copy, upstream,
            "docs/contract/core.graphql is out of date with {shared}"
        );
    }
}
