//! What the SQL backends share: the schema's column names and the
//! translation of a [`Filter`] into a `WHERE` clause with bound
//! parameters. Table and column names are constants here; every value
//! from a caller goes through a parameter.

use chrono::{DateTime, Utc};

use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::model::{Action, ActionId, Status};
use crate::query::Filter;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// How placeholders and JSON look in one SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

/// A `WHERE` clause under construction.
#[derive(Debug)]
pub(crate) struct Where {
    dialect: Dialect,
    clauses: Vec<String>,
    pub params: Vec<Param>,
}

impl Where {
    pub fn new(dialect: Dialect) -> Where {
        Where {
            dialect,
            clauses: Vec::new(),
            params: Vec::new(),
        }
    }

    /// A placeholder for `p`.
    pub fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.params.len()),
            Dialect::Postgres => format!("${}", self.params.len()),
        }
    }

    pub fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    fn any_of(&mut self, column: &str, values: Vec<String>) {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = values
            .into_iter()
            .map(|v| self.bind(Param::Text(v)))
            .collect();
        self.push(format!("{column} IN ({})", marks.join(", ")));
    }

    /// Adds the clauses of `filter`.
    pub fn filter(&mut self, f: &Filter) {
        self.any_of(
            "status",
            f.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        );
        self.any_of(
            "kind",
            f.kinds.iter().map(|k| k.name().into_owned()).collect(),
        );
        self.any_of(
            "category",
            f.categories.iter().map(|c| c.as_str().to_owned()).collect(),
        );
        self.any_of(
            "source_type",
            f.sources.iter().map(|s| s.as_str().to_owned()).collect(),
        );
        if let Some(i) = &f.investigation_id {
            let m = self.bind(Param::Text(i.clone()));
            self.push(format!("investigation_id = {m}"));
        }
        if let Some(e) = &f.entity {
            let a = self.bind(Param::Text(e.clone()));
            let b = self.bind(Param::Text(e.clone()));
            self.push(format!("(entity_key = {a} OR device_id = {b})"));
        }
        if let Some(c) = &f.created_by {
            let m = self.bind(Param::Text(c.clone()));
            self.push(format!("created_by = {m}"));
        }
        if let Some(d) = &f.decided_by {
            let m = self.bind(Param::Text(d.clone()));
            self.push(match self.dialect {
                Dialect::Sqlite => format!(
                    "EXISTS (SELECT 1 FROM json_each(actions.doc, '$.decisions') WHERE json_extract(value, '$.by') = {m})"
                ),
                Dialect::Postgres => {
                    format!("EXISTS (SELECT 1 FROM jsonb_array_elements(actions.doc->'decisions') d WHERE d->>'by' = {m})")
                }
            });
        }
        if let Some(t) = f.created_after {
            let m = self.bind(Param::Int(t.timestamp_micros()));
            self.push(format!("created_at >= {m}"));
        }
        if let Some(t) = f.created_before {
            let m = self.bind(Param::Int(t.timestamp_micros()));
            self.push(format!("created_at < {m}"));
        }
    }

    /// `WHERE a AND b ...`, or nothing.
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The indexed columns of an action row, in [`ACTION_COLUMNS`] order.
pub(crate) struct ActionRow {
    pub id: String,
    pub version: i64,
    pub status: &'static str,
    pub kind: String,
    pub category: &'static str,
    pub source_type: &'static str,
    pub investigation_id: Option<String>,
    pub entity_key: String,
    pub device_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub lease_until: Option<i64>,
    pub doc: String,
    pub idempotency_key: Option<String>,
    pub exclusive_key: Option<String>,
}

/// The columns of `actions`, in the order [`ActionRow`] fills them.
pub(crate) const ACTION_COLUMNS: &str = "id, version, status, kind, category, source_type, investigation_id, \
     entity_key, device_id, created_by, created_at, expires_at, lease_until, doc, \
     idempotency_key, exclusive_key";

impl ActionRow {
    pub fn of(a: &Action) -> Result<ActionRow> {
        let mut row = ActionRow::without_key(a)?;
        row.exclusive_key = super::exclusive_key(a);
        Ok(row)
    }

    /// The row `change` writes, and whether its `exclusive_key` column must
    /// be written with it (only then is the key computed: see
    /// [`slot_moves`](super::slot_moves)).
    pub fn of_change(change: &super::Change) -> Result<(ActionRow, bool)> {
        if super::slot_moves(change) {
            Ok((ActionRow::of(&change.action)?, true))
        } else {
            Ok((ActionRow::without_key(&change.action)?, false))
        }
    }

