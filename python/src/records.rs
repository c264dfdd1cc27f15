//! core's records as the package's Python records, built here.
//!
//! The records are the frozen dataclasses of `actioncenter._model`
//! (`Action`, `Decision`, `AuditEvent`...), the enums those of
//! `actioncenter._enums`, ids `uuid.UUID` and times aware `datetime`s.
//! Each instance is made with `object.__new__` and its `__dict__` filled
//! from the Rust value: no JSON text crosses, and no Python `__init__`
//! runs (the values come from core, so there is nothing to check). An
//! `Action` is filled as its fields are read (see [`BuiltField`]).
//! The classes and enum tables are looked up once per interpreter.

use actioncenter::checkpoint::CheckpointReport;
use actioncenter::{
    Action, ActionId, ActionMismatch, Attempt, AuditEvent, AuditReport, BadAction, BadEvent,
    Checkpoint, Decision, Entity, Mismatch, Note, Outcome, Source, UndoInfo, Verdict,
};
use chrono::{DateTime, Datelike, Timelike, Utc};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::sync::atomic::{AtomicU8, Ordering};

/// The Python classes and tables the conversions need.
struct Types {
    object_new: Py<PyAny>,
    object_setattr: Py<PyAny>,
    uuid: Py<PyAny>,
    uuid_unknown: Py<PyAny>,
    datetime: Py<PyAny>,
    utc: Py<PyAny>,
    none: Py<PyAny>,
    /// `_model._Parameters`, the read-only dict of an action's parameters
    /// (and of the objects inside them).
    parameters: Py<PyAny>,
    /// `_model._Items`, a read-only list inside an action's parameters.
    items: Py<PyAny>,
    action: Py<PyAny>,
    decision: Py<PyAny>,
    attempt: Py<PyAny>,
    note: Py<PyAny>,
    undo_info: Py<PyAny>,
    audit_event: Py<PyAny>,
    audit_report: Py<PyAny>,
    bad_event: Py<PyAny>,
    bad_action: Py<PyAny>,
    checkpoint: Py<PyAny>,
    checkpoint_report: Py<PyAny>,
    /// The entity and source classes by type tag, with their fields.
    entities: Tagged,
    sources: Tagged,
    /// The names of `Action`'s fields, interned.
    action_keys: Vec<(&'static str, Py<PyString>)>,
    /// `{value: member}` of each enum.
    status: Members,
    category: Members,
    kind: Members,
    verdict: Members,
    outcome: Members,
    event: Members,
    mismatch: Members,
    action_mismatch: Members,
}

/// An enum's members by value, looked up in Rust: a scan of a couple of
/// dozen short strings is cheaper than hashing, and much cheaper than
/// making a Python string to look up in `_value2member_map_`.
type Members = Vec<(String, Py<PyAny>)>;

/// `{type tag: (class, field names)}`.
type Tagged = std::collections::HashMap<String, (Py<PyAny>, Vec<(String, Py<PyString>)>)>;

/// The classes of one of `_model`'s `{tag: class}` tables, with the names
/// of their fields (`dataclasses.fields`: the `type` tag is a ClassVar).
fn tagged_table(py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<Tagged> {
    let fields_of = py.import("dataclasses")?.getattr("fields")?;
    let mut out = Tagged::new();
    for (tag, class) in table.cast::<PyDict>()?.iter() {
        // Every field but the tag, which the class holds.
        let names = fields_of
            .call1((&class,))?
            .try_iter()?
            .map(|f| {
                let name = f?.getattr("name")?.cast_into::<PyString>()?;
                Ok((name.to_cow()?.into_owned(), name.unbind()))
            })
            .filter(|f| !matches!(f, Ok((name, _)) if name == "type"))
            .collect::<PyResult<Vec<_>>>()?;
        out.insert(tag.extract()?, (class.unbind(), names));
    }
    Ok(out)
}

static TYPES: PyOnceLock<Types> = PyOnceLock::new();

fn types(py: Python<'_>) -> PyResult<&Types> {
    TYPES.get_or_try_init(py, || {
        let builtins = py.import("builtins")?;
        let object = builtins.getattr("object")?;
        let uuid = py.import("uuid")?;
        let datetime = py.import("datetime")?;
        let model = py.import("actioncenter._model")?;
        let enums = py.import("actioncenter._enums")?;
        let class = |name: &str| -> PyResult<Py<PyAny>> { Ok(model.getattr(name)?.unbind()) };
        let members = |name: &str| -> PyResult<Members> {
            let table = enums.getattr(name)?.getattr("_value2member_map_")?;
            table
                .cast::<PyDict>()?
                .iter()
                .map(|(k, v)| Ok((k.extract::<String>()?, v.unbind())))
                .collect()
        };
        Ok::<_, PyErr>(Types {
            object_new: object.getattr("__new__")?.unbind(),
            object_setattr: object.getattr("__setattr__")?.unbind(),
            uuid: uuid.getattr("UUID")?.unbind(),
            uuid_unknown: uuid.getattr("SafeUUID")?.getattr("unknown")?.unbind(),
            datetime: datetime.getattr("datetime")?.unbind(),
            utc: datetime.getattr("timezone")?.getattr("utc")?.unbind(),
            none: py.None(),
            parameters: class("_Parameters")?,
            items: class("_Items")?,
            action: class("Action")?,
            decision: class("Decision")?,
            attempt: class("Attempt")?,
            note: class("Note")?,
            undo_info: class("UndoInfo")?,
            audit_event: class("AuditEvent")?,
            audit_report: class("AuditReport")?,
            bad_event: class("BadEvent")?,
            bad_action: class("BadAction")?,
            checkpoint: class("Checkpoint")?,
            checkpoint_report: class("CheckpointReport")?,
            entities: tagged_table(py, &model.getattr("_ENTITIES")?)?,
            sources: tagged_table(py, &model.getattr("_SOURCES")?)?,
            action_keys: ACTION_FIELDS
                .iter()
                .map(|name| (*name, PyString::intern(py, name).unbind()))
                .collect(),
            status: members("Status")?,
            category: members("Category")?,
            kind: members("Kind")?,
            verdict: members("Verdict")?,
            outcome: members("Outcome")?,
            event: members("Event")?,
            mismatch: members("Mismatch")?,
            action_mismatch: members("ActionMismatch")?,
        })
    })
}

/// The core value of an `actioncenter.Action` whose fields have not all
/// been read yet, kept in the instance's `__dict__` as `_fields`.
#[pyclass(frozen, module = "actioncenter._native")]
pub(crate) struct ActionFields {
    action: Action,
    /// How many fields were built one at a time so far.
    reads: AtomicU8,
}

/// The fields of `actioncenter.Action`, in its order: what the record
/// holds once every field is built (a test holds this to the dataclass).
const ACTION_FIELDS: [&str; 24] = [
    "id",
    "kind",
    "category",
    "entity",
    "source",
    "investigation_id",
    "incident_id",
    "alert_id",
    "parameters",
    "created_at",
    "created_by",
    "status",
    "decisions",
    "attempts",
    "cancellation",
    "undo",
    "expires_at",
    "updated_at",
    "version",
    "idempotency_key",
    "created_via",
    "decided_by",
    "approvers",
    "active_attempt",
];

/// Fields built one at a time before the rest are built together: most
/// callers read a field or two of what a verb returns, and one that reads
/// more is likely to read them all (prints, copies or compares it), which
/// costs less in one go.
const SINGLE_READS: u8 = 3;

/// A field of `actioncenter.Action`, as the class attribute `_model` sets
/// for each: the first time the field is read on an instance, it is built
/// from the instance's [`ActionFields`] and kept in its `__dict__`. A
/// descriptor without `__set__` yields to the instance's `__dict__`, so
/// every later read, and every read on an instance made by `__init__`,
/// is a plain attribute read; the record stays what it was, a frozen
/// dataclass, equal, hashed and copied by its fields.
#[pyclass(frozen, module = "actioncenter._native")]
pub(crate) struct BuiltField {
    /// The field's name, and the same interned: the key it is kept under.
    name: String,
    key: Py<PyString>,
    /// The field's default, which the class answers with (as a
    /// dataclass's class attribute does); none for a field without one.
    default: Option<Py<PyAny>>,
}

#[pymethods]
impl BuiltField {
    #[new]
    #[pyo3(signature = (name, *default))]
    fn new(name: String, default: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let key = PyString::intern(default.py(), &name).unbind();
        let default = match default.len() {
            0 => None,
            1 => Some(default.get_item(0)?.unbind()),
            _ => {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "BuiltField takes a name and at most one default",
                ));
            }
        };
        Ok(BuiltField { name, key, default })
    }

