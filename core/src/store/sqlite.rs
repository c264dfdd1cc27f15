//! The embedded default: one SQLite file, shared safely by every process
//! on a host.
//!
//! - WAL journal, so readers never block the writer.
//! - `synchronous=FULL` by default: an approval that returned survives a
//!   power cut. [`Synchronous::Normal`] trades that for speed (a crash
//!   can lose the last transactions, never corrupt the file).
//! - Every write is one `BEGIN IMMEDIATE` transaction that takes the
//!   write lock up front; other processes wait up to the busy timeout.
//! - The file is marked with an `application_id`; the schema version is
//!   its `user_version`, migrated forward on open. A file that is not an
//!   actioncenter database, or has a newer schema, is refused untouched.
//! - The engine carries its own SQLite (the `bundled` build). Other
//!   processes' SQLite libraries see its locks, but a second SQLite
//!   library linked into the same process (Python's `sqlite3` module, say)
//!   does not: within one process, reach the file only through the engine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::sql::{
    ACTION_COLUMNS, ActionRow, Col, DERIVED_COLUMNS, Dialect, EVENT_COLUMNS, EXCLUSIVE_HOLDER,
    EventRow, POLICY_COLUMNS, Param, Where, action_from_doc, action_from_row, action_row_off_doc,
    checkpoint_from_doc, checkpoint_row_off_doc, count_moves, counts_are_kept_for,
    counts_from_rows, identity as id_sql, insert_refusal, policy_from_row, version_to_sql,
};
use super::{Change, ClaimFn, ClaimScope, Store};
use crate::audit::{AuditEvent, GENESIS_HASH, NewEvent};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::identity::{Account, Credential, CredentialKind, Revoke};
use crate::model::{Action, ActionId};
use crate::policy::StoredPolicy;
use crate::query::{Counts, Filter};

/// `"ACTR"`: marks a SQLite file as an actioncenter database.
pub const APPLICATION_ID: i32 = 0x4143_5452;

/// The schema, one migration per version. Version `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE actions (
    id               TEXT PRIMARY KEY,
    version          INTEGER NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    category         TEXT NOT NULL,
    source_type      TEXT NOT NULL,
    investigation_id TEXT,
    entity_key       TEXT NOT NULL,
    device_id        TEXT,
    created_by       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER,
    lease_until      INTEGER,
    doc              TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX actions_by_status        ON actions (status, id);
CREATE INDEX actions_by_investigation ON actions (investigation_id, id);
CREATE INDEX actions_by_entity        ON actions (entity_key, id);
CREATE INDEX actions_by_device        ON actions (device_id, id);
CREATE INDEX actions_by_creator       ON actions (created_by, id);
CREATE INDEX actions_by_expiry        ON actions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX actions_by_lease         ON actions (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX actions_claimable        ON actions (id)
    WHERE status IN ('approved', 'undoing') AND lease_until IS NULL;
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    action_id   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    event       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    comment     TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX events_by_action ON events (action_id, seq);
"#,
    r#"
ALTER TABLE actions ADD COLUMN idempotency_key TEXT;
ALTER TABLE actions ADD COLUMN exclusive_key TEXT;
CREATE UNIQUE INDEX actions_by_idempotency_key ON actions (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX actions_exclusive ON actions (exclusive_key)
    WHERE exclusive_key IS NOT NULL;
DROP INDEX actions_claimable;
CREATE INDEX actions_claimable ON actions (id)
    WHERE status IN ('approved', 'undoing') AND lease_until IS NULL;
UPDATE actions SET status = 'undo_running', doc = json_set(doc, '$.status', 'undo_running')
    WHERE status = 'undoing' AND lease_until IS NOT NULL;
CREATE TABLE events_v2 (
    seq            INTEGER PRIMARY KEY,
    action_id      TEXT,
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    via            TEXT,
    event          TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT,
    comment        TEXT,
    version        INTEGER,
    digest         TEXT,
    policy_version INTEGER,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
INSERT INTO events_v2 (seq, action_id, at, actor, event, from_status, to_status, comment, prev_hash, hash)
    SELECT seq, action_id, at, actor, event, from_status, to_status, comment, prev_hash, hash FROM events;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_by_action ON events (action_id, seq);
CREATE TABLE policies (
    version INTEGER PRIMARY KEY,
    doc     TEXT NOT NULL,
    digest  TEXT NOT NULL,
    set_by  TEXT NOT NULL,
    set_at  INTEGER NOT NULL
);
CREATE TABLE checkpoints (
    id  INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE counts (
    status   TEXT NOT NULL,
    category TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (status, category)
) WITHOUT ROWID;
INSERT INTO counts (status, category, n)
    SELECT status, category, count(*) FROM actions GROUP BY status, category;
"#,
    r#"
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    principal    TEXT NOT NULL,
    label        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    groups       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX credentials_by_principal ON credentials (principal, kind);
CREATE INDEX credentials_by_kind      ON credentials (kind, created_at, id);
CREATE TABLE rate_limits (
    key      TEXT PRIMARY KEY,
    "window" INTEGER NOT NULL,
    count    INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // An idempotency key is its proposer's own. Keys unique across the
    // store are unique per proposer, so every stored row fits the index.
    r#"
DROP INDEX actions_by_idempotency_key;
CREATE UNIQUE INDEX actions_by_idempotency_key ON actions (created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
"#,
];

/// The schema version this library writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How hard SQLite works to make each commit durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Every commit reaches the disk before it returns (the default).
    #[default]
    Full,
    /// Commits may be lost by a power cut, never half-applied.
    Normal,
}

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// How long a write waits for another process's transaction.
    pub busy_timeout: Duration,
    /// Connections kept open for concurrent readers.
    pub pool_size: u32,
    /// Create the tables in a file that holds none, an empty or new one
    /// (the default). With `false` such a file is refused and left as it
    /// was: a command that only reads then never writes a schema, nor the
    /// bootstrap policy, into a mistyped path.
    pub create: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(10),
            pool_size: 4,
            create: true,
        }
    }
}

/// A store in one SQLite file. See the [module docs](self).
#[derive(Debug)]
pub struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
    /// After `pool`, so the pool is dropped before the threads may end.
    _threads: super::scheduler::Lease,
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Text(s) => s.to_sql(),
            Param::Int(i) => i.to_sql(),
        }
    }
}