    /// Every column but `exclusive_key`, left `None`.
    fn without_key(a: &Action) -> Result<ActionRow> {
        Ok(ActionRow {
            id: a.id.to_string(),
            version: version_to_sql(a.version)?,
            status: a.status.as_str(),
            kind: a.kind.name().into_owned(),
            category: a.category.as_str(),
            source_type: a.source.source_type().as_str(),
            investigation_id: a.investigation_id.clone(),
            entity_key: a.entity.key().to_owned(),
            device_id: a.entity.device_id().map(str::to_owned),
            created_by: a.created_by.clone(),
            created_at: a.created_at.timestamp_micros(),
            expires_at: a
                .expires_at
                .filter(|_| a.status == Status::Pending)
                .map(|t| t.timestamp_micros()),
            lease_until: a.lease_until().map(|t| t.timestamp_micros()),
            doc: serde_json::to_string(a).map_err(|e| Error::storage("cannot encode action", e))?,
            idempotency_key: a.idempotency_key.clone(),
            exclusive_key: None,
        })
    }
}

/// A column value as read for verification (any type the database holds).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Col {
    Null,
    Int(i64),
    Text(String),
    /// Anything else (a real, a blob): never what the doc derives.
    Other,
}

impl From<Option<i64>> for Col {
    fn from(v: Option<i64>) -> Col {
        v.map_or(Col::Null, Col::Int)
    }
}

impl From<Option<String>> for Col {
    fn from(v: Option<String>) -> Col {
        v.map_or(Col::Null, Col::Text)
    }
}

/// The columns of `actions` derived from the doc, as verification reads
/// them after `id` and `doc`, in [`ActionRow::derived`] order.
pub(crate) const DERIVED_COLUMNS: &str = "version, status, kind, category, \
     source_type, investigation_id, entity_key, device_id, created_by, created_at, expires_at, \
     lease_until, idempotency_key, exclusive_key";

/// Which of [`DERIVED_COLUMNS`] hold integers.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) const VERIFY_INT_COLUMNS: [bool; 14] = [
    true, false, false, false, false, false, false, false, false, true, true, true, false, false,
];

impl ActionRow {
    /// The columns derived from the doc, named, in `id`, `doc` and [`DERIVED_COLUMNS`]
    /// order after `doc`.
    fn derived(&self) -> [(&'static str, Col); 14] {
        let text = |s: &str| Col::Text(s.to_owned());
        [
            ("version", Col::Int(self.version)),
            ("status", text(self.status)),
            ("kind", text(&self.kind)),
            ("category", text(self.category)),
            ("source_type", text(self.source_type)),
            ("investigation_id", self.investigation_id.clone().into()),
            ("entity_key", text(&self.entity_key)),
            ("device_id", self.device_id.clone().into()),
            ("created_by", text(&self.created_by)),
            ("created_at", Col::Int(self.created_at)),
            ("expires_at", self.expires_at.into()),
            ("lease_until", self.lease_until.into()),
            ("idempotency_key", self.idempotency_key.clone().into()),
            ("exclusive_key", self.exclusive_key.clone().into()),
        ]
    }
}

/// Compares one stored action row (its `id`, `doc` and
/// [`DERIVED_COLUMNS`]) with what its doc
/// derives. The action and the first column that disagrees (`doc` when
/// the doc does not decode); an error only when neither the doc nor the
/// id column names an action.
pub(crate) fn action_row_off_doc(
    id: &Col,
    doc: &Col,
    derived: &[Col],
) -> Result<Option<(ActionId, String)>> {
    let decoded = match doc {
        Col::Text(d) => action_from_doc(d),
        _ => Err(Error::storage_msg("stored action doc is not text")),
    };
    let action = match decoded {
        Ok(a) => a,
        Err(e) => {
            let Col::Text(raw) = id else {
                return Err(Error::storage_msg(format!(
                    "a stored action row with id {id:?}: {e}"
                )));
            };
            return match raw.parse::<ActionId>() {
                Ok(id) => Ok(Some((id, "doc".to_owned()))),
                Err(_) => Err(Error::storage_msg(format!(
                    "stored action row {raw:?}: {e}"
                ))),
            };
        }
    };
    let expected = ActionRow::of(&action)?;
    if *id != Col::Text(expected.id.clone()) {
        return Ok(Some((action.id, "id".to_owned())));
    }
    let off = expected
        .derived()
        .into_iter()
        .zip(derived)
        // The key columns too, empty ones included: the migration to
        // schema 2 added them empty, but the fields they derive from came
        // with it, so no doc of an older row has a key. A key column
        // emptied by hand let a second active action onto an entity.
        .find(|((_, want), got)| want != *got);
    Ok(off.map(|((column, _), _)| (action.id, column.to_owned())))
}

/// Compares one stored checkpoint row with its signed doc: the `seq`
/// column must be the signed seq and, where the store numbers rows
/// without gaps (`position` is `Some`, 1-based), the `id` column the
/// row's position. The problem in words, naming the checkpoint.
pub(crate) fn checkpoint_row_off_doc(
    id: i64,
    seq: &Col,
    doc: &str,
    position: Option<usize>,
) -> Option<String> {
    let cp = match checkpoint_from_doc(doc) {
        Ok(cp) => cp,
        Err(e) => return Some(format!("checkpoint row {id}: {e}")),
    };
    let signed = i64::try_from(cp.seq).ok();
    if Some(seq) != signed.map(Col::Int).as_ref() {
        return Some(format!(
            "checkpoint row {id} (signed at event {}): its seq column says {seq:?}, not the signed seq",
            cp.seq
        ));
    }
    if let Some(p) = position
        && i64::try_from(p).ok() != Some(id)
    {
        return Some(format!(
            "checkpoint row {id} (signed at event {}) is checkpoint {p}: its id column was edited",
            cp.seq
        ));
    }
    None
}

pub(crate) fn version_to_sql(v: u64) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| Error::storage_msg(format!("version {v} does not fit the database")))
}

