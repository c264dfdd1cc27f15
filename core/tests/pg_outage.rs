//! A PostgreSQL server stopped and started again under load.
//!
//! Threads make transitions through one `PostgresStore` while the test
//! stops the server (`pg_ctl stop -m immediate`, a crash, or `-m fast`)
//! and starts it again, twice. Calls during an outage must fail with a
//! retryable `Storage` error; after the restart the same store (its pool)
//! must work again without being reopened; nothing acknowledged may be
//! lost; `verify_audit` intact, counts equal to a recount.
//!
//! Stopping a server would disturb every other test using it, so this
//! test starts a cluster of its own (`scripts/pg-cluster.sh start
//! --durable`: fsync on, so that an acknowledged commit survives the
//! crash). It runs when `ACTIONCENTER_PG_URL` is set (that is, from
//! scripts/test-postgres.sh) and skips with a printed reason otherwise.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actioncenter::*;
use support::*;

struct Cluster {
    url: String,
    dir: PathBuf,
    bin: PathBuf,
}

impl Cluster {
    fn script() -> &'static str {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh")
    }

    /// A durable cluster of this test's own, or why there is none.
    fn start() -> Result<Cluster, String> {
        let out = Command::new("bash")
            .args([Cluster::script(), "start", "--durable", "--owner"])
            .arg(std::process::id().to_string())
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
                .unwrap()
        };
        let dir = PathBuf::from(field("ACTIONCENTER_PG_DIR"));
        let bin = PathBuf::from(std::fs::read_to_string(dir.join("bin")).unwrap().trim());
        Ok(Cluster {
            url: field("ACTIONCENTER_PG_URL"),
            dir,
            bin,
        })
    }

    /// Runs pg_ctl as the cluster's owner, from its directory.
    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let status = cmd
            .current_dir(&self.dir)
            .arg("-D")
            .arg(&data)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args:?}: {status}");
    }

    fn stop(&self, mode: &str) {
        self.pg_ctl(&["-m", mode, "-w", "-t", "60", "stop"]);
    }

    fn start_again(&self) {
        let log = self.dir.join("server.log");
        self.pg_ctl(&["-l", log.to_str().unwrap(), "-w", "-t", "60", "start"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Cluster::script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[derive(Debug, Default)]
struct Outcomes {
    /// (id, status, version) of every acknowledged transition.
    acked: Vec<(ActionId, Status, u64)>,
}

#[test]
fn the_pool_recovers_when_postgres_restarts_and_nothing_acknowledged_is_lost() {
    if std::env::var("ACTIONCENTER_PG_URL").map_or(true, |u| u.trim().is_empty()) {
        println!("skipped: ACTIONCENTER_PG_URL is not set (scripts/test-postgres.sh sets it)");
        return;
    }
    let cluster = match Cluster::start() {
        Ok(c) => c,
        Err(reason) => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true and no cluster: {reason}"
            );
            println!("skipped: cannot start a cluster of this test's own: {reason}");
            return;
        }
    };
    let options = PostgresOptions {
        pool_size: 4,
        connect_timeout: Duration::from_secs(2),
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(&cluster.url, &options).unwrap();
    let center = ActionCenter::new(store, policy());
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let failures = Arc::new(AtomicU64::new(0));
    let ok_calls = Arc::new(AtomicU64::new(0));
    let mut rng = Rng::new(seed("ACTIONCENTER_PG_OUTAGE_SEED"));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (c, stop, outcomes, failures, ok_calls) = (
                center.clone(),
                stop.clone(),
                outcomes.clone(),
                failures.clone(),
                ok_calls.clone(),
            );
            let mut rng = Rng::new(rng.next_u64());
            std::thread::spawn(move || {
                let me = agent(t);
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let result: Result<Vec<Action>> = match rng.below(3) {
                        0 => c
                            .propose(&air(), isolate(&format!("dev-{t}-{n}")))
                            .map(|a| vec![a]),
                        1 => pending_one(&c).and_then(|a| match a {
                            Some(a) => c
                                .approve(&alice(), a.id, &Decide::default().seen(a.version))
                                .map(|x| vec![x]),
                            None => Ok(Vec::new()),
                        }),
                        _ => c.claim(&me, &ClaimRequest::default()).and_then(|got| {
                            let mut out = got.clone();
                            for a in got {
                                let token = a.lease_token().unwrap_or_default().to_owned();
                                out.push(c.complete(&me, a.id, &token, serde_json::json!({}))?);
                            }
                            Ok(out)
                        }),
                    };
                    match result {
                        Ok(done) => {
                            ok_calls.fetch_add(1, Ordering::SeqCst);
                            let mut o = outcomes.lock().unwrap();
                            o.acked
                                .extend(done.iter().map(|a| (a.id, a.status, a.version)));
                        }
                        Err(e @ Error::Storage { .. }) => {
                            assert!(e.is_retryable(), "a storage error not retryable: {e}");
                            failures.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(
                            Error::Conflict { .. }
                            | Error::InvalidTransition { .. }
                            | Error::StaleLease { .. }
                            | Error::Expired { .. },
                        ) => {}
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    let mut outages = Vec::new();
    for mode in ["immediate", "fast"] {
        std::thread::sleep(Duration::from_millis(700));
        let ok_before = ok_calls.load(Ordering::SeqCst);
        let failed_before = failures.load(Ordering::SeqCst);
        cluster.stop(mode);
        std::thread::sleep(Duration::from_millis(700));
        let failed_during = failures.load(Ordering::SeqCst) - failed_before;
        cluster.start_again();
        // The same store works again, without being reopened.
        let deadline = Instant::now() + Duration::from_secs(30);
        let ok_after_restart = ok_calls.load(Ordering::SeqCst);
        while ok_calls.load(Ordering::SeqCst) < ok_after_restart + 20 {
            assert!(
                Instant::now() < deadline,
                "the pool did not recover within 30 s of the restart"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            failed_during > 0,
            "no call failed while the server was down ({mode})"
        );
        outages.push(format!(
            "stop -m {mode}: {} calls ok before it, {failed_during} refused during it",
            ok_before
        ));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    check_store(&center, None);
    let outcomes = outcomes.lock().unwrap();
    for (id, status, version) in &outcomes.acked {
        let now = center.get(&viewer(), *id).unwrap();
        assert!(now.version >= *version, "{id}: acknowledged {version} lost");
        let trail = center.history_of(&viewer(), *id).unwrap();
        assert!(
            trail
                .iter()
                .any(|e| e.version == Some(*version) && e.to == Some(*status)),
            "{id}: the acknowledged move to {status} at version {version} is lost"
        );
    }
    println!(
        "PostgreSQL outages: 2 ({}); {} transitions acknowledged, {} calls refused with a \
         retryable storage error, 0 lost, pool recovered without reopening, in {:.1} s",
        outages.join("; "),
        outcomes.acked.len(),
        failures.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );
}

fn pending_one(c: &ActionCenter) -> Result<Option<Action>> {
    Ok(
        c.list(&viewer(), &Filter::pending(), &PageRequest::first(1))?
            .items
            .into_iter()
            .next(),
    )
}