fn db_err(context: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| {
        let busy = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        if busy {
            Error::storage_retryable(format!("{context}: {e}"), e)
        } else {
            Error::storage(format!("{context}: {e}"), e)
        }
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, &SqliteOptions::default())
    }

    /// Opens (or creates) the database at `path`.
    pub fn open_with(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        check_path(&path, &shown)?;
        // Check what the file is before changing anything in it.
        let mut conn = Connection::open(&path).map_err(db_err(&format!("cannot open {shown}")))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(db_err("busy_timeout"))?;
        prepare_schema(&mut conn, &shown, options.create)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err("journal_mode"))?;
        drop(conn);

        let sync = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        let timeout = options.busy_timeout;
        let manager = SqliteConnectionManager::file(&path).with_init(move |c| {
            c.busy_timeout(timeout)?;
            c.pragma_update(None, "synchronous", sync)?;
            Ok(())
        });
        let threads = super::SQLITE_THREADS.lease();
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .thread_pool(threads.pool())
            .build(manager)
            .map_err(|e| Error::storage(format!("cannot open {shown}: {e}"), e))?;
        Ok(SqliteStore {
            pool,
            path,
            _threads: threads,
        })
    }

    /// The file this store uses.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>> {
        self.pool
            .get()
            .map_err(|e| Error::storage_retryable(format!("no database connection: {e}"), e))
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committing on `Ok`.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err("begin"))?;
        let out = f(&tx)?;
        // Named, so a full disk says which database it stopped.
        tx.commit()
            .map_err(|e| db_err(&format!("commit to {}", self.path.display()))(e))?;
        Ok(out)
    }

    fn query_actions(&self, sql: &str, params: &[Param]) -> Result<Vec<Action>> {
        let conn = self.conn()?;
        query_actions(&conn, sql, params)
    }
}

/// Why the first read of a database file failed. A file this user may
/// not write (or whose directory it may not, for the -wal and -shm files
/// beside it) fails that read in WAL mode: that is said, rather than that
/// the file is not ours.
fn first_read_failed(shown: &str, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::ReadOnly
            | rusqlite::ErrorCode::CannotOpen
            | rusqlite::ErrorCode::PermissionDenied,
        ) => Error::storage(
            format!(
                "cannot use {shown}: {e}; actioncenter writes to its database file and, \
                 in the same directory, to its -wal and -shm files: this user needs \
                 write access to both"
            ),
            e,
        ),
        _ => Error::storage_msg(format!("{shown} is not an actioncenter database ({e})")),
    }
}

/// Refuses a path that names no file a database can be kept in, before
/// SQLite opens it: an empty one or an in-memory one (a database that
/// would vanish, and every handle's a different one), a NUL byte, or an
/// existing path that is not a regular file (a device such as
/// `/dev/null` would be written to, and its journal left beside it).
fn check_path(path: &Path, shown: &str) -> Result<()> {
    let text = path.to_string_lossy();
    let why = if text.is_empty() {
        "must name a file".to_owned()
    } else if text.contains('\0') {
        "holds a NUL byte".to_owned()
    } else if in_memory(&text) {
        format!(
            "{shown:?} names an in-memory database, not a file (an engine over memory is the memory store)"
        )
    } else {
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Err(Error::storage_msg(format!(
                    "{shown} is not an actioncenter database (not a regular file)"
                )));
            }
            _ => return Ok(()),
        }
    };
    Err(Error::validation("path", why))
}

/// Whether SQLite takes `name` for an in-memory database: `:memory:`, or
/// a URI (`file:...`, which may choose a VFS) naming it or asking for
/// `mode=memory`.
fn in_memory(name: &str) -> bool {
    let Some(uri) = name.strip_prefix("file:") else {
        return name == ":memory:";
    };
    let (file, query) = uri.split_once('?').unwrap_or((uri, ""));
    file.is_empty() || file == ":memory:" || query.split('&').any(|p| p == "mode=memory")
}

