//! The engine handle: one method per core verb.
//!
//! Each method takes its arguments from Python first (principal, id,
//! JSON text), then releases the GIL for the whole call into core,
//! including parsing and serialising, and takes it back only to return
//! the JSON answer or raise.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actioncenter::{
    ActionCenter, ActionId, BulkOp, ClaimRequest, Clock, Decide, Error, Filter, ItemResult,
    PageRequest, PostgresOptions, PostgresStore, Principal, Proposal, Selection, SqliteOptions,
    SqliteStore, Store, Synchronous, SystemClock, UndoRequest, parse_json,
};
use pyo3::prelude::*;
use serde::Serialize;

use crate::clock::ManualClock;
use crate::errors::{OrRaise, exception};
use crate::policy::Policy;

/// A principal as the Python layer hands it over: any object with an
/// `id` string and a sequence of `roles` (an `actioncenter.Principal`).
#[derive(Debug, FromPyObject)]
pub(crate) struct PyPrincipal {
    id: String,
    roles: Vec<String>,
}

impl From<PyPrincipal> for Principal {
    fn from(p: PyPrincipal) -> Principal {
        Principal::new(p.id, p.roles)
    }
}

/// One item of a bulk operation or an undo fan-out: the id, and the
/// action's JSON or the exception (not raised) that item got.
type PyItem = (String, Option<String>, Option<Py<PyAny>>);

/// core's `ActionCenter`. Cheap to share between Python threads: every
/// method releases the GIL while core works.
#[pyclass(frozen, module = "actioncenter._native")]
#[derive(Debug)]
pub struct Engine {
    center: ActionCenter,
}

fn to_json(value: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::storage(format!("cannot encode: {e}"), e))
}

fn action_id(text: &str) -> Result<ActionId, Error> {
    text.parse()
}

fn clock_of(clock: Option<PyRef<'_, ManualClock>>) -> Arc<dyn Clock> {
    match clock {
        Some(c) => Arc::clone(&c.clock) as Arc<dyn Clock>,
        None => Arc::new(SystemClock),
    }
}

fn policy_of(policy: Option<PyRef<'_, Policy>>) -> actioncenter::Policy {
    policy.map(|p| (*p.policy).clone()).unwrap_or_default()
}

impl Engine {
    /// Runs `f` without the GIL and returns its answer as JSON.
    fn call<T: Serialize>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&ActionCenter) -> Result<T, Error> + Send,
    ) -> PyResult<String> {
        let center = &self.center;
        py.detach(|| f(center).and_then(|v| to_json(&v)))
            .or_raise(py)
    }
}

/// Turns per-item results into Python values, building each failed
/// item's exception with the GIL held.
fn items(py: Python<'_>, results: Vec<(String, Result<String, Error>)>) -> PyResult<Vec<PyItem>> {
    results
        .into_iter()
        .map(|(id, result)| match result {
            Ok(action) => Ok((id, Some(action), None)),
            Err(e) => Ok((id, None, Some(exception(py, &e)?.unbind()))),
        })
        .collect()
}

fn encode_items(results: Vec<ItemResult>) -> Vec<(String, Result<String, Error>)> {
    results
        .into_iter()
        .map(|item| {
            let encoded = item.result.and_then(|a| to_json(&a));
            (item.id.to_string(), encoded)
        })
        .collect()
}

#[pymethods]
impl Engine {
    /// An engine over a fresh in-memory store.
    #[staticmethod]
    #[pyo3(signature = (policy=None, clock=None))]
    fn in_memory(policy: Option<PyRef<'_, Policy>>, clock: Option<PyRef<'_, ManualClock>>) -> Self {
        let store: Arc<dyn Store> = Arc::new(actioncenter::MemoryStore::new());
        Engine {
            center: ActionCenter::with_clock(store, policy_of(policy), clock_of(clock)),
        }
    }

