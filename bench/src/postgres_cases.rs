//! PostgreSQL: approve against a raw prepared single-row `UPDATE` on the
//! same server, and claims per second with 1, 4 and 16 executors.
//!
//! Everything happens in a schema of its own (`ac_bench_<pid>`), dropped
//! at the end whatever happened.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use actioncenter::*;
use postgres::{Client, NoTls};

use crate::Size;
use crate::report::{Report, Res, Row, median, per_second, rate};

pub fn run(report: &mut Report, url: &str, size: Size) -> Res<()> {
    let schema = format!("ac_bench_{}", std::process::id());
    let result = cases(report, url, &schema, size);
    if let Ok(mut c) = Client::connect(url, NoTls) {
        // The name is made above from a number: plain, and quoted.
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    }
    result
}

fn next_device() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn isolation(i: usize) -> Proposal {
    Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            // A device of its own for every proposal of the process: one
            // active isolation per device is the engine's rule.
            device_id: format!("bench-{i}-{}", next_device()),
            name: None,
        },
        Source::Antivirus,
    )
}

fn cases(report: &mut Report, url: &str, schema: &str, size: Size) -> Res<()> {
    let options = PostgresOptions {
        pool_size: 4,
        ..PostgresOptions::in_schema(schema)
    };
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect_with(url, &options)?);
    let mut raw = Client::connect(url, NoTls)?;
    let n = size.pick(500, 40);
    let rounds = size.pick(5, 2);
    raw.batch_execute(&format!(
        "SET search_path TO \"{schema}\"; \
         CREATE TABLE bench_actions (id BIGINT PRIMARY KEY, status TEXT NOT NULL, \
           version BIGINT NOT NULL, doc JSONB NOT NULL); \
         CREATE INDEX ON bench_actions (status, id); \
         INSERT INTO bench_actions SELECT g, 'pending', 1, '{{\"kind\": \"isolate_device\"}}' \
           FROM generate_series(1, {}) g;",
        n * rounds
    ))?;
    let settings = raw.query_one(
        "SELECT current_setting('server_version'), current_setting('fsync'), \
         current_setting('synchronous_commit')",
        &[],
    )?;
    let server = format!(
        "server {}, fsync={}, synchronous_commit={}",
        settings.get::<_, String>(0),
        settings.get::<_, String>(1),
        settings.get::<_, String>(2)
    );
    println!("PostgreSQL: {server}");

    let center = ActionCenter::with_clock(store.clone(), Policy::default(), Arc::new(SystemClock));
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    // Proposed by `center`, which keeps them: it approves on its copy,
    // in one round trip. `cold` is another handle on the same database
    // (another host's), which kept nothing and reads each action first.
    let pending: Vec<ActionId> = (0..n * rounds)
        .map(|i| center.propose(&air, isolation(i)).map(|a| a.id))
        .collect::<Result<_>>()?;
    let cold = ActionCenter::with_clock(
        Arc::new(PostgresStore::connect_with(url, &options)?),
        Policy::default(),
        Arc::new(SystemClock),
    );
    let unkept: Vec<ActionId> = (0..n * rounds)
        .map(|i| center.propose(&air, isolation(i)).map(|a| a.id))
        .collect::<Result<_>>()?;
    let update = raw.prepare(
        "UPDATE bench_actions SET status = 'approved', version = version + 1 \
         WHERE id = $1 AND version = $2",
    )?;
    let (mut ours, mut theirs, mut read_first) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let t = Instant::now();
        for i in r * n..(r + 1) * n {
            let id = i as i64 + 1;
            if raw.execute(&update, &[&id, &1i64])? != 1 {
                return Err("raw compare-and-set missed".into());
            }
        }
        theirs.push(rate(n, t.elapsed()));
        let t = Instant::now();
        for id in &pending[r * n..(r + 1) * n] {
            center.approve(&alice, *id, &Decide::default())?;
        }
        ours.push(rate(n, t.elapsed()));
        let t = Instant::now();
        for id in &unkept[r * n..(r + 1) * n] {
            cold.approve(&alice, *id, &Decide::default())?;
        }
        read_first.push(rate(n, t.elapsed()));
    }
    let (a, b, c) = (
        median(&mut ours),
        median(&mut theirs),
        median(&mut read_first),
    );
    report.row(Row {
        group: "postgres",
        measure: format!(
            "approve, PostgreSQL, an action this handle proposed (kept: one round trip), vs raw prepared single-row UPDATE ({server})"
        ),
        actioncenter: per_second(a),
        peer: per_second(b),
        ratio: Some(a / b),
        target: "≥ 0.8".into(),
        met: Some(a / b >= 0.8),
    })?;
    report.row(Row {
        group: "postgres",
        measure: "approve, PostgreSQL, an action another handle proposed (read first: two round trips), same peer".into(),
        actioncenter: per_second(c),
        peer: per_second(b),
        ratio: Some(c / b),
        target: "≥ 0.8".into(),
        met: Some(c / b >= 0.8),
    })?;

    let automatic = Policy::default().with_automation(Automation {
        default: AutomationLevel::Full,
        ..Automation::default()
    });
    // The database's policy, stored: every handle on it then approves at once.
    center.set_policy(
        &Principal::new("bench-admin", ["admin"]),
        automatic,
        None,
        None,
    )?;
    let proposer = &center;
    // The actions approved above wait in the queue: take them out first.
    claim_all(url, &options, 1, 100, 2 * n * rounds)?;
    let claims = size.pick(3_000, 100);
    for batch in [1usize, 10] {
        let mut one = None;
        for workers in [1usize, 4, 16] {
            for i in 0..claims {
                proposer.propose(&air, isolation(i))?;
            }
            let r = claim_all(url, &options, workers, batch, claims)?;
            let base = *one.get_or_insert(r);
            report.row(Row {
                group: "postgres",
                measure: format!(
                    "PostgreSQL claims, {workers} executor(s), {batch} per call (ratio: over 1 executor)"
                ),
                actioncenter: per_second(r),
                peer: String::new(),
                ratio: (workers > 1).then_some(r / base),
                target: "more executors, not fewer claims".into(),
                met: Some(workers == 1 || r >= base),
            })?;
        }
    }
    if !center.verify_audit()?.is_intact() {
        return Err("audit chain broken".into());
    }
    Ok(())
}