/// Creates or migrates the schema, or refuses a file that is not ours.
fn prepare_schema(conn: &mut Connection, shown: &str, create: bool) -> Result<()> {
    let not_ours = |detail: String| {
        Error::storage_msg(format!(
            "{shown} is not an actioncenter database ({detail})"
        ))
    };
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| first_read_failed(shown, e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("user_version"))?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(|e| not_ours(e.to_string()))?;
    // A new file has nothing: no id, no version, no tables. Our schema
    // versions come with our application id.
    if app_id != APPLICATION_ID && !(app_id == 0 && tables == 0 && version == 0) {
        return Err(not_ours(format!(
            "application_id {app_id:#x}, user_version {version}, {tables} schema objects"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(Error::storage_msg(format!(
            "{shown} has schema version {version}, newer than this library's {SCHEMA_VERSION}: upgrade actioncenter"
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version == 0 && !create {
        return Err(Error::storage_msg(format!(
            "{shown} holds no actioncenter tables (is this the right file?)"
        )));
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err("begin migration"))?;
    // Another process may have migrated while we waited for the lock.
    let current: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("user_version"))?;
    if current > SCHEMA_VERSION {
        return Err(Error::storage_msg(format!(
            "{shown} has schema version {current}, newer than this library's {SCHEMA_VERSION}: upgrade actioncenter"
        )));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.execute_batch(sql)
            .map_err(db_err(&format!("migration to version {}", i + 1)))?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(db_err("application_id"))?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db_err("user_version"))?;
    tx.commit().map_err(db_err("commit migration"))
}

/// The actions of a query whose columns are `id, doc`.
fn query_actions(conn: &Connection, sql: &str, params: &[Param]) -> Result<Vec<Action>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err("prepare"))?;
    stmt.query_map(params_from_iter(params.iter()), action_of)
        .map_err(db_err("query"))?
        .collect::<rusqlite::Result<Vec<Result<Action>>>>()
        .map_err(db_err("read"))?
        .into_iter()
        .collect()
}

/// The action of a row whose first columns are `id, doc`, or the refusal
/// naming the row: a doc that does not decode, or is not UTF-8 text.
fn action_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Action>> {
    use rusqlite::types::ValueRef;
    let id = match r.get_ref(0)? {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        other => format!("{other:?}"),
    };
    Ok(match r.get_ref(1)? {
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(doc) => action_from_row(&id, doc),
            Err(_) => Err(Error::storage_msg(format!(
                "stored action {id} does not decode: its doc is not UTF-8 text"
            ))),
        },
        _ => Err(Error::storage_msg(format!(
            "stored action {id} does not decode: its doc is not text"
        ))),
    })
}

/// What the changes of one transaction leave for later: the chain's head
/// as its last append left it (no other writer appends while the
/// transaction holds the write lock, so the next append need not read
/// it), and the moves of the kept counts, written once when the
/// transaction's changes are done.
#[derive(Debug, Default)]
struct Pending {
    head: Option<(i64, String)>,
    moves: Vec<(&'static str, &'static str, i64)>,
}

impl Pending {
    /// Adds `delta` to the count of (`status`, `category`).
    fn count(&mut self, status: &'static str, category: &'static str, delta: i64) {
        match self
            .moves
            .iter_mut()
            .find(|(s, c, _)| *s == status && *c == category)
        {
            Some(kept) => kept.2 += delta,
            None => self.moves.push((status, category, delta)),
        }
    }

    /// Writes the counts' moves.
    fn finish(self, tx: &Connection) -> Result<()> {
        let moves: Vec<_> = self.moves.into_iter().filter(|m| m.2 != 0).collect();
        match moves.as_slice() {
            // A transition's two moves, one statement.
            [(s1, c1, d1), (s2, c2, d2)] => tx
                .prepare_cached(
                    "INSERT INTO counts (status, category, n) VALUES (?1, ?2, ?3), (?4, ?5, ?6) \
                     ON CONFLICT (status, category) DO UPDATE SET n = n + excluded.n",
                )
                .and_then(|mut s| s.execute(params![s1, c1, d1, s2, c2, d2]))
                .map(drop)
                .map_err(db_err("keep counts")),
            _ => moves
                .iter()
                .try_for_each(|(s, c, d)| bump_count(tx, s, c, *d)),
        }
    }
}

fn append_event(
    tx: &rusqlite::Transaction<'_>,
    event: NewEvent,
    head: &mut Option<(i64, String)>,
) -> Result<AuditEvent> {
    let last = match head.take() {
        Some(known) => Some(known),
        None => tx
            .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(db_err("read chain head"))?,
    };
    let (seq, prev) = last.map_or((1, GENESIS_HASH.to_owned()), |(s, h)| (s + 1, h));
    let sealed = event.seal(u64::try_from(seq).unwrap_or(0), &prev);
    let row = EventRow::of(&sealed)?;
    tx.prepare_cached(&format!(
        "INSERT INTO events ({EVENT_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            row.seq,
            row.action_id,
            row.at,
            row.actor,
            row.via,
            row.event,
            row.from,
            row.to,
            row.comment,
            row.version,
            row.digest,
            row.policy_version,
            row.prev_hash,
            row.hash,
        ])
    })
    .map_err(db_err("append audit event"))?;
    *head = Some((seq, sealed.hash.clone()));
    Ok(sealed)
}

/// Adds `delta` to the kept count of (`status`, `category`).
fn bump_count(tx: &Connection, status: &str, category: &str, delta: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO counts (status, category, n) VALUES (?1, ?2, ?3) \
         ON CONFLICT (status, category) DO UPDATE SET n = n + excluded.n",
    )
    .and_then(|mut s| s.execute(params![status, category, delta]))
    .map_err(db_err("keep counts"))?;
    Ok(())
}

fn stored_policy_version(tx: &Connection) -> Result<u64> {
    let v: Option<i64> = tx
        .prepare_cached("SELECT max(version) FROM policies")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db_err("read policy version"))?;
    Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

