//! Measures the PostgreSQL store on one server, side by side:
//!
//! 1. the transition commit rate: `approve` through the engine and
//!    `PostgresStore` (read, compare-and-set update, audit event under
//!    the chain-head lock, commit), against a raw single-row `UPDATE`
//!    (prepared, autocommit) on the same server, in alternating rounds;
//! 2. claim throughput with 1 and 4 workers, each worker with a store
//!    (and so a connection pool) of its own, as separate hosts would
//!    have, claiming 1 or 10 actions per call.
//!
//! ```text
//! cargo run --release -p actioncenter --features postgres --example pg_bench -- URL [--quick]
//! ```
//!
//! Everything happens in a schema of its own (`ac_bench_<pid>`), dropped
//! at the end. `--quick` runs a few hundred operations, as a smoke test.

use std::error::Error as StdError;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use actioncenter::store::Store;
use actioncenter::*;
use postgres::{Client, NoTls};

type Res<T> = Result<T, Box<dyn StdError>>;

fn main() -> Res<()> {
    let mut url = None;
    let mut quick = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("usage: pg_bench URL [--quick]");
                return Ok(());
            }
            _ if url.is_none() => url = Some(arg),
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    let url = url.ok_or("usage: pg_bench URL [--quick]")?;
    let schema = format!("ac_bench_{}", std::process::id());
    let result = run(&url, &schema, quick);
    // Clean up whatever happened.
    if let Ok(mut c) = Client::connect(&url, NoTls) {
        // The name is made above from a number: plain, and quoted.
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    }
    result
}

fn run(url: &str, schema: &str, quick: bool) -> Res<()> {
    let (transitions, claims) = if quick { (200, 200) } else { (5_000, 4_000) };
    let options = PostgresOptions {
        pool_size: 4,
        ..PostgresOptions::in_schema(schema)
    };
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect_with(url, &options)?);
    let mut raw = Client::connect(url, NoTls)?;
    raw.batch_execute(&format!(
        "SET search_path TO \"{schema}\"; \
         CREATE TABLE bench_counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL); \
         INSERT INTO bench_counter VALUES (1, 0);"
    ))?;
    let settings = raw.query_one(
        "SELECT current_setting('server_version'), current_setting('fsync'), \
         current_setting('synchronous_commit')",
        &[],
    )?;
    println!(
        "server {}, fsync={}, synchronous_commit={}",
        settings.get::<_, String>(0),
        settings.get::<_, String>(1),
        settings.get::<_, String>(2)
    );

    // ---- 1. transitions against raw updates --------------------------
    let center = ActionCenter::with_clock(store.clone(), Policy::default(), Arc::new(SystemClock));
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let pending: Vec<ActionId> = (0..transitions)
        .map(|i| center.propose(&air, isolation(i)).map(|a| a.id))
        .collect::<Result<_>>()?;
    let update = raw.prepare("UPDATE bench_counter SET n = n + 1 WHERE id = 1")?;
    // Warm both paths up, then alternate rounds so drift hits both alike.
    for _ in 0..50 {
        raw.execute(&update, &[])?;
    }
    let rounds = 5;
    let per_round = transitions / rounds;
    let (mut raw_time, mut engine_time) = (Duration::ZERO, Duration::ZERO);
    for r in 0..rounds {
        let t = Instant::now();
        for _ in 0..per_round {
            raw.execute(&update, &[])?;
        }
        raw_time += t.elapsed();
        let t = Instant::now();
        for id in &pending[r * per_round..(r + 1) * per_round] {
            center.approve(&alice, *id, &Decide::default())?;
        }
        engine_time += t.elapsed();
    }
    let done = (rounds * per_round) as f64;
    let raw_rate = done / raw_time.as_secs_f64();
    let engine_rate = done / engine_time.as_secs_f64();
    println!(
        "raw single-row UPDATE:      {raw_rate:>9.0} commits/s ({:.3} ms each)",
        1e3 / raw_rate
    );
    println!(
        "engine approve (Postgres):  {engine_rate:>9.0} transitions/s ({:.3} ms each)",
        1e3 / engine_rate
    );
    println!(
        "ratio raw / engine:         {:>9.2}",
        raw_rate / engine_rate
    );

    // ---- 2. claims with 1 and 4 workers --------------------------------
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
    claim_all(url, &options, 1, 100, transitions)?;
    for batch in [1usize, 10] {
        for workers in [1usize, 4] {
            for i in 0..claims {
                proposer.propose(&air, isolation(i))?;
            }
            let rate = claim_all(url, &options, workers, batch, claims)?;
            println!("claim, {workers} worker(s), {batch:>2} per call: {rate:>9.0} actions/s");
        }
    }
    let report = center.verify_audit()?;
    if !report.is_intact() {
        return Err(format!("audit chain broken: {report:?}").into());
    }
    println!("audit chain intact: {} events", report.events_checked);
    Ok(())
}

fn isolation(i: usize) -> Proposal {
    // A device of its own for every proposal: one active isolation per device.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            device_id: format!("bench-{i}-{n}"),
            name: None,
        },
        Source::Antivirus,
    )
}

/// Claims every claimable action with `workers` threads, each with a
/// store of its own; returns actions claimed per second.
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
                    .unwrap_or_else(|_| Err(Error::storage_msg("worker panicked")))
            })
            .collect();
        (claimed, t.elapsed())
    });
    let total: usize = claimed?.iter().sum();
    if total != expected {
        return Err(format!("claimed {total} actions, expected {expected}").into());
    }
    Ok(total as f64 / elapsed.as_secs_f64())
}
