//! A parsed, validated policy, and the answers core gives from it.

use std::sync::Arc;

use actioncenter::{Category, Kind, Operation, Principal, SourceType};
use pyo3::prelude::*;

use crate::engine::PyPrincipal;
use crate::errors::OrRaise;

/// core's `Policy`, immutable. The Python `actioncenter.Policy` wraps it.
#[pyclass(frozen, module = "actioncenter._native")]
#[derive(Debug)]
pub struct Policy {
    pub(crate) policy: Arc<actioncenter::Policy>,
}

fn parse<T: std::str::FromStr<Err = actioncenter::Error>>(
    py: Python<'_>,
    text: &str,
) -> PyResult<T> {
    text.parse::<T>().or_raise(py)
}

#[pymethods]
impl Policy {
    /// Parses and validates a policy from JSON text.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let policy = actioncenter::Policy::from_json(text).or_raise(py)?;
        Ok(Policy {
            policy: Arc::new(policy),
        })
    }

    /// Parses and validates a policy file, read to at most the engine's
    /// document limit (an endless file such as `/dev/zero` costs nothing).
    /// `OSError` if it cannot be opened.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let file = std::fs::File::open(&path)?;
        let text = actioncenter::error::read_document("policy", file).or_raise(py)?;
        Self::from_json(py, &text)
    }

    /// The built-in default policy.
    #[staticmethod]
    fn default_policy() -> Self {
        Policy {
            policy: Arc::new(actioncenter::Policy::default()),
        }
    }

    /// The policy as pretty JSON, every default written out.
    fn to_json(&self) -> String {
        self.policy.to_json()
    }

    /// The role names the policy defines.
    fn roles(&self) -> Vec<String> {
        self.policy.roles().map(str::to_owned).collect()
    }

    /// The roles the policy gives a known principal, or `None`.
    fn principal_roles(&self, id: &str) -> Option<Vec<String>> {
        self.policy.principal(id).map(|p| p.roles)
    }

    /// Whether `by` may do `operation` on `category`.
    fn allows(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        operation: &str,
        category: &str,
    ) -> PyResult<bool> {
        let operation: Operation = parse(py, operation)?;
        let category: Category = parse(py, category)?;
        Ok(self
            .policy
            .allows(&Principal::from(by), operation, category))
    }

    /// The automation level for `kind` in `category` from `source_type`.
    fn automation_level(
        &self,
        py: Python<'_>,
        kind: &str,
        category: &str,
        source_type: &str,
    ) -> PyResult<String> {
        let kind: Kind = parse(py, kind)?;
        let category: Category = parse(py, category)?;
        let source_type: SourceType = parse(py, source_type)?;
        let level = self.policy.automation_level(&kind, category, source_type);
        Ok(json_name(&level))
    }

    /// Whether proposers may approve their own actions.
    fn allow_self_approval(&self) -> bool {
        self.policy.allow_self_approval()
    }

    /// Distinct approvers `kind` needs.
    fn quorum(&self, py: Python<'_>, kind: &str) -> PyResult<u32> {
        Ok(self.policy.quorum(&parse(py, kind)?))
    }

    /// How long an action of `kind` may stay pending, in seconds.
    fn pending_ttl_seconds(&self, py: Python<'_>, kind: &str) -> PyResult<i64> {
        Ok(self.policy.pending_ttl(&parse(py, kind)?).num_seconds())
    }

    /// What an action of `kind` becomes when its approval window closes.
    fn expiry_outcome(&self, py: Python<'_>, kind: &str) -> PyResult<String> {
        Ok(json_name(&self.policy.expiry_outcome(&parse(py, kind)?)))
    }

    /// How many times an action of `kind` may be executed.
    fn max_attempts(&self, py: Python<'_>, kind: &str) -> PyResult<u32> {
        Ok(self.policy.max_attempts(&parse(py, kind)?))
    }

    /// Whether a second active action of `kind` on the same entity is
    /// allowed.
    fn allow_duplicates(&self, py: Python<'_>, kind: &str) -> PyResult<bool> {
        Ok(self.policy.allow_duplicates(&parse(py, kind)?))
    }

    /// SHA-256 of the policy's canonical form, as the audit trail records it.
    fn digest(&self) -> String {
        self.policy.digest()
    }
}

/// The JSON name of a unit enum value (`"semi"`, `"expire"`...).
fn json_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _other => String::new(),
    }
}