fn apply_in(
    tx: &rusqlite::Transaction<'_>,
    change: Change,
    pending: &mut Pending,
) -> Result<Option<AuditEvent>> {
    if let Some(expected) = change.policy_version {
        let actual = stored_policy_version(tx)?;
        if actual != expected {
            return Err(Error::PolicyChanged { expected, actual });
        }
    }
    if let Some(basis) = &change.basis {
        // Decided on a copy: only if the stored action is that copy.
        let id = change.action.id;
        let stored: Option<(i64, String)> = tx
            .query_row(
                "SELECT version, doc FROM actions WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err("read action"))?;
        let (version, doc) = stored.ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        if action_from_doc(&doc)? != **basis {
            return Err(Error::Conflict {
                id,
                expected: change.expected_version,
                actual: u64::try_from(version).unwrap_or(0),
            });
        }
    }
    let (row, key_moves) = ActionRow::of_change(&change)?;
    // Back into the slot (a retry) only if no other action holds it: a
    // refusal, before anything is written, rather than the unique index's.
    if let Some(key) = row.exclusive_key.as_ref().filter(|_| key_moves) {
        let holder: Option<String> = tx
            .prepare_cached(&format!("{EXCLUSIVE_HOLDER}?1"))
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(db_err("read exclusive holder"))?;
        if let Some(existing) = holder.filter(|h| *h != row.id) {
            return Err(insert_refusal(&change.action, Some(existing)));
        }
    }
    // The exclusive key's column (and its unique index) is written only
    // when the action enters or leaves its slot.
    let sql = if key_moves {
        "UPDATE actions SET version = ?1, status = ?2, expires_at = ?3, lease_until = ?4, doc = ?5, \
         exclusive_key = ?8 WHERE id = ?6 AND version = ?7"
    } else {
        "UPDATE actions SET version = ?1, status = ?2, expires_at = ?3, lease_until = ?4, doc = ?5 \
         WHERE id = ?6 AND version = ?7"
    };
    let updated = tx
        .prepare_cached(sql)
        .and_then(|mut s| {
            let expected = version_to_sql(change.expected_version).unwrap_or(-1);
            let fields: [&dyn rusqlite::ToSql; 7] = [
                &row.version,
                &row.status,
                &row.expires_at,
                &row.lease_until,
                &row.doc,
                &row.id,
                &expected,
            ];
            if key_moves {
                s.execute(params_from_iter(
                    fields
                        .into_iter()
                        .chain([&row.exclusive_key as &dyn rusqlite::ToSql]),
                ))
            } else {
                s.execute(params_from_iter(fields))
            }
        })
        .map_err(db_err("update action"))?;
    if updated == 0 {
        let id = change.action.id;
        let actual: Option<i64> = tx
            .query_row(
                "SELECT version FROM actions WHERE id = ?1",
                [&row.id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err("read version"))?;
        return Err(match actual {
            None => Error::NotFound { id: id.to_string() },
            Some(v) => Error::Conflict {
                id,
                expected: change.expected_version,
                actual: u64::try_from(v).unwrap_or(0),
            },
        });
    }
    for (status, category, delta) in count_moves(&change) {
        pending.count(status, category, delta);
    }
    change
        .event
        .map(|e| append_event(tx, e, &mut pending.head))
        .transpose()
}

impl Store for SqliteStore {
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent> {
        let row = ActionRow::of(action)?;
        self.write(|tx| {
            let inserted = tx
                .prepare_cached(&format!(
                    "INSERT INTO actions ({ACTION_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
                     ON CONFLICT DO NOTHING"
                ))
                .and_then(|mut s| {
                    s.execute(params![
                        row.id,
                        row.version,
                        row.status,
                        row.kind,
                        row.category,
                        row.source_type,
                        row.investigation_id,
                        row.entity_key,
                        row.device_id,
                        row.created_by,
                        row.created_at,
                        row.expires_at,
                        row.lease_until,
                        row.doc,
                        row.idempotency_key,
                        row.exclusive_key,
                    ])
                })
                .map_err(db_err("insert action"))?;
            if inserted == 0 {
                let holder: Option<String> = match &row.exclusive_key {
                    Some(key) => tx
                        .query_row(&format!("{EXCLUSIVE_HOLDER}?1"), [key], |r| r.get(0))
                        .optional()
                        .map_err(db_err("read exclusive holder"))?,
                    None => None,
                };
                return Err(insert_refusal(action, holder));
            }
            bump_count(tx, row.status, row.category, 1)?;
            append_event(tx, event, &mut None)
        })
    }

    fn apply(&self, change: Change) -> Result<Option<AuditEvent>> {
        self.write(|tx| {
            let mut pending = Pending::default();
            let applied = apply_in(tx, change, &mut pending)?;
            pending.finish(tx)?;
            Ok(applied)
        })
    }

    /// One transaction, one commit (one fsync under FULL) for every item.
    /// A refused item leaves no trace without a savepoint of its own:
    /// [`apply_in`] refuses (a version moved on, another policy, a copy
    /// that is not the stored action) before it writes anything, its first
    /// write is one statement that SQLite applies whole or not at all, and
    /// a failure after it is the database's, which ends the whole call. A
    /// savepoint per item copied every page the item touched into a
    /// statement journal (a temporary file past 64 KiB): a sixth of a bulk
    /// call's time.
    fn apply_many(&self, changes: Vec<Change>) -> Result<Vec<Result<Option<AuditEvent>>>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(changes.len());
            let mut pending = Pending::default();
            for change in changes {
                let before = tx.total_changes();
                match apply_in(tx, change, &mut pending) {
                    // A failure of the database itself ends the whole call.
                    Err(e @ Error::Storage { .. }) => return Err(e),
                    // Should a refusal ever come after a write, nothing of
                    // the call is kept rather than half of an item.
                    Err(e) if tx.total_changes() != before => {
                        return Err(Error::storage_msg(format!(
                            "a bulk item was refused after it wrote ({e}); nothing was kept"
                        )));
                    }
                    other => out.push(other),
                }
            }
            pending.finish(tx)?;
            Ok(out)
        })
    }

    fn find_by_idempotency_key(&self, proposer: &str, key: &str) -> Result<Option<Action>> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "SELECT id, doc FROM actions WHERE created_by = ?1 AND idempotency_key = ?2",
        )
        .and_then(|mut s| s.query_row([proposer, key], action_of).optional())
        .map_err(db_err("find idempotency key"))?
        .transpose()
    }

    fn get(&self, id: ActionId) -> Result<Option<Action>> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT id, doc FROM actions WHERE id = ?1")
            .and_then(|mut s| s.query_row([id.to_string()], action_of).optional())
            .map_err(db_err("get action"))?
            .transpose()
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ActionId>> {
        let prefix = prefix.to_ascii_lowercase();
        // Ids are lowercase hex and dashes: a range scan on the primary key.
        let upper = format!("{prefix}\u{7f}");
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM actions WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(db_err("prefix"))?;
        let ids = stmt
            .query_map(params![prefix, upper, limit as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(db_err("prefix"))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db_err("prefix"))?;
        ids.iter().map(|s| s.parse()).collect()
    }

    fn ids_with_prefix_in(
        &self,
        prefix: &str,
        categories: &[crate::model::Category],
        limit: usize,
    ) -> Result<Vec<ActionId>> {
        let prefix = prefix.to_ascii_lowercase();
        let upper = format!("{prefix}\u{7f}");
        let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
        let names = serde_json::to_string(&names).map_err(|e| Error::storage("categories", e))?;
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM actions WHERE id >= ?1 AND id < ?2 \
                 AND category IN (SELECT value FROM json_each(?3)) ORDER BY id LIMIT ?4",
            )
            .map_err(db_err("prefix"))?;
        let ids = stmt
            .query_map(params![prefix, upper, names, limit as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(db_err("prefix"))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db_err("prefix"))?;
        ids.iter().map(|s| s.parse()).collect()
    }

    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>> {
        let mut w = Where::new(Dialect::Sqlite);
        w.filter(filter);
        if let Some(b) = before {
            let m = w.bind(Param::Text(b.to_string()));
            w.push(format!("id < {m}"));
        }
        let lim = w.bind(Param::Int(limit as i64));
        self.query_actions(
            &format!(
                "SELECT id, doc FROM actions {} ORDER BY id DESC LIMIT {lim}",
                w.sql()
            ),
            &w.params,
        )
    }

    fn count(&self, filter: &Filter) -> Result<Counts> {
        let mut w = Where::new(Dialect::Sqlite);
        w.filter(filter);
        let conn = self.conn()?;
        // The badges come from the counts kept in the same transactions as
        // the changes: a few rows, whatever the size of the table.
        let sql = if counts_are_kept_for(filter) {
            format!(
                "SELECT status, sum(n) FROM counts {} GROUP BY status",
                w.sql()
            )
        } else {
            format!(
                "SELECT status, count(*) FROM actions {} GROUP BY status",
                w.sql()
            )
        };
        let mut stmt = conn.prepare_cached(&sql).map_err(db_err("count"))?;
        let rows = stmt
            .query_map(params_from_iter(w.params.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(db_err("count"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err("count"))?;
        counts_from_rows(rows)
    }

    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.query_actions(
            "SELECT id, doc FROM actions WHERE expires_at <= ?1 AND status = 'pending' ORDER BY expires_at LIMIT ?2",
            &[Param::Int(now.timestamp_micros()), Param::Int(limit as i64)],
        )
    }

    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.query_actions(
            "SELECT id, doc FROM actions WHERE lease_until <= ?1 ORDER BY lease_until LIMIT ?2",
            &[Param::Int(now.timestamp_micros()), Param::Int(limit as i64)],
        )
    }

    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>> {
        let mut w = Where::new(Dialect::Sqlite);
        w.push("status IN ('approved', 'undoing') AND lease_until IS NULL".to_owned());
        w.filter(&Filter {
            categories: scope.categories.clone(),
            kinds: scope.kinds.clone(),
            ..Filter::default()
        });
        let lim = w.bind(Param::Int(scope.limit as i64));
        let sql = format!(
            "SELECT id, doc FROM actions {} ORDER BY id LIMIT {lim}",
            w.sql()
        );
        self.write(|tx| {
            let mut claimed = Vec::new();
            let mut pending = Pending::default();
            for candidate in query_actions(tx, &sql, &w.params)? {
                if let Some(change) = build(&candidate) {
                    let action = change.action.clone();
                    if let Some(event) = apply_in(tx, change, &mut pending)? {
                        claimed.push((action, event));
                    }
                }
            }
            pending.finish(tx)?;
            Ok(claimed)
        })
    }

    fn events_since(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        let conn = self.conn()?;
        read_events(
            &conn,
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
            params![i64::try_from(seq).unwrap_or(i64::MAX), limit as i64],
        )
    }

    fn events_of(&self, id: ActionId) -> Result<Vec<AuditEvent>> {
        let conn = self.conn()?;
        read_events(
            &conn,
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE action_id = ?1 ORDER BY seq"),
            params![id.to_string()],
        )
    }

    fn chain_head(&self) -> Result<(u64, String)> {
        let conn = self.conn()?;
        let last: Option<(i64, String)> = conn
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err("read chain head"))?;
        Ok(last.map_or((0, GENESIS_HASH.to_owned()), |(s, h)| {
            (u64::try_from(s).unwrap_or(0), h)
        }))
    }

    fn policy(&self) -> Result<Option<StoredPolicy>> {
        let conn = self.conn()?;
        Ok(read_policies(
            &conn,
            &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version DESC LIMIT 1"),
        )?
        .pop())
    }

    fn policy_version(&self) -> Result<u64> {
        stored_policy_version(&*self.conn()?)
    }

    fn set_policy(&self, policy: &StoredPolicy, event: NewEvent) -> Result<AuditEvent> {
        let version = version_to_sql(policy.version)?;
        let doc = policy.policy.to_canonical_json();
        self.write(|tx| {
            let actual = stored_policy_version(tx)?;
            if actual + 1 != policy.version {
                return Err(Error::PolicyChanged {
                    expected: policy.version.saturating_sub(1),
                    actual,
                });
            }
            tx.prepare_cached(&format!(
                "INSERT INTO policies ({POLICY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    version,
                    doc,
                    policy.digest,
                    policy.set_by,
                    policy.set_at.timestamp_micros()
                ])
            })
            .map_err(db_err("store policy"))?;
            append_event(tx, event, &mut None)
        })
    }

    fn policy_history(&self) -> Result<Vec<StoredPolicy>> {
        let conn = self.conn()?;
        read_policies(
            &conn,
            &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version"),
        )
    }

    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let doc = serde_json::to_string(checkpoint)
            .map_err(|e| Error::storage("cannot encode checkpoint", e))?;
        let seq = version_to_sql(checkpoint.seq)?;
        self.write(|tx| {
            let latest: Option<String> = tx
                .query_row(
                    "SELECT doc FROM checkpoints ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err("read checkpoint"))?;
            let latest = latest.map(|d| checkpoint_from_doc(&d)).transpose()?;
            if checkpoint.prev.as_deref() != latest.as_ref().map(|c| c.signature.as_str()) {
                return Err(super::checkpoint_race());
            }
            tx.execute(
                "INSERT INTO checkpoints (seq, doc) VALUES (?1, ?2)",
                params![seq, doc],
            )
            .map_err(db_err("store checkpoint"))?;
            Ok(())
        })
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT doc FROM checkpoints ORDER BY id")
            .map_err(db_err("read checkpoints"))?;
        let docs = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(db_err("read checkpoints"))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db_err("read checkpoints"))?;
        docs.iter().map(|d| checkpoint_from_doc(d)).collect()
    }

    fn rows_off_their_docs(&self) -> Result<super::RowsOffDocs> {
        let conn = self.conn()?;
        let mut found = super::RowsOffDocs::default();
        // By reference: rusqlite's owned `Value` panics on text that is
        // not UTF-8, which a tampered row can hold; such text is never
        // what a doc derives.
        let col = |v: rusqlite::types::ValueRef<'_>| match v {
            rusqlite::types::ValueRef::Null => Col::Null,
            rusqlite::types::ValueRef::Integer(i) => Col::Int(i),
            rusqlite::types::ValueRef::Text(t) => {
                std::str::from_utf8(t).map_or(Col::Other, |t| Col::Text(t.to_owned()))
            }
            _ => Col::Other,
        };
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, doc, {DERIVED_COLUMNS} FROM actions ORDER BY id"
            ))
            .map_err(db_err("read actions"))?;
        let mut rows = stmt.query([]).map_err(db_err("read actions"))?;
        while let Some(r) = rows.next().map_err(db_err("read actions"))? {
            let mut cols = (0..16).map(|i| r.get_ref(i).map(col));
            let mut next = || cols.next().unwrap_or(Ok(Col::Other));
            let (id, doc) = (next(), next());
            let (id, doc) = (
                id.map_err(db_err("read actions"))?,
                doc.map_err(db_err("read actions"))?,
            );
            let derived = (0..14)
                .map(|_| next())
                .collect::<rusqlite::Result<Vec<Col>>>()
                .map_err(db_err("read actions"))?;
            if let Some(off) = action_row_off_doc(&id, &doc, &derived)? {
                found.action = Some(off);
                break;
            }
        }
        drop(rows);
        // SQLite numbers checkpoint rows 1, 2, 3, ... (none is ever
        // deleted, and a rolled-back insert takes no number).
        let mut stmt = conn
            .prepare_cached("SELECT id, seq, doc FROM checkpoints ORDER BY id")
            .map_err(db_err("read checkpoints"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    col(r.get_ref(1)?),
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db_err("read checkpoints"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err("read checkpoints"))?;
        found.checkpoint = rows
            .iter()
            .enumerate()
            .find_map(|(i, (id, seq, doc))| checkpoint_row_off_doc(*id, seq, doc, Some(i + 1)));
        Ok(found)
    }

    fn put_account(&self, account: &Account, create: bool) -> Result<()> {
        let row = id_sql::AccountRow::of(account);
        let sql = if create {
            id_sql::INSERT_ACCOUNT
        } else {
            id_sql::REPLACE_ACCOUNT
        };
        let written = self.write(|tx| {
            tx.prepare_cached(sql)
                .and_then(|mut s| {
                    s.execute(params![
                        row.id,
                        row.password_hash,
                        row.disabled,
                        row.created_by,
                        row.created_at,
                        row.updated_at
                    ])
                })
                .map_err(db_err("store account"))
        })?;
        match (written, create) {
            (0, true) => Err(super::account_exists(&account.id)),
            (0, false) => Err(Error::NotFound {
                id: format!("account {}", account.id),
            }),
            _written => Ok(()),
        }
    }

    fn account(&self, id: &str) -> Result<Option<Account>> {
        let conn = self.conn()?;
        Ok(read_accounts(&conn, id_sql::ACCOUNT_BY_ID, params![id])?.pop())
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        let conn = self.conn()?;
        read_accounts(&conn, id_sql::ALL_ACCOUNTS, [])
    }

    fn put_credential(&self, credential: &Credential) -> Result<()> {
        let row = id_sql::CredentialRow::of(credential);
        let written = self.write(|tx| {
            tx.prepare_cached(id_sql::INSERT_CREDENTIAL)
                .and_then(|mut s| {
                    s.execute(params![
                        row.id.to_string(),
                        row.kind,
                        row.hash,
                        row.principal,
                        row.label,
                        row.csrf,
                        row.created_by,
                        row.created_at,
                        row.last_used_at,
                        row.expires_at,
                        row.revoked_at,
                        row.groups
                    ])
                })
                .map_err(db_err("store credential"))
        })?;
        if written == 0 {
            return Err(super::credential_exists());
        }
        Ok(())
    }

    fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        let conn = self.conn()?;
        Ok(read_credentials(&conn, id_sql::CREDENTIAL_BY_HASH, params![hash])?.pop())
    }

    fn credentials(&self, kind: CredentialKind) -> Result<Vec<Credential>> {
        let conn = self.conn()?;
        read_credentials(&conn, id_sql::CREDENTIALS_OF_KIND, params![kind.as_str()])
    }

    fn touch_credential(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(id_sql::TOUCH_CREDENTIAL)
                .and_then(|mut s| s.execute(params![at.timestamp_micros(), hash]))
                .map_err(db_err("touch credential"))
        })?;
        Ok(())
    }

    fn revoke_credentials(&self, which: &Revoke, at: DateTime<Utc>) -> Result<u64> {
        let (sql, rest) = id_sql::revoke(which);
        let at = Param::Int(at.timestamp_micros());
        let params: Vec<Param> = std::iter::once(at)
            .chain(rest.into_iter().map(Param::Text))
            .collect();
        let revoked = self.write(|tx| {
            tx.prepare_cached(sql)
                .and_then(|mut s| s.execute(params_from_iter(params.iter())))
                .map_err(db_err("revoke credentials"))
        })?;
        Ok(revoked as u64)
    }

    fn hit(&self, key: &str, window: i64) -> Result<u64> {
        let count: i64 = self.write(|tx| {
            tx.prepare_cached(id_sql::HIT)
                .and_then(|mut s| s.query_row(params![key, window], |r| r.get(0)))
                .map_err(db_err("count a hit"))
        })?;
        Ok(id_sql::hits(count))
    }
}

