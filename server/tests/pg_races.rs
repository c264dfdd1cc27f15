//! Many clients racing through two `actioncenter-server` processes on
//! one PostgreSQL database (see `http_races` for what is raced and
//! checked): each client talks to one server or the other, so the
//! contenders for one action often reach it through different servers.
//!
//! Needs `ACTIONCENTER_PG_URL` (scripts/test-postgres.sh sets it); skips
//! with a printed reason otherwise. Makes a database of its own and drops
//! it at the end.
#![allow(clippy::unwrap_used)]

mod common;
mod http_races;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use actioncenter::{ActionCenter, PostgresStore};
use common::{Api, policy};

const URL_VAR: &str = "ACTIONCENTER_PG_URL";
/// How long a server may take to say it listens.
const START_PATIENCE: Duration = Duration::from_secs(60);

/// A database of this run's own, dropped (with whatever is still
/// connected to it) at the end.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    fn create(admin_url: &str) -> TestDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Plain lowercase letters, digits and `_`: safe to splice as a name.
        let name = format!("ac_races_{}_{nanos}", std::process::id());
        let mut client =
            postgres::Client::connect(admin_url, postgres::NoTls).expect("connect to PostgreSQL");
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create the test database");
        TestDatabase {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` naming database `name` instead of its own: a
/// `postgres://...` URL gets the path replaced, a `key=value` string
/// gets `dbname` appended (a later key wins).
fn with_database(url: &str, name: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut parsed = url::Url::parse(url).expect("ACTIONCENTER_PG_URL is not a URL");
        parsed.set_path(&format!("/{name}"));
        parsed.to_string()
    } else {
        format!("{url} dbname={name}")
    }
}

/// A server process, killed when dropped.
struct ServerProcess {
    child: Child,
    base: String,
}

impl ServerProcess {
    fn start(db_url: &str, label: &str) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_actioncenter-server"))
            .args(["--postgres", db_url, "--listen", "127.0.0.1:0"])
            .args(["--rate-limit", "0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start actioncenter-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // From here on the guard kills the process, whatever fails.
        let mut server = ServerProcess {
            child,
            base: String::new(),
        };
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("Action center: ") {
                        server.base = rest.trim().trim_end_matches('/').to_owned();
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("server {label} did not say where it listens within {START_PATIENCE:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = server.child.wait().ok();
                    panic!("server {label} ended before it listened: {status:?}")
                }
            }
        }
        // The banner comes once the socket is bound; the server is ready
        // once it answers.
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "server {label} ended with {status} before answering /healthz (its stderr is above)"
                );
            }
            if let Ok(r) = client().get(server.url("/healthz")).send()
                && r.status() == 200
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "server {label} did not answer /healthz within {START_PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

#[test]
fn many_clients_racing_through_two_servers_on_one_database() {
    let Some(admin_url) = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty()) else {
        println!("skipped: {URL_VAR} is not set (scripts/test-postgres.sh sets it)");
        return;
    };
    let db = TestDatabase::create(&admin_url);
    let center = ActionCenter::new(PostgresStore::connect(&db.url).expect("store"), policy());
    let admin = center.principal("admin").expect("admin");
    let servers = [
        ServerProcess::start(&db.url, "A"),
        ServerProcess::start(&db.url, "B"),
    ];
    let api = |who: &str, i: usize| Api {
        base: servers[i % 2].base.clone(),
        client: reqwest::blocking::Client::new(),
        bearer: Some(
            center
                .create_token(&admin, who, "pg-races", chrono::Duration::hours(1))
                .expect("token")
                .secret,
        ),
        csrf: None,
    };
    let races = http_races::race(
        &center,
        &api,
        400,
        "HTTP, 8 clients on two servers on one PostgreSQL database",
    );
    assert!(races >= 400);
}