/// Decodes an action stored as JSON.
pub(crate) fn action_from_doc(doc: &str) -> Result<Action> {
    serde_json::from_str(doc).map_err(|e| Error::storage("stored action does not decode", e))
}

/// [`action_from_doc`] of the row whose id column is `id`: a doc that
/// does not decode is refused naming the row, for whoever must mend it
/// (`verify` reports it too).
pub(crate) fn action_from_row(id: &str, doc: &str) -> Result<Action> {
    serde_json::from_str(doc).map_err(|e| {
        let message = format!("stored action {id} does not decode: {e}");
        Error::storage(message, e)
    })
}

pub(crate) fn time_from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::storage_msg(format!("stored time {us} is out of range")))
}

/// The raw columns of an audit event row.
pub(crate) struct EventRow {
    pub seq: i64,
    pub action_id: Option<String>,
    pub at: i64,
    pub actor: String,
    pub via: Option<String>,
    pub event: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub comment: Option<String>,
    pub version: Option<i64>,
    pub digest: Option<String>,
    pub policy_version: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
}

/// The columns of `events`, in the order [`EventRow`] holds them.
pub(crate) const EVENT_COLUMNS: &str = "seq, action_id, at, actor, via, event, from_status, to_status, \
     comment, version, digest, policy_version, prev_hash, hash";

impl EventRow {
    /// The row of a sealed event.
    pub fn of(e: &AuditEvent) -> Result<EventRow> {
        let to_sql = |v: Option<u64>| v.map(version_to_sql).transpose();
        Ok(EventRow {
            seq: version_to_sql(e.seq)?,
            action_id: e.action_id.map(|id| id.to_string()),
            at: e.at.timestamp_micros(),
            actor: e.actor.clone(),
            via: e.via.clone(),
            event: e.event.as_str().to_owned(),
            from: e.from.map(|s| s.as_str().to_owned()),
            to: e.to.map(|s| s.as_str().to_owned()),
            comment: e.comment.clone(),
            version: to_sql(e.version)?,
            digest: e.digest.clone(),
            policy_version: to_sql(e.policy_version)?,
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        })
    }

