//! SQLite: approve against a raw compare-and-set `UPDATE`, bulk approve
//! against a raw batched `UPDATE`, and the views on large stores.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use actioncenter::*;
use chrono::{Duration, TimeZone, Utc};
use rusqlite::{Connection, params};

use crate::Size;
use crate::memory::isolation;
use crate::report::{Report, Res, Row, median, median_time, per_second, rate, thousands, took};

fn air() -> Principal {
    Principal::new("air", ["automation"])
}

fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}

fn sync_name(sync: Synchronous) -> &'static str {
    match sync {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    }
}

fn open(path: &Path, sync: Synchronous) -> Res<ActionCenter> {
    let options = SqliteOptions {
        synchronous: sync,
        ..SqliteOptions::default()
    };
    Ok(ActionCenter::new(
        SqliteStore::open_with(path, &options)?,
        Policy::default(),
    ))
}

/// `n` pending actions, proposed through a `NORMAL` handle (seeding is
/// not what is measured).
fn seed_pending(path: &Path, n: usize) -> Res<Vec<ActionId>> {
    let center = open(path, Synchronous::Normal)?;
    let air = air();
    Ok((0..n)
        .map(|i| center.propose(&air, isolation(i)).map(|a| a.id))
        .collect::<Result<_>>()?)
}

/// The peer: the table a hand-rolled state machine keeps (id, status,
/// version, the record as JSON, an index on status), WAL and the same
/// `synchronous`, `n` pending rows.
fn raw_table(path: &Path, sync: Synchronous, n: usize) -> Res<(Connection, Vec<String>)> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE actions (id TEXT PRIMARY KEY, status TEXT NOT NULL, \
         version INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID; \
         CREATE INDEX actions_by_status ON actions (status, id);",
    )?;
    let doc = serde_json::to_string(&isolation(0))?;
    let tx = conn.transaction()?;
    let mut ids = Vec::with_capacity(n);
    {
        let mut insert = tx.prepare("INSERT INTO actions VALUES (?1, 'pending', 1, 0, ?2)")?;
        for i in 0..n {
            let id = format!("{i:08}-0000-7000-8000-000000000000");
            insert.execute(params![id, doc])?;
            ids.push(id);
        }
    }
    tx.commit()?;
    conn.pragma_update(None, "synchronous", sync_name(sync))?;
    Ok((conn, ids))
}

const CAS: &str = "UPDATE actions SET status = 'approved', version = version + 1, \
                   updated_at = ?1 WHERE id = ?2 AND version = ?3";

fn raw_approve(conn: &Connection, id: &str) -> Res<()> {
    let mut update = conn.prepare_cached(CAS)?;
    if update.execute(params![Utc::now().timestamp_micros(), id, 1])? != 1 {
        return Err(format!("raw compare-and-set missed {id}").into());
    }
    Ok(())
}

pub fn approve(report: &mut Report, dir: &Path, size: Size) -> Res<()> {
    let n = size.pick(400, 40);
    let rounds = size.pick(7, 2);
    for (sync, target) in [(Synchronous::Full, 0.9), (Synchronous::Normal, 0.5)] {
        let name = sync_name(sync);
        let path = dir.join(format!("approve-{name}.db"));
        let ids = seed_pending(&path, n * rounds)?;
        let center = open(&path, sync)?;
        let (raw, raw_ids) = raw_table(&dir.join(format!("raw-{name}.db")), sync, n * rounds)?;
        let alice = alice();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            let range = r * n..(r + 1) * n;
            let run_ours = || -> Res<f64> {
                let t = Instant::now();
                for id in &ids[range.clone()] {
                    center.approve(&alice, *id, &Decide::default())?;
                }
                Ok(rate(n, t.elapsed()))
            };
            let run_theirs = || -> Res<f64> {
                let t = Instant::now();
                for id in &raw_ids[range.clone()] {
                    raw_approve(&raw, id)?;
                }
                Ok(rate(n, t.elapsed()))
            };
            // Alternate which goes first.
            if r % 2 == 0 {
                ours.push(run_ours()?);
                theirs.push(run_theirs()?);
            } else {
                theirs.push(run_theirs()?);
                ours.push(run_ours()?);
            }
        }
        let (a, b) = (median(&mut ours), median(&mut theirs));
        report.row(Row {
            group: "sqlite",
            measure: format!(
                "approve, SQLite {name}, vs raw rusqlite compare-and-set UPDATE, own commit"
            ),
            actioncenter: per_second(a),
            peer: per_second(b),
            ratio: Some(a / b),
            target: format!("≥ {target}"),
            met: Some(a / b >= target),
        })?;
    }
    Ok(())
}

