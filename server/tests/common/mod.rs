//! A server on a free loopback port over a fresh SQLite file, with a
//! clock the test moves, and clients for its principals.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use actioncenter::identity::CredentialKind;
use actioncenter::{ActionCenter, ManualClock, Policy, Principal, SqliteOptions, SqliteStore};
use actioncenter_server::Settings;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn policy() -> Policy {
    Policy::default()
        .with_principal("admin", ["admin"])
        .and_then(|p| p.with_principal("alice", ["analyst"]))
        .and_then(|p| p.with_principal("bob", ["analyst"]))
        .and_then(|p| p.with_principal("victor", ["viewer"]))
        .and_then(|p| p.with_principal("edr", ["executor"]))
        .and_then(|p| p.with_principal("soar", ["automation"]))
        .and_then(|p| p.with_group("secops", ["analyst"]))
        .expect("policy")
}

pub struct TestServer {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub center: ActionCenter,
    pub clock: Arc<ManualClock>,
    pub admin: Principal,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(|_| {})
    }

    /// A server over HTTPS with this certificate and key (PEM files).
    pub fn start_tls(cert: std::path::PathBuf, key: std::path::PathBuf) -> TestServer {
        TestServer::start_with(|s| s.tls = Some((cert, key)))
    }

    pub fn start_with(tune: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open_with(dir.path().join("ac.db"), &SqliteOptions::default())
            .expect("sqlite");
        let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
        let center = ActionCenter::with_clock(Arc::new(store), policy(), clock.clone());
        let mut settings = Settings {
            feed_poll: Duration::from_millis(50),
            feed_recheck: Duration::from_millis(200),
            ..Settings::default()
        };
        tune(&mut settings);
        let (base, addr) = spawn_at(center.clone(), settings);
        TestServer {
            base,
            addr,
            center,
            clock,
            admin: Principal::new("admin", ["admin"]),
            _dir: dir,
        }
    }

    /// [`TestServer::start_with`], where `tune` also learns the server's
    /// base URL, known before the server starts (an OpenID Connect
    /// redirect URL names it).
    pub fn start_at(tune: impl FnOnce(&mut Settings, &str)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open_with(dir.path().join("ac.db"), &SqliteOptions::default())
            .expect("sqlite");
        let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
        let center = ActionCenter::with_clock(Arc::new(store), policy(), clock.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = Settings {
            feed_poll: Duration::from_millis(50),
            feed_recheck: Duration::from_millis(200),
            ..Settings::default()
        };
        tune(&mut settings, &format!("http://{addr}"));
        let base = spawn_on(center.clone(), settings, listener);
        TestServer {
            base,
            addr,
            center,
            clock,
            admin: Principal::new("admin", ["admin"]),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A new API token for `principal`.
    pub fn token(&self, principal: &str) -> String {
        self.center
            .create_token(&self.admin, principal, "test", chrono::Duration::days(1))
            .expect("token")
            .secret
    }

    pub fn add_user(&self, id: &str) {
        self.center
            .add_user(&self.admin, id, PASSWORD)
            .expect("user");
    }

    /// A client holding a bearer token for `principal`.
    pub fn bearer(&self, principal: &str) -> Api {
        Api {
            base: self.base.clone(),
            client: Client::new(),
            bearer: Some(self.token(principal)),
            csrf: None,
        }
    }

    /// A client signed in as `account` (the account is made first), with
    /// its cookie and CSRF token.
    pub fn signed_in(&self, account: &str) -> Api {
        if self
            .center
            .store()
            .account(account)
            .expect("account")
            .is_none()
        {
            self.add_user(account);
        }
        let client = Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let r = client
            .post(self.url("/api/v1/session"))
            .json(&json!({"account": account, "password": PASSWORD}))
            .send()
            .expect("sign in");
        assert_eq!(r.status(), 200, "sign in as {account}");
        let body: Value = r.json().expect("json");
        Api {
            base: self.base.clone(),
            client,
            bearer: None,
            csrf: body["csrf_token"].as_str().map(str::to_owned),
        }
    }

    pub fn anonymous(&self) -> Api {
        Api {
            base: self.base.clone(),
            client: Client::new(),
            bearer: None,
            csrf: None,
        }
    }

    pub fn live_sessions(&self) -> usize {
        self.center
            .store()
            .credentials(CredentialKind::Session)
            .expect("sessions")
            .iter()
            .filter(|c| c.revoked_at.is_none())
            .count()
    }
}

/// Starts a server for `center` on its own thread and runtime; its base URL.
pub fn spawn(center: ActionCenter, settings: Settings) -> String {
    spawn_at(center, settings).0
}

/// [`spawn`], with the address it listens on.
pub fn spawn_at(center: ActionCenter, settings: Settings) -> (String, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (spawn_on(center, settings, listener), addr)
}

/// [`spawn`] on a socket the test bound; the base URL once it answers
/// (`https://localhost:PORT` under TLS).
pub fn spawn_on(
    center: ActionCenter,
    settings: Settings,
    listener: std::net::TcpListener,
) -> String {
    let addr = listener.local_addr().expect("addr");
    let tls = settings.tls.is_some();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(actioncenter_server::serve_on(center, settings, listener))
            .expect("serve");
    });
    let base = format!("http://{addr}");
    for _ in 0..200 {
        if tls {
            if std::net::TcpStream::connect(addr).is_ok() {
                return format!("https://localhost:{}", addr.port());
            }
        } else if let Ok(r) = reqwest::blocking::get(format!("{base}/healthz"))
            && r.status() == 200
        {
            return base;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the server did not start");
}

/// A client of the API with one credential.
pub struct Api {
    pub base: String,
    pub client: Client,
    pub bearer: Option<String>,
    pub csrf: Option<String>,
}

impl Api {
    fn with_auth(&self, r: RequestBuilder) -> RequestBuilder {
        let r = match &self.bearer {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        match &self.csrf {
            Some(c) => r.header("x-csrf-token", c),
            None => r,
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.with_auth(self.client.get(format!("{}{path}", self.base)))
            .send()
            .expect("GET")
    }

    pub fn post(&self, path: &str, body: Value) -> Response {
        self.with_auth(self.client.post(format!("{}{path}", self.base)).json(&body))
            .send()
            .expect("POST")
    }

    pub fn post_if(&self, path: &str, version: u64, body: Value) -> Response {
        self.with_auth(
            self.client
                .post(format!("{}{path}", self.base))
                .header("if-match", format!("\"{version}\""))
                .json(&body),
        )
        .send()
        .expect("POST")
    }

    pub fn put_json(&self, path: &str, body: Value) -> Response {
        self.with_auth(self.client.put(format!("{}{path}", self.base)).json(&body))
            .send()
            .expect("PUT")
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.with_auth(self.client.request(method, format!("{}{path}", self.base)))
    }
}

/// The body of a response that must have this status.
pub fn expect(r: Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Approves the action `id` as alice and claims it as edr: the lease
/// token of the claim.
pub fn approve_and_claim(s: &TestServer, id: &str) -> Value {
    expect(
        s.bearer("alice")
            .post(&format!("/api/v1/actions/{id}/approve"), json!({})),
        200,
    );
    let claimed = expect(
        s.bearer("edr")
            .post("/api/v1/claims", json!({"limit": 1, "lease_seconds": 60})),
        200,
    );
    assert_eq!(claimed[0]["id"], id, "{claimed}");
    claimed[0]["attempts"][0]["lease_token"].clone()
}

/// Sends `head` raw and reads the answer (or the close) within `wait`.
pub fn raw_exchange(s: &TestServer, head: &[u8], wait: Duration) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(s.addr).expect("connect");
    tcp.set_read_timeout(Some(wait)).expect("timeout");
    tcp.write_all(head).expect("write");
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// POSTs a head declaring `length` bytes of JSON to the actions route and
/// sends no body; the status and body of the answer. For bodies over the
/// limit: the server answers on the head and closes, and a client still
/// writing the body would see its write fail (a broken pipe) instead of
/// the answer, which says nothing about the server.
pub fn head_only_post(s: &TestServer, token: &str, length: usize) -> (u16, String) {
    let answer = head_only_answer(s, token, length);
    let status = answer.get(9..12).and_then(|c| c.parse().ok());
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    match (status, body) {
        (Some(status), Some(body)) => (status, body),
        _ => panic!("no answer to a head declaring {length} bytes: {answer:?}"),
    }
}

/// The whole answer, head and body, to a head that declares `length`
/// bytes of JSON for the actions route and sends none of them.
pub fn head_only_answer(s: &TestServer, token: &str, length: usize) -> String {
    let head = format!(
        "POST /api/v1/actions HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n",
        s.addr
    );
    raw_exchange(s, head.as_bytes(), Duration::from_secs(10))
}

/// Reads a live feed to its end, which must come within five seconds
/// (the test servers recheck a stream's credential every 200 ms).
pub fn ends_soon(mut r: reqwest::blocking::Response) {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let ended = r.read_to_end(&mut rest);
    assert!(ended.is_ok(), "the stream ends cleanly: {ended:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// The error kind of a response that must have this status.
pub fn error_kind(r: Response, status: u16) -> String {
    let body = expect(r, status);
    body["error"]["kind"].as_str().unwrap_or("").to_owned()
}

pub fn isolate(device: &str) -> Value {
    json!({
        "kind": "isolate_device",
        "entity": {"type": "device", "device_id": device},
        "source": {"type": "playbook", "name": "phishing-triage"},
        "investigation_id": "inv-7"
    })
}

pub fn quarantine(device: &str, sha: &str) -> Value {
    json!({
        "kind": "quarantine_file",
        "entity": {"type": "file", "sha256": sha, "path": "C:\\\\Temp\\\\evil.exe", "device_id": device},
        "source": {"type": "playbook", "name": "av-sweep"}
    })
}