    fn __get__<'py>(
        &self,
        instance: &Bound<'py, PyAny>,
        _owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = instance.py();
        let missing = |on: &str| {
            pyo3::exceptions::PyAttributeError::new_err(format!(
                "{on} has no attribute {:?}",
                self.name
            ))
        };
        if instance.is_none() {
            return match &self.default {
                Some(default) => Ok(default.bind(py).clone()),
                None => Err(missing("the class")),
            };
        }
        let into = instance
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let Some(fields) = into.get_item(intern!(py, "_fields"))? else {
            return Err(missing("an Action made without its fields"));
        };
        let fields = fields.cast_into::<ActionFields>()?;
        let fields = fields.get();
        let mut b = Builder::new(py)?;
        let built = b
            .action_field(&fields.action, &into, &self.name)?
            .ok_or_else(|| missing("Action"))?;
        // A read of this field that ran while it was built (another
        // thread, a collector's callback) kept its value first: that one
        // stands, so every read gets the same object.
        let value = match into.get_item(self.key.bind(py))? {
            Some(kept) => kept,
            None => {
                into.set_item(self.key.bind(py), &built)?;
                built
            }
        };
        if fields
            .reads
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1)
            >= SINGLE_READS
        {
            for (name, key) in &b.t.action_keys {
                let key = key.bind(py);
                if !into.contains(key)? {
                    let built = b.action_field(&fields.action, &into, name)?;
                    into.set_item(key, built)?;
                }
            }
            // A read that ran while this one built (another thread, a
            // collector's callback) may have finished first.
            if into.contains(intern!(py, "_fields"))? {
                into.del_item(intern!(py, "_fields"))?;
            }
        }
        Ok(value)
    }
}

