//! Approvals per second, one commit per transition, on SQLite with
//! `synchronous=FULL` and `NORMAL` (and the memory store for reference),
//! measured in alternating rounds in one run so machine noise falls on
//! all of them alike.
//!
//! ```sh
//! cargo run --release --example approve_rate -p actioncenter -- [approvals-per-round] [rounds]
//! ```

use std::time::Instant;

use actioncenter::*;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("actioncenter-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::storage("temp dir", e))?;

    let open = |name: &str, sync: Synchronous| -> Result<ActionCenter> {
        let options = SqliteOptions {
            synchronous: sync,
            ..SqliteOptions::default()
        };
        Ok(ActionCenter::new(
            SqliteStore::open_with(dir.join(name), &options)?,
            Policy::default(),
        ))
    };
    let backends: Vec<(&str, ActionCenter)> = vec![
        ("memory", ActionCenter::in_memory()),
        ("sqlite FULL", open("full.db", Synchronous::Full)?),
        ("sqlite NORMAL", open("normal.db", Synchronous::Normal)?),
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
    for _ in 0..rounds {
        for (i, (_, center)) in backends.iter().enumerate() {
            rates[i].push(approve_rate(center, n)?);
        }
    }
    println!("{n} approvals per round, {rounds} rounds, median approvals/s:");
    let medians: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
    for ((name, _), m) in backends.iter().zip(&medians) {
        println!("  {name:<14} {m:>10.0}/s");
    }
    println!("  NORMAL / FULL  {:>10.2}x", medians[2] / medians[1]);
    std::fs::remove_dir_all(&dir).map_err(|e| Error::storage("clean up", e))?;
    Ok(())
}

/// Proposes `n` pending actions, then times `n` approvals.
fn approve_rate(center: &ActionCenter, n: usize) -> Result<f64> {
    // Every round targets new devices: one active isolation per device.
    static ROUND: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let round = ROUND.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let ids: Vec<ActionId> = (0..n)
        .map(|i| {
            let entity = Entity::Device {
                device_id: format!("dev-{round}-{i}"),
                name: None,
            };
            let source = Source::AutomatedInvestigation {
                investigation_id: "bench".into(),
            };
            center
                .propose(&air, Proposal::new(Kind::IsolateDevice, entity, source))
                .map(|a| a.id)
        })
        .collect::<Result<_>>()?;
    let start = Instant::now();
    for id in ids {
        center.approve(&alice, id, &Decide::default())?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
