//! Many hosts, one queue: the store on a PostgreSQL server.
//!
//! Every executor, playbook runner and analyst console of an
//! organisation opens a [`PostgresStore`] on the same database; the
//! engine's rules stay in each process, the server only makes the
//! changes atomic.
//!
//! - **Compare-and-set.** A transition is one call of the schema's
//!   `apply_change` function, in one round trip with no explicit
//!   transaction: it locks the action row, checks its version, and
//!   writes the row with its audit event. Two approvers on two hosts:
//!   the second call waits for the first's row lock, then finds the
//!   version moved and changes nothing; the engine reports `Conflict`.
//!   A change without an event (a lease renewal) is one `UPDATE ...
//!   WHERE id = $id AND version = $expected`.
//! - **Claims** select candidates with `FOR UPDATE SKIP LOCKED`: a row
//!   another executor is claiming is skipped rather than waited for, so
//!   concurrent executors never take the same action and never queue
//!   behind each other. The claimed rows are then updated in one
//!   statement; then the head is locked, and one more statement appends
//!   their events, moves the head and the counts and reads the policy
//!   version the claim must have been decided under.
//! - **One audit chain.** Each writing transaction locks the single row
//!   of `chain_head` (`FOR UPDATE`), reads the last `seq` and hash,
//!   appends its events after them, moves the head, and holds the lock
//!   until it commits. A transition seals its event in Rust after the
//!   head the store last saw, and `apply_change` appends it only if that
//!   is still the head; if not, it changes nothing and names the head,
//!   and the store seals again (a few times, then it appends in a
//!   transaction that seals under the lock). So the lock is held for the
//!   function's own microseconds, not across round trips, and more
//!   writers do not make each append slower. Inserts, claims and policy
//!   changes hold it across their transaction's last statements: the
//!   lock, one statement that appends, moves the head and the counts and
//!   reads the policy version, and the commit. So events are
//!   numbered in commit order with no gaps, each links to the one
//!   committed before it, and a follower of
//!   [`events_since`](Store::events_since) never sees seq `n + 1` before
//!   seq `n` is visible. A database sequence would be cheaper but leaves
//!   gaps on rollback, lets a later seq commit before an earlier one (a
//!   follower would skip the late event for good), and cannot give
//!   `prev_hash`; reading `max(seq)` without a lock forks the chain under
//!   concurrency; an advisory lock would work too but is invisible in the
//!   schema and easy to forget in a hand-written repair. The price:
//!   event appends are serial, one commit at a time (the `pg_bench`
//!   example measures the rate). The head is always the last lock a
//!   transaction takes, after its action rows, so it cannot deadlock.
//! - **Schema.** A version table (`actioncenter_schema`) names the
//!   application and the schema version; [`PostgresStore::connect`]
//!   migrates forward inside one transaction under an advisory lock (so
//!   hosts starting together migrate once), refuses a newer schema than
//!   it knows, and refuses a schema that holds other tables but not
//!   ours, changing nothing in either case.
//! - **Isolation.** [`PostgresOptions::schema`] puts the tables in a
//!   schema of their own (created if missing) by setting `search_path`
//!   on every pooled connection; tests use one schema per test.
//! - Times are BIGINT microseconds since the epoch, as in SQLite; ids
//!   sort bytewise (`COLLATE "C"`), so pages are the same on every
//!   server locale; the action document is JSONB.
//! - Connections come from an r2d2 pool; statements are prepared once
//!   per connection and cached. Connections are not tested on checkout:
//!   after a server restart the first call on each stale connection
//!   fails with `Storage` and the connection is dropped from the pool.
//!   TLS is not supported yet: connect over a trusted network or a
//!   local socket.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement};
use r2d2::{CustomizeConnection, Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

use super::sql::{
    ACTION_COLUMNS, ActionRow, Col, DERIVED_COLUMNS, Dialect, EVENT_COLUMNS, EXCLUSIVE_HOLDER,
    EventRow, POLICY_COLUMNS, Param, VERIFY_INT_COLUMNS, Where, action_from_row,
    action_row_off_doc, checkpoint_from_doc, checkpoint_row_off_doc, count_moves,
    counts_are_kept_for, counts_from_rows, identity as id_sql, insert_refusal, policy_from_row,
    version_to_sql,
};
use super::{Change, ClaimFn, ClaimScope, Store, slot_moves, slot_of_taken};
use crate::audit::{AuditEvent, GENESIS_HASH, NewEvent};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::identity::{Account, Credential, CredentialKind, Revoke};
use crate::model::{Action, ActionId, Entity, Kind};
use crate::policy::StoredPolicy;
use crate::query::{Counts, Filter};

/// The table that marks a schema as ours and holds its version.
pub const VERSION_TABLE: &str = "actioncenter_schema";
/// The name this library writes in [`VERSION_TABLE`].
const APPLICATION: &str = "actioncenter";
/// The first key of the advisory lock that serialises migrations
/// (`"ACTR"`); the second is the hash of the schema's name.
const MIGRATION_LOCK: i32 = 0x4143_5452;

const ACTIONS: &str = "actions";
const CHAIN_HEAD: &str = "chain_head";

/// The version table, created with the first migration.
const CREATE_VERSION_TABLE: &str = "CREATE TABLE actioncenter_schema (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    application TEXT NOT NULL,
    version     INTEGER NOT NULL
)";

/// The schema, one migration per version. Version `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE actions (
    id               TEXT COLLATE "C" PRIMARY KEY,
    version          BIGINT NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    category         TEXT NOT NULL,
    source_type      TEXT NOT NULL,
    investigation_id TEXT,
    entity_key       TEXT NOT NULL,
    device_id        TEXT,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT,
    lease_until      BIGINT,
    doc              JSONB NOT NULL
);
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
    seq         BIGINT PRIMARY KEY,
    action_id   TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    event       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    comment     TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX events_by_action ON events (action_id, seq);
CREATE TABLE chain_head (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));
"#,
    r#"