/// Where the id and version an `actioncenter.Action` stands for are, as
/// [`action_seen`] finds them.
pub(crate) enum Seen {
    /// In core's value, while the record's fields are not built: no
    /// `uuid.UUID` and no `int` made only to be read back.
    Core(ActionId, u64),
    /// In the record's `id` and `version` attributes (a record made by its
    /// `__init__`, or one whose id or version is built).
    Attributes,
}

/// Where what `value` stands for is, if it is an `actioncenter.Action`;
/// `None` for anything else (an id).
pub(crate) fn action_seen(value: &Bound<'_, PyAny>) -> PyResult<Option<Seen>> {
    let py = value.py();
    if !value.is_instance(types(py)?.action.bind(py))? {
        return Ok(None);
    }
    let dict = value
        .getattr(intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    // What the record holds wins over core's value: a field already in its
    // `__dict__` (built, or set there) is read as the attribute it is.
    if let Some(fields) = dict.get_item(intern!(py, "_fields"))?
        && let Ok(fields) = fields.cast::<ActionFields>()
        && !dict.contains(intern!(py, "id"))?
        && !dict.contains(intern!(py, "version"))?
    {
        let action = &fields.get().action;
        return Ok(Some(Seen::Core(action.id, action.version)));
    }
    Ok(Some(Seen::Attributes))
}

/// Builds records for one answer. Remembers the last time it converted:
/// an action's times are often the same instant (created and updated,
/// decided and updated), and a `datetime` is immutable.
pub(crate) struct Builder<'py> {
    py: Python<'py>,
    t: &'py Types,
    last_time: Option<(DateTime<Utc>, Bound<'py, PyAny>)>,
}

/// A record under construction: the instance and its `__dict__`.
struct Record<'py> {
    object: Bound<'py, PyAny>,
    dict: Bound<'py, PyDict>,
}

impl<'py> Record<'py> {
    fn set(&self, name: &Bound<'py, PyString>, value: impl IntoPyObject<'py>) -> PyResult<()> {
        self.dict.set_item(name, value)
    }
}

impl<'py> Builder<'py> {
    pub(crate) fn new(py: Python<'py>) -> PyResult<Builder<'py>> {
        Ok(Builder {
            py,
            t: types(py)?,
            last_time: None,
        })
    }

    fn record(&self, class: &Py<PyAny>) -> PyResult<Record<'py>> {
        let object = self
            .t
            .object_new
            .bind(self.py)
            .call1((class.bind(self.py),))?;
        let dict = object
            .getattr(intern!(self.py, "__dict__"))?
            .cast_into::<PyDict>()?;
        Ok(Record { object, dict })
    }

