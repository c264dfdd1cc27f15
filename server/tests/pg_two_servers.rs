//! Two `actioncenter-server` processes on one PostgreSQL database: what
//! one server's clients do reaches the other's. The live feed, sessions
//! and the per-principal rate limit all live in the database, so a load
//! balancer may send each request to either server.
//!
//! Needs a PostgreSQL server: `ACTIONCENTER_PG_URL` (as
//! `scripts/test-postgres.sh` or `scripts/pg-cluster.sh start` give it).
//! Without it the test is skipped with a printed reason. Each run makes a
//! database of its own on that server and drops it at the end: the
//! binary takes a connection URL and nothing else, so a database (not a
//! schema, as core's tests use) is what keeps runs apart.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use actioncenter::{ActionCenter, PostgresStore, Proposal};
use common::{PASSWORD, expect, isolate, policy};
use serde_json::{Value, json};

const URL_VAR: &str = "ACTIONCENTER_PG_URL";
/// How long a server may take to say it listens.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// How long an event made on one server may take to reach the other's
/// feed (it polls the database every 200 ms).
const FEED_PATIENCE: Duration = Duration::from_secs(5);
const RATE_LIMIT: u64 = 5;

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
        let name = format!("ac_two_servers_{}_{nanos}", std::process::id());
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
            .args(["--rate-limit", &RATE_LIMIT.to_string()])
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

/// The audit events of an open `/api/v1/events/stream`, parsed, as they
/// arrive.
fn follow(response: reqwest::blocking::Response) -> Receiver<Value> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(response).lines().map_while(Result::ok) {
            if let Some(data) = line.strip_prefix("data:") {
                let Ok(event) = serde_json::from_str::<Value>(data.trim()) else {
                    continue;
                };
                if tx.send(event).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// The first event on `feed` for action `id` named `name`, within `patience`.
fn wait_for(feed: &Receiver<Value>, id: &str, name: &str, patience: Duration) -> Option<Value> {
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match feed.recv_timeout(left) {
            Ok(e) if e["action_id"] == id && e["event"] == name => return Some(e),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

#[test]
fn two_servers_on_one_database_share_the_feed_sessions_and_the_rate_limit() {
    let Some(admin_url) = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty()) else {
        eprintln!("skipped: {URL_VAR} is not set (scripts/pg-cluster.sh start gives one)");
        return;
    };
    let db = TestDatabase::create(&admin_url);

    // The database as an operator would leave it: a policy naming the
    // principals, tokens, an account, and an action waiting for approval.
    let center = ActionCenter::new(PostgresStore::connect(&db.url).expect("store"), policy());
    let admin = center.principal("admin").expect("admin");
    let token = |who: &str| {
        center
            .create_token(&admin, who, "two-servers", chrono::Duration::hours(1))
            .expect("token")
            .secret
    };
    let (victor, alice, edr) = (token("victor"), token("alice"), token("edr"));
    center.add_user(&admin, "bob", PASSWORD).expect("bob");
    let soar = center.principal("soar").expect("soar");
    let proposal = Proposal::from_json(&isolate("dev-two-servers").to_string()).expect("proposal");
    let pending = center.propose(&soar, proposal).expect("propose");
    let id = pending.id.to_string();

    let a = ServerProcess::start(&db.url, "A");
    let b = ServerProcess::start(&db.url, "B");
    assert_ne!(a.base, b.base);

    // The live feed on B shows a decision made through A.
    let stream = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .expect("client")
        .get(b.url("/api/v1/events/stream"))
        .bearer_auth(&victor)
        .send()
        .expect("open the feed on B");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let feed = follow(stream);
    let approved = expect(
        client()
            .post(a.url(&format!("/api/v1/actions/{id}/approve")))
            .bearer_auth(&alice)
            .json(&json!({"comment": "approved on A"}))
            .send()
            .expect("approve on A"),
        200,
    );
    assert_eq!(approved["status"], "approved");
    let seen = wait_for(&feed, &id, "approve", FEED_PATIENCE)
        .unwrap_or_else(|| panic!("B's feed did not show A's approval within {FEED_PATIENCE:?}"));
    assert_eq!(seen["actor"], "alice");
    assert_eq!(seen["to"], "approved");
    assert_eq!(seen["comment"], "approved on A");

    // A session made by signing in on A works on B, and ending it on B
    // ends it on A.
    let r = client()
        .post(a.url("/api/v1/session"))
        .json(&json!({"account": "bob", "password": PASSWORD}))
        .send()
        .expect("sign in on A");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|c| c.starts_with("ac_session=")))
        .map(str::to_owned)
        .expect("a session cookie from A");
    let signed_in = expect(r, 200);
    let csrf = signed_in["csrf_token"]
        .as_str()
        .expect("csrf token")
        .to_owned();
    let on_b = expect(
        client()
            .get(b.url("/api/v1/session"))
            .header("cookie", &cookie)
            .send()
            .expect("session on B"),
        200,
    );
    assert_eq!(on_b["principal"], "bob");
    assert_eq!(on_b["via"], "session");
    assert_eq!(on_b["csrf_token"], csrf.as_str());
    let out = client()
        .delete(b.url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .expect("sign out on B");
    assert_eq!(out.status(), 204);
    let after = client()
        .get(a.url("/api/v1/session"))
        .header("cookie", &cookie)
        .send()
        .expect("session on A after signing out on B");
    assert_eq!(after.status(), 401, "{}", after.text().unwrap_or_default());

    // The rate limit counts requests per principal per calendar minute in
    // the database: 3 on A and 3 on B make 6, one over the limit of 5.
    // Six requests take well under a second; start them early enough in a
    // minute that they all fall in the same one.
    let into_minute = chrono::Utc::now().timestamp().rem_euclid(60);
    if into_minute >= 55 {
        std::thread::sleep(Duration::from_secs((61 - into_minute) as u64));
    }
    let window = chrono::Utc::now().timestamp().div_euclid(60);
    let mut statuses = Vec::new();
    let mut last = None;
    for server in [&a, &a, &a, &b, &b, &b] {
        let r = client()
            .get(server.url("/api/v1/session"))
            .bearer_auth(&edr)
            .send()
            .expect("a request as edr");
        statuses.push(r.status().as_u16());
        last = Some(r);
    }
    assert_eq!(
        chrono::Utc::now().timestamp().div_euclid(60),
        window,
        "the six requests crossed a minute; the count started again"
    );
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    let refused = last.expect("the sixth response");
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("a numeric Retry-After");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let body = expect(refused, 429);
    assert_eq!(body["error"]["kind"], "rate_limited");

    drop((a, b));
}