pub fn bulk(report: &mut Report, dir: &Path, size: Size) -> Res<()> {
    let n = size.pick(10_000, 500);
    let rounds = size.pick(3, 1);
    let path = dir.join("bulk.db");
    let ids = seed_pending(&path, n * rounds)?;
    let center = open(&path, Synchronous::Full)?;
    let (mut raw, raw_ids) = raw_table(&dir.join("raw-bulk.db"), Synchronous::Full, n * rounds)?;
    let alice = alice();
    let op = BulkOp::Approve { comment: None };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let range = r * n..(r + 1) * n;
        let t = Instant::now();
        // Every item at version 1, as a caller that just listed them saw it.
        let seen: Vec<Seen> = ids[range.clone()]
            .iter()
            .map(|id| Seen {
                id: *id,
                version: 1,
            })
            .collect();
        let results = center.bulk(&alice, &op, &Selection::Ids(seen))?;
        ours.push(rate(n, t.elapsed()));
        if results.iter().any(|i| i.result.is_err()) {
            return Err("a bulk approval failed".into());
        }
        let t = Instant::now();
        let tx = raw.transaction()?;
        {
            let mut update = tx.prepare(CAS)?;
            let now = Utc::now().timestamp_micros();
            for id in &raw_ids[range] {
                update.execute(params![now, id, 1])?;
            }
        }
        tx.commit()?;
        theirs.push(rate(n, t.elapsed()));
    }
    let (a, b) = (median(&mut ours), median(&mut theirs));
    report.row(Row {
        group: "sqlite",
        measure: format!(
            "bulk approve of {} in one call, SQLite FULL, vs raw batched UPDATE in one transaction",
            thousands(n as u64)
        ),
        actioncenter: per_second(a),
        peer: per_second(b),
        ratio: Some(a / b),
        target: "≥ 100,000/s".into(),
        met: Some(a >= 100_000.0),
    })
}

/// Grows a SQLite store through the engine to each size in turn (about
/// one in ten Pending isolations, the rest quarantines run to Completed,
/// 25 actions per investigation) and times the views at each size.
pub fn scale(report: &mut Report, dir: &Path, size: Size) -> Res<()> {
    let mut sizes = if size.quick {
        vec![1_000, 5_000]
    } else {
        vec![10_000, 100_000]
    };
    if size.large && !size.quick {
        sizes.push(1_000_000);
    }
    let path = dir.join("scale.db");
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_with(&path, &options)?);
    let clock = Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .ok_or("start time")?,
    ));
    let automation = Automation {
        default: AutomationLevel::Full,
        kinds: [(Kind::IsolateDevice, AutomationLevel::Semi)].into(),
        ..Automation::default()
    };
    let policy = Policy::default().with_automation(automation);
    let center = ActionCenter::with_clock(store, policy, clock.clone());
    let (air, alice) = (air(), alice());
    let agent = Principal::new("agent", ["executor"]);
    let mut have = 0usize;
    let mut first: Option<(f64, f64, f64)> = None;
    for &want in &sizes {
        let started = Instant::now();
        for i in have..want {
            clock.advance(Duration::milliseconds(20));
            let device = format!("dev-{}", i % 5000);
            let (kind, entity) = if i % 10 == 0 {
                (
                    Kind::IsolateDevice,
                    Entity::Device {
                        // Isolations wait for approval and stay pending:
                        // a device of their own each, as one device has
                        // one active isolation at a time.
                        device_id: format!("isolated-{i}"),
                        name: None,
                    },
                )
            } else {
                (
                    Kind::QuarantineFile,
                    Entity::File {
                        sha256: format!("{:064x}", i % 20_000),
                        path: "C:\\x.exe".into(),
                        device_id: device,
                    },
                )
            };
            let source = Source::AutomatedInvestigation {
                investigation_id: format!("inv-{}", i / 25),
            };
            center.propose(&air, Proposal::new(kind, entity, source))?;
            if i % 1000 == 999 || i + 1 == want {
                let request = ClaimRequest {
                    limit: 1000,
                    lease_seconds: 3600,
                    kinds: None,
                };
                for a in center.claim(&agent, &request)? {
                    center.complete(
                        &agent,
                        a.id,
                        a.lease_token().unwrap_or_default(),
                        serde_json::json!({}),
                    )?;
                }
            }
        }
        have = want;
        eprintln!(
            "  seeded {} actions in {:.0?}",
            thousands(want as u64),
            started.elapsed()
        );
        let runs = 7;
        let counts = median_time(runs, || {
            center.counts(&alice, &Filter::default())?;
            Ok(())
        })?;
        let pending = median_time(runs, || {
            center.list(&alice, &Filter::pending(), &PageRequest::first(50))?;
            Ok(())
        })?;
        let by_investigation = Filter {
            statuses: Status::HISTORY.to_vec(),
            investigation_id: Some(format!("inv-{}", want / 50)),
            ..Filter::default()
        };
        let history = median_time(runs, || {
            center.list(&alice, &by_investigation, &PageRequest::first(50))?;
            Ok(())
        })?;
        let (c0, p0, h0) = *first.get_or_insert((counts, pending, history));
        let label = thousands(want as u64);
        let base = thousands(sizes[0] as u64);
        let vs = |x: f64, x0: f64| if want == sizes[0] { None } else { Some(x / x0) };
        report.row(Row {
            group: "scale",
            measure: format!(
                "counts per status (tab badges), SQLite, {label} actions (ratio: time over {base})"
            ),
            actioncenter: took(counts),
            peer: String::new(),
            ratio: vs(counts, c0),
            target: "≤ 2 ms at 1M, flat from 10k".into(),
            met: Some(counts <= 2e-3 && vs(counts, c0).is_none_or(|r| r <= 2.0)),
        })?;
        report.row(Row {
            group: "scale",
            measure: format!("first Pending page (50), SQLite, {label} actions"),
            actioncenter: took(pending),
            peer: String::new(),
            ratio: vs(pending, p0),
            target: String::new(),
            met: None,
        })?;
        report.row(Row {
            group: "scale",
            measure: format!("History page filtered by investigation, SQLite, {label} actions"),
            actioncenter: took(history),
            peer: String::new(),
            ratio: vs(history, h0),
            target: String::new(),
            met: None,
        })?;
        let conn = Connection::open(&path)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let page_count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let bytes = (page_count * page_size) as u64;
        report.row(Row {
            group: "scale",
            measure: format!("bytes per action on disk (with its events), SQLite, {label} actions"),
            actioncenter: format!("{} B", thousands(bytes / want as u64)),
            peer: String::new(),
            ratio: None,
            target: String::new(),
            met: None,
        })?;
    }
    Ok(())
}