ALTER TABLE actions ADD COLUMN idempotency_key TEXT;
ALTER TABLE actions ADD COLUMN exclusive_key TEXT;
CREATE UNIQUE INDEX actions_by_idempotency_key ON actions (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX actions_exclusive ON actions (exclusive_key)
    WHERE exclusive_key IS NOT NULL;
UPDATE actions SET status = 'undo_running', doc = jsonb_set(doc, '{status}', '"undo_running"')
    WHERE status = 'undoing' AND lease_until IS NOT NULL;
ALTER TABLE events ALTER COLUMN action_id DROP NOT NULL;
ALTER TABLE events ALTER COLUMN to_status DROP NOT NULL;
ALTER TABLE events ADD COLUMN via TEXT;
ALTER TABLE events ADD COLUMN version BIGINT;
ALTER TABLE events ADD COLUMN digest TEXT;
ALTER TABLE events ADD COLUMN policy_version BIGINT;
CREATE TABLE policies (
    version BIGINT PRIMARY KEY,
    doc     TEXT NOT NULL,
    digest  TEXT NOT NULL,
    set_by  TEXT NOT NULL,
    set_at  BIGINT NOT NULL
);
CREATE TABLE checkpoints (
    id  BIGSERIAL PRIMARY KEY,
    seq BIGINT NOT NULL,
    doc TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE counts (
    status   TEXT NOT NULL,
    category TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (status, category)
);
INSERT INTO counts (status, category, n)
    SELECT status, category, count(*) FROM actions GROUP BY status, category;
"#,
    r#"
CREATE TABLE accounts (
    id            TEXT COLLATE "C" PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE TABLE credentials (
    id           UUID PRIMARY KEY,
    kind         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    principal    TEXT NOT NULL,
    label        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    groups       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX credentials_by_principal ON credentials (principal, kind);
CREATE INDEX credentials_by_kind      ON credentials (kind, created_at, id);
CREATE TABLE rate_limits (
    key      TEXT PRIMARY KEY,
    "window" BIGINT NOT NULL,
    count    BIGINT NOT NULL
);
"#,
    APPLY_CHANGE_FUNCTION_5,
    APPLY_CHANGE_FUNCTION,
    APPEND_CHAINED_FUNCTION,
    // Migration 8: an idempotency key is its proposer's own. Keys unique
    // across the store are unique per proposer, so every row fits.
    r#"
DROP INDEX actions_by_idempotency_key;
CREATE UNIQUE INDEX actions_by_idempotency_key ON actions (created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
"#,
];

/// Migration 7: events appended and chained by the server (see
/// [`append_chained`]), so that the chain head's lock is held for the
/// call's own work and the commit, never while a client seals. Each event
/// comes as its row (every column but `seq`, `prev_hash` and `hash`) and
/// its [`HashFrame`](crate::audit::HashFrame): its hash is SHA-256 of
/// `before || seq || between || prev_hash || after`. Locks the head,
/// checks the stored policy's version when `p_policy_version` is given
/// (read under the lock, which a policy change takes too: the version in
/// force at commit), then appends the events after the head in order,
/// moves the head and the kept counts. Outcomes: `policy_changed`
/// (`actual` is the stored version; nothing written), `applied`
/// (`first_seq` is the first event's position, `prev_hash` the hash it
/// follows, `hashes` every event's hash).
const APPEND_CHAINED_FUNCTION: &str = r#"
CREATE FUNCTION append_chained(
    p_before TEXT[], p_between TEXT[], p_after TEXT[],
    p_action_ids TEXT[], p_ats BIGINT[], p_actors TEXT[], p_vias TEXT[], p_events TEXT[],
    p_froms TEXT[], p_tos TEXT[], p_comments TEXT[], p_versions BIGINT[], p_digests TEXT[],
    p_policy_versions BIGINT[],
    p_count_statuses TEXT[], p_count_categories TEXT[], p_count_deltas BIGINT[],
    p_policy_version BIGINT,
    OUT outcome TEXT, OUT first_seq BIGINT, OUT prev_hash TEXT, OUT hashes TEXT[],
    OUT actual BIGINT
) LANGUAGE plpgsql AS $body$
DECLARE
    head_seq BIGINT;
    head_hash TEXT;
    seqs BIGINT[] := '{}';
    prevs TEXT[] := '{}';
BEGIN
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM chain_head h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the chain_head row is missing';
    END IF;
    IF p_policy_version IS NOT NULL THEN
        SELECT coalesce(max(p.version), 0) INTO actual FROM policies p;
        IF actual <> p_policy_version THEN
            outcome := 'policy_changed';
            RETURN;
        END IF;
    END IF;
    first_seq := head_seq + 1;
    prev_hash := head_hash;
    hashes := '{}';
    FOR i IN 1 .. coalesce(cardinality(p_before), 0) LOOP
        head_seq := head_seq + 1;
        seqs := seqs || head_seq;
        prevs := prevs || head_hash;
        head_hash := encode(sha256(convert_to(
            p_before[i] || head_seq::text || p_between[i] || head_hash || p_after[i], 'UTF8')), 'hex');
        hashes := hashes || head_hash;
    END LOOP;
    INSERT INTO events (seq, action_id, at, actor, via, event, from_status, to_status,
        comment, version, digest, policy_version, prev_hash, hash)
        SELECT * FROM unnest(seqs, p_action_ids, p_ats, p_actors, p_vias, p_events, p_froms,
            p_tos, p_comments, p_versions, p_digests, p_policy_versions, prevs, hashes);
    UPDATE chain_head h SET seq = head_seq, hash = head_hash WHERE h.id = 1;
    IF cardinality(p_count_statuses) > 0 THEN
        INSERT INTO counts AS k (status, category, n)
            SELECT m.s, m.c, sum(m.d)
            FROM unnest(p_count_statuses, p_count_categories, p_count_deltas) AS m(s, c, d)
            GROUP BY m.s, m.c ORDER BY m.s, m.c
            ON CONFLICT (status, category) DO UPDATE SET n = k.n + excluded.n;
    END IF;
    outcome := 'applied';
END
$body$;
"#;

/// Migration 5: a transition with its event in one call (see
/// [`apply_guessed`]). The event comes sealed after the head the caller
/// guessed (`p_seq - 1`, `p_prev_hash`). The action row is locked first
/// and the chain head after it, the order of every writer; the head stays
/// locked only for the rest of the call. Outcomes, in the order they are
/// checked: `head_moved` when the head, read without a lock, is not the
/// guess; `not_found`; `conflict` (`actual` is the stored version);
/// `policy_changed` (`actual` is the stored policy's version);
/// `head_moved` (`head_seq` and `head_hash` are the head, nothing was
/// written); `applied` (the head is the new event). A unique violation
/// (an exclusive slot taken) raises, as the plain `UPDATE` did.
const APPLY_CHANGE_FUNCTION_5: &str = r#"
CREATE FUNCTION apply_change(
    p_id TEXT, p_expected BIGINT, p_version BIGINT, p_status TEXT, p_expires_at BIGINT,
    p_lease_until BIGINT, p_doc TEXT, p_exclusive_key TEXT, p_policy_version BIGINT,
    p_count_statuses TEXT[], p_count_categories TEXT[], p_count_deltas BIGINT[],
    p_seq BIGINT, p_action_id TEXT, p_at BIGINT, p_actor TEXT, p_via TEXT, p_event TEXT,
    p_from TEXT, p_to TEXT, p_comment TEXT, p_event_version BIGINT, p_digest TEXT,
    p_event_policy_version BIGINT, p_prev_hash TEXT, p_hash TEXT,
    OUT outcome TEXT, OUT head_seq BIGINT, OUT head_hash TEXT, OUT actual BIGINT
) LANGUAGE plpgsql AS $body$
DECLARE
    stored BIGINT;
BEGIN
    -- The head only moves forward: if it is not the guess now, it will
    -- not be once locked. Answered before anything is locked, a miss
    -- writes nothing, so it waits for no commit to reach the disk.
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM chain_head h WHERE h.id = 1;
    IF head_seq <> p_seq - 1 OR head_hash <> p_prev_hash THEN
        outcome := 'head_moved';
        RETURN;
    END IF;
    SELECT a.version INTO stored FROM actions a WHERE a.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF stored <> p_expected THEN
        outcome := 'conflict';
        actual := stored;
        RETURN;
    END IF;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM chain_head h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the chain_head row is missing';
    END IF;
    IF p_policy_version IS NOT NULL THEN
        SELECT coalesce(max(p.version), 0) INTO stored FROM policies p;
        IF stored <> p_policy_version THEN
            outcome := 'policy_changed';
            actual := stored;
            RETURN;
        END IF;
    END IF;
    IF head_seq <> p_seq - 1 OR head_hash <> p_prev_hash THEN
        outcome := 'head_moved';
        RETURN;
    END IF;
    UPDATE actions a SET version = p_version, status = p_status, expires_at = p_expires_at,
        lease_until = p_lease_until, doc = p_doc::jsonb, exclusive_key = p_exclusive_key
        WHERE a.id = p_id;
    IF cardinality(p_count_statuses) > 0 THEN
        INSERT INTO counts AS k (status, category, n)
            SELECT m.s, m.c, sum(m.d)
            FROM unnest(p_count_statuses, p_count_categories, p_count_deltas) AS m(s, c, d)
            GROUP BY m.s, m.c ORDER BY m.s, m.c
            ON CONFLICT (status, category) DO UPDATE SET n = k.n + excluded.n;
    END IF;
    INSERT INTO events (seq, action_id, at, actor, via, event, from_status, to_status,
        comment, version, digest, policy_version, prev_hash, hash)
        VALUES (p_seq, p_action_id, p_at, p_actor, p_via, p_event, p_from, p_to,
        p_comment, p_event_version, p_digest, p_event_policy_version, p_prev_hash, p_hash);
    UPDATE chain_head h SET seq = p_seq, hash = p_hash WHERE h.id = 1;
    outcome := 'applied';
    head_seq := p_seq;
    head_hash := p_hash;
END
$body$;
"#;

/// Migration 6: `apply_change` with the action a change was decided on
/// (`p_basis`, the document of [`Change::basis`], or `NULL`): when given,
/// a stored document that is not that one (compared as `jsonb`: the same
/// members and values) is a `conflict` as a version that moved on is.
/// An overload: version 5's, without the basis, stays for the hosts of
/// the previous release still running while others upgrade.
const APPLY_CHANGE_FUNCTION: &str = r#"
CREATE FUNCTION apply_change(
    p_id TEXT, p_expected BIGINT, p_version BIGINT, p_status TEXT, p_expires_at BIGINT,
    p_lease_until BIGINT, p_doc TEXT, p_exclusive_key TEXT, p_policy_version BIGINT,
    p_count_statuses TEXT[], p_count_categories TEXT[], p_count_deltas BIGINT[],
    p_seq BIGINT, p_action_id TEXT, p_at BIGINT, p_actor TEXT, p_via TEXT, p_event TEXT,
    p_from TEXT, p_to TEXT, p_comment TEXT, p_event_version BIGINT, p_digest TEXT,
    p_event_policy_version BIGINT, p_prev_hash TEXT, p_hash TEXT, p_basis TEXT,
    OUT outcome TEXT, OUT head_seq BIGINT, OUT head_hash TEXT, OUT actual BIGINT
) LANGUAGE plpgsql AS $body$
DECLARE
    stored BIGINT;
    stored_doc JSONB;
BEGIN
    -- The head only moves forward: if it is not the guess now, it will
    -- not be once locked. Answered before anything is locked, a miss
    -- writes nothing, so it waits for no commit to reach the disk.
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM chain_head h WHERE h.id = 1;
    IF head_seq <> p_seq - 1 OR head_hash <> p_prev_hash THEN
        outcome := 'head_moved';
        RETURN;
    END IF;
    SELECT a.version, a.doc INTO stored, stored_doc FROM actions a WHERE a.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF stored <> p_expected OR (p_basis IS NOT NULL AND stored_doc <> p_basis::jsonb) THEN
        outcome := 'conflict';
        actual := stored;
        RETURN;
    END IF;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM chain_head h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the chain_head row is missing';
    END IF;
    IF p_policy_version IS NOT NULL THEN
        SELECT coalesce(max(p.version), 0) INTO stored FROM policies p;
        IF stored <> p_policy_version THEN
            outcome := 'policy_changed';
            actual := stored;
            RETURN;
        END IF;
    END IF;
    IF head_seq <> p_seq - 1 OR head_hash <> p_prev_hash THEN
        outcome := 'head_moved';
        RETURN;
    END IF;
    UPDATE actions a SET version = p_version, status = p_status, expires_at = p_expires_at,
        lease_until = p_lease_until, doc = p_doc::jsonb, exclusive_key = p_exclusive_key
        WHERE a.id = p_id;
    IF cardinality(p_count_statuses) > 0 THEN
        INSERT INTO counts AS k (status, category, n)
            SELECT m.s, m.c, sum(m.d)
            FROM unnest(p_count_statuses, p_count_categories, p_count_deltas) AS m(s, c, d)
            GROUP BY m.s, m.c ORDER BY m.s, m.c
            ON CONFLICT (status, category) DO UPDATE SET n = k.n + excluded.n;
    END IF;
    INSERT INTO events (seq, action_id, at, actor, via, event, from_status, to_status,
        comment, version, digest, policy_version, prev_hash, hash)
        VALUES (p_seq, p_action_id, p_at, p_actor, p_via, p_event, p_from, p_to,
        p_comment, p_event_version, p_digest, p_event_policy_version, p_prev_hash, p_hash);
    UPDATE chain_head h SET seq = p_seq, hash = p_hash WHERE h.id = 1;
    outcome := 'applied';
    head_seq := p_seq;
    head_hash := p_hash;
END
$body$;
"#;

/// The schema version this library writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Prepared statements kept per connection; cleared past this many.
const STATEMENT_CACHE_SIZE: usize = 128;

/// How to open a [`PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Most connections the pool keeps open.
    pub pool_size: u32,
    /// How long to wait for a new connection, or for a free one when all
    /// `pool_size` are busy. Also the TCP connect timeout unless the URL
    /// sets `connect_timeout`.
    pub connect_timeout: Duration,
    /// The schema that holds the tables, created if missing: lowercase
    /// letters, digits and `_`, at most 63, not starting with a digit.
    /// `None` uses the first existing schema of the server's
    /// `search_path` (usually `public`).
    pub schema: Option<String>,
    /// Create the tables in a schema that holds none (the default). With
    /// `false`, such a schema is refused: a mistyped database name then
    /// fails instead of getting an empty Action center.
    pub create: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
            schema: None,
            create: true,
        }
    }
}

impl PostgresOptions {
    /// The default options with the tables in `schema`.
    pub fn in_schema(schema: impl Into<String>) -> PostgresOptions {
        PostgresOptions {
            schema: Some(schema.into()),
            ..PostgresOptions::default()
        }
    }
}

type Manager = PostgresConnectionManager<NoTls>;

/// A store on a PostgreSQL server. See the [module docs](self).
pub struct PostgresStore {
    pool: Pool<Manager>,
    schema: String,
    /// The chain head as this store last saw it: a transition's event is
    /// sealed after it before the call that appends it (see
    /// [`apply_guessed`]). Only a guess: another host may have appended
    /// since, and then the call says so.
    head: Mutex<Head>,
    /// After `pool`, so the pool is dropped before the threads may end.
    _threads: super::scheduler::Lease,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool's manager holds the connection settings, password included.
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("pool_size", &self.pool.max_size())
            .finish_non_exhaustive()
    }
}

/// Sets `search_path` on each new connection.
#[derive(Debug, Clone)]
struct SearchPath(Option<String>);

/// How long a transaction waits for a row lock (the chain head, say)
/// before it fails, and how long a session may sit idle inside a
/// transaction before the server ends it: one stalled host cannot block
/// every writer for ever. A transition runs as one statement outside any
/// explicit transaction, so the session's default isolation is READ
/// COMMITTED too, whatever the server's (see [`begin`]).
///
/// And no JIT compilation: every statement here touches a few rows, and
/// a claim's `SET LOCAL enable_sort = off` raises the estimated cost of
/// any later statement with a sort (the kept counts' upsert) above
/// `jit_above_cost`, so each claim spent ~200 ms compiling it while
/// holding the chain-head lock: 5 claims/s, whatever the executors.
const SESSION_SETTINGS: &str = "SET lock_timeout = '30s'; \
     SET idle_in_transaction_session_timeout = '60s'; \
     SET default_transaction_isolation = 'read committed'; \
     SET jit = off";

impl SearchPath {
    fn set(&self, client: &mut Client) -> std::result::Result<(), postgres::Error> {
        client.batch_execute(SESSION_SETTINGS)?;
        if let Some(schema) = &self.0 {
            // The value is bound; the identifier is quoted so it is taken as is.
            let path = format!("\"{schema}\"");
            client.query("SELECT set_config('search_path', $1, false)", &[&path])?;
        }
        Ok(())
    }
}

impl CustomizeConnection<Client, postgres::Error> for SearchPath {
    fn on_acquire(&self, client: &mut Client) -> std::result::Result<(), postgres::Error> {
        self.set(client)
    }
}

/// Every transaction runs at READ COMMITTED whatever the server's default:
/// the chain-head lock and compare-and-set are built for it, and at a
/// stricter level a lost race would surface as a serialization failure
/// instead of `Conflict`.
fn begin(client: &mut Client) -> std::result::Result<postgres::Transaction<'_>, postgres::Error> {
    client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::ReadCommitted)
        .start()
}

/// The housekeeping threads of every PostgreSQL pool in the process,
/// ended when the last PostgreSQL store closes (see [`super::scheduler`]).
/// Apart from SQLite's: opening a connection to a slow or dead server
/// happens on these threads and must not hold up the embedded store.
static PG_THREADS: super::scheduler::Shared =
    super::scheduler::Shared::new("actioncenter-pg-{}", 2);

/// What a PostgreSQL error says, with its SQLSTATE when the server sent one.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

