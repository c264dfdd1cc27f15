//! `acbench`: actioncenter against the hand-rolled alternatives, side by
//! side, on this machine.
//!
//! ```text
//! acbench [--quick] [--large] [--pg-url URL] [--out FILE] [--only GROUP,...]
//! acbench memory-peak N
//! acbench lifecycle N            # one case alone, for a profiler
//! acbench digest N               # one completed action's digest, N times
//! acbench profile approve|bulk N  # the same, on SQLite
//! acbench profile frames N        # WAL pages per approve, engine and peer
//! ```
//!
//! Each pair (the engine and its peer) runs in alternating rounds in the
//! same process, so machine noise falls on both alike; the figure is the
//! median of the rounds and the ratio is the engine's over the peer's.
//! Results go to `--out` as JSON lines (one row of `docs/benchmarks.md`
//! each; `scripts/bench.sh` writes the page) and to stdout as text.
//!
//! Why a harness of its own rather than criterion or divan: the measures
//! here are pairs that must alternate round by round, on stores seeded
//! once with up to a million actions, plus whole-process figures (peak
//! memory, bytes on disk). Both libraries time one closure at a time,
//! each with its own warm-up and sampling, which neither interleaves a
//! pair nor shares a seeded store.
//!
//! `--only` runs the named groups alone (`approve`, `bulk`, `memory`,
//! `scale`, `postgres`), to measure one part again after a change to it.
//!
//! `--quick` runs every case small, in seconds (the test command runs it,
//! so the harness cannot rot); `--large` adds the 1,000,000-action SQLite
//! store, whose seeding takes minutes.

mod memory;
mod postgres_cases;
mod report;
mod sqlite_cases;

use std::path::PathBuf;

use report::{Report, Res};

/// The groups `--only` can name, in the order a full run takes them.
const GROUPS: [&str; 5] = ["approve", "bulk", "memory", "scale", "postgres"];

/// How big each case runs.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub quick: bool,
    pub large: bool,
}

impl Size {
    /// `full` in a full run, `quick` under `--quick`.
    pub fn pick(self, full: usize, quick: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("acbench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let mut size = Size {
        quick: false,
        large: false,
    };
    let mut pg_url = std::env::var("ACTIONCENTER_PG_URL").ok();
    let mut out: Option<PathBuf> = None;
    let mut only: Option<Vec<String>> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "memory-peak" => {
                let n = args
                    .next()
                    .and_then(|a| a.parse().ok())
                    .ok_or("memory-peak N")?;
                return memory::peak_child(n);
            }
            "lifecycle" => {
                // One case alone, for a profiler.
                let n = args
                    .next()
                    .and_then(|a| a.parse().ok())
                    .ok_or("lifecycle N")?;
                println!("{:.0} actions/s", memory::lifecycle_rate(n)?);
                return Ok(());
            }
            "digest" => {
                // The digest of one completed action, alone.
                let n = args.next().and_then(|a| a.parse().ok()).ok_or("digest N")?;
                println!("{:.0} digests/s", memory::digest_rate(n)?);
                return Ok(());
            }
            "profile" => {
                // One SQLite case alone, for a profiler: `approve` one by
                // one (NORMAL) or one `bulk` call (FULL), over N actions;
                // or the WAL pages an approve commits (`frames`).
                let case = args.next().ok_or("profile approve|bulk|frames N")?;
                let n = args
                    .next()
                    .and_then(|a| a.parse().ok())
                    .ok_or("profile approve|bulk|frames N")?;
                let dir = tempfile::tempdir()?;
                return sqlite_cases::profile(dir.path(), &case, n);
            }
            "--quick" => size.quick = true,
            "--large" => size.large = true,
            "--pg-url" => pg_url = Some(args.next().ok_or("--pg-url URL")?),
            "--out" => out = Some(args.next().ok_or("--out FILE")?.into()),
            "--only" => {
                let groups: Vec<String> = args
                    .next()
                    .ok_or("--only GROUP,...")?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
                if let Some(bad) = groups.iter().find(|g| !GROUPS.contains(&g.as_str())) {
                    return Err(format!("unknown group {bad:?}: one of {GROUPS:?}").into());
                }
                only = Some(groups);
            }
            "-h" | "--help" => {
                println!(
                    "usage: acbench [--quick] [--large] [--pg-url URL] [--out FILE] [--only GROUP,...]\n       acbench memory-peak N | lifecycle N | digest N | profile approve|bulk|frames N"
                );
                return Ok(());
            }
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    let runs = |group: &str| only.as_ref().is_none_or(|o| o.iter().any(|g| g == group));
    let mut report = Report::new(out)?;
    let dir = tempfile::tempdir()?;
    if runs("approve") {
        sqlite_cases::approve(&mut report, dir.path(), size)?;
    }
    if runs("bulk") {
        sqlite_cases::bulk(&mut report, dir.path(), size)?;
    }
    if runs("memory") {
        memory::lifecycle(&mut report, size)?;
        memory::peak(&mut report, size)?;
    }
    if runs("scale") {
        sqlite_cases::scale(&mut report, dir.path(), size)?;
    }
    if runs("postgres") {
        match pg_url.filter(|u| !u.is_empty()) {
            Some(url) => postgres_cases::run(&mut report, &url, size)?,
            None => report.skip(
                "PostgreSQL",
                "no server: pass --pg-url or set ACTIONCENTER_PG_URL",
            )?,
        }
    }
    Ok(())
}
