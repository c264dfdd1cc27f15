//! A database ready for the server's load and conformance scripts: a
//! policy naming five principals, `N` pending actions, and API tokens.
//!
//! ```sh
//! cargo run -p actioncenter-server --example fixture -- \
//!     --db ac.db --pending 100 --token-for alice soar --out fixture.json
//! ```
//!
//! prints (or writes to `--out`)
//! `{"tokens": {"alice": "act_...", "soar": "act_..."}, "pending": ["<id>", ...]}`.
//!
//! With `--approve-threads T` it then approves those `N` actions in this
//! process, through the library, from `T` threads, and prints
//! `{"approvals", "threads", "seconds", "per_second", "p50_ms", "p99_ms", "errors"}`
//! instead: the in-process side of `scripts/server-load.sh`.
//!
//! The store is opened the way the server opens it (SQLite with the
//! library's default options, PostgreSQL with the default pool), so both
//! sides of a comparison run on the same settings. The policy is stored
//! only when the database has none yet (a database made by
//! `ActionCenter::open_sqlite` already holds the default one and keeps it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actioncenter::engine::Decide;
use actioncenter::{ActionCenter, ActionId, Policy, Principal, Proposal};
use clap::Parser;
use serde_json::json;

/// Prepares a database for the server's scripts.
#[derive(Debug, Parser)]
struct Args {
    /// The SQLite file (created if missing).
    #[arg(
        long,
        required_unless_present = "postgres",
        conflicts_with = "postgres"
    )]
    db: Option<PathBuf>,
    /// A PostgreSQL connection URL instead of SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// Pending actions to propose (isolate_device on distinct devices, by soar).
    #[arg(long, default_value_t = 0)]
    pending: usize,
    /// Principals to create an API token for (admin, alice, soar, edr, victor).
    #[arg(long, num_args = 1.., value_name = "PRINCIPAL")]
    token_for: Vec<String>,
    /// Threads that propose (each proposal is its own transaction).
    #[arg(long, default_value_t = 4)]
    propose_threads: usize,
    /// Approve the pending actions in process from this many threads and
    /// print the measurement instead of the fixture.
    #[arg(long)]
    approve_threads: Option<usize>,
    /// Write the JSON here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The principals every script relies on.
fn policy() -> actioncenter::Result<Policy> {
    Policy::default()
        .with_principal("admin", ["admin"])?
        .with_principal("alice", ["analyst"])?
        .with_principal("soar", ["automation"])?
        .with_principal("edr", ["executor"])?
        .with_principal("victor", ["viewer"])
}

fn open(args: &Args) -> Result<ActionCenter, String> {
    let policy = policy().map_err(|e| format!("the fixture's policy: {e}"))?;
    let center = match (&args.postgres, &args.db) {
        (Some(url), _) => {
            let store = actioncenter::PostgresStore::connect(url).map_err(|e| e.to_string())?;
            ActionCenter::new(store, policy)
        }
        (None, Some(path)) => {
            let store = actioncenter::SqliteStore::open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            ActionCenter::new(store, policy)
        }
        (None, None) => return Err("name --db FILE or --postgres URL".into()),
    };
    let stored = center.stored_policy().map_err(|e| e.to_string())?;
    for id in ["admin", "alice", "soar", "edr", "victor"] {
        if stored.policy.principal(id).is_none() {
            return Err(format!(
                "the database's stored policy (version {}) does not name {id}: it was made \
                 before this fixture; use a new database",
                stored.version
            ));
        }
    }
    Ok(center)
}

fn principal(center: &ActionCenter, id: &str) -> Result<Principal, String> {
    center.principal(id).map_err(|e| e.to_string())
}

