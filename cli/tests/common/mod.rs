//! Runs the built `actionctl` against temporary databases.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The run's only line on standard error.
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one error line, got {:?}",
            self.stderr
        );
        lines[0]
    }

    /// Asserts a failure with this exit code and exactly this error line.
    #[track_caller]
    pub fn fails(&self, code: i32, line: &str) {
        assert_eq!(self.code, code, "{self:#?}");
        assert_eq!(self.error_line(), line, "{self:#?}");
    }

    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "{self:#?}");
        assert_eq!(self.stderr, "", "{self:#?}");
        &self.stdout
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        let text = self.ok();
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// A command with a clean environment: no ACTIONCENTER_* variables but
/// ACTIONCENTER_ACTOR=carol: the operating-system account (whoever runs
/// the tests, an administrator of the demo's policy) acting as carol, an
/// analyst.
pub fn command(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_actionctl"));
    c.arg("--db")
        .arg(db)
        .env_remove("ACTIONCENTER_DB")
        .env_remove("ACTIONCENTER_POLICY")
        .env("ACTIONCENTER_ACTOR", "carol")
        .stdin(Stdio::null());
    c
}

/// The name of the account running the tests, as `id -un` reads it.
pub fn os_account() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .unwrap_or_else(|e| panic!("id -un: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs `actionctl --db DB ARGS...` as the operating-system account
/// itself (no ACTIONCENTER_ACTOR): an administrator of the demo's policy.
pub fn actionctl_as_me(db: &Path, args: &[&str]) -> Run {
    let mut c = command(db);
    c.env_remove("ACTIONCENTER_ACTOR");
    finish(c, args)
}

/// Runs `command` with `args` to the end, with `input` on standard input.
pub fn finish_with_input(mut command: Command, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run actionctl: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        // The command may end before reading it all: a closed pipe is fine.
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("actionctl: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `command` with `args` to the end.
fn finish(mut command: Command, args: &[&str]) -> Run {
    let output = command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run actionctl: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `actionctl --db DB ARGS...`.
pub fn actionctl(db: &Path, args: &[&str]) -> Run {
    finish(command(db), args)
}

/// A temporary directory with a database in it.
pub struct Db {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl Db {
    /// A path where no database exists yet.
    pub fn none() -> Db {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = dir.path().join("actioncenter.db");
        Db { dir, path }
    }

    /// A database filled by `actionctl demo`.
    pub fn demo() -> Db {
        let db = Db::none();
        let run = db.run(&["demo"]);
        assert_eq!(run.code, 0, "{run:#?}");
        db
    }

    /// A file in the same directory.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path
    }

    pub fn run(&self, args: &[&str]) -> Run {
        actionctl(&self.path, args)
    }

    /// Runs as the operating-system account itself, an administrator.
    pub fn run_as_me(&self, args: &[&str]) -> Run {
        actionctl_as_me(&self.path, args)
    }

    /// Runs (acting as carol) with `input` on standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        finish_with_input(command(&self.path), args, input)
    }

    /// Runs (acting as carol) with the variable `name` set to `value`.
    pub fn run_env(&self, args: &[&str], name: &str, value: &str) -> Run {
        let mut c = command(&self.path);
        c.env(name, value);
        finish_with_input(c, args, "")
    }

    /// Runs as the operating-system account, with `input` on standard input.
    pub fn run_as_me_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut c = command(&self.path);
        c.env_remove("ACTIONCENTER_ACTOR");
        finish_with_input(c, args, input)
    }

    /// Stores `policy` as the database's next policy, as the administrator,
    /// keeping the account an administrator and carol an analyst.
    #[track_caller]
    pub fn set_policy(&self, policy_json: &str) -> PathBuf {
        let mut policy: Value = serde_json::from_str(policy_json).unwrap_or_default();
        policy["roles"]["admin"] = serde_json::json!({"administer": ["*"]});
        policy["principals"][os_account()] = serde_json::json!(["admin"]);
        let file = self.file("policy.json", &policy.to_string());
        let run = self.run_as_me(&["policy", "set", &file.to_string_lossy()]);
        assert_eq!(run.code, 0, "{run:#?}");
        file
    }

    /// Runs with `--json` and parses standard output.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).json()
    }

    /// Runs with `--json` as the administrator and parses standard output.
    #[track_caller]
    pub fn admin_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run_as_me(&all).json()
    }

    /// Every action, newest first (read by the administrator, who sees all).
    pub fn actions(&self) -> Vec<Value> {
        let page = self.admin_json(&["history", "--status", "all", "--limit", "1000"]);
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// The action matching `pred`; panics unless exactly one does.
    #[track_caller]
    pub fn one(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let found: Vec<Value> = self.actions().into_iter().filter(|a| pred(a)).collect();
        assert_eq!(found.len(), 1, "{what}: {found:#?}");
        found.into_iter().next().unwrap_or_default()
    }

    /// The id of the only action of `kind` in `status`.
    #[track_caller]
    pub fn id(&self, kind: &str, status: &str) -> String {
        let a = self.one(&format!("{kind} {status}"), |a| {
            a["kind"] == kind && a["status"] == status
        });
        a["id"].as_str().unwrap_or_default().to_owned()
    }

    /// The action with this id.
    #[track_caller]
    pub fn action(&self, id: &str) -> Value {
        self.admin_json(&["show", id])["action"].clone()
    }

    /// Everything the database holds, as the command line reads it: every
    /// action and the whole audit trail.
    pub fn snapshot(&self) -> String {
        let actions = self.admin_json(&["history", "--status", "all", "--limit", "1000"]);
        let events = self.admin_json(&["events", "--limit", "1000"]);
        format!("{actions}\n{events}")
    }

    /// The bytes of the database file.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap_or_default()
    }
}

/// The invoice.exe quarantine on FIN-LT-042 (the demo's fan-out example).
pub fn invoice_on(db: &Db, device: &str) -> String {
    let a = db.one("invoice.exe", |a| {
        a["kind"] == "quarantine_file"
            && a["entity"]["device_id"] == device
            && a["entity"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("invoice.exe"))
    });
    a["id"].as_str().unwrap_or_default().to_owned()
}

/// The longest prefix (4+ characters) that at least two of `ids` share.
pub fn shared_prefix(ids: &[String]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort();
    let mut best = String::new();
    for pair in sorted.windows(2) {
        let n = pair[0]
            .chars()
            .zip(pair[1].chars())
            .take_while(|(a, b)| a == b)
            .count();
        if n >= 4 && n > best.len() {
            best = pair[0][..n].to_owned();
        }
    }
    best.trim_end_matches('-').to_owned()
}
