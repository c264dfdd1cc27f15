//! The engine handle: one method per core verb.
//!
//! Each method takes its arguments from Python first (principal, id,
//! plain values, or JSON text for the nested documents: proposals,
//! filters, bulk operations, checkpoints), then releases the GIL for the
//! whole call into core, including parsing, and takes it back only to
//! build the answer's Python records (see [`crate::records`]) or raise.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actioncenter::checkpoint::{signing_key_from_pem, verifying_key_from_pem};
use actioncenter::{
    Action, ActionCenter, ActionId, BulkOp, Checkpoint, ClaimRequest, Clock, Decide, Error, Filter,
    ItemResult, PageRequest, PostgresOptions, PostgresStore, Principal, Proposal, Seen, Selection,
    SqliteOptions, SqliteStore, Store, StoredPolicy, Synchronous, SystemClock, UndoRequest,
    VerifyOptions, parse_json, parse_json_object,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::clock::ManualClock;
use crate::errors::{OrRaise, exception};
use crate::policy::Policy;
use crate::records::{self, Builder};

/// A principal as the Python layer hands it over: any object with an
/// `id` string, a sequence of `roles` and an optional `via` (an
/// `actioncenter.Principal`).
#[derive(Debug)]
pub(crate) struct PyPrincipal(Principal);

mod principal_fields {
    /// The fields read out of Python (named as the error messages name it).
    #[derive(pyo3::FromPyObject)]
    pub(super) struct PyPrincipal {
        pub(super) id: String,
        pub(super) roles: Vec<String>,
        pub(super) via: Option<String>,
    }
}

/// The principals converted last, each with the very objects its fields
/// were read from. A caller hands the same principal over call after call,
/// and reading its strings out of Python again is most of what a
/// conversion costs (an abi3 build for 3.9 reads each through a `bytes`
/// copy). Only immutable objects are kept (a `str` and a `tuple` of
/// `str`, exactly, as `actioncenter.Principal` makes them) and each is
/// held, so an object found here by identity has the value it had.
struct KeptPrincipal {
    id: Py<PyAny>,
    roles: Py<PyAny>,
    via: Py<PyAny>,
    principal: Principal,
}

const KEPT: usize = 8;
static RECENT: std::sync::Mutex<(Vec<KeptPrincipal>, usize)> =
    std::sync::Mutex::new((Vec::new(), 0));

fn immutable_text(value: &Bound<'_, PyAny>) -> bool {
    value.is_exact_instance_of::<PyString>()
}

impl<'a, 'py> FromPyObject<'a, 'py> for PyPrincipal {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let id = obj.getattr(pyo3::intern!(py, "id"))?;
        let roles = obj.getattr(pyo3::intern!(py, "roles"))?;
        let via = obj.getattr(pyo3::intern!(py, "via"))?;
        let same =
            |seen: &KeptPrincipal| seen.id.is(&id) && seen.roles.is(&roles) && seen.via.is(&via);
        if let Ok(recent) = RECENT.lock()
            && let Some(seen) = recent.0.iter().find(|s| same(s))
        {
            return Ok(PyPrincipal(seen.principal.clone()));
        }
        let principal_fields::PyPrincipal {
            id: id_text,
            roles: role_texts,
            via: via_text,
        } = obj.extract()?;
        let mut principal = Principal::new(id_text, role_texts);
        principal.via = via_text;
        let keepable = immutable_text(&id)
            && (via.is_none() || immutable_text(&via))
            && roles.is_exact_instance_of::<PyTuple>()
            && roles
                .cast::<PyTuple>()
                .is_ok_and(|t| t.iter().all(|r| immutable_text(&r)));
        if keepable && let Ok(mut recent) = RECENT.lock() {
            let seen = KeptPrincipal {
                id: id.unbind(),
                roles: roles.unbind(),
                via: via.unbind(),
                principal: principal.clone(),
            };
            let (kept, next) = &mut *recent;
            if kept.len() < KEPT {
                kept.push(seen);
            } else {
                kept[*next] = seen;
                *next = (*next + 1) % KEPT;
            }
        }
        Ok(PyPrincipal(principal))
    }
}

impl From<PyPrincipal> for Principal {
    fn from(p: PyPrincipal) -> Principal {
        p.0
    }
}

/// A principal as Python gets it back: `(id, roles, via)`.
type PrincipalTuple = (String, Vec<String>, Option<String>);

fn principal_tuple(p: Principal) -> PrincipalTuple {
    (p.id, p.roles, p.via)
}