/// Proposes `n` isolations on devices of this run's own, from `threads`
/// threads; their ids in the order of their devices.
fn propose(center: &ActionCenter, n: usize, threads: usize) -> Result<Vec<ActionId>, String> {
    let soar = principal(center, "soar")?;
    // Devices no earlier run used, so no proposal is an open duplicate.
    let run = actioncenter::uuid::Uuid::now_v7().simple().to_string();
    let run = &run[run.len() - 12..];
    let threads = threads.clamp(1, n.max(1));
    let mut ids: Vec<Option<ActionId>> = vec![None; n];
    std::thread::scope(|scope| -> Result<(), String> {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (center, soar) = (center.clone(), soar.clone());
                scope.spawn(move || -> Result<Vec<(usize, ActionId)>, String> {
                    let mut made = Vec::new();
                    for i in (t..n).step_by(threads) {
                        let text = json!({
                            "kind": "isolate_device",
                            "entity": {"type": "device", "device_id": format!("fx-{run}-{i}")},
                            "source": {"type": "playbook", "name": "fixture"},
                        })
                        .to_string();
                        let proposal = Proposal::from_json(&text).map_err(|e| e.to_string())?;
                        let action = center
                            .propose(&soar, proposal)
                            .map_err(|e| format!("proposal {i}: {e}"))?;
                        if action.status != actioncenter::Status::Pending {
                            return Err(format!(
                                "proposal {i} is {:?}, not pending: the stored policy \
                                 auto-approves playbook isolations",
                                action.status
                            ));
                        }
                        made.push((i, action.id));
                    }
                    Ok(made)
                })
            })
            .collect();
        for w in workers {
            let made = w
                .join()
                .map_err(|_| "a proposing thread panicked".to_owned())??;
            for (i, id) in made {
                ids[i] = Some(id);
            }
        }
        Ok(())
    })?;
    Ok(ids.into_iter().flatten().collect())
}

/// The `q` quantile (0..=1) of sorted times, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// Approves every id from `threads` threads; the measurement.
fn approve_all(
    center: &ActionCenter,
    ids: &[ActionId],
    threads: usize,
) -> Result<serde_json::Value, String> {
    let alice = principal(center, "alice")?;
    let threads = threads.max(1);
    let ids = Arc::new(ids.to_vec());
    let start = Instant::now();
    let results: Vec<(Vec<Duration>, Vec<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (center, alice, ids) = (center.clone(), alice.clone(), ids.clone());
                scope.spawn(move || {
                    let mut times = Vec::new();
                    let mut errors = Vec::new();
                    for id in ids.iter().skip(t).step_by(threads) {
                        let began = Instant::now();
                        match center.approve(&alice, *id, &Decide::default()) {
                            Ok(_) => times.push(began.elapsed()),
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                    (times, errors)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| (Vec::new(), vec!["an approving thread panicked".into()]))
            })
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut times: Vec<Duration> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    let errors: Vec<&String> = results.iter().flat_map(|r| r.1.iter()).collect();
    times.sort_unstable();
    Ok(json!({
        "approvals": times.len(),
        "threads": threads,
        "seconds": seconds,
        "per_second": if seconds > 0.0 { times.len() as f64 / seconds } else { 0.0 },
        "p50_ms": quantile_ms(&times, 0.50),
        "p99_ms": quantile_ms(&times, 0.99),
        "errors": errors.len(),
        "first_error": errors.first(),
    }))
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let center = open(args)?;
    let ids = propose(&center, args.pending, args.propose_threads)?;
    if let Some(threads) = args.approve_threads {
        // Open the database again, as the server would in its own
        // process: SQLite folds its write-ahead log into the file when
        // the last connection closes, so the approvals do not pay for
        // the proposals' checkpoint.
        drop(center);
        let center = open(args)?;
        return approve_all(&center, &ids, threads);
    }
    let admin = principal(&center, "admin")?;
    let mut tokens = BTreeMap::new();
    for who in &args.token_for {
        let issued = center
            .create_token(
                &admin,
                who,
                "fixture",
                actioncenter::chrono::Duration::days(1),
            )
            .map_err(|e| format!("a token for {who}: {e}"))?;
        tokens.insert(who.clone(), issued.secret);
    }
    let pending: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    Ok(json!({ "tokens": tokens, "pending": pending }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let out = match run(&args) {
        Ok(v) => v.to_string(),
        Err(e) => {
            eprintln!("fixture: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, out + "\n") {
                eprintln!("fixture: {}: {e}", path.display());
                return std::process::ExitCode::FAILURE;
            }
        }
        None => println!("{out}"),
    }
    std::process::ExitCode::SUCCESS
}