fn pg_err(context: &str) -> impl Fn(postgres::Error) -> Error + '_ {
    move |e| {
        use postgres::error::SqlState;
        // A lost connection, a serialization failure, a deadlock or a
        // lock or statement timeout: the same call may succeed again.
        // A connection that broke under a statement (the server was
        // stopped) is an I/O error with no SQLSTATE, and is not always
        // marked closed yet.
        let io = e.code().is_none()
            && std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        let retryable = e.is_closed()
            || io
            || e.code().is_some_and(|c| {
                [
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::LOCK_NOT_AVAILABLE,
                    SqlState::QUERY_CANCELED,
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                ]
                .contains(c)
                    || c.code().starts_with("08")
            });
        let message = format!("{context}: {}", describe(&e));
        if retryable {
            Error::storage_retryable(message, e)
        } else {
            Error::storage(message, e)
        }
    }
}

/// Checks a schema name given in [`PostgresOptions::schema`].
fn check_schema_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && name.len() <= 63 {
        Ok(())
    } else {
        Err(Error::validation(
            "schema",
            format!(
                "{name:?} is not a plain schema name (lowercase letters, digits and _, at most 63, not starting with a digit)"
            ),
        ))
    }
}

/// Prepared statements of one connection, kept in its pool extensions.
#[derive(Default)]
struct StatementCache(HashMap<String, Statement>);

/// A client (or transaction) with the statement cache of its connection.
struct Db<'a, C: GenericClient> {
    client: &'a mut C,
    cache: &'a mut StatementCache,
}

impl<C: GenericClient> Db<'_, C> {
    fn statement(&mut self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.cache.0.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        if self.cache.0.len() >= STATEMENT_CACHE_SIZE {
            self.cache.0.clear();
        }
        self.cache.0.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Runs `f` with the prepared statement; a failed statement empties
    /// the cache, in case a plan went stale.
    fn with_statement<T>(
        &mut self,
        context: &str,
        sql: &str,
        f: impl FnOnce(&mut C, &Statement) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let result = self.statement(sql).and_then(|s| f(self.client, &s));
        result.map_err(|e| {
            self.cache.0.clear();
            pg_err(context)(e)
        })
    }

    fn query(
        &mut self,
        context: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        self.with_statement(context, sql, |c, s| c.query(s, params))
    }

    fn query_opt(
        &mut self,
        context: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>> {
        self.with_statement(context, sql, |c, s| c.query_opt(s, params))
    }

    fn execute(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.with_statement(context, sql, |c, s| c.execute(s, params))
    }

    /// Runs constant SQL with no parameters (simple query protocol).
    fn batch(&mut self, context: &str, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(pg_err(context))
    }

    /// Actions from a query whose columns are `id, doc::text`.
    fn actions(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Action>> {
        self.query("read actions", sql, params)?
            .iter()
            .map(|r| action_from_row(&get::<String>(r, 0)?, &get::<String>(r, 1)?))
            .collect()
    }
}

fn get<'r, T: postgres::types::FromSql<'r>>(row: &'r Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(pg_err("decode row"))
}

/// The bound values of a [`Where`].
fn bound(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s as &(dyn ToSql + Sync),
            Param::Int(i) => i as &(dyn ToSql + Sync),
        })
        .collect()
}

fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// Connects to the database at `url` with default options, creating
    /// or migrating the schema. `url` is a `postgres://user:password@host:port/db`
    /// URL or a `host=... user=... dbname=...` string.
    pub fn connect(url: &str) -> Result<PostgresStore> {
        PostgresStore::connect_with(url, &PostgresOptions::default())
    }

    /// Connects to the database at `url`, creating or migrating the schema.
    pub fn connect_with(url: &str, options: &PostgresOptions) -> Result<PostgresStore> {
        let mut config = Config::from_str(url).map_err(|e| {
            Error::validation("url", format!("not a PostgreSQL connection URL: {e}"))
        })?;
        if let Some(schema) = &options.schema {
            check_schema_name(schema)?;
        }
        if options.connect_timeout.is_zero() {
            return Err(Error::validation(
                "connect_timeout",
                "must be longer than zero",
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION);
        }
        let search_path = SearchPath(options.schema.clone());

        // Prepare the schema on a connection of its own, so that a server
        // that cannot be reached fails here at once, with its reason.
        let mut client = config
            .connect(NoTls)
            .map_err(pg_err("cannot connect to PostgreSQL"))?;
        search_path
            .set(&mut client)
            .map_err(pg_err("cannot set search_path"))?;
        let schema = prepare_schema(&mut client, options.schema.as_deref(), options.create)?;
        drop(client);

        let threads = PG_THREADS.lease();
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(options.connect_timeout)
            .connection_customizer(Box::new(search_path))
            .thread_pool(threads.pool())
            .build(PostgresConnectionManager::new(config, NoTls))
            .map_err(|e| Error::storage(format!("cannot open a connection pool: {e}"), e))?;
        Ok(PostgresStore {
            pool,
            schema,
            head: Mutex::new(Head::genesis()),
            _threads: threads,
        })
    }

    /// The schema that holds the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn guessed_head(&self) -> Head {
        self.head.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// [`Store::apply`] of `change`, whose row is `row`.
    fn apply_row(&self, change: Change, row: ActionRow) -> Result<Option<AuditEvent>> {
        let Some(event) = &change.event else {
            return self.read(|db| apply_in(db, change));
        };
        let expected = version_to_sql(change.expected_version)?;
        let policy = change.policy_version.map(version_to_sql).transpose()?;
        let moves = count_moves(&change);
        let basis = basis_doc(&change)?;
        let call = |sealed: &AuditEvent| {
            let outcome = self
                .read(|db| call_apply_change(db, &row, expected, policy, &moves, &basis, sealed))?;
            match outcome {
                Outcome::Applied => {
                    self.learn_head(Head::of(sealed), false);
                    Ok(Answer::Applied)
                }
                Outcome::HeadMoved(head) => {
                    self.learn_head(head.clone(), true);
                    Ok(Answer::HeadMoved(head))
                }
                Outcome::NotFound => Err(Error::NotFound {
                    id: change.action.id.to_string(),
                }),
                Outcome::Conflict(actual) => Err(Error::Conflict {
                    id: change.action.id,
                    expected: change.expected_version,
                    actual,
                }),
                Outcome::PolicyChanged(actual) => Err(Error::PolicyChanged {
                    expected: change.policy_version.unwrap_or_default(),
                    actual,
                }),
            }
        };
        if let Some(sealed) = apply_guessed(self.guessed_head(), event, call)? {
            return Ok(Some(sealed));
        }
        let appended = self.write(|db| apply_in(db, change))?;
        self.learn_events(appended.iter());
        Ok(appended)
    }

    /// A change the exclusive slot's unique index refused: another action
    /// holds the slot the change brings its action back into (`slot`: the
    /// key, the kind, the entity). The holder's `Duplicate`, read after the
    /// refusal; any other error as it is.
    fn slot_refusal(&self, slot: Option<&(String, Kind, Entity)>, e: Error) -> Error {
        use postgres::error::SqlState;
        let Some((key, kind, entity)) = slot else {
            return e;
        };
        let unique = match &e {
            Error::Storage {
                source: Some(source),
                ..
            } => source
                .downcast_ref::<postgres::Error>()
                .and_then(postgres::Error::as_db_error)
                .is_some_and(|d| {
                    *d.code() == SqlState::UNIQUE_VIOLATION
                        && d.constraint() == Some("actions_exclusive")
                }),
            _ => false,
        };
        if !unique {
            return e;
        }
        let holder = self.read(|db| {
            db.query_opt(
                "read exclusive holder",
                &format!("{EXCLUSIVE_HOLDER}$1"),
                &[key],
            )?
            .map(|r| get::<String>(&r, 0))
            .transpose()
        });
        match holder.ok().flatten().and_then(|id| id.parse().ok()) {
            Some(existing) => slot_of_taken(kind, entity, existing),
            // Gone again since: the index's own words.
            None => e,
        }
    }

    /// Keeps `head` as the guess: always when the server just named it
    /// (`told`, even if it is behind the guess: the chain was cut, say),
    /// else only if it is ahead of the guess (answers of concurrent calls
    /// arrive in any order).
    fn learn_head(&self, head: Head, told: bool) {
        let mut guess = self.head.lock().unwrap_or_else(|p| p.into_inner());
        if told || head.seq > guess.seq {
            *guess = head;
        }
    }

    /// Keeps the head after the last of `events`, which this store appended.
    fn learn_events<'e>(&self, events: impl IntoIterator<Item = &'e AuditEvent>) {
        if let Some(last) = events.into_iter().last() {
            self.learn_head(Head::of(last), false);
        }
    }

    fn conn(&self) -> Result<PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| Error::storage_retryable(format!("no database connection: {e}"), e))
    }

    /// Runs `f` on a pooled connection, outside a transaction.
    fn read<T>(&self, f: impl FnOnce(&mut Db<'_, Client>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut cache = PooledConnection::extensions_mut(&mut conn)
            .remove::<StatementCache>()
            .unwrap_or_default();
        let out = f(&mut Db {
            client: &mut conn,
            cache: &mut cache,
        });
        PooledConnection::extensions_mut(&mut conn).insert(cache);
        out
    }

    /// Runs `f` in a transaction, committing on `Ok` and rolling back on `Err`.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Db<'_, postgres::Transaction<'_>>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.conn()?;
        let mut cache = PooledConnection::extensions_mut(&mut conn)
            .remove::<StatementCache>()
            .unwrap_or_default();
        let out = match begin(&mut conn) {
            Ok(mut tx) => match f(&mut Db {
                client: &mut tx,
                cache: &mut cache,
            }) {
                Ok(v) => tx.commit().map(|()| v).map_err(pg_err("commit")),
                // Dropping the transaction rolls it back.
                Err(e) => Err(e),
            },
            Err(e) => Err(pg_err("begin")(e)),
        };
        PooledConnection::extensions_mut(&mut conn).insert(cache);
        out
    }
}

/// Checks what the target schema holds, then creates or migrates our
/// tables in one transaction. Returns the schema's name. A schema with a
/// newer version, or with tables that are not ours, is left untouched.
fn prepare_schema(client: &mut Client, schema: Option<&str>, create: bool) -> Result<String> {
    let mut tx = begin(client).map_err(pg_err("begin schema check"))?;
    let target: String = match schema {
        Some(s) => s.to_owned(),
        None => tx
            .query_one("SELECT current_schema()", &[])
            .and_then(|r| r.try_get::<_, Option<String>>(0))
            .map_err(pg_err("current_schema"))?
            .ok_or_else(|| {
                Error::storage_msg(
                    "the search_path names no existing schema: create one or set PostgresOptions::schema",
                )
            })?,
    };
    // Hosts that start together check and migrate one after the other.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MIGRATION_LOCK, &target],
    )
    .map_err(pg_err("lock for migration"))?;

    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&target])
        .map_err(pg_err("look up schema"))?
        .is_some();
    let tables: Vec<String> = if exists {
        tx.query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1",
            &[&target],
        )
        .map_err(pg_err("list tables"))?
        .iter()
        .map(|r| get::<String>(r, 0))
        .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let not_ours = |why: String| {
        Error::storage_msg(format!(
            "schema {target} is not an actioncenter database ({why}); use another schema"
        ))
    };
    let version: i32 = if tables.is_empty() {
        0
    } else if tables.iter().any(|t| t == VERSION_TABLE) {
        let row = tx
            .query_opt(
                "SELECT application, version FROM actioncenter_schema WHERE id = 1",
                &[],
            )
            .map_err(|e| not_ours(format!("unreadable {VERSION_TABLE}: {}", describe(&e))))?
            .ok_or_else(|| not_ours(format!("{VERSION_TABLE} is empty")))?;
        let application: String = get(&row, 0)?;
        if application != APPLICATION {
            return Err(not_ours(format!(
                "{VERSION_TABLE} names the application {application:?}"
            )));
        }
        get(&row, 1)?
    } else {
        let mut shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        if tables.len() > shown.len() {
            shown.push("...");
        }
        return Err(not_ours(format!(
            "it holds {} other tables ({}) and no {VERSION_TABLE}",
            tables.len(),
            shown.join(", ")
        )));
    };
    if version > SCHEMA_VERSION {
        return Err(Error::storage_msg(format!(
            "schema {target} has actioncenter schema version {version}, newer than this library's {SCHEMA_VERSION}: upgrade actioncenter"
        )));
    }
    if version == SCHEMA_VERSION {
        tx.commit().map_err(pg_err("end schema check"))?;
        return Ok(target);
    }
    if version == 0 && !create {
        return Err(Error::storage_msg(format!(
            "schema {target} holds no actioncenter tables (is this the right database?)"
        )));
    }
    if !exists {
        // The name was checked by `check_schema_name`: plain, and quoted.
        tx.batch_execute(&format!("CREATE SCHEMA \"{target}\""))
            .map_err(pg_err(&format!("create schema {target}")))?;
    }
    if version == 0 {
        tx.batch_execute(CREATE_VERSION_TABLE)
            .map_err(pg_err("create the version table"))?;
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(sql)
            .map_err(pg_err(&format!("migration to version {}", i + 1)))?;
    }
    tx.execute(
        "INSERT INTO actioncenter_schema (id, application, version) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
        &[&APPLICATION, &SCHEMA_VERSION],
    )
    .map_err(pg_err("record the schema version"))?;
    tx.commit().map_err(pg_err("commit migration"))?;
    Ok(target)
}