    /// An engine over the SQLite database at `path` (created if missing).
    /// `synchronous` is `"full"` or `"normal"`.
    #[staticmethod]
    #[pyo3(signature = (path, policy=None, clock=None, synchronous="full", busy_timeout_ms=10_000, pool_size=4))]
    fn open_sqlite(
        py: Python<'_>,
        path: PathBuf,
        policy: Option<PyRef<'_, Policy>>,
        clock: Option<PyRef<'_, ManualClock>>,
        synchronous: &str,
        busy_timeout_ms: u64,
        pool_size: u32,
    ) -> PyResult<Self> {
        let synchronous = match synchronous {
            "full" => Synchronous::Full,
            "normal" => Synchronous::Normal,
            other => {
                return Err(Error::validation(
                    "synchronous",
                    format!("must be \"full\" or \"normal\", got {other:?}"),
                ))
                .or_raise(py);
            }
        };
        let options = SqliteOptions {
            synchronous,
            busy_timeout: Duration::from_millis(busy_timeout_ms),
            pool_size,
        };
        let policy = policy_of(policy);
        let clock = clock_of(clock);
        let store = py
            .detach(|| SqliteStore::open_with(&path, &options))
            .or_raise(py)?;
        Ok(Engine {
            center: ActionCenter::with_clock(Arc::new(store), policy, clock),
        })
    }

    /// An engine over a PostgreSQL database, by connection URL.
    #[staticmethod]
    #[pyo3(signature = (url, policy=None, clock=None, pool_size=4))]
    fn open_postgres(
        py: Python<'_>,
        url: &str,
        policy: Option<PyRef<'_, Policy>>,
        clock: Option<PyRef<'_, ManualClock>>,
        pool_size: u32,
    ) -> PyResult<Self> {
        let options = PostgresOptions {
            pool_size,
            ..PostgresOptions::default()
        };
        let policy = policy_of(policy);
        let clock = clock_of(clock);
        let store = py
            .detach(|| PostgresStore::connect_with(url, &options))
            .or_raise(py)?;
        Ok(Engine {
            center: ActionCenter::with_clock(Arc::new(store), policy, clock),
        })
    }

    /// The policy in force.
    fn policy(&self) -> Policy {
        Policy {
            policy: self.center.policy(),
        }
    }

    /// Replaces the policy.
    fn set_policy(&self, py: Python<'_>, policy: PyRef<'_, Policy>) -> PyResult<()> {
        let policy = (*policy.policy).clone();
        self.center.set_policy(policy).or_raise(py)
    }

    /// The engine's current time, RFC 3339 in UTC.
    fn now(&self) -> String {
        self.center.now().to_rfc3339()
    }

    /// `propose`, with a proposal in core's JSON.
    fn propose(&self, py: Python<'_>, by: PyPrincipal, proposal: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.propose(&by, Proposal::from_json(proposal)?))
    }

