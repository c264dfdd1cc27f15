//! A PostgreSQL server for the tests, and one schema per test.
//!
//! Where the server comes from:
//! 1. `ACTIONCENTER_PG_URL`, when set: an existing server
//!    (`scripts/test-postgres.sh` starts a throwaway cluster, exports the
//!    variable and stops the cluster when the tests are done).
//! 2. Otherwise the first test that needs a server runs
//!    `scripts/pg-cluster.sh start --owner <this process>`, once per test
//!    process: a throwaway cluster from the installed server binaries,
//!    under a non-root account, in a temporary directory, on a free
//!    loopback port. A static has no destructor, so the script leaves a
//!    detached guard that stops the cluster and removes its directory
//!    when this process has exited. The URL is exported to child
//!    processes (the multi-host tests), which reuse the same server.
//!
//! With no server binaries the tests skip with a printed reason, except
//! under `CI=true`, where that is a failure.
//!
//! Shared by the integration tests (`#[path]`) and the PostgreSQL store's
//! unit tests; not every user needs every item.
#![allow(dead_code)]

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::{Client, NoTls};

/// Where the tests find their server.
pub(crate) const URL_VAR: &str = "ACTIONCENTER_PG_URL";

/// The server's URL, or why there is none (to skip with).
fn find_server() -> Result<String, String> {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.trim().is_empty()
    {
        return Ok(url);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("start")
        .arg("--owner")
        .arg(std::process::id().to_string())
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    match out.status.code() {
        Some(0) => {}
        // No server binaries, or no account to run them: a reason to skip.
        Some(2) => return Err(format!("no PostgreSQL server to test with: {stderr}")),
        _ => panic!("{script} failed to start a throwaway cluster: {stderr}"),
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let url = stdout
        .lines()
        .find_map(|l| l.strip_prefix(concat!("ACTIONCENTER_PG_URL", "=")))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{script} printed no URL: {stdout}"));
    eprintln!("started a throwaway PostgreSQL cluster at {url}");
    Ok(url)
}

/// The test server's URL; `None` (after printing why) when there is none
/// and the tests may skip. Under `CI=true` a missing server panics.
pub(crate) fn server() -> Option<String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(find_server) {
        Ok(url) => Some(url.clone()),
        Err(reason) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: {reason}");
            None
        }
    }
}

/// A schema of one test's own, dropped with everything in it at the end.
pub(crate) struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// A fresh name, unique across test processes sharing one server.
    pub fn new(url: &str) -> TestSchema {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TestSchema {
            url: url.to_owned(),
            name: format!("ac_test_{}_{n}", std::process::id()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Best effort: a throwaway cluster goes away anyway.
        if let Ok(mut c) = Client::connect(&self.url, NoTls) {
            // The name is ours and plain (see `new`).
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}