/// The last event of the chain, read under its row lock.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    seq: i64,
    hash: String,
}

impl Head {
    /// The head of an empty chain.
    fn genesis() -> Head {
        Head {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }

    /// The head once `event` is appended.
    fn of(event: &AuditEvent) -> Head {
        Head {
            seq: i64::try_from(event.seq).unwrap_or(i64::MAX),
            hash: event.hash.clone(),
        }
    }
}

/// Locks the chain head and reads it. Every writing transaction takes
/// this lock last, after its action rows (see the module docs).
const LOCK_HEAD: &str = "SELECT ARRAY[seq::text, hash] FROM chain_head WHERE id = 1 FOR UPDATE";

fn head_from(cell: Option<Vec<String>>) -> Result<Head> {
    match cell.as_deref() {
        Some([seq, hash]) => Ok(Head {
            seq: seq
                .parse()
                .map_err(|_| Error::storage_msg(format!("bad chain head seq {seq:?}")))?,
            hash: hash.clone(),
        }),
        _ => Err(Error::storage_msg(format!(
            "the {CHAIN_HEAD} row is missing"
        ))),
    }
}

/// Takes the chain head's lock for the rest of the transaction (what
/// orders policy changes and checkpoints against every append).
fn lock_head<C: GenericClient>(db: &mut Db<'_, C>) -> Result<()> {
    let row = db.query_opt("lock chain head", LOCK_HEAD, &[])?;
    head_from(row.map(|r| get(&r, 0)).transpose()?).map(drop)
}

/// Appends `events` in order through migration 7's `append_chained`:
/// the server locks the chain head, checks the stored policy's version
/// against `expected` (if given), assigns the positions and chains the
/// hashes from each event's [`HashFrame`](crate::audit::HashFrame), and
/// moves the head and the kept counts by `moves`, in one round trip. The
/// head's lock is held from there to the commit, never while this client
/// seals. Every hash the server computed is checked against the event
/// sealed here before it is returned; a mismatch is a storage error, and
/// the caller's transaction, rolled back, keeps nothing.
fn append_chained<C: GenericClient>(
    db: &mut Db<'_, C>,
    events: Vec<NewEvent>,
    moves: &[(&'static str, &'static str, i64)],
    expected: Option<u64>,
) -> Result<Vec<AuditEvent>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let frames = events
        .iter()
        .map(NewEvent::hash_frame)
        .collect::<Result<Vec<_>>>()?;
    let rows: Vec<EventRow> = events
        .iter()
        .map(|e| EventRow::of(&e.clone().placed(0, "")))
        .collect::<Result<_>>()?;
    let befores: Vec<&str> = frames.iter().map(|f| f.before.as_str()).collect();
    let betweens: Vec<&str> = frames.iter().map(|f| f.between.as_str()).collect();
    let afters: Vec<&str> = frames.iter().map(|f| f.after.as_str()).collect();
    let ids: Vec<Option<&str>> = rows.iter().map(|r| r.action_id.as_deref()).collect();
    let ats: Vec<i64> = rows.iter().map(|r| r.at).collect();
    let actors: Vec<&str> = rows.iter().map(|r| r.actor.as_str()).collect();
    let vias: Vec<Option<&str>> = rows.iter().map(|r| r.via.as_deref()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.event.as_str()).collect();
    let froms: Vec<Option<&str>> = rows.iter().map(|r| r.from.as_deref()).collect();
    let tos: Vec<Option<&str>> = rows.iter().map(|r| r.to.as_deref()).collect();
    let comments: Vec<Option<&str>> = rows.iter().map(|r| r.comment.as_deref()).collect();
    let versions: Vec<Option<i64>> = rows.iter().map(|r| r.version).collect();
    let digests: Vec<Option<&str>> = rows.iter().map(|r| r.digest.as_deref()).collect();
    let policies: Vec<Option<i64>> = rows.iter().map(|r| r.policy_version).collect();
    let statuses: Vec<&str> = moves.iter().map(|m| m.0).collect();
    let categories: Vec<&str> = moves.iter().map(|m| m.1).collect();
    let deltas: Vec<i64> = moves.iter().map(|m| m.2).collect();
    let expected_sql = expected.map(version_to_sql).transpose()?;
    let row = db
        .query_opt(
            "append audit events",
            "SELECT outcome, first_seq, prev_hash, hashes, actual FROM append_chained(\
             $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            &[
                &befores,
                &betweens,
                &afters,
                &ids,
                &ats,
                &actors,
                &vias,
                &kinds,
                &froms,
                &tos,
                &comments,
                &versions,
                &digests,
                &policies,
                &statuses,
                &categories,
                &deltas,
                &expected_sql,
            ],
        )?
        .ok_or_else(|| Error::storage_msg("append_chained returned no row"))?;
    let outcome: String = get(&row, 0)?;
    match (outcome.as_str(), expected) {
        ("applied", _) => {}
        ("policy_changed", Some(expected)) => {
            let actual: Option<i64> = get(&row, 4)?;
            let actual = actual.and_then(|a| u64::try_from(a).ok()).unwrap_or(0);
            return Err(Error::PolicyChanged { expected, actual });
        }
        (other, _) => {
            return Err(Error::storage_msg(format!(
                "append_chained answered {other:?}"
            )));
        }
    }
    let first: i64 = get(&row, 1)?;
    let mut prev: String = get(&row, 2)?;
    let hashes: Vec<String> = get(&row, 3)?;
    if hashes.len() != events.len() {
        return Err(Error::storage_msg(format!(
            "append_chained chained {} events of {}",
            hashes.len(),
            events.len()
        )));
    }
    let mut sealed = Vec::with_capacity(events.len());
    for ((e, hash), seq) in events.into_iter().zip(hashes).zip(first..) {
        let seq = u64::try_from(seq)
            .map_err(|_| Error::storage_msg(format!("bad chain position {seq}")))?;
        let event = e.seal(seq, &prev);
        if event.hash != hash {
            return Err(Error::storage_msg(format!(
                "the database chained event {seq} to hash {hash}, where this library computes {}: \
                 nothing was kept (is the database's encoding UTF8?)",
                event.hash
            )));
        }
        prev = hash;
        sealed.push(event);
    }
    Ok(sealed)
}

/// The stored policy's version. Read after the chain head is locked, it
/// is the version in force at commit: a policy change takes the same lock.
fn stored_policy_version<C: GenericClient>(db: &mut Db<'_, C>) -> Result<u64> {
    let row = db.query_opt(
        "read policy version",
        "SELECT coalesce(max(version), 0) FROM policies",
        &[],
    )?;
    let v: i64 = row.map(|r| get(&r, 0)).transpose()?.unwrap_or(0);
    Ok(u64::try_from(v).unwrap_or(0))
}

/// `NotFound` or `Conflict` for a change whose compare-and-set failed.
fn refusal<C: GenericClient>(db: &mut Db<'_, C>, change: &Change) -> Result<Error> {
    let id = change.action.id;
    let actual = db.query_opt(
        "read version",
        "SELECT version FROM actions WHERE id = $1",
        &[&id.to_string()],
    )?;
    Ok(match actual {
        None => Error::NotFound { id: id.to_string() },
        Some(r) => Error::Conflict {
            id,
            expected: change.expected_version,
            actual: u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0),
        },
    })
}

/// Applies one change in a transaction (or, without an event, in one
/// `UPDATE`). When it has an event, the `UPDATE` also locks the chain
/// head, in its `RETURNING` clause: after the action row, and only when
/// the compare-and-set succeeded; one round trip for both. The way a
/// transition goes when the head keeps moving under its guesses (see
/// [`PostgresStore::apply`]).
fn apply_in<C: GenericClient>(db: &mut Db<'_, C>, change: Change) -> Result<Option<AuditEvent>> {
    let row = ActionRow::of(&change.action)?;
    let expected = version_to_sql(change.expected_version)?;
    let basis = basis_doc(&change)?;
    let update = format!(
        "UPDATE {ACTIONS} SET version = $1, status = $2, expires_at = $3, lease_until = $4, \
         doc = $5::text::jsonb, exclusive_key = $8 WHERE id = $6 AND version = $7 \
         AND ($9::text IS NULL OR doc = $9::text::jsonb)"
    );
    let params: [&(dyn ToSql + Sync); 9] = [
        &row.version,
        &row.status,
        &row.expires_at,
        &row.lease_until,
        &row.doc,
        &row.id,
        &expected,
        &row.exclusive_key,
        &basis,
    ];
    let Some(event) = change.event.clone() else {
        if db.execute("update action", &update, &params)? == 0 {
            return Err(refusal(db, &change)?);
        }
        return Ok(None);
    };
    if db.execute("update action", &update, &params)? == 0 {
        return Err(refusal(db, &change)?);
    }
    Ok(append_chained(
        db,
        vec![event],
        &count_moves(&change),
        change.policy_version,
    )?
    .pop())
}

/// The document of the action `change` was decided on, if it names one
/// ([`Change::basis`]).
fn basis_doc(change: &Change) -> Result<Option<String>> {
    change
        .basis
        .as_deref()
        .map(|a| serde_json::to_string(a).map_err(|e| Error::storage("cannot encode action", e)))
        .transpose()
}

/// How many heads [`PostgresStore::apply`] guesses before it appends
/// under the head's lock instead.
const HEAD_GUESSES: usize = 3;

/// One call of the `apply_change` function (migration 5).
const APPLY_CHANGE: &str = "SELECT outcome, head_seq, head_hash, actual FROM apply_change(\
     $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
     $21, $22, $23, $24, $25, $26, $27)";

/// What `apply_change` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Applied,
    /// The head was not the one the event was sealed after; nothing was
    /// written.
    HeadMoved(Head),
    NotFound,
    /// The stored version.
    Conflict(u64),
    /// The stored policy's version.
    PolicyChanged(u64),
}

impl Outcome {
    /// Decodes the function's row: its outcome code and the columns that
    /// code fills.
    fn decode(
        code: &str,
        head_seq: Option<i64>,
        head_hash: Option<String>,
        actual: Option<i64>,
    ) -> Result<Outcome> {
        let unsigned = |v: Option<i64>| {
            v.and_then(|v| u64::try_from(v).ok()).ok_or_else(|| {
                Error::storage_msg(format!("apply_change: {code} without a version"))
            })
        };
        match code {
            "applied" => Ok(Outcome::Applied),
            "head_moved" => match (head_seq, head_hash) {
                (Some(seq), Some(hash)) => Ok(Outcome::HeadMoved(Head { seq, hash })),
                _incomplete => Err(Error::storage_msg(
                    "apply_change: head_moved without a head",
                )),
            },
            "not_found" => Ok(Outcome::NotFound),
            "conflict" => Ok(Outcome::Conflict(unsigned(actual)?)),
            "policy_changed" => Ok(Outcome::PolicyChanged(unsigned(actual)?)),
            other => Err(Error::storage_msg(format!(
                "apply_change answered {other:?}"
            ))),
        }
    }
}