/// core's `ActionCenter`. Cheap to share between Python threads: every
/// method releases the GIL while core works.
#[pyclass(frozen, module = "actioncenter._native")]
#[derive(Debug)]
pub struct Engine {
    center: ActionCenter,
}

/// An action id as Python hands it over: a `uuid.UUID` (read through its
/// `int`), text for core to parse, or an `actioncenter.Action` (its id).
/// Anything else is refused by the Python layer before it gets here.
#[derive(Debug)]
pub(crate) enum PyId {
    Uuid(u128),
    Text(String),
}

impl PyId {
    fn extract(value: &Bound<'_, PyAny>) -> PyResult<PyId> {
        match records::action_seen(value)? {
            Some(records::Seen::Core(id, _)) => Ok(PyId::Uuid(id.0.as_u128())),
            Some(records::Seen::Attributes) => {
                PyId::plain(&value.getattr(pyo3::intern!(value.py(), "id"))?)
            }
            None => PyId::plain(value),
        }
    }

    /// The id, and the version an `Action` stands for (what the caller
    /// was shown); an id, or an `Action` whose version is `None`, stands
    /// for no version.
    fn extract_seen(value: &Bound<'_, PyAny>) -> PyResult<(PyId, Option<u64>)> {
        let py = value.py();
        match records::action_seen(value)? {
            Some(records::Seen::Core(id, version)) => {
                Ok((PyId::Uuid(id.0.as_u128()), Some(version)))
            }
            Some(records::Seen::Attributes) => {
                let id = PyId::plain(&value.getattr(pyo3::intern!(py, "id"))?)?;
                let version = value.getattr(pyo3::intern!(py, "version"))?;
                let version = version.extract::<Option<u64>>().map_err(|e| {
                    PyErr::from_type(
                        e.get_type(py),
                        format!("the action's version: {}", e.value(py)),
                    )
                })?;
                Ok((id, version))
            }
            None => Ok((PyId::plain(value)?, None)),
        }
    }

    /// A `uuid.UUID` (read through its `int`) or text.
    fn plain(value: &Bound<'_, PyAny>) -> PyResult<PyId> {
        if let Ok(text) = value.cast::<PyString>() {
            return Ok(PyId::Text(text.to_cow()?.into_owned()));
        }
        Ok(PyId::Uuid(
            value.getattr(pyo3::intern!(value.py(), "int"))?.extract()?,
        ))
    }

    fn resolve(&self) -> Result<ActionId, Error> {
        match self {
            PyId::Uuid(n) => Ok(ActionId(uuid::Uuid::from_u128(*n))),
            PyId::Text(text) => text.parse(),
        }
    }
}

fn ids_of(ids: &Bound<'_, PyAny>) -> PyResult<Vec<PyId>> {
    ids.try_iter()?.map(|id| PyId::extract(&id?)).collect()
}

/// What the caller saw, as the Python layer hands it over: an iterable of
/// `(id, version)` pairs.
fn seen_of(items: &Bound<'_, PyAny>) -> PyResult<Vec<(PyId, u64)>> {
    items
        .try_iter()?
        .map(|item| {
            let (id, version): (Bound<'_, PyAny>, u64) = item?.extract()?;
            Ok((PyId::extract(&id)?, version))
        })
        .collect()
}

fn resolve_seen(items: &[(PyId, u64)]) -> Result<Vec<Seen>, Error> {
    items
        .iter()
        .map(|(id, version)| {
            Ok(Seen {
                id: id.resolve()?,
                version: *version,
            })
        })
        .collect()
}

/// A stored policy as Python gets it: `(version, digest, set_by, set_at,
/// policy)`; the Python layer makes the `StoredPolicy` record.
fn stored_policy<'py>(py: Python<'py>, stored: &StoredPolicy) -> PyResult<Bound<'py, PyTuple>> {
    let set_at = Builder::new(py)?.time(stored.set_at)?;
    let policy = Policy {
        policy: Arc::new(stored.policy.clone()),
    };
    (
        stored.version,
        &stored.digest,
        &stored.set_by,
        set_at,
        policy,
    )
        .into_pyobject(py)
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
    /// Runs `f` without the GIL.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&ActionCenter) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        let center = &self.center;
        py.detach(|| f(center)).or_raise(py)
    }

    /// Runs `f` without the GIL and returns the action it gives.
    fn action<'py>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&ActionCenter) -> Result<Action, Error> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let action = self.call(py, f)?;
        Builder::new(py)?.action(action)
    }

    /// Runs `f` without the GIL and returns the actions it gives.
    fn actions<'py>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&ActionCenter) -> Result<Vec<Action>, Error> + Send,
    ) -> PyResult<Bound<'py, PyList>> {
        let actions = self.call(py, f)?;
        Builder::new(py)?.actions(actions)
    }
}

