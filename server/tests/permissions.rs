//! The permission matrix over HTTP: every verb the API exposes × a set
//! of roles × two categories, against the stored policy.
//!
//! As in the library's own matrix (core/tests/permissions.rs), no cell is
//! listed by hand: each verb names the machine event it sends, and the
//! permission it needs is read from the machine's TABLE ("who may"
//! column), or is View for the reading verbs and Administer everywhere
//! for the database-wide ones. One server runs the whole matrix: its
//! stored policy gives every role of the matrix to one principal of its
//! own, holding an API token; each cell sets up a fresh action through
//! the engine, calls the verb over HTTP with the role's token, and
//! checks: allowed, a 2xx and the move happened; denied, 403 with the
//! error kind `permission_denied` and nothing changed (the action's
//! version, the number of audit events, the counts, the policy version,
//! the checkpoints).

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use actioncenter::machine::{TABLE, Who};
use actioncenter::*;
use common::{Api, TestServer};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Propose,
    Approve,
    Reject,
    CancelPending,
    CancelApproved,
    Retry,
    Undo,
    Claim,
    ClaimUndo,
    Heartbeat,
    Complete,
    Fail,
    CompleteUndo,
    BulkApprove,
    Get,
    List,
    ActionEvents,
    Feed,
    Counts,
    PutPolicy,
    SignCheckpoint,
}

const VERBS: [Verb; 21] = [
    Verb::Propose,
    Verb::Approve,
    Verb::Reject,
    Verb::CancelPending,
    Verb::CancelApproved,
    Verb::Retry,
    Verb::Undo,
    Verb::Claim,
    Verb::ClaimUndo,
    Verb::Heartbeat,
    Verb::Complete,
    Verb::Fail,
    Verb::CompleteUndo,
    Verb::BulkApprove,
    Verb::Get,
    Verb::List,
    Verb::ActionEvents,
    Verb::Feed,
    Verb::Counts,
    Verb::PutPolicy,
    Verb::SignCheckpoint,
];

#[derive(Debug, Clone, Copy)]
enum Need {
    Event(Option<Status>, Event),
    /// View on the action's category.
    View,
    /// View on every category (the change feed spans them all).
    ViewEverywhere,
    AdministerEverywhere,
}

impl Verb {
    fn need(self) -> Need {
        use Status as S;
        match self {
            Verb::Propose => Need::Event(None, Event::Propose),
            Verb::Approve | Verb::BulkApprove => Need::Event(Some(S::Pending), Event::Approve),
            Verb::Reject => Need::Event(Some(S::Pending), Event::Reject),
            Verb::CancelPending => Need::Event(Some(S::Pending), Event::Cancel),
            Verb::CancelApproved => Need::Event(Some(S::Approved), Event::Cancel),
            Verb::Retry => Need::Event(Some(S::Failed), Event::Retry),
            Verb::Undo => Need::Event(Some(S::Completed), Event::Undo),
            Verb::Claim => Need::Event(Some(S::Approved), Event::Claim),
            Verb::ClaimUndo => Need::Event(Some(S::Undoing), Event::Claim),
            Verb::Heartbeat => Need::Event(Some(S::Running), Event::Heartbeat),
            Verb::Complete => Need::Event(Some(S::Running), Event::Complete),
            Verb::Fail => Need::Event(Some(S::Running), Event::Fail),
            Verb::CompleteUndo => Need::Event(Some(S::UndoRunning), Event::Complete),
            Verb::Get | Verb::List | Verb::ActionEvents | Verb::Counts => Need::View,
            Verb::Feed => Need::ViewEverywhere,
            Verb::PutPolicy | Verb::SignCheckpoint => Need::AdministerEverywhere,
        }
    }

    fn from(self) -> Option<Status> {
        match self.need() {
            Need::Event(from, _) => from,
            _ => Some(Status::Pending),
        }
    }

    fn row(self) -> Option<&'static actioncenter::machine::Row> {
        match self.need() {
            Need::Event(from, event) => Some(
                TABLE
                    .iter()
                    .find(|r| r.from == from && r.event == event)
                    .unwrap_or_else(|| panic!("no row for {from:?} {event}")),
            ),
            _ => None,
        }
    }

    /// Whether an allowed call writes an audit event.
    fn writes(self) -> bool {
        !matches!(
            self,
            Verb::Heartbeat
                | Verb::Get
                | Verb::List
                | Verb::ActionEvents
                | Verb::Feed
                | Verb::Counts
                | Verb::SignCheckpoint
        )
    }
}

