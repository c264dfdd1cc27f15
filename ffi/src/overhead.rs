//! What the C interface costs: approves through `ac_center_approve`
//! against the same approves through the engine, side by side in one
//! process, on one in-memory center. Ignored by default; run it with
//!
//! ```sh
//! cargo test --release -p actioncenter-ffi --lib approve_overhead -- --ignored --nocapture
//! ```
//!
//! `AC_BENCH_N` sets the approves per variant (default 20000).

use std::ffi::{CString, c_char};
use std::time::{Duration, Instant};

use engine::{ActionId, Decide, Entity, Kind, Principal, Proposal, Source};

use crate::handle::{CENTERS, ac_center, ac_principal};
use crate::status::ac_status;
use crate::{ac_center_approve, ac_center_close, ac_center_open_memory, ac_principal_free};

const ROUNDS: usize = 60;

fn proposal(n: usize) -> Proposal {
    Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            device_id: format!("dev-{n}"),
            name: None,
        },
        Source::AutomatedInvestigation {
            investigation_id: "inv-bench".into(),
        },
    )
}

fn per_call(total: Duration, n: usize) -> f64 {
    total.as_nanos() as f64 / n as f64
}

#[test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
fn approve_overhead_c_vs_rust() {
    let n: usize = std::env::var("AC_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
        .max(ROUNDS);
    let per_round = n / ROUNDS;
    let n = per_round * ROUNDS;

    let mut handle: *mut ac_center = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { ac_center_open_memory(&mut handle) }, ac_status::Ok);
    let engine = CENTERS
        .get(handle, "center")
        .map(|c| c.engine)
        .expect("open center");
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let c_alice: *mut ac_principal = {
        let id = c"alice";
        let role = c"analyst";
        let roles = [role.as_ptr()];
        let mut p = std::ptr::null_mut();
        // SAFETY: valid strings and out-pointer.
        let s = unsafe { crate::ac_principal_new(id.as_ptr(), roles.as_ptr(), 1, &mut p) };
        assert_eq!(s, ac_status::Ok);
        p
    };

    // Three pending actions per approve: one for each variant.
    let mut ids: Vec<ActionId> = Vec::with_capacity(3 * n);
    for i in 0..3 * n {
        ids.push(engine.propose(&air, proposal(i)).expect("propose").id);
    }
    let c_ids: Vec<CString> = ids
        .iter()
        .map(|id| CString::new(id.to_string()).expect("an id has no NUL"))
        .collect();

    // Per round, each variant approves `per_round` actions of its own; the
    // order of the variants rotates from round to round. Other work on the
    // machine slows some rounds down: the median and the fastest round of
    // each variant are reported.
    let decide = Decide::default();
    let mut times: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        for step in 0..3 {
            let variant = (round + step) % 3;
            let first = (round * 3 + variant) * per_round;
            let range = first..first + per_round;
            let start = Instant::now();
            match variant {
                0 => {
                    for id in &ids[range] {
                        engine.approve(&alice, *id, &decide).expect("rust approve");
                    }
                }
                1 => {
                    for id in &c_ids[range] {
                        // SAFETY: live handles and a NUL-terminated id.
                        let s = unsafe {
                            ac_center_approve(
                                handle,
                                c_alice,
                                id.as_ptr(),
                                std::ptr::null(),
                                0,
                                std::ptr::null_mut(),
                            )
                        };
                        assert_eq!(s, ac_status::Ok);
                    }
                }
                _ => {
                    for id in &c_ids[range] {
                        let mut out: *mut c_char = std::ptr::null_mut();
                        // SAFETY: live handles, a NUL-terminated id, a valid out-pointer.
                        let s = unsafe {
                            ac_center_approve(
                                handle,
                                c_alice,
                                id.as_ptr(),
                                std::ptr::null(),
                                0,
                                &mut out,
                            )
                        };
                        assert_eq!(s, ac_status::Ok);
                        // SAFETY: a string the call returned.
                        unsafe { crate::ac_string_free(out) };
                    }
                }
            }
            times[variant].push(per_call(start.elapsed(), per_round));
        }
    }

    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0])
    };
    let [mut rust, mut bare, mut json] = times;
    let ((r, r_min), (b, b_min), (j, j_min)) =
        (stats(&mut rust), stats(&mut bare), stats(&mut json));
    println!(
        "approve on the memory store: {n} calls per variant in {ROUNDS} rounds; ns per call, median (fastest round)"
    );
    println!("  Rust  ActionCenter::approve                 {r:>7.0} ({r_min:>7.0})");
    for (name, m, min) in [
        ("C     ac_center_approve(.., NULL)         ", b, b_min),
        ("C     ac_center_approve(.., &action_json) ", j, j_min),
    ] {
        println!(
            "  {name}{m:>7.0} ({min:>7.0})   {:.2}x ({:.2}x), {:+.0} ns ({:+.0} ns)",
            m / r,
            min / r_min,
            m - r,
            min - r_min
        );
    }
    // SAFETY: handles from this test, closed once.
    unsafe {
        assert_eq!(ac_principal_free(c_alice), ac_status::Ok);
        assert_eq!(ac_center_close(handle), ac_status::Ok);
    }
}
