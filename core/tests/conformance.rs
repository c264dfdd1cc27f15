//! The conformance suite (`actioncenter::conformance`) on every built-in
//! backend: memory, SQLite, and PostgreSQL when a server is available
//! (see `support/pg_cluster.rs`).

use std::sync::Arc;

use actioncenter::conformance::Harness;
use actioncenter::{MemoryStore, Store};

/// The engine over `store`, whose actions live in `memory` (the same
/// store, or the one it wraps): the hooks edit `memory` directly.
fn on_memory(store: Arc<dyn Store>, memory: Arc<MemoryStore>) -> Harness {
    let (tamper, rewrite, truncate) = (memory.clone(), memory.clone(), memory);
    Harness::new(store.clone())
        .with_tamper_event(move |seq| tamper.tamper_with_event(seq, "tampered").expect("tamper"))
        .with_reopen(move || store.clone())
        .with_rewrite_action(move |a| {
            let a = a.clone();
            rewrite
                .tamper_with_action(a.id, |stored| *stored = a)
                .expect("rewrite")
        })
        .with_truncate_events(move |n| {
            let total = truncate.chain_head().expect("head").0;
            truncate
                .truncate_events(usize::try_from(total - n).expect("n"))
                .expect("truncate")
        })
}

fn memory() -> Option<Harness> {
    let store = Arc::new(MemoryStore::new());
    Some(on_memory(store.clone(), store))
}

actioncenter::conformance_suite!(memory_backend, memory);

/// The memory store behind a wrapper that says its reads are round trips,
/// as PostgreSQL's are: every case then runs with engines that decide on
/// the pending actions they keep, and a reopened handle is a second engine
/// whose copies go stale as the first one writes.
fn memory_with_kept_copies() -> Option<Harness> {
    use actioncenter::conformance::FaultyStore;
    let memory = Arc::new(MemoryStore::new());
    let store = Arc::new(FaultyStore::new(memory.clone()).with_round_trips());
    Some(on_memory(store, memory))
}

actioncenter::conformance_suite!(memory_with_kept_copies_backend, memory_with_kept_copies);

#[cfg(feature = "sqlite")]
fn sqlite() -> Option<Harness> {
    use actioncenter::SqliteStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("actioncenter.db");
    let store = Arc::new(SqliteStore::open(&path).expect("open sqlite"));
    let (tamper, reopen, rewrite, truncate) = (path.clone(), path.clone(), path.clone(), path);
    Some(
        Harness::new(store)
            .with_tamper_event(move |seq| {
                let conn = rusqlite::Connection::open(&tamper).expect("open");
                conn.execute(
                    "UPDATE events SET comment = 'tampered' WHERE seq = ?1",
                    [seq as i64],
                )
                .expect("tamper");
            })
            .with_reopen(move || {
                Arc::new(SqliteStore::open(&reopen).expect("reopen")) as Arc<dyn Store>
            })
            .with_rewrite_action(move |a| {
                let conn = rusqlite::Connection::open(&rewrite).expect("open");
                let doc = serde_json::to_string(a).expect("doc");
                conn.execute(
                    "UPDATE actions SET status = ?1, version = ?2, doc = ?3 WHERE id = ?4",
                    rusqlite::params![a.status.as_str(), a.version as i64, doc, a.id.to_string()],
                )
                .expect("rewrite");
            })
            .with_truncate_events(move |n| {
                let conn = rusqlite::Connection::open(&truncate).expect("open");
                conn.execute("DELETE FROM events WHERE seq > ?1", [n as i64])
                    .expect("truncate");
            })
            .keep(dir),
    )
}

#[cfg(feature = "sqlite")]
actioncenter::conformance_suite!(sqlite_backend, sqlite);

#[cfg(feature = "postgres")]
#[path = "support/pg_cluster.rs"]
mod pg_cluster;

/// A fresh schema on the test server; `None` when there is no server and
/// the tests may skip.
#[cfg(feature = "postgres")]
fn postgres() -> Option<Harness> {
    use actioncenter::{PostgresOptions, PostgresStore};
    use pg_cluster::{TestSchema, server};
    let url = server()?;
    let schema = TestSchema::new(&url);
    let options = PostgresOptions {
        pool_size: 4,
        ..PostgresOptions::in_schema(schema.name())
    };
    let store = Arc::new(PostgresStore::connect_with(&url, &options).expect("open postgres"));
    let sql = {
        let (url, name) = (url.clone(), schema.name().to_owned());
        move |statement: &str, params: &[&(dyn postgres::types::ToSql + Sync)]| {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            c.batch_execute(&format!("SET search_path TO \"{name}\""))
                .expect("search_path");
            c.execute(statement, params).expect("tamper");
        }
    };
    let (tamper, rewrite, truncate) = (sql.clone(), sql.clone(), sql);
    Some(
        Harness::new(store)
            .with_tamper_event(move |seq| {
                tamper(
                    "UPDATE events SET comment = 'tampered' WHERE seq = $1",
                    &[&(seq as i64)],
                )
            })
            .with_reopen(move || {
                Arc::new(PostgresStore::connect_with(&url, &options).expect("reopen"))
                    as Arc<dyn Store>
            })
            .with_rewrite_action(move |a| {
                let doc = serde_json::to_string(a).expect("doc");
                rewrite(
                    "UPDATE actions SET status = $1, version = $2, doc = $3::text::jsonb WHERE id = $4",
                    &[&a.status.as_str(), &(a.version as i64), &doc, &a.id.to_string()],
                )
            })
            .with_truncate_events(move |n| {
                truncate("DELETE FROM events WHERE seq > $1", &[&(n as i64)])
            })
            // Dropped after the engine: the schema goes once the stores are closed.
            .keep(schema),
    )
}

#[cfg(feature = "postgres")]
actioncenter::conformance_suite!(postgres_backend, postgres);