const CATEGORIES: [Category; 2] = [Category::Device, Category::File];

#[derive(Debug, Clone)]
struct Role {
    name: String,
    grants: Vec<(Operation, Vec<String>)>,
}

impl Role {
    fn json(&self) -> Value {
        let mut map = serde_json::Map::new();
        for (op, cats) in &self.grants {
            map.insert(op.as_str().to_owned(), json!(cats));
        }
        Value::Object(map)
    }

    /// The oracle, from the design: Administer implies every operation.
    fn grants(&self, op: Operation, category: Category) -> bool {
        self.grants.iter().any(|(g, cats)| {
            (*g == op || *g == Operation::Administer)
                && cats.iter().any(|c| c == "*" || c == category.as_str())
        })
    }

    fn grants_everywhere(&self, op: Operation) -> bool {
        Category::ALL.into_iter().all(|c| self.grants(op, c))
    }

    fn grants_somewhere(&self, op: Operation) -> bool {
        Category::ALL.into_iter().any(|c| self.grants(op, c))
    }

    fn subject(&self) -> String {
        format!("p_{}", self.name)
    }
}

/// No grant; each operation on each of the two categories and on "*";
/// the built-in policy's roles.
fn roles() -> Vec<Role> {
    let mut out = vec![Role {
        name: "nothing".into(),
        grants: Vec::new(),
    }];
    for op in Operation::ALL {
        for cat in CATEGORIES
            .iter()
            .map(|c| c.as_str().to_owned())
            .chain(["*".to_owned()])
        {
            out.push(Role {
                name: format!("{op}_on_{}", if cat == "*" { "all" } else { &cat }),
                grants: vec![(op, vec![cat])],
            });
        }
    }
    let builtin: Value =
        serde_json::from_str(actioncenter::policy::DEFAULT_POLICY_JSON).expect("default policy");
    for (name, grants) in builtin["roles"].as_object().expect("roles") {
        let grants = grants
            .as_object()
            .expect("grants")
            .iter()
            // The sources a role may name are not grants.
            .filter(|(key, _)| key.as_str() != "sources")
            .map(|(op, cats)| {
                let op: Operation = serde_json::from_value(json!(op)).expect("op");
                let cats = cats
                    .as_array()
                    .expect("categories")
                    .iter()
                    .map(|c| c.as_str().expect("name").to_owned())
                    .collect();
                (op, cats)
            })
            .collect();
        out.push(Role {
            name: format!("builtin_{name}"),
            grants,
        });
    }
    out
}

/// The stored policy of the whole matrix: `admin` and the setup
/// principals with Administer everywhere, and one principal per role.
fn matrix_policy(roles: &[Role]) -> Policy {
    let mut role_map = serde_json::Map::new();
    role_map.insert("admin".into(), json!({"administer": ["*"]}));
    role_map.insert("setup".into(), json!({"administer": ["*"]}));
    let mut principals = serde_json::Map::new();
    principals.insert("admin".into(), json!(["admin"]));
    for p in ["sam", "ann", "exe"] {
        principals.insert(p.into(), json!(["setup"]));
    }
    for r in roles {
        role_map.insert(r.name.clone(), r.json());
        principals.insert(r.subject(), json!([r.name]));
    }
    Policy::from_value(json!({
        "roles": role_map,
        "principals": principals,
        "automation": {"default": "semi"},
        "allow_self_approval": false,
    }))
    .expect("matrix policy")
}

fn sam() -> Principal {
    Principal::new("sam", ["setup"])
}
fn ann() -> Principal {
    Principal::new("ann", ["setup"])
}
fn exe() -> Principal {
    Principal::new("exe", ["setup"])
}