/// Calls `apply_change` for the change whose row is `row`, with its event
/// sealed after the guessed head.
fn call_apply_change<C: GenericClient>(
    db: &mut Db<'_, C>,
    row: &ActionRow,
    expected: i64,
    policy: Option<i64>,
    moves: &[(&'static str, &'static str, i64)],
    basis: &Option<String>,
    sealed: &AuditEvent,
) -> Result<Outcome> {
    let e = EventRow::of(sealed)?;
    let statuses: Vec<&str> = moves.iter().map(|m| m.0).collect();
    let categories: Vec<&str> = moves.iter().map(|m| m.1).collect();
    let deltas: Vec<i64> = moves.iter().map(|m| m.2).collect();
    // The context of the plain `UPDATE` it replaces: a unique violation
    // reads as it did.
    let answer = db.query_opt(
        "update action",
        APPLY_CHANGE,
        &[
            &row.id,
            &expected,
            &row.version,
            &row.status,
            &row.expires_at,
            &row.lease_until,
            &row.doc,
            &row.exclusive_key,
            &policy,
            &statuses,
            &categories,
            &deltas,
            &e.seq,
            &e.action_id,
            &e.at,
            &e.actor,
            &e.via,
            &e.event,
            &e.from,
            &e.to,
            &e.comment,
            &e.version,
            &e.digest,
            &e.policy_version,
            &e.prev_hash,
            &e.hash,
            basis,
        ],
    )?;
    let answer = answer.ok_or_else(|| Error::storage_msg("apply_change returned no row"))?;
    Outcome::decode(
        &get::<String>(&answer, 0)?,
        get(&answer, 1)?,
        get(&answer, 2)?,
        get(&answer, 3)?,
    )
}

/// What a call with a sealed event did, as [`apply_guessed`] sees it: a
/// refusal is an `Err`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Applied,
    HeadMoved(Head),
}

/// Seals `event` after `guess` and `call`s with it; when the head has
/// moved, seals it again after the head the call names and calls again,
/// [`HEAD_GUESSES`] times in all. The sealed event that was applied, or
/// `None` when every guess missed. The hash is computed here, not in the
/// server, so its format stays the library's.
fn apply_guessed(
    mut guess: Head,
    event: &NewEvent,
    mut call: impl FnMut(&AuditEvent) -> Result<Answer>,
) -> Result<Option<AuditEvent>> {
    for _ in 0..HEAD_GUESSES {
        let seq = guess
            .seq
            .checked_add(1)
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| Error::storage_msg(format!("bad chain head seq {}", guess.seq)))?;
        let sealed = event.clone().seal(seq, &guess.hash);
        match call(&sealed)? {
            Answer::Applied => return Ok(Some(sealed)),
            Answer::HeadMoved(head) => guess = head,
        }
    }
    Ok(None)
}

/// Applies claim changes to rows this transaction has locked, in one
/// statement; returns the ids it updated.
fn apply_claims<C: GenericClient>(
    db: &mut Db<'_, C>,
    changes: &[Change],
) -> Result<std::collections::HashSet<String>> {
    let rows: Vec<ActionRow> = changes
        .iter()
        .map(|c| ActionRow::of(&c.action))
        .collect::<Result<_>>()?;
    let expected: Vec<i64> = changes
        .iter()
        .map(|c| version_to_sql(c.expected_version))
        .collect::<Result<_>>()?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status).collect();
    let expires: Vec<Option<i64>> = rows.iter().map(|r| r.expires_at).collect();
    let leases: Vec<Option<i64>> = rows.iter().map(|r| r.lease_until).collect();
    let docs: Vec<&str> = rows.iter().map(|r| r.doc.as_str()).collect();
    let exclusive: Vec<Option<&str>> = rows.iter().map(|r| r.exclusive_key.as_deref()).collect();
    db.query(
        "claim actions",
        &format!(
            "UPDATE {ACTIONS} AS a SET version = u.version, status = u.status, \
             expires_at = u.expires_at, lease_until = u.lease_until, doc = u.doc::jsonb, \
             exclusive_key = u.exclusive_key \
             FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], \
             $6::bigint[], $7::text[], $8::text[]) \
             AS u(id, expected, version, status, expires_at, lease_until, doc, exclusive_key) \
             WHERE a.id = u.id AND a.version = u.expected RETURNING a.id"
        ),
        &[
            &ids, &expected, &versions, &statuses, &expires, &leases, &docs, &exclusive,
        ],
    )?
    .iter()
    .map(|r| get::<String>(r, 0))
    .collect()
}

fn read_policies<C: GenericClient>(db: &mut Db<'_, C>, sql: &str) -> Result<Vec<StoredPolicy>> {
    db.query("read policy", sql, &[])?
        .iter()
        .map(|r| {
            let doc: String = get(r, 1)?;
            policy_from_row(get(r, 0)?, &doc, get(r, 2)?, get(r, 3)?, get(r, 4)?)
        })
        .collect()
}

fn read_events<C: GenericClient>(
    db: &mut Db<'_, C>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<AuditEvent>> {
    db.query("read events", sql, params)?
        .iter()
        .map(|r| {
            EventRow {
                seq: get(r, 0)?,
                action_id: get(r, 1)?,
                at: get(r, 2)?,
                actor: get(r, 3)?,
                via: get(r, 4)?,
                event: get(r, 5)?,
                from: get(r, 6)?,
                to: get(r, 7)?,
                comment: get(r, 8)?,
                version: get(r, 9)?,
                digest: get(r, 10)?,
                policy_version: get(r, 11)?,
                prev_hash: get(r, 12)?,
                hash: get(r, 13)?,
            }
            .decode()
        })
        .collect()
}

impl Store for PostgresStore {
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent> {
        let row = ActionRow::of(action)?;
        self.write(|db| {
            let inserted = db.query_opt(
                "insert action",
                &format!(
                    "INSERT INTO {ACTIONS} ({ACTION_COLUMNS}) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text::jsonb, $15, $16) \
                     ON CONFLICT DO NOTHING RETURNING 1"
                ),
                &[
                    &row.id,
                    &row.version,
                    &row.status,
                    &row.kind,
                    &row.category,
                    &row.source_type,
                    &row.investigation_id,
                    &row.entity_key,
                    &row.device_id,
                    &row.created_by,
                    &row.created_at,
                    &row.expires_at,
                    &row.lease_until,
                    &row.doc,
                    &row.idempotency_key,
                    &row.exclusive_key,
                ],
            )?;
            if inserted.is_none() {
                let holder = match &row.exclusive_key {
                    Some(key) => db
                        .query_opt(
                            "read exclusive holder",
                            &format!("{EXCLUSIVE_HOLDER}$1"),
                            &[key],
                        )?
                        .map(|r| get::<String>(&r, 0))
                        .transpose()?,
                    None => None,
                };
                return Err(insert_refusal(action, holder));
            }
            append_chained(db, vec![event], &[(row.status, row.category, 1)], None)?
                .pop()
                .ok_or_else(|| Error::storage_msg("no audit event appended"))
        })
        .inspect(|e| self.learn_events([e]))
    }

    /// A change with an event is one call of `apply_change` (one round
    /// trip, no explicit transaction); one without is one `UPDATE`. Only
    /// after [`HEAD_GUESSES`] guesses of the head have missed (other
    /// hosts kept appending) does it append the old way, in a
    /// transaction whose event the server chains ([`append_chained`]),
    /// so a busy chain costs round trips but never an error.
    fn apply(&self, change: Change) -> Result<Option<AuditEvent>> {
        let row = ActionRow::of(&change.action)?;
        // The slot a change brings its action back into (a retry), for the
        // refusal of the unique index should another action hold it.
        let slot = row
            .exclusive_key
            .clone()
            .filter(|_| slot_moves(&change))
            .map(|key| {
                (
                    key,
                    change.action.kind.clone(),
                    change.action.entity.clone(),
                )
            });
        self.apply_row(change, row)
            .map_err(|e| self.slot_refusal(slot.as_ref(), e))
    }

    fn get(&self, id: ActionId) -> Result<Option<Action>> {
        self.read(|db| {
            let docs = db.actions(
                "SELECT id, doc::text FROM actions WHERE id = $1",
                &[&id.to_string()],
            )?;
            Ok(docs.into_iter().next())
        })
    }