    pub fn decode(self) -> Result<AuditEvent> {
        let bad = |what: &str, e: Error| {
            Error::storage_msg(format!("audit event {}: bad {what}: {e}", self.seq))
        };
        let status = |s: &Option<String>, what: &str| -> Result<Option<Status>> {
            s.as_ref()
                .map(|s| s.parse::<Status>().map_err(|e| bad(what, e)))
                .transpose()
        };
        let unsigned = |v: Option<i64>, what: &str| -> Result<Option<u64>> {
            v.map(|v| {
                u64::try_from(v).map_err(|_| {
                    Error::storage_msg(format!("audit event {}: negative {what} {v}", self.seq))
                })
            })
            .transpose()
        };
        Ok(AuditEvent {
            seq: u64::try_from(self.seq)
                .map_err(|_| Error::storage_msg(format!("negative audit seq {}", self.seq)))?,
            action_id: self
                .action_id
                .as_ref()
                .map(|id| id.parse().map_err(|e| bad("action id", e)))
                .transpose()?,
            at: time_from_micros(self.at)?,
            actor: self.actor.clone(),
            via: self.via.clone(),
            event: self.event.parse().map_err(|e| bad("event", e))?,
            from: status(&self.from, "from status")?,
            to: status(&self.to, "to status")?,
            comment: self.comment.clone(),
            version: unsigned(self.version, "version")?,
            digest: self.digest.clone(),
            policy_version: unsigned(self.policy_version, "policy version")?,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        })
    }
}

/// The columns of `policies`.
pub(crate) const POLICY_COLUMNS: &str = "version, doc, digest, set_by, set_at";

/// Decodes a stored policy row.
pub(crate) fn policy_from_row(
    version: i64,
    doc: &str,
    digest: String,
    set_by: String,
    set_at: i64,
) -> Result<crate::policy::StoredPolicy> {
    let policy = crate::policy::Policy::from_json(doc).map_err(|e| {
        Error::storage_msg(format!(
            "stored policy version {version} does not decode: {e}"
        ))
    })?;
    Ok(crate::policy::StoredPolicy {
        version: u64::try_from(version)
            .map_err(|_| Error::storage_msg(format!("negative policy version {version}")))?,
        policy,
        digest,
        set_by,
        set_at: time_from_micros(set_at)?,
    })
}

/// Decodes a stored checkpoint document.
pub(crate) fn checkpoint_from_doc(doc: &str) -> Result<crate::checkpoint::Checkpoint> {
    serde_json::from_str(doc).map_err(|e| Error::storage("stored checkpoint does not decode", e))
}

/// Which of an insert's unique keys is taken, after `INSERT ... ON
/// CONFLICT DO NOTHING` inserted nothing: the id or the idempotency key
/// (`Conflict`), or the exclusive slot (`Duplicate`, naming the holder).
pub(crate) fn insert_refusal(action: &Action, exclusive_holder: Option<String>) -> Error {
    match exclusive_holder.and_then(|id| id.parse::<crate::model::ActionId>().ok()) {
        Some(existing) if existing != action.id => super::slot_taken(action, existing),
        _taken => Error::Conflict {
            id: action.id,
            expected: 0,
            actual: action.version,
        },
    }
}

/// `SELECT id FROM actions WHERE exclusive_key = ?`: who holds a slot.
pub(crate) const EXCLUSIVE_HOLDER: &str = "SELECT id FROM actions WHERE exclusive_key = ";

/// How a change moves the kept counts: -1 on the (status, category) it
/// leaves, +1 on the one it enters. Empty when the status stays.
pub(crate) fn count_moves(change: &super::Change) -> Vec<(&'static str, &'static str, i64)> {
    let category = change.action.category.as_str();
    match change.event.as_ref().map(|e| (e.from, e.to)) {
        Some((Some(from), Some(to))) if from != to => {
            vec![(from.as_str(), category, -1), (to.as_str(), category, 1)]
        }
        _unchanged => Vec::new(),
    }
}

/// Whether `filter` can be answered from the kept counts: it asks only for
/// statuses and categories (the tab badges).
pub(crate) fn counts_are_kept_for(filter: &Filter) -> bool {
    *filter
        == Filter {
            statuses: filter.statuses.clone(),
            categories: filter.categories.clone(),
            ..Filter::default()
        }
}

/// The kept counts as a [`Counts`], from `(status, n)` rows.
pub(crate) fn counts_from_rows(rows: Vec<(String, i64)>) -> Result<crate::query::Counts> {
    let mut counts = crate::query::Counts::zero();
    for (status, n) in rows {
        let kept = u64::try_from(n).map_err(|_| {
            Error::storage_msg(format!(
                "the kept count of {status} actions is {n}: the counts table was edited"
            ))
        })?;
        let parsed = status.parse().map_err(|_| {
            Error::storage_msg(format!(
                "the counts table holds a status no action has, {status:?}: it was edited"
            ))
        })?;
        counts.0.insert(parsed, kept);
    }
    Ok(counts)
}