/// A proposal in `category` whose entity no other cell uses.
fn proposal_in(category: Category, n: usize) -> Proposal {
    let (kind, entity) = match category {
        Category::Device => (
            Kind::IsolateDevice,
            Entity::Device {
                device_id: format!("dev-{n}"),
                name: None,
            },
        ),
        Category::File => (
            Kind::QuarantineFile,
            Entity::File {
                sha256: format!("{n:064x}"),
                path: format!("C:\\tmp\\f{n}.exe"),
                device_id: format!("dev-{n}"),
            },
        ),
        other => panic!("no proposal for {other}"),
    };
    assert_eq!(kind.category(), Some(category));
    Proposal::new(
        kind,
        entity,
        Source::Playbook {
            name: "matrix".into(),
        },
    )
}

fn proposal_json(category: Category, n: usize) -> Value {
    serde_json::to_value(proposal_in(category, n)).expect("proposal json")
}

struct World {
    s: TestServer,
    tokens: HashMap<String, Api>,
    next: usize,
}

impl World {
    fn n(&mut self) -> usize {
        self.next += 1;
        self.next
    }

    /// Completes whatever is left claimable, so a claim in the next cell
    /// can only find that cell's action.
    fn drain(&self) {
        let c = &self.s.center;
        loop {
            let req = ClaimRequest {
                limit: 100,
                ..ClaimRequest::default()
            };
            let got = c.claim(&exe(), &req).expect("drain claim");
            if got.is_empty() {
                break;
            }
            for a in got {
                let token = a.lease_token().unwrap_or_default().to_owned();
                c.complete(&exe(), a.id, &token, json!({}))
                    .expect("drain complete");
            }
        }
    }

    /// A fresh action of `category` brought to `status` (a lease, when
    /// there is one, held by `holder`'s id).
    fn set_up(&mut self, category: Category, status: Status, holder: &str) -> (Action, String) {
        use Status as S;
        let n = self.n();
        let c = self.s.center.clone();
        let claim = |who: &Principal| -> Action {
            let got = c.claim(who, &ClaimRequest::default()).expect("setup claim");
            assert_eq!(got.len(), 1, "setup claim");
            got.into_iter().next().expect("one")
        };
        let holder = Principal::new(holder, ["setup"]);
        let executor = exe();
        let mut a = c
            .propose(&sam(), proposal_in(category, n))
            .expect("setup propose");
        let mut token = String::new();
        if status != S::Pending {
            a = c
                .approve(&ann(), a.id, &Decide::default())
                .expect("setup approve");
        }
        if matches!(
            status,
            S::Running | S::Failed | S::Completed | S::Undoing | S::UndoRunning
        ) {
            a = claim(if status == S::Running {
                &holder
            } else {
                &executor
            });
            token = a.lease_token().unwrap_or_default().to_owned();
        }
        if status == S::Failed {
            a = c.fail(&exe(), a.id, &token, "boom").expect("setup fail");
        }
        if matches!(status, S::Completed | S::Undoing | S::UndoRunning) {
            a = c
                .complete(&exe(), a.id, &token, json!({}))
                .expect("setup complete");
        }
        if matches!(status, S::Undoing | S::UndoRunning) {
            let req = UndoRequest {
                comment: "setup".into(),
                ..UndoRequest::default()
            };
            a = c.undo(&ann(), a.id, &req).expect("setup undo").action;
        }
        if status == S::UndoRunning {
            a = claim(&holder);
            token = a.lease_token().unwrap_or_default().to_owned();
        }
        assert_eq!(a.status, status, "setup");
        (a, token)
    }

    /// What an observer sees: the audit events, the counts, the policy
    /// version, the checkpoints.
    fn snapshot(&self) -> (u64, Counts, u64, usize) {
        let c = &self.s.center;
        let (seq, _) = c.store().chain_head().expect("head");
        let counts = c.counts(&sam(), &Filter::default()).expect("counts");
        let version = c.stored_policy().expect("policy").version;
        let cps = c.checkpoints(&sam()).expect("checkpoints").len();
        (seq, counts, version, cps)
    }
}

fn expected(role: &Role, verb: Verb, category: Category) -> bool {
    match verb.need() {
        Need::View => role.grants(Operation::View, category),
        Need::ViewEverywhere => role.grants_everywhere(Operation::View),
        Need::AdministerEverywhere => role.grants_everywhere(Operation::Administer),
        Need::Event(..) => match verb.row().expect("row").who {
            Who::Holder(op) | Who::ProposerOr(op) => role.grants(op, category),
            Who::LeaseHolder => role.grants(Operation::Execute, category),
            Who::System => false,
        },
    }
}