    fn reads_are_round_trips(&self) -> bool {
        true
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ActionId>> {
        let prefix = prefix.to_ascii_lowercase();
        // Ids are lowercase hex and dashes in a "C" collation column:
        // a range scan on the primary key.
        let upper = format!("{prefix}\u{7f}");
        self.read(|db| {
            db.query(
                "prefix",
                "SELECT id FROM actions WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
                &[&prefix, &upper, &limit_to_sql(limit)],
            )?
            .iter()
            .map(|r| get::<String>(r, 0)?.parse())
            .collect()
        })
    }

    fn ids_with_prefix_in(
        &self,
        prefix: &str,
        categories: &[crate::model::Category],
        limit: usize,
    ) -> Result<Vec<ActionId>> {
        let prefix = prefix.to_ascii_lowercase();
        let upper = format!("{prefix}\u{7f}");
        let names: Vec<String> = categories.iter().map(|c| c.as_str().to_owned()).collect();
        self.read(|db| {
            db.query(
                "prefix",
                "SELECT id FROM actions WHERE id >= $1 AND id < $2 AND category = ANY($3) \
                 ORDER BY id LIMIT $4",
                &[&prefix, &upper, &names, &limit_to_sql(limit)],
            )?
            .iter()
            .map(|r| get::<String>(r, 0)?.parse())
            .collect()
        })
    }

    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>> {
        let mut w = Where::new(Dialect::Postgres);
        w.filter(filter);
        if let Some(b) = before {
            let m = w.bind(Param::Text(b.to_string()));
            w.push(format!("id < {m}"));
        }
        let lim = w.bind(Param::Int(limit_to_sql(limit)));
        let sql = format!(
            "SELECT id, doc::text FROM actions {} ORDER BY id DESC LIMIT {lim}",
            w.sql()
        );
        self.read(|db| db.actions(&sql, &bound(&w.params)))
    }

    fn count(&self, filter: &Filter) -> Result<Counts> {
        let mut w = Where::new(Dialect::Postgres);
        w.filter(filter);
        // The badges come from the counts kept in the same transactions as
        // the changes: a few rows, whatever the size of the table.
        let sql = if counts_are_kept_for(filter) {
            format!(
                "SELECT status, sum(n)::bigint FROM counts {} GROUP BY status",
                w.sql()
            )
        } else {
            format!(
                "SELECT status, count(*) FROM actions {} GROUP BY status",
                w.sql()
            )
        };
        let rows = self.read(|db| db.query("count", &sql, &bound(&w.params)))?;
        let rows = rows
            .iter()
            .map(|r| Ok((get::<String>(r, 0)?, get::<i64>(r, 1)?)))
            .collect::<Result<Vec<_>>>()?;
        counts_from_rows(rows)
    }

    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.read(|db| {
            db.actions(
                "SELECT id, doc::text FROM actions WHERE expires_at <= $1 AND status = 'pending' \
                 ORDER BY expires_at LIMIT $2",
                &[&now.timestamp_micros(), &limit_to_sql(limit)],
            )
        })
    }

    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.read(|db| {
            db.actions(
                "SELECT id, doc::text FROM actions WHERE lease_until <= $1 \
                 ORDER BY lease_until LIMIT $2",
                &[&now.timestamp_micros(), &limit_to_sql(limit)],
            )
        })
    }

    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>> {
        let mut w = Where::new(Dialect::Postgres);
        w.push("status IN ('approved', 'undoing') AND lease_until IS NULL".to_owned());
        w.filter(&Filter {
            categories: scope.categories.clone(),
            kinds: scope.kinds.clone(),
            ..Filter::default()
        });
        let lim = w.bind(Param::Int(limit_to_sql(scope.limit)));
        // Rows another executor holds are skipped, not waited for; a row
        // claimed and committed since this statement began is re-checked
        // against the WHERE clause and dropped.
        let sql = format!(
            "SELECT id, doc::text FROM actions {} ORDER BY id LIMIT {lim} FOR UPDATE SKIP LOCKED",
            w.sql()
        );
        let params = bound(&w.params);
        self.write(|db| {
            // Walk the claimable index in id order, whatever the
            // statistics say: a queue table's statistics are often stale
            // (a burst of proposals since the last ANALYZE), and then the
            // planner sorts every claimable row, documents included, on
            // every claim. Only this transaction is affected.
            db.batch("claim plan", "SET LOCAL enable_sort = off")?;
            let changes: Vec<Change> = db
                .actions(&sql, &params)?
                .iter()
                .filter_map(&mut *build)
                .collect();
            if changes.is_empty() {
                return Ok(Vec::new());
            }
            // The rows are locked by this transaction, so every change
            // applies; one that did not would be skipped.
            let changes_policy: Vec<Option<u64>> =
                changes.iter().map(|c| c.policy_version).collect();
            let updated = apply_claims(db, &changes)?;
            let moves: Vec<(&'static str, &'static str, i64)> = changes
                .iter()
                .filter(|c| updated.contains(&c.action.id.to_string()))
                .flat_map(count_moves)
                .collect();
            let (actions, events): (Vec<Action>, Vec<NewEvent>) = changes
                .into_iter()
                .filter(|c| updated.contains(&c.action.id.to_string()))
                .filter_map(|c| c.event.map(|e| (c.action, e)))
                .unzip();
            if events.is_empty() {
                return Ok(Vec::new());
            }
            let policy_version = changes_policy.first().copied().flatten();
            let sealed = append_chained(db, events, &moves, policy_version)?;
            Ok(actions.into_iter().zip(sealed).collect())
        })
        .inspect(|claimed| self.learn_events(claimed.iter().map(|(_, e)| e)))
    }

    fn events_since(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.read(|db| {
            read_events(
                db,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&seq, &limit_to_sql(limit)],
            )
        })
    }

    fn events_of(&self, id: ActionId) -> Result<Vec<AuditEvent>> {
        self.read(|db| {
            read_events(
                db,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE action_id = $1 ORDER BY seq"),
                &[&id.to_string()],
            )
        })
    }

    fn find_by_idempotency_key(&self, proposer: &str, key: &str) -> Result<Option<Action>> {
        self.read(|db| {
            Ok(db
                .actions(
                    "SELECT id, doc::text FROM actions WHERE created_by = $1 AND idempotency_key = $2",
                    &[&proposer, &key],
                )?
                .pop())
        })
    }

    fn chain_head(&self) -> Result<(u64, String)> {
        self.read(|db| {
            let row = db.query_opt(
                "read chain head",
                "SELECT ARRAY[seq::text, hash] FROM chain_head WHERE id = 1",
                &[],
            )?;
            let head = head_from(row.map(|r| get(&r, 0)).transpose()?)?;
            Ok((u64::try_from(head.seq).unwrap_or(0), head.hash))
        })
    }

    fn policy(&self) -> Result<Option<StoredPolicy>> {
        self.read(|db| {
            Ok(read_policies(
                db,
                &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version DESC LIMIT 1"),
            )?
            .pop())
        })
    }

    fn policy_version(&self) -> Result<u64> {
        self.read(stored_policy_version)
    }

    fn set_policy(&self, policy: &StoredPolicy, event: NewEvent) -> Result<AuditEvent> {
        let version = version_to_sql(policy.version)?;
        let doc = policy.policy.to_canonical_json();
        let at = policy.set_at.timestamp_micros();
        self.write(|db| {
            // Locked first: the version is checked, and the policy
            // stored, in the order every policy change takes.
            lock_head(db)?;
            let actual = stored_policy_version(db)?;
            if actual + 1 != policy.version {
                return Err(Error::PolicyChanged {
                    expected: policy.version.saturating_sub(1),
                    actual,
                });
            }
            db.execute(
                "store policy",
                &format!("INSERT INTO policies ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
                &[&version, &doc, &policy.digest, &policy.set_by, &at],
            )?;
            append_chained(db, vec![event], &[], None)?
                .pop()
                .ok_or_else(|| Error::storage_msg("no audit event appended"))
        })
        .inspect(|e| self.learn_events([e]))
    }

    fn policy_history(&self) -> Result<Vec<StoredPolicy>> {
        self.read(|db| {
            read_policies(
                db,
                &format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version"),
            )
        })
    }

    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let doc = serde_json::to_string(checkpoint)
            .map_err(|e| Error::storage("cannot encode checkpoint", e))?;
        let seq = version_to_sql(checkpoint.seq)?;
        self.write(|db| {
            // The chain head's lock orders checkpoints too.
            lock_head(db)?;
            let latest = db
                .query_opt(
                    "read checkpoint",
                    "SELECT doc FROM checkpoints ORDER BY id DESC LIMIT 1",
                    &[],
                )?
                .map(|r| get::<String>(&r, 0))
                .transpose()?
                .map(|d| checkpoint_from_doc(&d))
                .transpose()?;
            if checkpoint.prev.as_deref() != latest.as_ref().map(|c| c.signature.as_str()) {
                return Err(super::checkpoint_race());
            }
            db.execute(
                "store checkpoint",
                "INSERT INTO checkpoints (seq, doc) VALUES ($1, $2)",
                &[&seq, &doc],
            )
            .map(|_| ())
        })
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        self.read(|db| {
            db.query(
                "read checkpoints",
                "SELECT doc FROM checkpoints ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| checkpoint_from_doc(&get::<String>(r, 0)?))
            .collect()
        })
    }

    fn rows_off_their_docs(&self) -> Result<super::RowsOffDocs> {
        let mut found = super::RowsOffDocs::default();
        let sql = format!(
            "SELECT id, doc::text, {DERIVED_COLUMNS} FROM actions WHERE id > $1 ORDER BY id LIMIT 1000"
        );
        let mut after = String::new();
        'pages: loop {
            let rows = self.read(|db| db.query("read actions", &sql, &[&after]))?;
            for r in &rows {
                let id: String = get(r, 0)?;
                let doc = Col::from(get::<Option<String>>(r, 1)?);
                let mut derived = Vec::with_capacity(VERIFY_INT_COLUMNS.len());
                for (i, int) in VERIFY_INT_COLUMNS.iter().enumerate() {
                    derived.push(if *int {
                        Col::from(get::<Option<i64>>(r, i + 2)?)
                    } else {
                        Col::from(get::<Option<String>>(r, i + 2)?)
                    });
                }
                if let Some(off) = action_row_off_doc(&Col::Text(id.clone()), &doc, &derived)? {
                    found.action = Some(off);
                    break 'pages;
                }
                after = id;
            }
            if rows.len() < 1000 {
                break;
            }
        }
        // Checkpoint ids come from a sequence, which a rolled-back insert
        // spends: only the seq column is compared.
        let rows = self.read(|db| {
            db.query(
                "read checkpoints",
                "SELECT id, seq, doc FROM checkpoints ORDER BY id",
                &[],
            )
        })?;
        for r in &rows {
            let seq = Col::from(get::<Option<i64>>(r, 1)?);
            if let Some(p) = checkpoint_row_off_doc(get(r, 0)?, &seq, &get::<String>(r, 2)?, None) {
                found.checkpoint = Some(p);
                break;
            }
        }
        Ok(found)
    }

    // Each identity call is one statement, atomic on its own: no
    // transaction, and no chain-head lock (none of them is audited).

    fn put_account(&self, account: &Account, create: bool) -> Result<()> {
        let row = id_sql::AccountRow::of(account);
        let sql = if create {
            id_sql::INSERT_ACCOUNT
        } else {
            id_sql::REPLACE_ACCOUNT
        };
        let written = self.read(|db| {
            db.execute(
                "store account",
                &Dialect::Postgres.sql(sql),
                &[
                    &row.id,
                    &row.password_hash,
                    &row.disabled,
                    &row.created_by,
                    &row.created_at,
                    &row.updated_at,
                ],
            )
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
        self.read(|db| {
            let rows = db.query(
                "read account",
                &Dialect::Postgres.sql(id_sql::ACCOUNT_BY_ID),
                &[&id],
            )?;
            rows.iter().map(account_from_row).next().transpose()
        })
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|db| {
            db.query(
                "read accounts",
                &Dialect::Postgres.sql(id_sql::ALL_ACCOUNTS),
                &[],
            )?
            .iter()
            .map(account_from_row)
            .collect()
        })
    }

    fn put_credential(&self, credential: &Credential) -> Result<()> {
        let row = id_sql::CredentialRow::of(credential);
        let written = self.read(|db| {
            db.execute(
                "store credential",
                &Dialect::Postgres.sql(id_sql::INSERT_CREDENTIAL),
                &[
                    &row.id,
                    &row.kind,
                    &row.hash,
                    &row.principal,
                    &row.label,
                    &row.csrf,
                    &row.created_by,
                    &row.created_at,
                    &row.last_used_at,
                    &row.expires_at,
                    &row.revoked_at,
                    &row.groups,
                ],
            )
        })?;
        if written == 0 {
            return Err(super::credential_exists());
        }
        Ok(())
    }

    fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        self.read(|db| {
            let rows = db.query(
                "read credential",
                &Dialect::Postgres.sql(id_sql::CREDENTIAL_BY_HASH),
                &[&hash],
            )?;
            rows.iter().map(credential_from_row).next().transpose()
        })
    }

    fn credentials(&self, kind: CredentialKind) -> Result<Vec<Credential>> {
        self.read(|db| {
            db.query(
                "read credentials",
                &Dialect::Postgres.sql(id_sql::CREDENTIALS_OF_KIND),
                &[&kind.as_str()],
            )?
            .iter()
            .map(credential_from_row)
            .collect()
        })
    }

    fn touch_credential(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        let at = at.timestamp_micros();
        self.read(|db| {
            db.execute(
                "touch credential",
                &Dialect::Postgres.sql(id_sql::TOUCH_CREDENTIAL),
                &[&at, &hash],
            )
        })?;
        Ok(())
    }

    fn revoke_credentials(&self, which: &Revoke, at: DateTime<Utc>) -> Result<u64> {
        let at = at.timestamp_micros();
        let sql = Dialect::Postgres.sql(id_sql::revoke(which).0);
        self.read(|db| match which {
            Revoke::Id(id) => db.execute("revoke credentials", &sql, &[&at, id]),
            Revoke::Hash(hash) => db.execute("revoke credentials", &sql, &[&at, hash]),
            Revoke::Principal { principal, kind } => db.execute(
                "revoke credentials",
                &sql,
                &[&at, principal, &kind.as_str()],
            ),
        })
    }

    fn hit(&self, key: &str, window: i64) -> Result<u64> {
        self.read(|db| {
            let rows = db.query(
                "count a hit",
                &Dialect::Postgres.sql(id_sql::HIT),
                &[&key, &window],
            )?;
            let count: i64 = rows
                .first()
                .map(|r| get(r, 0))
                .transpose()?
                .ok_or_else(|| Error::storage_msg("counting a hit returned no row"))?;
            Ok(id_sql::hits(count))
        })
    }
}

fn account_from_row(r: &Row) -> Result<Account> {
    id_sql::AccountRow {
        id: get(r, 0)?,
        password_hash: get(r, 1)?,
        disabled: get(r, 2)?,
        created_by: get(r, 3)?,
        created_at: get(r, 4)?,
        updated_at: get(r, 5)?,
    }
    .decode()
}