/// Identity: accounts, sessions and API tokens, rate-limit windows. The
/// statements are the same in both dialects, written with SQLite's `?N`
/// placeholders; [`Dialect::sql`](super::Dialect::sql) gives PostgreSQL's.
pub(crate) mod identity {
    use super::time_from_micros;
    use crate::error::{Error, Result};
    use crate::identity::{Account, Credential, CredentialKind, Revoke};

    /// The columns of `accounts`, in the order [`AccountRow`] holds them.
    macro_rules! account_columns {
        () => {
            "id, password_hash, disabled, created_by, created_at, updated_at"
        };
    }

    /// The columns of `credentials`, in the order [`CredentialRow`] holds them.
    macro_rules! credential_columns {
        () => {
            "id, kind, hash, principal, label, csrf, created_by, created_at, \
             last_used_at, expires_at, revoked_at, groups"
        };
    }

    /// A new account; inserts nothing if the id exists.
    pub const INSERT_ACCOUNT: &str = concat!(
        "INSERT INTO accounts (",
        account_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING"
    );

    /// Replaces an existing account, with the parameters of [`INSERT_ACCOUNT`].
    pub const REPLACE_ACCOUNT: &str = "UPDATE accounts SET password_hash = ?2, disabled = ?3, \
         created_by = ?4, created_at = ?5, updated_at = ?6 WHERE id = ?1";