/// What came back over HTTP.
#[derive(Debug)]
enum Outcome {
    /// A 2xx; the action's status after it, when the verb moves one.
    Done(Option<Status>),
    /// 403 `permission_denied`.
    Denied,
    /// A 2xx that did not touch or show the action (a claim, a listing
    /// or counts outside the categories the role covers).
    Untouched,
}

fn status_of(v: &Value) -> Status {
    serde_json::from_value(v["status"].clone()).unwrap_or_else(|_| panic!("a status in {v}"))
}

fn call(
    w: &mut World,
    role: &Role,
    verb: Verb,
    category: Category,
    a: &Action,
    token: &str,
) -> Outcome {
    let api = &w.tokens[&role.name];
    let id = a.id;
    let n = w.next + 1_000_000;
    let r = match verb {
        Verb::Propose => api.post("/api/v1/actions", proposal_json(category, n)),
        Verb::Approve => api.post(&format!("/api/v1/actions/{id}/approve"), json!({})),
        Verb::Reject => api.post(
            &format!("/api/v1/actions/{id}/reject"),
            json!({"comment": "no"}),
        ),
        Verb::CancelPending | Verb::CancelApproved => api.post(
            &format!("/api/v1/actions/{id}/cancel"),
            json!({"comment": "stop"}),
        ),
        Verb::Retry => api.post(&format!("/api/v1/actions/{id}/retry"), json!({})),
        Verb::Undo => api.post(
            &format!("/api/v1/actions/{id}/undo"),
            json!({"comment": "undo it", "instances": []}),
        ),
        Verb::Claim | Verb::ClaimUndo => {
            api.post("/api/v1/claims", json!({"limit": 10, "lease_seconds": 60}))
        }
        Verb::Heartbeat => api.post(
            &format!("/api/v1/actions/{id}/heartbeat"),
            json!({"lease_token": token, "lease_seconds": 60}),
        ),
        Verb::Complete | Verb::CompleteUndo => api.post(
            &format!("/api/v1/actions/{id}/complete"),
            json!({"lease_token": token, "result": {"ok": true}}),
        ),
        Verb::Fail => api.post(
            &format!("/api/v1/actions/{id}/fail"),
            json!({"lease_token": token, "error": "failed"}),
        ),
        Verb::BulkApprove => api.post(
            "/api/v1/bulk",
            json!({"op": "approve", "ids": [{"id": id.to_string(), "version": a.version}]}),
        ),
        Verb::Get => api.get(&format!("/api/v1/actions/{id}")),
        Verb::List => api.get(&format!(
            "/api/v1/actions?category={}&limit=1000",
            category.as_str()
        )),
        Verb::ActionEvents => api.get(&format!("/api/v1/actions/{id}/events")),
        Verb::Feed => api.get("/api/v1/events?after=0&limit=1"),
        Verb::Counts => api.get(&format!("/api/v1/counts?category={}", category.as_str())),
        Verb::PutPolicy => {
            let stored = w.s.center.stored_policy().expect("policy");
            api.put_json(
                "/api/v1/policy",
                json!({"policy": stored.policy, "expected_version": stored.version, "comment": "same"}),
            )
        }
        Verb::SignCheckpoint => api.post("/api/v1/audit/checkpoints", json!({})),
    };
    let code = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let what = format!("{} {verb:?} on {category}", role.name);
    if code == 403 {
        assert_eq!(body["error"]["kind"], "permission_denied", "{what}: {text}");
        return Outcome::Denied;
    }
    assert!((200..300).contains(&code), "{what}: {code} {text}");
    match verb {
        Verb::Propose => Outcome::Done(Some(status_of(&body))),
        Verb::Claim | Verb::ClaimUndo => {
            let items = body.as_array().expect("claimed");
            assert!(
                items.len() <= 1,
                "{what}: claimed more than the cell's action: {text}"
            );
            match items.first() {
                None => Outcome::Untouched,
                Some(x) => {
                    assert_eq!(x["id"], json!(id.to_string()), "{what}");
                    Outcome::Done(Some(status_of(x)))
                }
            }
        }
        Verb::Undo => Outcome::Done(Some(status_of(&body["action"]))),
        Verb::BulkApprove => {
            let item = &body["results"][0];
            if item["error"]["kind"] == "permission_denied" {
                return Outcome::Denied;
            }
            Outcome::Done(Some(status_of(&item["action"])))
        }
        Verb::Get => {
            assert_eq!(body["id"], json!(id.to_string()), "{what}");
            Outcome::Done(None)
        }
        Verb::ActionEvents => {
            assert!(!body.as_array().expect("events").is_empty(), "{what}");
            Outcome::Done(None)
        }
        Verb::List => {
            let items = body["items"].as_array().expect("items");
            if items.iter().any(|x| x["id"] == json!(id.to_string())) {
                Outcome::Done(None)
            } else {
                Outcome::Untouched
            }
        }
        Verb::Counts => {
            let total: u64 = body["statuses"]
                .as_object()
                .expect("statuses")
                .values()
                .filter_map(Value::as_u64)
                .sum();
            if total > 0 {
                Outcome::Done(None)
            } else {
                Outcome::Untouched
            }
        }
        Verb::Feed => {
            assert_eq!(body.as_array().map(Vec::len), Some(1), "{what}");
            Outcome::Done(None)
        }
        Verb::PutPolicy | Verb::SignCheckpoint => Outcome::Done(None),
        _ => Outcome::Done(Some(status_of(&body))),
    }
}

