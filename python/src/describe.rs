//! How core shows a target, a source or a principal to people, so that
//! Python shows the same words as `actionctl` and the console.

use actioncenter::{Entity, Principal, Source, parse_json};
use pyo3::prelude::*;

use crate::engine::PyPrincipal;
use crate::errors::OrRaise;

/// core's `Entity::describe` of a target in core's JSON.
#[pyfunction]
pub(crate) fn describe_entity(py: Python<'_>, entity: &str) -> PyResult<String> {
    let entity: Entity = parse_json("entity", entity).or_raise(py)?;
    Ok(entity.describe())
}

/// core's `Source::describe` of a source in core's JSON.
#[pyfunction]
pub(crate) fn describe_source(py: Python<'_>, source: &str) -> PyResult<String> {
    let source: Source = parse_json("source", source).or_raise(py)?;
    Ok(source.describe())
}

/// core's `Principal::shown`: "root as dana" when someone acts as the
/// principal, else its id.
#[pyfunction]
pub(crate) fn principal_shown(principal: PyPrincipal) -> String {
    Principal::from(principal).shown()
}