fn credential_from_row(r: &Row) -> Result<Credential> {
    id_sql::CredentialRow {
        id: get(r, 0)?,
        kind: get(r, 1)?,
        hash: get(r, 2)?,
        principal: get(r, 3)?,
        label: get(r, 4)?,
        csrf: get(r, 5)?,
        created_by: get(r, 6)?,
        created_at: get(r, 7)?,
        last_used_at: get(r, 8)?,
        expires_at: get(r, 9)?,
        revoked_at: get(r, 10)?,
        groups: get(r, 11)?,
    }
    .decode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::pg_test_cluster::{TestSchema, server};
    use std::sync::Arc;

    #[test]
    fn the_first_chain_head_is_the_genesis_hash() {
        assert_eq!(GENESIS_HASH, "0".repeat(64));
        assert!(MIGRATIONS[0].contains("repeat('0', 64)"));
    }

    #[test]
    fn schema_names_must_be_plain() {
        for ok in ["public", "ac_1", "_x"] {
            assert!(check_schema_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1ac", "Public", "a-b", "a\"b", "a b", &"x".repeat(64)] {
            let err = check_schema_name(bad).expect_err(bad);
            assert!(matches!(err, Error::Validation { .. }), "{err:?}");
        }
    }

    #[test]
    fn a_bad_url_is_a_validation_error() {
        let err = PostgresStore::connect("postgres://[::1").expect_err("bad url");
        assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    }

    #[test]
    fn an_unreachable_server_fails_at_once_with_its_reason() {
        // Port 1 on loopback: nothing listens there.
        let err = PostgresStore::connect_with(
            "postgres://nobody@127.0.0.1:1/none",
            &PostgresOptions {
                connect_timeout: Duration::from_secs(2),
                ..PostgresOptions::default()
            },
        )
        .expect_err("unreachable");
        assert!(err.to_string().contains("cannot connect"), "{err}");
    }

    /// A client on the test server with `search_path` set to `schema`.
    fn raw_client(url: &str, schema: &str) -> Client {
        let mut c = Client::connect(url, NoTls).expect("connect");
        SearchPath(Some(schema.to_owned()))
            .set(&mut c)
            .expect("search_path");
        c
    }

    /// The tables of a schema at [`SCHEMA_VERSION`], the version table included.
    const TABLES: i64 = 10;

    /// Builds a schema at `version` as that version's library left it.
    fn schema_at_version(c: &mut Client, schema: &str, version: usize) {
        c.batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .expect("create schema");
        let mut tx = c.transaction().expect("begin");
        tx.batch_execute(CREATE_VERSION_TABLE)
            .expect("version table");
        for sql in &MIGRATIONS[..version] {
            tx.batch_execute(sql).expect("migration");
        }
        tx.execute(
            "INSERT INTO actioncenter_schema (id, application, version) VALUES (1, $1, $2)",
            &[&APPLICATION, &i32::try_from(version).expect("version")],
        )
        .expect("record version");
        tx.commit().expect("commit");
    }

    fn table_count(c: &mut Client, schema: &str) -> i64 {
        c.query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&schema],
        )
        .expect("count")
        .get(0)
    }

    /// The statements of a claim's transaction are not JIT-compiled, though
    /// its `enable_sort = off` prices the counts' upsert above
    /// `jit_above_cost` (it took ~200 ms to compile, under the chain-head
    /// lock).
    #[test]
    fn a_claims_counts_upsert_is_not_jit_compiled() {
        let Some(url) = server() else { return };
        let schema = TestSchema::new(&url);
        PostgresStore::connect_with(&url, &PostgresOptions::in_schema(schema.name()))
            .expect("store");
        let mut c = raw_client(&url, schema.name());
        let mut tx = c.transaction().expect("begin");
        tx.batch_execute("SET LOCAL enable_sort = off")
            .expect("claim plan");
        let plan: Vec<String> = tx
            .query(
                "EXPLAIN (ANALYZE) INSERT INTO counts (status, category, n) \
                 SELECT s, c, sum(d) FROM unnest(ARRAY['approved', 'running'], ARRAY['device', 'device'], \
                 ARRAY[-1, 1]::bigint[]) AS m(s, c, d) GROUP BY s, c ORDER BY s, c \
                 ON CONFLICT (status, category) DO UPDATE SET n = counts.n + excluded.n",
                &[],
            )
            .expect("explain")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(
            !plan.iter().any(|line| line.starts_with("JIT")),
            "{}",
            plan.join("\n")
        );
    }

    #[test]
    fn a_zero_connect_timeout_is_a_validation_error() {
        let options = PostgresOptions {
            connect_timeout: Duration::ZERO,
            ..PostgresOptions::default()
        };
        let err = PostgresStore::connect_with("postgres://nobody@127.0.0.1:1/none", &options)
            .expect_err("zero");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "connect_timeout"),
            "{err:?}"
        );
    }

    #[test]
    fn an_empty_schema_is_refused_when_create_is_off_and_left_empty() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let options = PostgresOptions {
            create: false,
            ..PostgresOptions::in_schema(t.name())
        };
        let err = PostgresStore::connect_with(&url, &options).expect_err("empty");
        assert!(
            err.to_string().contains("holds no actioncenter tables"),
            "{err}"
        );
        let mut c = Client::connect(&url, NoTls).expect("connect");
        assert_eq!(table_count(&mut c, t.name()), 0);
    }

    #[test]
    fn a_serializable_server_default_still_gives_conflict_to_the_losers() {
        use crate::{ActionCenter, Decide, Entity, Kind, Policy, Principal, Proposal, Source};
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let sep = if url.contains('?') { '&' } else { '?' };
        let strict = format!("{url}{sep}options=-c%20default_transaction_isolation%3Dserializable");
        let store = PostgresStore::connect_with(&strict, &PostgresOptions::in_schema(t.name()))
            .expect("open");
        let mut check = Client::connect(&strict, NoTls).expect("connect");
        let level: String = check
            .query_one("SHOW default_transaction_isolation", &[])
            .expect("show")
            .get(0);
        assert_eq!(level, "serializable", "the URL option must reach a session");
        // The store's sessions override it: a transition is one statement
        // outside an explicit transaction.
        let mut ours = store.conn().expect("conn");
        let level: String = ours
            .query_one("SHOW default_transaction_isolation", &[])
            .expect("show")
            .get(0);
        assert_eq!(level, "read committed");
        drop(ours);
        let center = ActionCenter::new(store, Policy::default());
        let air = Principal::new("air", ["automation"]);
        let source = Source::AutomatedInvestigation {
            investigation_id: "inv".into(),
        };
        let device = Entity::Device {
            device_id: "d".into(),
            name: None,
        };
        let a = center
            .propose(&air, Proposal::new(Kind::IsolateDevice, device, source))
            .expect("propose");
        let barrier = std::sync::Barrier::new(6);
        let results: Vec<Result<crate::Action>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|i| {
                    let (center, barrier) = (&center, &barrier);
                    s.spawn(move || {
                        let me = Principal::new(format!("analyst-{i}"), ["analyst"]);
                        barrier.wait();
                        center.approve(
                            &me,
                            a.id,
                            &Decide {
                                comment: None,
                                expected_version: Some(a.version),
                            },
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(Error::Conflict { .. })))
            .count();
        assert_eq!((wins, conflicts), (1, 5), "{results:?}");
    }

    #[test]
    fn a_schema_is_created_migrated_and_reopened() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let store = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect("create");
        assert_eq!(store.schema(), t.name());
        drop(store);
        PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name())).expect("reopen");
        let mut c = raw_client(&url, t.name());
        let row = c
            .query_one("SELECT application, version FROM actioncenter_schema", &[])
            .expect("version");
        assert_eq!(
            (row.get::<_, String>(0), row.get::<_, i32>(1)),
            (APPLICATION.to_owned(), SCHEMA_VERSION)
        );
        assert_eq!(table_count(&mut c, t.name()), TABLES);
    }

    #[test]
    fn a_schema_at_version_3_migrates_to_4_keeping_its_rows() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let mut c = raw_client(&url, t.name());
        schema_at_version(&mut c, t.name(), 3);
        let policy = crate::Policy::default().to_canonical_json();
        c.execute(
            "INSERT INTO policies (version, doc, digest, set_by, set_at) VALUES (1, $1, 'd', 'admin', 0)",
            &[&policy],
        )
        .expect("policy row");
        assert_eq!(table_count(&mut c, t.name()), 7);

        let store = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect("migrate");
        let v: i32 = c
            .query_one("SELECT version FROM actioncenter_schema", &[])
            .expect("version")
            .get(0);
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(table_count(&mut c, t.name()), TABLES);
        assert_eq!(store.policy_version().expect("policy"), 1);
        assert_eq!(store.hit("k", 1).expect("hit"), 1);
        assert!(store.accounts().expect("accounts").is_empty());
    }

    /// How many functions named `name` the schema holds.
    fn functions_named(c: &mut Client, schema: &str, name: &str) -> i64 {
        c.query_one(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = $1 AND p.proname = $2",
            &[&schema, &name],
        )
        .expect("count")
        .get(0)
    }

    /// The number of arguments of each function named `apply_change`.
    fn apply_change_arguments(c: &mut Client, schema: &str) -> Vec<i16> {
        c.query(
            "SELECT p.pronargs FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = $1 AND p.proname = 'apply_change' ORDER BY p.pronargs",
            &[&schema],
        )
        .expect("arguments")
        .iter()
        .map(|r| r.get(0))
        .collect()
    }

    #[test]
    fn a_schema_at_version_7_scopes_idempotency_keys_to_their_proposers() {
        use crate::{ActionCenter, Policy, Principal};
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let mut c = raw_client(&url, t.name());
        schema_at_version(&mut c, t.name(), 7);
        let store = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect("migrate");
        let v: i32 = c
            .query_one("SELECT version FROM actioncenter_schema", &[])
            .expect("version")
            .get(0);
        assert_eq!(v, SCHEMA_VERSION);
        let center = ActionCenter::new(store, Policy::default());
        let proposal = crate::store::keyed_isolation;
        let alice = Principal::new("alice", ["analyst"]);
        let air = Principal::new("air", ["automation"]);
        let first = center.propose(&alice, proposal("d1")).expect("propose");
        let other = center
            .propose(&air, proposal("d2"))
            .expect("another proposer's own key");
        assert_ne!(other.id, first.id);
        let retry = center.propose(&alice, proposal("d1")).expect("retry");
        assert_eq!(retry.id, first.id);
    }

    #[test]
    fn a_schema_at_version_4_5_or_6_gets_the_current_functions_and_uses_them() {
        for from in [4, 5, 6] {
            a_schema_gets_the_current_one_call_transition(from);
        }
    }

    fn a_schema_gets_the_current_one_call_transition(from: usize) {
        use crate::{ActionCenter, Decide, Entity, Kind, Policy, Principal, Proposal, Source};
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let mut c = raw_client(&url, t.name());
        schema_at_version(&mut c, t.name(), from);
        assert_eq!(
            functions_named(&mut c, t.name(), "apply_change"),
            i64::try_from(from.saturating_sub(4)).unwrap_or(0)
        );
        assert_eq!(functions_named(&mut c, t.name(), "append_chained"), 0);
        let store = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect("migrate");
        let v: i32 = c
            .query_one("SELECT version FROM actioncenter_schema", &[])
            .expect("version")
            .get(0);
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(
            functions_named(&mut c, t.name(), "append_chained"),
            1,
            "from {from}"
        );
        // Version 6's, with the basis, beside version 5's for the hosts
        // of the previous release still running.
        assert_eq!(
            apply_change_arguments(&mut c, t.name()),
            vec![26, 27],
            "from {from}"
        );
        assert_eq!(table_count(&mut c, t.name()), TABLES);

        let center = ActionCenter::new(store, Policy::default());
        let air = Principal::new("air", ["automation"]);
        let device = Entity::Device {
            device_id: "d".into(),
            name: None,
        };
        let source = Source::AutomatedInvestigation {
            investigation_id: "inv".into(),
        };
        let a = center
            .propose(&air, Proposal::new(Kind::IsolateDevice, device, source))
            .expect("propose");
        let alice = Principal::new("alice", ["analyst"]);
        center
            .approve(&alice, a.id, &Decide::default())
            .expect("approve");
        // A claim's events are chained by the server.
        let claimed = center
            .claim(
                &Principal::new("agent", ["executor"]),
                &crate::ClaimRequest {
                    limit: 1,
                    lease_seconds: 60,
                    kinds: None,
                },
            )
            .expect("claim");
        assert_eq!(claimed.len(), 1, "from {from}");
        assert!(center.verify_audit().expect("verify").is_intact());
    }

    #[test]
    fn a_hash_the_server_chains_wrong_is_refused_and_the_claim_keeps_nothing() {
        use crate::{
            ActionCenter, ClaimRequest, Decide, Entity, ErrorKind, Kind, Policy, Principal,
            Proposal, Source, Status,
        };
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let store = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect("connect");
        let center = ActionCenter::new(store, Policy::default());
        let a = center
            .propose(
                &Principal::new("air", ["automation"]),
                Proposal::new(
                    Kind::IsolateDevice,
                    Entity::Device {
                        device_id: "d".into(),
                        name: None,
                    },
                    Source::Antivirus,
                ),
            )
            .expect("propose");
        center
            .approve(
                &Principal::new("alice", ["analyst"]),
                a.id,
                &Decide::default(),
            )
            .expect("approve");
        // A server whose chaining differs from this library's.
        let mut c = raw_client(&url, t.name());
        let wrong = APPEND_CHAINED_FUNCTION
            .replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
            .replace("p_before[i] ||", "'x' || p_before[i] ||");
        assert_ne!(
            wrong,
            APPEND_CHAINED_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        );
        c.batch_execute(&wrong).expect("replace the function");
        let before = center.verify_audit().expect("verify").events_checked;
        let err = center
            .claim(
                &Principal::new("agent", ["executor"]),
                &ClaimRequest {
                    limit: 1,
                    lease_seconds: 60,
                    kinds: None,
                },
            )
            .expect_err("a hash this library does not compute");
        assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
        assert!(err.to_string().contains("chained event"), "{err}");
        assert_eq!(
            center
                .get(&Principal::new("alice", ["analyst"]), a.id)
                .expect("get")
                .status,
            Status::Approved
        );
        let report = center.verify_audit().expect("verify");
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.events_checked, before, "no event kept");
    }

    /// An event of a transition for `apply_guessed`.
    fn transition_event() -> NewEvent {
        NewEvent {
            action_id: Some(ActionId(uuid::Uuid::now_v7())),
            at: DateTime::from_timestamp_micros(1_700_000_000_000_000).expect("time"),
            actor: "alice".into(),
            via: None,
            event: crate::machine::Event::Approve,
            from: Some(crate::model::Status::Pending),
            to: Some(crate::model::Status::Approved),
            comment: None,
            version: 2,
            digest: "d".into(),
            policy_version: Some(1),
        }
    }

    #[test]
    fn a_moved_head_is_sealed_after_again_until_the_call_applies() {
        let event = transition_event();
        let heads = [
            Head {
                seq: 7,
                hash: "a".repeat(64),
            },
            Head {
                seq: 9,
                hash: "b".repeat(64),
            },
        ];
        let mut seen: Vec<(u64, String)> = Vec::new();
        let applied = apply_guessed(Head::genesis(), &event, |sealed| {
            assert!(sealed.hash_matches());
            seen.push((sealed.seq, sealed.prev_hash.clone()));
            Ok(match heads.get(seen.len() - 1) {
                Some(head) => Answer::HeadMoved(head.clone()),
                None => Answer::Applied,
            })
        })
        .expect("apply")
        .expect("applied");
        assert_eq!(
            seen,
            [
                (1, GENESIS_HASH.to_owned()),
                (8, "a".repeat(64)),
                (10, "b".repeat(64)),
            ]
        );
        assert_eq!((applied.seq, applied.prev_hash), (10, "b".repeat(64)));
    }

    #[test]
    fn a_head_that_keeps_moving_gives_up_after_the_last_guess() {
        let mut calls = 0;
        let applied = apply_guessed(Head::genesis(), &transition_event(), |sealed| {
            calls += 1;
            Ok(Answer::HeadMoved(Head::of(sealed)))
        })
        .expect("apply");
        assert_eq!((applied, calls), (None, HEAD_GUESSES));
    }

    #[test]
    fn a_refusal_ends_the_guessing_with_its_error() {
        let mut calls = 0;
        let err = apply_guessed(Head::genesis(), &transition_event(), |_| {
            calls += 1;
            Err(Error::PolicyChanged {
                expected: 1,
                actual: 2,
            })
        })
        .expect_err("refused");
        assert!(
            matches!(
                err,
                Error::PolicyChanged {
                    expected: 1,
                    actual: 2
                }
            ),
            "{err:?}"
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn function_outcomes_decode_to_the_refusals_they_name() {
        let head = Outcome::decode("head_moved", Some(3), Some("h".into()), None).expect("moved");
        assert_eq!(
            head,
            Outcome::HeadMoved(Head {
                seq: 3,
                hash: "h".into()
            })
        );
        assert_eq!(
            Outcome::decode("conflict", None, None, Some(4)).expect("conflict"),
            Outcome::Conflict(4)
        );
        assert_eq!(
            Outcome::decode("policy_changed", Some(3), Some("h".into()), Some(2)).expect("policy"),
            Outcome::PolicyChanged(2)
        );
        assert_eq!(
            Outcome::decode("not_found", None, None, None).expect("not found"),
            Outcome::NotFound
        );
        assert!(Outcome::decode("conflict", None, None, None).is_err());
        assert!(Outcome::decode("head_moved", Some(3), None, None).is_err());
        assert!(Outcome::decode("exploded", None, None, None).is_err());
    }

    #[test]
    fn a_head_another_store_moved_is_learned_and_the_chain_stays_in_order() {
        use crate::{ActionCenter, Decide, Entity, Kind, Policy, Principal, Proposal, Source};
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let options = PostgresOptions::in_schema(t.name());
        let first = Arc::new(PostgresStore::connect_with(&url, &options).expect("first"));
        let second = Arc::new(PostgresStore::connect_with(&url, &options).expect("second"));
        let center_on = |store: &Arc<PostgresStore>| {
            let store: Arc<dyn Store> = store.clone();
            ActionCenter::with_clock(store, Policy::default(), Arc::new(crate::SystemClock))
        };
        let (one, two) = (center_on(&first), center_on(&second));
        let air = Principal::new("air", ["automation"]);
        let alice = Principal::new("alice", ["analyst"]);
        let ids: Vec<ActionId> = (0..6)
            .map(|i| {
                let device = Entity::Device {
                    device_id: format!("d{i}"),
                    name: None,
                };
                let source = Source::AutomatedInvestigation {
                    investigation_id: "inv".into(),
                };
                one.propose(&air, Proposal::new(Kind::IsolateDevice, device, source))
                    .expect("propose")
                    .id
            })
            .collect();
        // Each store's guess is behind by the other's appends at every step.
        for (i, id) in ids.iter().enumerate() {
            let center = if i % 2 == 0 { &two } else { &one };
            center
                .approve(&alice, *id, &Decide::default())
                .expect("approve");
        }
        // A guess far off (a cut chain, a stale host) is corrected too.
        first.learn_head(
            Head {
                seq: 1_000,
                hash: "f".repeat(64),
            },
            true,
        );
        let device = Entity::Device {
            device_id: "late".into(),
            name: None,
        };
        let source = Source::AutomatedInvestigation {
            investigation_id: "inv".into(),
        };
        let late = two
            .propose(&air, Proposal::new(Kind::IsolateDevice, device, source))
            .expect("propose");
        one.approve(&alice, late.id, &Decide::default())
            .expect("approve");

        let events = first.events_since(0, 100).expect("events");
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=u64::try_from(events.len()).expect("n")).collect::<Vec<_>>()
        );
        assert!(events.windows(2).all(|w| w[1].prev_hash == w[0].hash));
        assert_eq!(first.chain_head().expect("head").0, 15);
        // The store that appended last guesses right.
        assert_eq!(Some(first.guessed_head()), events.last().map(Head::of));
        assert!(one.verify_audit().expect("verify").is_intact());
        assert_eq!(
            one.counts(&alice, &crate::Filter::default())
                .expect("count")
                .0
                .get(&crate::model::Status::Approved)
                .copied(),
            Some(7)
        );
    }

    #[test]
    fn every_older_schema_migrates_to_the_current_one() {
        let Some(url) = server() else { return };
        for version in 1..MIGRATIONS.len() {
            let t = TestSchema::new(&url);
            let mut c = raw_client(&url, t.name());
            schema_at_version(&mut c, t.name(), version);
            let store = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
                .unwrap_or_else(|e| panic!("from version {version}: {e}"));
            assert_eq!(table_count(&mut c, t.name()), TABLES, "from {version}");
            assert!(
                store
                    .credentials(CredentialKind::Token)
                    .expect("list")
                    .is_empty()
            );
        }
    }

    #[test]
    fn hosts_starting_together_migrate_once() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let opened: Vec<Result<PostgresStore>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        for o in &opened {
            assert!(o.is_ok(), "{o:?}");
        }
    }

    #[test]
    fn a_newer_schema_is_refused_with_both_versions_and_left_alone() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        drop(
            PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
                .expect("create"),
        );
        let mut c = raw_client(&url, t.name());
        c.execute(
            "UPDATE actioncenter_schema SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .expect("bump");
        let err = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("this library's {SCHEMA_VERSION}")),
            "{msg}"
        );
        let v: i32 = c
            .query_one("SELECT version FROM actioncenter_schema", &[])
            .expect("version")
            .get(0);
        assert_eq!(v, SCHEMA_VERSION + 1);
        assert_eq!(table_count(&mut c, t.name()), TABLES);
    }

    #[test]
    fn another_applications_schema_is_refused_untouched() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let mut c = raw_client(&url, t.name());
        c.batch_execute(&format!(
            "CREATE SCHEMA \"{}\"; CREATE TABLE invoices (id INTEGER PRIMARY KEY); \
             INSERT INTO invoices VALUES (1);",
            t.name()
        ))
        .expect("create");
        let err = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains("is not an actioncenter database"), "{msg}");
        assert!(msg.contains("invoices"), "{msg}");
        assert_eq!(table_count(&mut c, t.name()), 1);

        // A version table of another application is refused too.
        c.batch_execute(
            "CREATE TABLE actioncenter_schema (id SMALLINT PRIMARY KEY, application TEXT, version INTEGER); \
             INSERT INTO actioncenter_schema VALUES (1, 'something-else', 1);",
        )
        .expect("create");
        let err = PostgresStore::connect_with(&url, &PostgresOptions::in_schema(t.name()))
            .expect_err("refused");
        assert!(err.to_string().contains("something-else"), "{err}");
        assert_eq!(table_count(&mut c, t.name()), 2);
    }

    #[test]
    fn without_a_schema_option_the_search_path_decides() {
        let Some(url) = server() else { return };
        let t = TestSchema::new(&url);
        let mut c = raw_client(&url, t.name());
        c.batch_execute(&format!("CREATE SCHEMA \"{}\"", t.name()))
            .expect("create");
        // The URL's options set the search_path, as a deployment might.
        let with_path = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let sep = if url.contains('?') { "&" } else { "?" };
            format!("{url}{sep}options=-csearch_path%3D{}", t.name())
        } else {
            format!("{url} options=-csearch_path={}", t.name())
        };
        let store = PostgresStore::connect(&with_path).expect("connect");
        assert_eq!(store.schema(), t.name());
        assert_eq!(table_count(&mut c, t.name()), TABLES);
    }
}