    pub const ACCOUNT_BY_ID: &str = concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = ?1"
    );

    pub const ALL_ACCOUNTS: &str =
        concat!("SELECT ", account_columns!(), " FROM accounts ORDER BY id");

    /// A new credential; inserts nothing if its id or hash exists.
    pub const INSERT_CREDENTIAL: &str = concat!(
        "INSERT INTO credentials (",
        credential_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT DO NOTHING"
    );

    pub const CREDENTIAL_BY_HASH: &str = concat!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials WHERE hash = ?1"
    );

    /// Oldest first; ids are UUID v7, so they break ties in creation order.
    pub const CREDENTIALS_OF_KIND: &str = concat!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials WHERE kind = ?1 ORDER BY created_at, id"
    );

    /// Only a live credential is touched: a revoked one stays as it ended.
    pub const TOUCH_CREDENTIAL: &str =
        "UPDATE credentials SET last_used_at = ?1 WHERE hash = ?2 AND revoked_at IS NULL";

    pub const REVOKE_BY_ID: &str =
        "UPDATE credentials SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL";
    pub const REVOKE_BY_HASH: &str =
        "UPDATE credentials SET revoked_at = ?1 WHERE hash = ?2 AND revoked_at IS NULL";
    pub const REVOKE_BY_PRINCIPAL: &str = "UPDATE credentials SET revoked_at = ?1 \
         WHERE principal = ?2 AND kind = ?3 AND revoked_at IS NULL";

    /// One hit on a key in a window, in one statement: a hit in another
    /// window than the stored one starts the count again. `window` is
    /// quoted: it is a reserved word in PostgreSQL.
    pub const HIT: &str = "INSERT INTO rate_limits (key, \"window\", count) VALUES (?1, ?2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
         count = CASE WHEN rate_limits.\"window\" = excluded.\"window\" THEN rate_limits.count + 1 ELSE 1 END, \
         \"window\" = excluded.\"window\" \
         RETURNING count";

    /// The statement of a [`Revoke`] and its parameters after the time
    /// (`?1`): the id, the hash, or the principal and the kind.
    pub fn revoke(which: &Revoke) -> (&'static str, Vec<String>) {
        match which {
            Revoke::Id(id) => (REVOKE_BY_ID, vec![id.to_string()]),
            Revoke::Hash(hash) => (REVOKE_BY_HASH, vec![hash.clone()]),
            Revoke::Principal { principal, kind } => (
                REVOKE_BY_PRINCIPAL,
                vec![principal.clone(), kind.as_str().to_owned()],
            ),
        }
    }

    /// The columns of an account row.
    pub struct AccountRow {
        pub id: String,
        pub password_hash: String,
        pub disabled: bool,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    impl AccountRow {
        pub fn of(a: &Account) -> AccountRow {
            AccountRow {
                id: a.id.clone(),
                password_hash: a.password_hash.clone(),
                disabled: a.disabled,
                created_by: a.created_by.clone(),
                created_at: a.created_at.timestamp_micros(),
                updated_at: a.updated_at.timestamp_micros(),
            }
        }

        pub fn decode(self) -> Result<Account> {
            Ok(Account {
                created_at: time_from_micros(self.created_at)?,
                updated_at: time_from_micros(self.updated_at)?,
                id: self.id,
                password_hash: self.password_hash,
                disabled: self.disabled,
                created_by: self.created_by,
            })
        }
    }

    /// The columns of a credential row, but the id, whose type is the
    /// backend's (text in SQLite, `uuid` in PostgreSQL).
    pub struct CredentialRow {
        pub id: uuid::Uuid,
        pub kind: String,
        pub hash: String,
        pub principal: String,
        pub label: String,
        pub csrf: String,
        pub created_by: String,
        pub created_at: i64,
        pub last_used_at: i64,
        pub expires_at: Option<i64>,
        pub revoked_at: Option<i64>,
        /// The identity provider's groups, as a JSON array.
        pub groups: String,
    }

    impl CredentialRow {
        pub fn of(c: &Credential) -> CredentialRow {
            CredentialRow {
                id: c.id,
                kind: c.kind.as_str().to_owned(),
                hash: c.hash.clone(),
                principal: c.principal.clone(),
                label: c.label.clone(),
                csrf: c.csrf.clone(),
                created_by: c.created_by.clone(),
                created_at: c.created_at.timestamp_micros(),
                last_used_at: c.last_used_at.timestamp_micros(),
                expires_at: c.expires_at.map(|t| t.timestamp_micros()),
                revoked_at: c.revoked_at.map(|t| t.timestamp_micros()),
                groups: serde_json::to_string(&c.groups).unwrap_or_else(|_| "[]".into()),
            }
        }

        pub fn decode(self) -> Result<Credential> {
            let time = |t: Option<i64>| t.map(time_from_micros).transpose();
            let groups: Vec<String> = serde_json::from_str(&self.groups).map_err(|e| {
                Error::storage_msg(format!("credential {}: bad groups: {e}", self.id))
            })?;
            Ok(Credential {
                id: self.id,
                kind: CredentialKind::parse(&self.kind).map_err(|e| {
                    Error::storage_msg(format!("credential {}: bad kind: {e}", self.id))
                })?,
                hash: self.hash,
                principal: self.principal,
                label: self.label,
                csrf: self.csrf,
                groups,
                created_by: self.created_by,
                created_at: time_from_micros(self.created_at)?,
                last_used_at: time_from_micros(self.last_used_at)?,
                expires_at: time(self.expires_at)?,
                revoked_at: time(self.revoked_at)?,
            })
        }
    }

    /// Decodes a credential id stored as text.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub fn credential_id(text: &str) -> Result<uuid::Uuid> {
        text.parse()
            .map_err(|e| Error::storage_msg(format!("stored credential id {text:?}: {e}")))
    }

    /// The count [`HIT`] returned, as the trait gives it.
    pub fn hits(count: i64) -> u64 {
        u64::try_from(count).unwrap_or(0)
    }

    #[cfg(test)]
    mod tests {
        use super::super::Dialect;
        use super::*;

        #[test]
        fn postgres_placeholders_replace_sqlites() {
            assert_eq!(
                Dialect::Postgres.sql(TOUCH_CREDENTIAL),
                "UPDATE credentials SET last_used_at = $1 WHERE hash = $2 AND revoked_at IS NULL"
            );
            assert_eq!(Dialect::Sqlite.sql(HIT), HIT);
            assert!(!Dialect::Postgres.sql(INSERT_CREDENTIAL).contains('?'));
        }
    }
}

impl Dialect {
    /// `sql`, written with SQLite's `?N` placeholders, in this dialect
    /// (`$N` for PostgreSQL). For statements both dialects share.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub fn sql(self, sql: &'static str) -> std::borrow::Cow<'static, str> {
        match self {
            Dialect::Sqlite => std::borrow::Cow::Borrowed(sql),
            Dialect::Postgres => {
                let mut out = String::with_capacity(sql.len());
                let mut chars = sql.chars().peekable();
                while let Some(c) = chars.next() {
                    let placeholder = c == '?' && chars.peek().is_some_and(char::is_ascii_digit);
                    out.push(if placeholder { '$' } else { c });
                }
                std::borrow::Cow::Owned(out)
            }
        }
    }
}
