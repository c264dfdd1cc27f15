//! The memory store: the whole lifecycle on one thread, and its peak
//! memory.

use std::time::Instant;

use actioncenter::*;

use crate::Size;
use crate::report::{Report, Res, Row, median, per_second, rate, thousands};

fn air() -> Principal {
    Principal::new("air", ["automation"])
}

fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}

fn next_device() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub fn isolation(i: usize) -> Proposal {
    Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            // A device of its own for every proposal of the process: one
            // active isolation per device is the engine's rule.
            device_id: format!("dev-{i}-{}", next_device()),
            name: None,
        },
        Source::AutomatedInvestigation {
            investigation_id: format!("inv-{}", i / 25),
        },
    )
}

/// Proposes, approves, claims and completes `n` actions one by one on a
/// fresh memory store; actions per second.
pub fn lifecycle_rate(n: usize) -> Res<f64> {
    let center = ActionCenter::in_memory();
    let (air, alice) = (air(), alice());
    let agent = Principal::new("agent", ["executor"]);
    let claim = ClaimRequest {
        limit: 1,
        lease_seconds: 300,
        kinds: None,
    };
    let start = Instant::now();
    for i in 0..n {
        let a = center.propose(&air, isolation(i))?;
        center.approve(&alice, a.id, &Decide::default())?;
        for c in center.claim(&agent, &claim)? {
            center.complete(
                &agent,
                c.id,
                c.lease_token().unwrap_or_default(),
                serde_json::Value::Null,
            )?;
        }
    }
    let r = rate(n, start.elapsed());
    if center
        .counts(&alice, &Filter::default())?
        .get(Status::Completed)
        != n as u64
    {
        return Err("the lifecycle did not complete every action".into());
    }
    Ok(r)
}

/// Digests per second of one action after its lifecycle (a decision and
/// an attempt with its result), the canonical form every transition
/// takes: the case alone, for a profiler.
pub fn digest_rate(n: usize) -> Res<f64> {
    let center = ActionCenter::in_memory();
    let agent = Principal::new("agent", ["executor"]);
    let a = center.propose(&air(), isolation(0))?;
    center.approve(&alice(), a.id, &Decide::default())?;
    let claim = ClaimRequest {
        limit: 1,
        lease_seconds: 300,
        kinds: None,
    };
    let c = center
        .claim(&agent, &claim)?
        .pop()
        .ok_or("nothing to claim")?;
    let done = center.complete(
        &agent,
        c.id,
        c.lease_token().unwrap_or_default(),
        serde_json::json!({"isolated": true, "machine_id": "dev-0"}),
    )?;
    let start = Instant::now();
    let mut length = 0;
    for _ in 0..n {
        length += std::hint::black_box(actioncenter::audit::action_digest(&done)).len();
    }
    let r = rate(n, start.elapsed());
    if length != n * 64 {
        return Err("a digest is not 64 hex digits".into());
    }
    Ok(r)
}

pub fn lifecycle(report: &mut Report, size: Size) -> Res<()> {
    let small = size.pick(20_000, 2_000);
    let large = size.pick(1_000_000, 20_000);
    let rounds = size.pick(5, 2);
    let mut small_rates: Vec<f64> = (0..rounds)
        .map(|_| lifecycle_rate(small))
        .collect::<Res<_>>()?;
    let small_rate = median(&mut small_rates);
    report.row(Row {
        group: "memory",
        measure: format!(
            "memory lifecycle (propose, approve, claim, complete), one thread, {} actions",
            thousands(small as u64)
        ),
        actioncenter: per_second(small_rate),
        peer: String::new(),
        ratio: None,
        target: "≥ 100,000/s".into(),
        met: Some(small_rate >= 100_000.0),
    })?;
    let large_rate = lifecycle_rate(large)?;
    let flat = large_rate / small_rate;
    report.row(Row {
        group: "memory",
        measure: format!(
            "memory lifecycle, {} actions (ratio: over {})",
            thousands(large as u64),
            thousands(small as u64)
        ),
        actioncenter: per_second(large_rate),
        peer: per_second(small_rate),
        ratio: Some(flat),
        target: "≥ 100,000/s, flat (ratio ≥ 0.8)".into(),
        met: Some(large_rate >= 100_000.0 && flat >= 0.8),
    })
}

/// Peak resident memory of this process, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Run in a child process: proposes `n` actions into a memory store and
/// prints the peak resident memory before and after.
pub fn peak_child(n: usize) -> Res<()> {
    let before = peak_rss().ok_or("no /proc/self/status")?;
    let center = ActionCenter::in_memory();
    let air = air();
    for i in 0..n {
        center.propose(&air, isolation(i))?;
    }
    let after = peak_rss().ok_or("no /proc/self/status")?;
    println!("{before} {after}");
    Ok(())
}

pub fn peak(report: &mut Report, size: Size) -> Res<()> {
    let n = size.pick(1_000_000, 20_000);
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .args(["memory-peak", &n.to_string()])
        .output()?;
    if !out.status.success() {
        return report.skip("memory peak", &String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.split_whitespace().map(|x| x.parse::<u64>());
    let (Some(Ok(before)), Some(Ok(after))) = (numbers.next(), numbers.next()) else {
        return Err(format!("memory-peak printed {text:?}").into());
    };
    let grown = after.saturating_sub(before);
    report.row(Row {
        group: "memory",
        measure: format!(
            "memory store, peak memory at {} pending actions (bytes per action)",
            thousands(n as u64)
        ),
        actioncenter: format!(
            "{} MiB ({} B)",
            thousands(after / (1 << 20)),
            thousands(grown / n as u64)
        ),
        peer: String::new(),
        ratio: None,
        target: String::new(),
        met: None,
    })
}