fn cell(w: &mut World, role: &Role, verb: Verb, category: Category) -> bool {
    let holder = match verb {
        Verb::Heartbeat | Verb::Complete | Verb::Fail | Verb::CompleteUndo => role.subject(),
        _ => "exe".to_owned(),
    };
    let (a, token) = w.set_up(category, verb.from().unwrap_or(Status::Pending), &holder);
    let before = w.snapshot();
    let allowed = expected(role, verb, category);
    let what = format!("{} {verb:?} on {category}", role.name);
    let outcome = call(w, role, verb, category, &a, &token);
    let after = w.snapshot();
    let now = w.s.center.get(&sam(), a.id).expect("get");
    if allowed {
        match outcome {
            Outcome::Done(status) => {
                if let (Some(row), Some(status)) = (verb.row(), status) {
                    assert!(
                        row.to.contains(&status),
                        "{what}: {status} is not in the table's {:?}",
                        row.to
                    );
                    if verb != Verb::Propose {
                        assert_eq!(now.status, status, "{what}: the stored status");
                    }
                }
                if verb.writes() {
                    assert!(after.0 > before.0, "{what}: allowed, but no audit event");
                } else if verb == Verb::SignCheckpoint {
                    assert_eq!(after.3, before.3 + 1, "{what}: no checkpoint stored");
                } else {
                    assert_eq!(before.0, after.0, "{what}: a read wrote an event");
                }
                if verb == Verb::PutPolicy {
                    assert_eq!(after.2, before.2 + 1, "{what}: the policy version");
                }
            }
            other => panic!("{what}: should be allowed, got {other:?}"),
        }
    } else {
        match outcome {
            Outcome::Denied => {}
            Outcome::Untouched => {
                let op = match verb {
                    Verb::Claim | Verb::ClaimUndo => Operation::Execute,
                    Verb::List | Verb::Counts => Operation::View,
                    other => panic!("{what}: {other:?} ignored the action instead of refusing"),
                };
                if verb != Verb::List && verb != Verb::Counts {
                    assert!(
                        role.grants_somewhere(op),
                        "{what}: a role without {op} anywhere must be refused"
                    );
                }
            }
            Outcome::Done(st) => panic!("{what}: should be denied, but it worked ({st:?})"),
        }
        assert_eq!(before, after, "{what}: a denied call changed something");
        assert_eq!(now.version, a.version, "{what}: the version moved");
        assert_eq!(now.status, a.status, "{what}: the status moved");
    }
    w.drain();
    allowed
}