/// Turns per-item results into `(uuid.UUID, Action or None, exception
/// or None)` tuples, building each failed item's exception, not raised.
fn items<'py>(py: Python<'py>, results: Vec<ItemResult>) -> PyResult<Bound<'py, PyList>> {
    let mut b = Builder::new(py)?;
    let list = PyList::empty(py);
    for item in results {
        let id = b.uuid(item.id)?;
        let entry = match item.result {
            Ok(action) => PyTuple::new(py, [id, b.action(action)?, py.None().into_bound(py)])?,
            Err(e) => PyTuple::new(py, [id, py.None().into_bound(py), exception(py, &e)?])?,
        };
        list.append(entry)?;
    }
    Ok(list)
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
            ..SqliteOptions::default()
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

    /// `stored_policy`: the policy in force, as a tuple (see
    /// [`stored_policy`]).
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let stored = self.call(py, ActionCenter::stored_policy)?;
        stored_policy(py, &stored)
    }

    /// `set_policy`: the new stored policy.
    #[pyo3(signature = (by, policy, expected_version=None, comment=None))]
    fn set_policy<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        policy: PyRef<'py, Policy>,
        expected_version: Option<u64>,
        comment: Option<String>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let by = Principal::from(by);
        let policy = (*policy.policy).clone();
        let stored = self.call(py, |c| {
            c.set_policy(&by, policy, expected_version, comment.as_deref())
        })?;
        stored_policy(py, &stored)
    }

    /// `policy_history`: every stored policy, oldest first.
    fn policy_history<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
    ) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        let by = Principal::from(by);
        let history = self.call(py, |c| c.policy_history(&by))?;
        history.iter().map(|p| stored_policy(py, p)).collect()
    }

    /// `principal`: `(id, roles, via)` from the stored policy.
    fn principal(&self, py: Python<'_>, id: &str) -> PyResult<PrincipalTuple> {
        self.call(py, |c| c.principal(id)).map(principal_tuple)
    }

    /// `impersonate`: `(id, roles, via)` of `as_id`, acted as by `real`.
    fn impersonate(
        &self,
        py: Python<'_>,
        real: PyPrincipal,
        as_id: &str,
    ) -> PyResult<PrincipalTuple> {
        let real = Principal::from(real);
        self.call(py, |c| c.impersonate(&real, as_id))
            .map(principal_tuple)
    }

    /// The engine's current time, RFC 3339 in UTC.
    fn now(&self) -> String {
        self.center.now().to_rfc3339()
    }

    /// `propose`, with a proposal in core's JSON.
    fn propose<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        proposal: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        self.action(py, |c| c.propose(&by, Proposal::from_json(proposal)?))
    }

    /// `approve`.
    #[pyo3(signature = (by, id, comment=None, expected_version=None))]
    fn approve<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        comment: Option<String>,
        expected_version: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let (id, seen) = PyId::extract_seen(id)?;
        let decide = Decide {
            comment,
            expected_version: expected_version.or(seen),
        };
        self.action(py, |c| c.approve(&by, id.resolve()?, &decide))
    }

    /// `reject`.
    #[pyo3(signature = (by, id, comment=None, expected_version=None))]
    fn reject<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        comment: Option<String>,
        expected_version: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let (id, seen) = PyId::extract_seen(id)?;
        let decide = Decide {
            comment,
            expected_version: expected_version.or(seen),
        };
        self.action(py, |c| c.reject(&by, id.resolve()?, &decide))
    }

    /// `cancel`.
    fn cancel<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        comment: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.action(py, |c| c.cancel(&by, id.resolve()?, comment))
    }

    /// `retry`.
    #[pyo3(signature = (by, id, comment=None))]
    fn retry<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        comment: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.action(py, |c| c.retry(&by, id.resolve()?, comment))
    }

    /// `claim`: a list of actions.
    #[pyo3(signature = (by, limit, lease_seconds, kinds=None))]
    fn claim<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        limit: i64,
        lease_seconds: i64,
        kinds: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let by = Principal::from(by);
        self.actions(py, |c| {
            let request = ClaimRequest {
                // A negative limit becomes 0, which core refuses by name.
                limit: usize::try_from(limit).unwrap_or(0),
                lease_seconds,
                kinds: kinds
                    .map(|kinds| kinds.iter().map(|k| k.parse()).collect::<Result<_, _>>())
                    .transpose()?,
            };
            c.claim(&by, &request)
        })
    }

    /// `heartbeat`, with the lease token of the claim.
    fn heartbeat<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        lease_token: &str,
        lease_seconds: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.action(py, |c| {
            c.heartbeat(&by, id.resolve()?, lease_token, lease_seconds)
        })
    }

    /// `complete`, with the lease token of the claim; `result` is any
    /// JSON value, as text.
    fn complete<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        lease_token: &str,
        result: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.action(py, |c| {
            let result: serde_json::Value = parse_json("result", result)?;
            c.complete(&by, id.resolve()?, lease_token, result)
        })
    }

    /// `fail`, with the lease token of the claim.
    fn fail<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        lease_token: &str,
        error: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.action(py, |c| c.fail(&by, id.resolve()?, lease_token, error))
    }

    /// `undo`: the action and one item per confirmed instance, given as
    /// `(id, version)` pairs.
    #[pyo3(signature = (by, id, comment, expected_version=None, instances=None))]
    fn undo<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
        comment: String,
        expected_version: Option<u64>,
        instances: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyList>)> {
        let by = Principal::from(by);
        let (id, seen) = PyId::extract_seen(id)?;
        let instances = instances.map(seen_of).transpose()?.unwrap_or_default();
        let report = self.call(py, |c| {
            let request = UndoRequest {
                comment,
                expected_version: expected_version.or(seen),
                instances: resolve_seen(&instances)?,
            };
            c.undo(&by, id.resolve()?, &request)
        })?;
        Ok((
            Builder::new(py)?.action(report.action)?,
            items(py, report.instances)?,
        ))
    }

    /// `undo_instances`: a list of actions.
    fn undo_instances<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.actions(py, |c| c.undo_instances(&by, id.resolve()?))
    }

    /// `preview_bulk`: `(count, snapshot, [(id, version), ...])` of what
    /// a bulk `op` (core's `BulkOp` JSON) by `filter` (core's `Filter`
    /// JSON) would act on now.
    fn preview_bulk<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        op: &str,
        filter: &str,
    ) -> PyResult<(u64, String, Bound<'py, PyList>)> {
        let by = Principal::from(by);
        let preview = self.call(py, |c| {
            let op: BulkOp = parse_json_object("op", op)?;
            c.preview_bulk(&by, &op, &Filter::from_json(filter)?)
        })?;
        let b = Builder::new(py)?;
        let list = PyList::empty(py);
        for seen in &preview.items {
            list.append((b.uuid(seen.id)?, seen.version))?;
        }
        Ok((preview.count, preview.snapshot, list))
    }

    /// `bulk`; `op` is core's `BulkOp` JSON (`{"op": "approve", ...}`);
    /// the selection is either `ids`, `(id, version)` pairs, or a
    /// `filter` in core's `Filter` JSON with the `snapshot` of its preview.
    #[pyo3(signature = (by, op, ids=None, filter=None, snapshot=None))]
    fn bulk<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        op: &str,
        ids: Option<&Bound<'py, PyAny>>,
        filter: Option<&str>,
        snapshot: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let by = Principal::from(by);
        let ids = ids.map(seen_of).transpose()?;
        let results = self.call(py, |center| {
            let op: BulkOp = parse_json_object("op", op)?;
            let selection = match (ids, filter, snapshot) {
                (Some(ids), None, None) => Selection::Ids(resolve_seen(&ids)?),
                (None, Some(filter), Some(snapshot)) => Selection::Filter {
                    filter: Filter::from_json(filter)?,
                    snapshot,
                },
                _other => {
                    return Err(Error::validation(
                        "selection",
                        "give either ids or a filter with its snapshot",
                    ));
                }
            };
            center.bulk(&by, &op, &selection)
        })?;
        items(py, results)
    }

    /// `get`.
    fn get<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        self.action(py, |c| c.get(&by, id.resolve()?))
    }

    /// `resolve_id`: the full id of a unique prefix, as a `uuid.UUID`.
    fn resolve_id<'py>(&self, py: Python<'py>, prefix: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = self.call(py, |c| c.resolve_id(prefix))?;
        Builder::new(py)?.uuid(id)
    }

    /// `resolve_id_for`: the full id of a unique prefix among the actions
    /// `by` may view, as a `uuid.UUID`.
    fn resolve_id_for<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        prefix: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let id = self.call(py, |c| c.resolve_id_for(&by, prefix))?;
        Builder::new(py)?.uuid(id)
    }

    /// `short_ids`: the shortest unique prefix of each id, in order.
    fn short_ids(&self, py: Python<'_>, ids: Vec<String>) -> PyResult<Vec<String>> {
        self.call(py, |c| {
            let ids = ids
                .iter()
                .map(|id| id.parse::<actioncenter::ActionId>())
                .collect::<Result<Vec<_>, _>>()?;
            c.short_ids(&ids)
        })
    }

    /// `list`; `filter` is core's `Filter` JSON. Returns the page's actions
    /// and its next cursor.
    #[pyo3(signature = (by, filter, limit, cursor=None))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        filter: &str,
        limit: i64,
        cursor: Option<String>,
    ) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
        let by = Principal::from(by);
        let page = self.call(py, |c| {
            let filter = Filter::from_json(filter)?;
            let request = PageRequest {
                // A negative limit becomes 0, which core refuses by name.
                limit: Some(usize::try_from(limit).unwrap_or(0)),
                cursor,
            };
            c.list(&by, &filter, &request)
        })?;
        Ok((Builder::new(py)?.actions(page.items)?, page.next_cursor))
    }

    /// `counts`: `{Status: n}` for every status.
    fn counts<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        filter: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let by = Principal::from(by);
        let counts = self.call(py, |c| c.counts(&by, &Filter::from_json(filter)?))?;
        let b = Builder::new(py)?;
        let dict = PyDict::new(py);
        for (status, n) in &counts.0 {
            dict.set_item(b.status(*status)?, n)?;
        }
        Ok(dict)
    }

    /// `history_of`: a list of audit events.
    fn history_of<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let by = Principal::from(by);
        let id = PyId::extract(id)?;
        let events = self.call(py, |c| c.history_of(&by, id.resolve()?))?;
        Builder::new(py)?.events(&events)
    }

    /// `events_since`: a list of audit events.
    fn events_since<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        seq: u64,
        limit: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let by = Principal::from(by);
        let events = self.call(py, |c| c.events_since(&by, seq, limit))?;
        Builder::new(py)?.events(&events)
    }

    /// `verify_audit_with`: an `AuditReport`. `public_key` is SPKI PEM
    /// text, `checkpoint` an exported checkpoint's JSON.
    #[pyo3(signature = (public_key=None, checkpoint=None))]
    fn verify_audit<'py>(
        &self,
        py: Python<'py>,
        public_key: Option<&str>,
        checkpoint: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let report = self.call(py, |c| {
            let options = VerifyOptions {
                public_key: public_key.map(verifying_key_from_pem).transpose()?,
                checkpoint: checkpoint.map(Checkpoint::from_json).transpose()?,
            };
            c.verify_audit_with(&options)
        })?;
        Builder::new(py)?.report(&report)
    }

    /// `checkpoint`: signs the chain head with the PKCS#8 PEM key.
    fn checkpoint<'py>(
        &self,
        py: Python<'py>,
        by: PyPrincipal,
        signing_key: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let by = Principal::from(by);
        let cp = self.call(py, |c| {
            c.checkpoint(&by, &signing_key_from_pem(signing_key)?)
        })?;
        Builder::new(py)?.checkpoint(&cp)
    }

    /// `checkpoints`: every stored checkpoint, oldest first.
    fn checkpoints<'py>(&self, py: Python<'py>, by: PyPrincipal) -> PyResult<Bound<'py, PyList>> {
        let by = Principal::from(by);
        let cps = self.call(py, |c| c.checkpoints(&by))?;
        Builder::new(py)?.checkpoints(&cps)
    }

    /// `expire_due`: the actions moved.
    fn expire_due<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.actions(py, ActionCenter::expire_due)
    }

    /// `recover_leases`: the actions moved.
    fn recover_leases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.actions(py, ActionCenter::recover_leases)
    }

    /// For the benchmarks: runs `verb` (`"approve"` or `"get"`) on each of
    /// `ids` from Rust, with the GIL released, and returns the seconds it
    /// took, so that Python's own cost per call can be measured in the
    /// same process against the same store.
    fn _rust_seconds(
        &self,
        py: Python<'_>,
        verb: &str,
        by: PyPrincipal,
        ids: &Bound<'_, PyAny>,
    ) -> PyResult<f64> {
        let by = Principal::from(by);
        let ids = ids_of(ids)?;
        self.call(py, |c| {
            let ids = ids
                .iter()
                .map(PyId::resolve)
                .collect::<Result<Vec<_>, _>>()?;
            let start = std::time::Instant::now();
            for id in ids {
                match verb {
                    "approve" => c.approve(&by, id, &Decide::default()).map(drop)?,
                    "get" => c.get(&by, id).map(drop)?,
                    other => {
                        return Err(Error::validation(
                            "verb",
                            format!("must be \"approve\" or \"get\", got {other:?}"),
                        ));
                    }
                }
            }
            Ok(start.elapsed().as_secs_f64())
        })
    }
}
