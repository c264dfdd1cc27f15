//! `actioncenter._native`: the compiled half of the Python package.
//!
//! The module is private; `actioncenter` (pure Python, beside this
//! crate) is the public API. This half only converts: it parses the
//! JSON the Python layer sends with core's own serde schema, calls the
//! engine with the GIL released, and hands back core's JSON or one of
//! the exception classes of `actioncenter._errors`. Every rule stays in
//! the `actioncenter` crate.

#![forbid(unsafe_code)]

mod checkpoint;
mod clock;
mod describe;
mod engine;
mod errors;
mod policy;
mod records;

use pyo3::prelude::*;

/// The compiled engine behind the `actioncenter` package. Private: use
/// `actioncenter` instead.
#[pymodule(name = "_native")]
mod native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::checkpoint::{checkpoint_json, generate_key, parse_checkpoint};
    #[pymodule_export]
    use super::clock::ManualClock;
    #[pymodule_export]
    use super::describe::{describe_entity, describe_source, principal_shown};
    #[pymodule_export]
    use super::engine::Engine;
    #[pymodule_export]
    use super::policy::Policy;
    #[pymodule_export]
    use super::records::BuiltField;
    #[pymodule_export]
    use super::vocabulary;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}

/// The engine's words, as JSON, so the Python enums can be checked
/// against core and a kind's category and inverse come from core:
/// `{"statuses": [...], "final_statuses": [...], "events": [...],
/// "categories": [...], "source_types": [...], "operations": [...],
/// "kinds": [{"name": ..., "category": ..., "inverse": ...}, ...],
/// "error_kinds": [{"kind": ..., "code": ..., "class": ...}, ...]}`.
/// The error kinds are core's `ErrorKind::ALL`, each with the class it
/// raises (`ActionCenterError` for a kind not mapped yet).
#[pyfunction]
fn vocabulary() -> String {
    use actioncenter::{Category, ErrorKind, Event, Kind, Operation, SourceType, Status};
    let kinds: Vec<serde_json::Value> = Kind::builtin()
        .map(|k| {
            serde_json::json!({
                "name": k.name(),
                "category": k.category(),
                "inverse": k.inverse(),
            })
        })
        .collect();
    let final_statuses: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_final()).collect();
    serde_json::json!({
        "statuses": Status::ALL,
        "final_statuses": final_statuses,
        "events": Event::ALL,
        "categories": Category::ALL,
        "source_types": SourceType::ALL,
        "operations": Operation::ALL,
        "kinds": kinds,
        "error_kinds": ErrorKind::ALL
            .iter()
            .map(|k| serde_json::json!({
                "kind": k.as_str(),
                "code": k.code(),
                "class": errors::class_name(*k),
            }))
            .collect::<Vec<_>>(),
    })
    .to_string()
}