#[test]
fn every_http_verb_role_and_category_against_the_stored_policy() {
    let started = std::time::Instant::now();
    let key = actioncenter::checkpoint::generate_key().expect("key");
    let s = TestServer::start_with(|st| st.checkpoint_key = Some(Arc::new(key)));
    let roles = roles();
    s.center
        .set_policy(&s.admin, matrix_policy(&roles), None, Some("matrix"))
        .expect("store the matrix policy");
    let admin = Principal::new("admin", ["admin"]);
    let mut tokens = HashMap::new();
    for r in &roles {
        let secret = s
            .center
            .create_token(&admin, &r.subject(), "matrix", chrono::Duration::days(1))
            .expect("token")
            .secret;
        tokens.insert(
            r.name.clone(),
            Api {
                base: s.base.clone(),
                client: reqwest::blocking::Client::new(),
                bearer: Some(secret),
                csrf: None,
            },
        );
    }
    let mut w = World { s, tokens, next: 0 };
    let (mut cells, mut allowed) = (0usize, 0usize);
    for role in &roles {
        for verb in VERBS {
            for category in CATEGORIES {
                cells += 1;
                if cell(&mut w, role, verb, category) {
                    allowed += 1;
                }
            }
        }
    }
    println!(
        "permission matrix (http): {cells} cells ({} roles x {} verbs x {} categories), {allowed} allowed, {} denied, {:.1} s",
        roles.len(),
        VERBS.len(),
        CATEGORIES.len(),
        cells - allowed,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(cells, roles.len() * VERBS.len() * CATEGORIES.len());
    assert!(allowed > 0 && allowed < cells);
    let audit = w.s.center.verify_audit().expect("verify");
    assert!(
        audit.first_bad.is_none() && audit.first_bad_action.is_none(),
        "{audit:?}"
    );
}

/// A prefix in a path finds only what the caller may view: walking
/// prefixes lists no id of an action the caller may not see, nor tells
/// one apart from an id that does not exist.
#[test]
fn a_prefix_in_a_path_finds_only_what_the_caller_may_view() {
    let s = TestServer::start();
    let policy = Policy::from_value({
        let mut p: Value = serde_json::from_str(&s.center.policy().expect("policy").to_json())
            .expect("policy json");
        p["roles"]["file_viewer"] = json!({"view": ["file"], "approve": ["*"]});
        p["principals"]["fiona"] = json!(["file_viewer"]);
        p
    })
    .expect("policy");
    s.center
        .set_policy(&s.admin, policy, None, Some("a file viewer"))
        .expect("set");
    let soar = s.bearer("soar");
    let file = common::expect(
        soar.post("/api/v1/actions", common::quarantine("d1", &"a".repeat(64))),
        201,
    );
    let device = common::expect(soar.post("/api/v1/actions", common::isolate("d2")), 201);
    let (fs, ds) = (
        file["id"].as_str().expect("id").to_owned(),
        device["id"].as_str().expect("id").to_owned(),
    );
    let common = fs
        .bytes()
        .zip(ds.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(common >= 4, "{fs} and {ds} share no four digits");
    let shared = &fs[..common.min(8)];
    // An analyst who views every category is told the prefix is ambiguous.
    let alice = s.bearer("alice");
    let r = alice.get(&format!("/api/v1/actions/{shared}"));
    assert_eq!(r.status(), 400);
    let text = r.text().expect("body");
    assert!(text.contains(&fs) && text.contains(&ds), "{text}");
    // Fiona views files only: the prefix is the quarantine's.
    let fiona = s.bearer("fiona");
    let got = common::expect(fiona.get(&format!("/api/v1/actions/{shared}")), 200);
    assert_eq!(got["id"], file["id"]);
    // The isolation's own prefix is an id that does not exist, for every
    // route, and no answer names the isolation.
    let hers = &ds[..common + 1];
    for r in [
        fiona.get(&format!("/api/v1/actions/{hers}")),
        fiona.get(&format!("/api/v1/actions/{hers}/events")),
        fiona.post(&format!("/api/v1/actions/{hers}/approve"), json!({})),
    ] {
        assert_eq!(r.status(), 404);
        let text = r.text().expect("body");
        assert!(!text.contains(&ds), "{text}");
    }
    let stored = s
        .center
        .get(&s.admin, ds.parse().expect("uuid"))
        .expect("get");
    assert_eq!(stored.status, Status::Pending);
}