/// Claims every claimable action with `workers` threads, each with a
/// store (a connection) of its own, as separate hosts would; returns
/// actions claimed per second.
fn claim_all(
    url: &str,
    options: &PostgresOptions,
    workers: usize,
    batch: usize,
    expected: usize,
) -> Res<f64> {
    let centers: Vec<ActionCenter> = (0..workers)
        .map(|_| {
            let store = PostgresStore::connect_with(
                url,
                &PostgresOptions {
                    pool_size: 1,
                    ..options.clone()
                },
            )?;
            Ok(ActionCenter::new(store, Policy::default()))
        })
        .collect::<Result<_>>()?;
    let barrier = Arc::new(Barrier::new(workers + 1));
    let (claimed, elapsed) = std::thread::scope(|s| {
        let handles: Vec<_> = centers
            .iter()
            .enumerate()
            .map(|(w, center)| {
                let barrier = barrier.clone();
                s.spawn(move || -> Result<usize> {
                    let me = Principal::new(format!("agent-{w}"), ["executor"]);
                    let request = ClaimRequest {
                        limit: batch,
                        lease_seconds: 600,
                        kinds: None,
                    };
                    barrier.wait();
                    let mut n = 0;
                    loop {
                        let got = center.claim(&me, &request)?.len();
                        if got == 0 {
                            return Ok(n);
                        }
                        n += got;
                    }
                })
            })
            .collect();
        barrier.wait();
        let t = Instant::now();
        let claimed: Result<Vec<usize>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::storage_msg("executor panicked")))
            })
            .collect();
        (claimed, t.elapsed())
    });
    let total: usize = claimed?.iter().sum();
    if total != expected {
        return Err(format!("claimed {total} actions, expected {expected}").into());
    }
    Ok(rate(total, elapsed))
}