    /// `approve`; `decide` is `{"comment": ..., "expected_version": ...}`.
    fn approve(&self, py: Python<'_>, by: PyPrincipal, id: &str, decide: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| {
            let decide: Decide = parse_json("decide", decide)?;
            c.approve(&by, action_id(id)?, &decide)
        })
    }

    /// `reject`; `decide` as for `approve`.
    fn reject(&self, py: Python<'_>, by: PyPrincipal, id: &str, decide: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| {
            let decide: Decide = parse_json("decide", decide)?;
            c.reject(&by, action_id(id)?, &decide)
        })
    }

    /// `cancel`.
    fn cancel(&self, py: Python<'_>, by: PyPrincipal, id: &str, comment: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.cancel(&by, action_id(id)?, comment))
    }

    /// `retry`.
    #[pyo3(signature = (by, id, comment=None))]
    fn retry(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        id: &str,
        comment: Option<&str>,
    ) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.retry(&by, action_id(id)?, comment))
    }

    /// `claim`; `request` is `{"limit": ..., "lease_seconds": ..., "kinds": [...]}`.
    /// Returns a JSON list of actions.
    fn claim(&self, py: Python<'_>, by: PyPrincipal, request: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| {
            let request: ClaimRequest = parse_json("claim", request)?;
            c.claim(&by, &request)
        })
    }

    /// `heartbeat`.
    fn heartbeat(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        id: &str,
        lease_seconds: i64,
    ) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.heartbeat(&by, action_id(id)?, lease_seconds))
    }

    /// `complete`; `result` is any JSON value.
    fn complete(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        id: &str,
        result: &str,
    ) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| {
            let result: serde_json::Value = parse_json("result", result)?;
            c.complete(&by, action_id(id)?, result)
        })
    }

    /// `fail`.
    fn fail(&self, py: Python<'_>, by: PyPrincipal, id: &str, error: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.fail(&by, action_id(id)?, error))
    }

    /// `undo`; `request` is `{"comment": ..., "all_instances": ...}`.
    /// Returns the action's JSON and one item per other instance.
    fn undo(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        id: &str,
        request: &str,
    ) -> PyResult<(String, Vec<PyItem>)> {
        let by = Principal::from(by);
        let center = &self.center;
        let (action, instances) = py
            .detach(|| {
                let request: UndoRequest = parse_json("undo", request)?;
                let report = center.undo(&by, action_id(id)?, &request)?;
                Ok((to_json(&report.action)?, encode_items(report.instances)))
            })
            .or_raise(py)?;
        Ok((action, items(py, instances)?))
    }

    /// `undo_instances`: a JSON list of actions.
    fn undo_instances(&self, py: Python<'_>, by: PyPrincipal, id: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.undo_instances(&by, action_id(id)?))
    }

    /// `bulk`; `op` is core's `BulkOp` JSON (`{"op": "approve", ...}`);
    /// the selection is either `ids` or a `filter` in core's `Filter` JSON.
    #[pyo3(signature = (by, op, ids=None, filter=None))]
    fn bulk(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        op: &str,
        ids: Option<Vec<String>>,
        filter: Option<&str>,
    ) -> PyResult<Vec<PyItem>> {
        let by = Principal::from(by);
        let center = &self.center;
        let results = py
            .detach(|| {
                let op: BulkOp = parse_json("op", op)?;
                let selection = match (ids, filter) {
                    (Some(ids), None) => Selection::Ids(
                        ids.iter()
                            .map(|id| action_id(id))
                            .collect::<Result<_, _>>()?,
                    ),
                    (None, Some(filter)) => Selection::Filter(Filter::from_json(filter)?),
                    _both_or_neither => {
                        return Err(Error::validation(
                            "selection",
                            "give either ids or a filter",
                        ));
                    }
                };
                Ok(encode_items(center.bulk(&by, &op, &selection)?))
            })
            .or_raise(py)?;
        items(py, results)
    }

    /// `get`.
    fn get(&self, py: Python<'_>, by: PyPrincipal, id: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.get(&by, action_id(id)?))
    }

    /// `resolve_id`: the full id (as a JSON string) of a unique prefix.
    fn resolve_id(&self, py: Python<'_>, prefix: &str) -> PyResult<String> {
        self.call(py, |c| c.resolve_id(prefix))
    }

    /// `short_ids`: a JSON array of the short id of each id, in order.
    fn short_ids(&self, py: Python<'_>, ids: Vec<String>) -> PyResult<String> {
        self.call(py, |c| {
            let ids = ids
                .iter()
                .map(|id| action_id(id))
                .collect::<Result<Vec<_>, _>>()?;
            c.short_ids(&ids)
        })
    }

    /// `list`; `filter` is core's `Filter` JSON, `page` its `PageRequest`.
    fn list(&self, py: Python<'_>, by: PyPrincipal, filter: &str, page: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| {
            let filter = Filter::from_json(filter)?;
            let page: PageRequest = parse_json("page", page)?;
            c.list(&by, &filter, &page)
        })
    }

    /// `counts`: `{"pending": 3, ...}` for every status.
    fn counts(&self, py: Python<'_>, by: PyPrincipal, filter: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.counts(&by, &Filter::from_json(filter)?))
    }

    /// `history_of`: a JSON list of audit events.
    fn history_of(&self, py: Python<'_>, by: PyPrincipal, id: &str) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.history_of(&by, action_id(id)?))
    }

    /// `events_since`: a JSON list of audit events.
    fn events_since(
        &self,
        py: Python<'_>,
        by: PyPrincipal,
        seq: u64,
        limit: usize,
    ) -> PyResult<String> {
        let by = Principal::from(by);
        self.call(py, |c| c.events_since(&by, seq, limit))
    }

    /// `verify_audit`: core's `AuditReport` JSON.
    fn verify_audit(&self, py: Python<'_>) -> PyResult<String> {
        self.call(py, ActionCenter::verify_audit)
    }

    /// `expire_due`: a JSON list of the actions moved.
    fn expire_due(&self, py: Python<'_>) -> PyResult<String> {
        self.call(py, ActionCenter::expire_due)
    }

    /// `recover_leases`: a JSON list of the actions moved.
    fn recover_leases(&self, py: Python<'_>) -> PyResult<String> {
        self.call(py, ActionCenter::recover_leases)
    }
}