fn read_accounts(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Account>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err("read accounts"))?;
    let rows = stmt
        .query_map(params, |r| {
            Ok(id_sql::AccountRow {
                id: r.get(0)?,
                password_hash: r.get(1)?,
                disabled: r.get(2)?,
                created_by: r.get(3)?,
                created_at: r.get(4)?,
                updated_at: r.get(5)?,
            })
        })
        .map_err(db_err("read accounts"))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err("read accounts"))?;
    rows.into_iter().map(id_sql::AccountRow::decode).collect()
}

fn read_credentials(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Credential>> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(db_err("read credentials"))?;
    let rows = stmt
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                id_sql::CredentialRow {
                    id: uuid::Uuid::nil(),
                    kind: r.get(1)?,
                    hash: r.get(2)?,
                    principal: r.get(3)?,
                    label: r.get(4)?,
                    csrf: r.get(5)?,
                    created_by: r.get(6)?,
                    created_at: r.get(7)?,
                    last_used_at: r.get(8)?,
                    expires_at: r.get(9)?,
                    revoked_at: r.get(10)?,
                    groups: r.get(11)?,
                },
            ))
        })
        .map_err(db_err("read credentials"))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err("read credentials"))?;
    rows.into_iter()
        .map(|(id, row)| {
            id_sql::CredentialRow {
                id: id_sql::credential_id(&id)?,
                ..row
            }
            .decode()
        })
        .collect()
}