    /// A `str` enum member by its value; the value itself when the enum
    /// has no such member (a custom kind).
    fn member(&self, table: &Members, value: &str) -> Bound<'py, PyAny> {
        match table.iter().find(|(k, _)| k == value) {
            Some((_, member)) => member.bind(self.py).clone(),
            None => PyString::new(self.py, value).into_any(),
        }
    }

    fn none(&self) -> Bound<'py, PyAny> {
        self.t.none.bind(self.py).clone()
    }

    pub(crate) fn uuid(&self, id: ActionId) -> PyResult<Bound<'py, PyAny>> {
        let t = self.t;
        let py = self.py;
        let uuid = t.object_new.bind(py).call1((t.uuid.bind(py),))?;
        let setattr = t.object_setattr.bind(py);
        setattr.call1((&uuid, intern!(py, "int"), id.0.as_u128()))?;
        setattr.call1((&uuid, intern!(py, "is_safe"), t.uuid_unknown.bind(py)))?;
        Ok(uuid)
    }

    pub(crate) fn time(&mut self, at: DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
        if let Some((last, value)) = &self.last_time
            && *last == at
        {
            return Ok(value.clone());
        }
        // `datetime(state, tzinfo)` with the 10-byte state of its pickle
        // form: the C constructor's fast path, stable since pickle
        // protocol 2, and much cheaper than eight keyword-less integers.
        let micros = (at.nanosecond() / 1000).min(999_999);
        let year = u16::try_from(at.year()).unwrap_or(1);
        let state = [
            (year >> 8) as u8,
            (year & 0xff) as u8,
            at.month() as u8,
            at.day() as u8,
            at.hour() as u8,
            at.minute() as u8,
            at.second() as u8,
            (micros >> 16) as u8,
            ((micros >> 8) & 0xff) as u8,
            (micros & 0xff) as u8,
        ];
        let value = self.t.datetime.bind(self.py).call1((
            pyo3::types::PyBytes::new(self.py, &state),
            self.t.utc.bind(self.py),
        ))?;
        self.last_time = Some((at, value.clone()));
        Ok(value)
    }

    fn opt_time(&mut self, at: Option<DateTime<Utc>>) -> PyResult<Bound<'py, PyAny>> {
        match at {
            Some(at) => self.time(at),
            None => Ok(self.none()),
        }
    }

    /// A JSON value as `json.loads` would give it.
    pub(crate) fn json(&self, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
        use serde_json::Value;
        let py = self.py;
        Ok(match value {
            Value::Null => self.none(),
            Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    i.into_pyobject(py)?.into_any()
                } else if let Some(u) = n.as_u64() {
                    u.into_pyobject(py)?.into_any()
                } else {
                    n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
                }
            }
            Value::String(s) => PyString::new(py, s).into_any(),
            Value::Array(items) => {
                let list = PyList::empty(py);
                for item in items {
                    list.append(self.json(item)?)?;
                }
                list.into_any()
            }
            Value::Object(map) => self.json_object(map)?.into_any(),
        })
    }

    /// A JSON object as a `_Parameters`, and each object and array inside
    /// it read-only too (`_Parameters`, `_Items`): a record's parameters
    /// refuse changes at every depth.
    fn read_only_object(
        &self,
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> PyResult<Bound<'py, PyDict>> {
        // Filled through the C API: the class refuses `__setitem__`.
        let dict = self
            .t
            .parameters
            .bind(self.py)
            .call0()?
            .cast_into::<PyDict>()?;
        for (k, v) in map {
            dict.set_item(k, self.read_only(v)?)?;
        }
        Ok(dict)
    }

    fn read_only(&self, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
        use serde_json::Value;
        match value {
            Value::Object(map) => Ok(self.read_only_object(map)?.into_any()),
            Value::Array(items) => {
                let list = PyList::empty(self.py);
                for item in items {
                    list.append(self.read_only(item)?)?;
                }
                self.t.items.bind(self.py).call1((list,))
            }
            scalar => self.json(scalar),
        }
    }

    fn json_object(
        &self,
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(self.py);
        self.fill_object(&dict, map)?;
        Ok(dict)
    }

    /// Puts a JSON object's members into `dict`.
    fn fill_object(
        &self,
        dict: &Bound<'py, PyDict>,
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> PyResult<()> {
        for (k, v) in map {
            dict.set_item(k, self.json(v)?)?;
        }
        Ok(())
    }

    /// A target or source as the dataclass of its type tag, from its
    /// fields (absent ones set to `None`).
    fn tagged(
        &self,
        classes: &Tagged,
        tag: &str,
        values: &[(&str, Option<&str>)],
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let (class, fields) = classes.get(tag).ok_or_else(|| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("no Python class for {tag:?}"))
        })?;
        let record = self.record(class)?;
        for (key, name) in fields {
            let value = values.iter().find(|(k, _)| k == key).and_then(|(_, v)| *v);
            record.dict.set_item(name.bind(py), self.opt_str(value))?;
        }
        Ok(record.object)
    }

    fn entity(&self, e: &Entity) -> PyResult<Bound<'py, PyAny>> {
        fn some(s: &str) -> Option<&str> {
            Some(s)
        }
        let (tag, values): (&str, &[(&str, Option<&str>)]) = match e {
            Entity::Device { device_id, name } => (
                "device",
                &[("device_id", some(device_id)), ("name", name.as_deref())],
            ),
            Entity::File {
                sha256,
                path,
                device_id,
            } => (
                "file",
                &[
                    ("sha256", some(sha256)),
                    ("path", some(path)),
                    ("device_id", some(device_id)),
                ],
            ),
            Entity::RegistryKey {
                device_id,
                key,
                value_name,
            } => (
                "registry_key",
                &[
                    ("device_id", some(device_id)),
                    ("key", some(key)),
                    ("value_name", value_name.as_deref()),
                ],
            ),
            Entity::Service { device_id, name } => (
                "service",
                &[("device_id", some(device_id)), ("name", some(name))],
            ),
            Entity::Driver { device_id, name } => (
                "driver",
                &[("device_id", some(device_id)), ("name", some(name))],
            ),
            Entity::ScheduledTask { device_id, name } => (
                "scheduled_task",
                &[("device_id", some(device_id)), ("name", some(name))],
            ),
            Entity::EmailCluster { cluster_id, query } => (
                "email_cluster",
                &[
                    ("cluster_id", some(cluster_id)),
                    ("query", query.as_deref()),
                ],
            ),
            Entity::Mailbox { address } => ("mailbox", &[("address", some(address))]),
            Entity::User { user_id } => ("user", &[("user_id", some(user_id))]),
            Entity::Url { url } => ("url", &[("url", some(url))]),
        };
        self.tagged(&self.t.entities, tag, values)
    }

    fn source(&self, s: &Source) -> PyResult<Bound<'py, PyAny>> {
        let (tag, values): (&str, &[(&str, Option<&str>)]) = match s {
            Source::AutomatedInvestigation { investigation_id } => (
                "automated_investigation",
                &[("investigation_id", Some(investigation_id.as_str()))],
            ),
            Source::Antivirus => ("antivirus", &[]),
            Source::ManualResponse { person } => {
                ("manual_response", &[("person", Some(person.as_str()))])
            }
            Source::Playbook { name } => ("playbook", &[("name", Some(name.as_str()))]),
            Source::Custom { name } => ("custom", &[("name", Some(name.as_str()))]),
        };
        self.tagged(&self.t.sources, tag, values)
    }

    fn opt_str(&self, value: Option<&str>) -> Bound<'py, PyAny> {
        match value {
            Some(s) => PyString::new(self.py, s).into_any(),
            None => self.none(),
        }
    }

    fn decision(&mut self, d: &Decision) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let r = self.record(&self.t.decision)?;
        r.set(intern!(py, "by"), &d.by)?;
        r.set(intern!(py, "at"), self.time(d.at)?)?;
        r.set(
            intern!(py, "verdict"),
            self.member(
                &self.t.verdict,
                match d.verdict {
                    Verdict::Approve => "approve",
                    Verdict::Reject => "reject",
                },
            ),
        )?;
        r.set(intern!(py, "comment"), self.opt_str(d.comment.as_deref()))?;
        r.set(intern!(py, "via"), self.opt_str(d.via.as_deref()))?;
        r.set(intern!(py, "policy_version"), d.policy_version)?;
        Ok(r.object)
    }

    fn attempt(&mut self, a: &Attempt) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let none_value = self.none();
        let none = || none_value.clone();
        let r = self.record(&self.t.attempt)?;
        r.set(intern!(py, "executor"), &a.executor)?;
        r.set(intern!(py, "claimed_at"), self.time(a.claimed_at)?)?;
        r.set(intern!(py, "lease_until"), self.time(a.lease_until)?)?;
        r.set(intern!(py, "lease_token"), &a.lease_token)?;
        r.set(intern!(py, "undo"), a.undo)?;
        r.set(intern!(py, "finished_at"), self.opt_time(a.finished_at)?)?;
        let (outcome, result, error) = match &a.outcome {
            None => (none(), none(), none()),
            Some(Outcome::Completed { result }) => (
                self.member(&self.t.outcome, "completed"),
                self.json(result)?,
                none(),
            ),
            Some(Outcome::Failed { error }) => (
                self.member(&self.t.outcome, "failed"),
                none(),
                PyString::new(py, error).into_any(),
            ),
            Some(Outcome::LeaseExpired) => (
                self.member(&self.t.outcome, "lease_expired"),
                none(),
                none(),
            ),
        };
        r.set(intern!(py, "outcome"), outcome)?;
        r.set(intern!(py, "result"), result)?;
        r.set(intern!(py, "error"), error)?;
        Ok(r.object)
    }

    fn note(&mut self, n: &Note) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let r = self.record(&self.t.note)?;
        r.set(intern!(py, "by"), &n.by)?;
        r.set(intern!(py, "at"), self.time(n.at)?)?;
        r.set(intern!(py, "comment"), &n.comment)?;
        Ok(r.object)
    }

    fn undo_info(&mut self, u: &UndoInfo) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let r = self.record(&self.t.undo_info)?;
        r.set(intern!(py, "requested_by"), &u.requested_by)?;
        r.set(intern!(py, "requested_at"), self.time(u.requested_at)?)?;
        r.set(intern!(py, "comment"), &u.comment)?;
        r.set(
            intern!(py, "inverse"),
            self.member(&self.t.kind, &u.inverse.name()),
        )?;
        let from = match u.fanned_out_from {
            Some(id) => self.uuid(id)?,
            None => self.none(),
        };
        r.set(intern!(py, "fanned_out_from"), from)?;
        Ok(r.object)
    }

    /// An `actioncenter.Action` whose fields are built when first read:
    /// its `__dict__` holds the core value as `_fields` (an
    /// [`ActionFields`]) until then. Most callers read a field or two of
    /// what a verb returns, and building all of them (three dozen values,
    /// a dozen records) was most of a call's cost.
    pub(crate) fn action(&mut self, a: Action) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let r = self.record(&self.t.action)?;
        let fields = ActionFields {
            action: a,
            reads: AtomicU8::new(0),
        };
        r.set(intern!(py, "_fields"), fields)?;
        Ok(r.object)
    }

    /// A list of `actioncenter.Action`.
    pub(crate) fn actions(&mut self, actions: Vec<Action>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(self.py);
        for a in actions {
            list.append(self.action(a)?)?;
        }
        Ok(list)
    }

    /// Field `name` of an action, `None` for a name that is not a field.
    /// `attempts` and `active_attempt` are built together, since core's
    /// active attempt is one of the attempts and must be the same record:
    /// the one not asked for is put in `into` (the record's `__dict__`).
    fn action_field(
        &mut self,
        a: &Action,
        into: &Bound<'py, PyDict>,
        name: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = self.py;
        let t = self.t;
        let value = match name {
            "id" => self.uuid(a.id)?,
            "kind" => self.member(&t.kind, &a.kind.name()),
            "category" => self.member(&t.category, a.category.as_str()),
            "entity" => self.entity(&a.entity)?,
            "source" => self.source(&a.source)?,
            "investigation_id" => self.opt_str(a.investigation_id.as_deref()),
            "incident_id" => self.opt_str(a.incident_id.as_deref()),
            "alert_id" => self.opt_str(a.alert_id.as_deref()),
            "parameters" => self.read_only_object(&a.parameters)?.into_any(),
            "created_at" => self.time(a.created_at)?,
            "created_by" => PyString::new(py, &a.created_by).into_any(),
            "status" => self.member(&t.status, a.status.as_str()),
            "decisions" => {
                let decisions = a
                    .decisions
                    .iter()
                    .map(|d| self.decision(d))
                    .collect::<PyResult<Vec<_>>>()?;
                PyTuple::new(py, decisions)?.into_any()
            }
            "attempts" | "active_attempt" => {
                let attempts = a
                    .attempts
                    .iter()
                    .map(|x| self.attempt(x))
                    .collect::<PyResult<Vec<_>>>()?;
                let active = a
                    .active_attempt()
                    .and_then(|active| a.attempts.iter().position(|x| std::ptr::eq(x, active)))
                    .and_then(|i| attempts.get(i).cloned())
                    .unwrap_or_else(|| self.none());
                let attempts = PyTuple::new(py, attempts)?.into_any();
                // The other of the pair, unless a read that ran meanwhile
                // kept both: the active attempt is one of the attempts.
                let (value, other, other_value) = if name == "attempts" {
                    (attempts, intern!(py, "active_attempt"), active)
                } else {
                    (active, intern!(py, "attempts"), attempts)
                };
                if !into.contains(other)? {
                    into.set_item(other, other_value)?;
                }
                return Ok(Some(value));
            }
            "cancellation" => match &a.cancellation {
                Some(n) => self.note(n)?,
                None => self.none(),
            },
            "undo" => match &a.undo {
                Some(u) => self.undo_info(u)?,
                None => self.none(),
            },
            "expires_at" => self.opt_time(a.expires_at)?,
            "updated_at" => self.time(a.updated_at)?,
            "version" => a.version.into_pyobject(py)?.into_any(),
            "idempotency_key" => self.opt_str(a.idempotency_key.as_deref()),
            "created_via" => self.opt_str(a.created_via.as_deref()),
            "decided_by" => PyTuple::new(py, a.decided_by())?.into_any(),
            "approvers" => PyTuple::new(py, a.approvers())?.into_any(),
            _ => return Ok(None),
        };
        Ok(Some(value))
    }

    /// An `actioncenter.AuditEvent`.
    pub(crate) fn event(&mut self, e: &AuditEvent) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let t = self.t;
        let r = self.record(&t.audit_event)?;
        r.set(intern!(py, "seq"), e.seq)?;
        r.set(intern!(py, "action_id"), self.opt_uuid(e.action_id)?)?;
        r.set(intern!(py, "at"), self.time(e.at)?)?;
        r.set(intern!(py, "actor"), &e.actor)?;
        r.set(intern!(py, "via"), self.opt_str(e.via.as_deref()))?;
        r.set(intern!(py, "actor_shown"), e.actor_shown())?;
        r.set(
            intern!(py, "event"),
            self.member(&t.event, e.event.as_str()),
        )?;
        r.set(intern!(py, "from_status"), self.opt_status(e.from))?;
        r.set(intern!(py, "to_status"), self.opt_status(e.to))?;
        r.set(intern!(py, "comment"), self.opt_str(e.comment.as_deref()))?;
        r.set(intern!(py, "version"), e.version)?;
        r.set(intern!(py, "digest"), self.opt_str(e.digest.as_deref()))?;
        r.set(intern!(py, "policy_version"), e.policy_version)?;
        r.set(intern!(py, "prev_hash"), &e.prev_hash)?;
        r.set(intern!(py, "hash"), &e.hash)?;
        Ok(r.object)
    }

    /// A list of `actioncenter.AuditEvent`.
    pub(crate) fn events(&mut self, events: &[AuditEvent]) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(self.py);
        for e in events {
            list.append(self.event(e)?)?;
        }
        Ok(list)
    }

    fn bad_event(&self, bad: &BadEvent) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let t = self.t;
        let b = self.record(&t.bad_event)?;
        let (mismatch, expected, detail) = match &bad.mismatch {
            Mismatch::Gap { expected } => {
                ("gap", expected.into_pyobject(py)?.into_any(), self.none())
            }
            Mismatch::Hash => ("hash", self.none(), self.none()),
            Mismatch::Link => ("link", self.none(), self.none()),
            Mismatch::Transition { detail } => (
                "transition",
                self.none(),
                PyString::new(py, detail).into_any(),
            ),
            Mismatch::Unreadable { detail } => (
                "unreadable",
                self.none(),
                PyString::new(py, detail).into_any(),
            ),
        };
        b.set(intern!(py, "seq"), bad.seq)?;
        b.set(intern!(py, "action_id"), self.opt_uuid(bad.action_id)?)?;
        b.set(intern!(py, "mismatch"), self.member(&t.mismatch, mismatch))?;
        b.set(intern!(py, "expected"), expected)?;
        b.set(intern!(py, "detail"), detail)?;
        Ok(b.object)
    }

    fn bad_action(&self, bad: &BadAction) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let t = self.t;
        let b = self.record(&t.bad_action)?;
        let (mismatch, row, recorded) = match &bad.mismatch {
            ActionMismatch::NoEvents => ("no_events", self.none(), self.none()),
            ActionMismatch::Missing => ("missing", self.none(), self.none()),
            ActionMismatch::Version { row, event } => (
                "version",
                row.into_pyobject(py)?.into_any(),
                event.into_pyobject(py)?.into_any(),
            ),
            ActionMismatch::Status { row, event } => {
                ("status", self.status(*row)?, self.status(*event)?)
            }
            ActionMismatch::Digest => ("digest", self.none(), self.none()),
            ActionMismatch::Column { column } => {
                ("column", column.into_pyobject(py)?.into_any(), self.none())
            }
        };
        b.set(intern!(py, "id"), self.uuid(bad.id)?)?;
        b.set(intern!(py, "seq"), bad.seq)?;
        b.set(
            intern!(py, "mismatch"),
            self.member(&t.action_mismatch, mismatch),
        )?;
        b.set(intern!(py, "row"), row)?;
        b.set(intern!(py, "recorded"), recorded)?;
        Ok(b.object)
    }

    /// An `actioncenter.Checkpoint`.
    pub(crate) fn checkpoint(&mut self, cp: &Checkpoint) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let r = self.record(&self.t.checkpoint)?;
        r.set(intern!(py, "format"), cp.format)?;
        r.set(intern!(py, "seq"), cp.seq)?;
        r.set(intern!(py, "hash"), &cp.hash)?;
        r.set(intern!(py, "at"), self.time(cp.at)?)?;
        r.set(intern!(py, "prev"), self.opt_str(cp.prev.as_deref()))?;
        r.set(intern!(py, "public_key"), &cp.public_key)?;
        r.set(intern!(py, "signature"), &cp.signature)?;
        Ok(r.object)
    }

    /// A list of `actioncenter.Checkpoint`.
    pub(crate) fn checkpoints(&mut self, cps: &[Checkpoint]) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(self.py);
        for cp in cps {
            list.append(self.checkpoint(cp)?)?;
        }
        Ok(list)
    }

    fn checkpoint_report(&mut self, c: &CheckpointReport) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let latest = match &c.latest {
            Some(cp) => self.checkpoint(cp)?,
            None => self.none(),
        };
        let r = self.record(&self.t.checkpoint_report)?;
        r.set(intern!(py, "checked"), c.checked)?;
        r.set(intern!(py, "signatures_checked"), c.signatures_checked)?;
        r.set(intern!(py, "latest"), latest)?;
        r.set(intern!(py, "problem"), self.opt_str(c.problem.as_deref()))?;
        Ok(r.object)
    }

    /// An `actioncenter.AuditReport`.
    pub(crate) fn report(&mut self, report: &AuditReport) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let first_bad = match &report.first_bad {
            Some(bad) => self.bad_event(bad)?,
            None => self.none(),
        };
        let first_bad_action = match &report.first_bad_action {
            Some(bad) => self.bad_action(bad)?,
            None => self.none(),
        };
        let checkpoints = self.checkpoint_report(&report.checkpoints)?;
        let r = self.record(&self.t.audit_report)?;
        r.set(intern!(py, "events_checked"), report.events_checked)?;
        r.set(intern!(py, "head"), &report.head)?;
        r.set(intern!(py, "first_bad"), first_bad)?;
        r.set(intern!(py, "actions_checked"), report.actions_checked)?;
        r.set(intern!(py, "first_bad_action"), first_bad_action)?;
        r.set(
            intern!(py, "policy_problem"),
            self.opt_str(report.policy_problem.as_deref()),
        )?;
        r.set(
            intern!(py, "counts_problem"),
            self.opt_str(report.counts_problem.as_deref()),
        )?;
        r.set(intern!(py, "checkpoints"), checkpoints)?;
        r.set(intern!(py, "problem"), report.problem())?;
        Ok(r.object)
    }

    /// A status enum member.
    pub(crate) fn status(&self, status: actioncenter::Status) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.member(&self.t.status, status.as_str()))
    }

    fn opt_status(&self, status: Option<actioncenter::Status>) -> Bound<'py, PyAny> {
        match status {
            Some(s) => self.member(&self.t.status, s.as_str()),
            None => self.none(),
        }
    }

    fn opt_uuid(&self, id: Option<ActionId>) -> PyResult<Bound<'py, PyAny>> {
        match id {
            Some(id) => self.uuid(id),
            None => Ok(self.none()),
        }
    }
}