/// `approve` one by one on SQLite NORMAL, or one `bulk` approve on FULL,
/// over `n` seeded actions: a single case for a profiler.
/// The WAL frames `run` writes to the database at `path`.
fn wal_frames(path: &Path, run: impl FnOnce() -> Res<()>) -> Res<i64> {
    let check = Connection::open(path)?;
    // Empty the WAL, so that the next write starts it again at frame 0.
    check.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    run()?;
    Ok(check.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?)
}

pub fn profile(dir: &Path, case: &str, n: usize) -> Res<()> {
    let path = dir.join("profile.db");
    let ids = seed_pending(&path, n)?;
    let alice = alice();
    let t = Instant::now();
    match case {
        "approve" => {
            let center = open(&path, Synchronous::Normal)?;
            for id in ids {
                center.approve(&alice, id, &Decide::default())?;
            }
        }
        "bulk" => {
            let center = open(&path, Synchronous::Full)?;
            center.bulk(
                &alice,
                &BulkOp::Approve { comment: None },
                &Selection::Ids(
                    ids.iter()
                        .map(|id| Seen {
                            id: *id,
                            version: 1,
                        })
                        .collect(),
                ),
            )?;
        }
        "frames" => {
            // The pages each approve commits to the WAL, the engine's and
            // the peer's, over `n` approvals (few enough that no
            // automatic checkpoint restarts the WAL meanwhile).
            if n > 60 {
                return Err("profile frames N: N at most 60".into());
            }
            let ours = wal_frames(&path, || {
                let center = open(&path, Synchronous::Normal)?;
                for id in &ids {
                    center.approve(&alice, *id, &Decide::default())?;
                }
                Ok(())
            })?;
            let raw_path = dir.join("profile-raw.db");
            let (raw, raw_ids) = raw_table(&raw_path, Synchronous::Normal, n)?;
            let theirs = wal_frames(&raw_path, || {
                raw_ids.iter().try_for_each(|id| raw_approve(&raw, id))
            })?;
            println!(
                "WAL frames per approve: engine {:.1}, raw compare-and-set {:.1}",
                ours as f64 / n as f64,
                theirs as f64 / n as f64
            );
            return Ok(());
        }
        other => return Err(format!("no profile case {other:?}").into()),
    }
    println!("{case}: {}", per_second(rate(n, t.elapsed())));
    Ok(())
}