fn read_events(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err("read events"))?;
    let rows = stmt
        .query_map(params, |r| {
            Ok(EventRow {
                seq: r.get(0)?,
                action_id: r.get(1)?,
                at: r.get(2)?,
                actor: r.get(3)?,
                via: r.get(4)?,
                event: r.get(5)?,
                from: r.get(6)?,
                to: r.get(7)?,
                comment: r.get(8)?,
                version: r.get(9)?,
                digest: r.get(10)?,
                policy_version: r.get(11)?,
                prev_hash: r.get(12)?,
                hash: r.get(13)?,
            })
        })
        .map_err(db_err("read events"))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err("read events"))?;
    rows.into_iter().map(EventRow::decode).collect()
}

fn read_policies(conn: &Connection, sql: &str) -> Result<Vec<StoredPolicy>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err("read policy"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(db_err("read policy"))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err("read policy"))?;
    rows.into_iter()
        .map(|(v, doc, digest, by, at)| policy_from_row(v, &doc, digest, by, at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_this_user_may_not_write_is_said_so_not_called_another_applications() {
        let code =
            |c| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(c), Some("why".into()));
        for c in [
            rusqlite::ffi::SQLITE_READONLY,
            rusqlite::ffi::SQLITE_CANTOPEN,
            rusqlite::ffi::SQLITE_PERM,
        ] {
            let msg = first_read_failed("x.db", code(c)).to_string();
            assert!(
                msg.starts_with("storage: cannot use x.db: why;") && msg.contains("write access"),
                "{msg}"
            );
        }
        let msg = first_read_failed("x.db", code(rusqlite::ffi::SQLITE_NOTADB)).to_string();
        assert!(
            msg.contains("x.db is not an actioncenter database"),
            "{msg}"
        );
        // For real, where permissions bind (not as root).
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ro.db");
        drop(SqliteStore::open(&path).expect("create"));
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path, m| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        for side in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("ro.db{side}")));
        }
        mode(&path, 0o444);
        mode(dir.path(), 0o555);
        let opened = SqliteStore::open(&path);
        mode(dir.path(), 0o755);
        if std::fs::OpenOptions::new().write(true).open(&path).is_err() {
            let msg = opened.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains("write access"), "{msg}");
        }
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.txt");
        std::fs::write(
            &path,
            b"these are not the rows you are looking for, padded out to be long enough\n"
                .repeat(20),
        )
        .expect("write");
        let before = std::fs::read(&path).expect("read");
        let err = SqliteStore::open(&path).expect_err("refused");
        assert!(
            err.to_string().contains("is not an actioncenter database"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), before);
    }

    #[test]
    fn another_applications_database_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (1);",
        )
        .expect("create");
        drop(conn);
        let before = std::fs::read(&path).expect("read");
        let err = SqliteStore::open(&path).expect_err("refused");
        assert!(
            err.to_string()
                .contains("application_id 0x0, 2 schema objects")
                || err.to_string().contains("not an actioncenter database"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), before);
    }

    #[test]
    fn a_version_without_our_id_or_tables_is_refused_untouched() {
        // Another program's empty file that set a user_version: not a
        // newer actioncenter, nor one to migrate.
        for version in [3, SCHEMA_VERSION + 2] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("other.db");
            let conn = Connection::open(&path).expect("open");
            conn.pragma_update(None, "user_version", version)
                .expect("version");
            drop(conn);
            let before = std::fs::read(&path).expect("read");
            let err = SqliteStore::open(&path).expect_err("refused");
            let msg = err.to_string();
            assert!(msg.contains("is not an actioncenter database"), "{msg}");
            assert!(msg.contains(&format!("user_version {version}")), "{msg}");
            assert_eq!(std::fs::read(&path).expect("read"), before);
        }
    }

    #[test]
    fn a_path_that_names_no_file_for_a_database_is_refused() {
        for path in [
            "",
            ":memory:",
            "file::memory:",
            "file:x.db?mode=memory",
            "file:?cache=shared",
            "a\0b.db",
        ] {
            match SqliteStore::open(path) {
                Err(Error::Validation { field, .. }) => assert_eq!(field, "path", "{path:?}"),
                other => panic!("{path:?}: expected a validation error, got {other:?}"),
            }
        }
        // A device or a directory is not written to, and nothing is left
        // beside it.
        let dir = tempfile::tempdir().expect("tempdir");
        for path in [Path::new("/dev/null"), dir.path()] {
            let err = SqliteStore::open(path).expect_err("not a file");
            assert!(
                err.to_string().contains("not a regular file"),
                "{}: {err}",
                path.display()
            );
        }
        assert!(!Path::new("/dev/null-journal").exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    #[test]
    fn a_newer_schema_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.db");
        drop(SqliteStore::open(&path).expect("create"));
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
        drop(conn);
        let err = SqliteStore::open(&path).expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("this library's {SCHEMA_VERSION}")),
            "{msg}"
        );
    }

    /// A file at schema `version`, as that version's library left it.
    fn file_at_version(path: &Path, version: usize) {
        let mut conn = Connection::open(path).expect("open");
        let tx = conn.transaction().expect("begin");
        for sql in &MIGRATIONS[..version] {
            tx.execute_batch(sql).expect("migration");
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .expect("app id");
        tx.pragma_update(None, "user_version", version as i64)
            .expect("version");
        tx.commit().expect("commit");
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .expect("open")
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("user_version")
    }

    #[test]
    fn a_file_at_version_3_migrates_keeping_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v3.db");
        file_at_version(&path, 3);
        let policy = crate::Policy::default().to_canonical_json();
        Connection::open(&path)
            .expect("open")
            .execute(
                "INSERT INTO policies (version, doc, digest, set_by, set_at) VALUES (1, ?1, 'd', 'admin', 0)",
                [&policy],
            )
            .expect("policy row");

        let store = SqliteStore::open(&path).expect("migrate");
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        assert_eq!(store.policy_version().expect("policy"), 1);
        assert_eq!(store.hit("k", 1).expect("hit"), 1);
        assert_eq!(store.hit("k", 1).expect("hit"), 2);
        assert!(store.accounts().expect("accounts").is_empty());
    }

    #[test]
    fn a_file_at_version_4_keeps_its_keyed_actions_and_scopes_keys_to_their_proposers() {
        use crate::{ActionCenter, Policy, Principal};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v4.db");
        let proposal = crate::store::keyed_isolation;
        let (alice, air) = (
            Principal::new("alice", ["analyst"]),
            Principal::new("air", ["automation"]),
        );
        let first = {
            let center =
                ActionCenter::new(SqliteStore::open(&path).expect("create"), Policy::default());
            center.propose(&alice, proposal("d1")).expect("propose")
        };
        // Back to version 4's index: one key across the store.
        Connection::open(&path)
            .expect("open")
            .execute_batch(
                "DROP INDEX actions_by_idempotency_key;
                 CREATE UNIQUE INDEX actions_by_idempotency_key ON actions (idempotency_key)
                     WHERE idempotency_key IS NOT NULL;
                 PRAGMA user_version = 4;",
            )
            .expect("version 4");

        let center = ActionCenter::new(
            SqliteStore::open(&path).expect("migrate"),
            Policy::default(),
        );
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        let retry = center.propose(&alice, proposal("d1")).expect("retry");
        assert_eq!(retry.id, first.id);
        let other = center
            .propose(&air, proposal("d2"))
            .expect("another proposer's own key");
        assert_ne!(other.id, first.id);
        assert!(center.verify_audit().expect("verify").is_intact());
    }

    #[test]
    fn a_file_without_tables_is_refused_untouched_unless_the_store_may_create_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bare.db");
        Connection::open(&path)
            .expect("open")
            .execute_batch("CREATE TABLE t (x); DROP TABLE t;")
            .expect("bare");
        let before = std::fs::read(&path).expect("read");
        let no_create = SqliteOptions {
            create: false,
            ..SqliteOptions::default()
        };
        let err = SqliteStore::open_with(&path, &no_create).expect_err("no tables");
        assert!(
            err.to_string().contains("holds no actioncenter tables"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), before);
        assert_eq!(user_version(&path), 0);
        drop(SqliteStore::open(&path).expect("created"));
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        drop(SqliteStore::open_with(&path, &no_create).expect("ours now"));
    }

    #[test]
    fn every_older_schema_migrates_to_the_current_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        for version in 1..MIGRATIONS.len() {
            let path = dir.path().join(format!("v{version}.db"));
            file_at_version(&path, version);
            let store =
                SqliteStore::open(&path).unwrap_or_else(|e| panic!("from version {version}: {e}"));
            assert_eq!(user_version(&path), SCHEMA_VERSION, "from {version}");
            assert!(
                store
                    .credentials(CredentialKind::Token)
                    .expect("list")
                    .is_empty()
            );
        }
    }

    #[test]
    fn reopening_keeps_the_schema_and_marks_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ac.db");
        drop(SqliteStore::open(&path).expect("create"));
        drop(SqliteStore::open(&path).expect("reopen"));
        let conn = Connection::open(&path).expect("open");
        let app: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .expect("app id");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!((app, mode.as_str()), (APPLICATION_ID, "wal"));
    }
}
