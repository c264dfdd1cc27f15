//! The permission matrix through the command line: each verb actionctl
//! sends × a set of roles × two categories, against the database's
//! stored policy.
//!
//! actionctl acts as the operating-system account, or as another
//! principal of the policy with `--as` (ACTIONCENTER_ACTOR), which the
//! account (an administrator here) may do. Each cell runs the verb as a
//! principal holding exactly one role, on a fresh action set up through
//! the library on the same file. Allowed: exit 0 and the action moved as
//! the machine's TABLE says; denied: exit 3 (`permission_denied`) and
//! nothing changed (the action's version and status, the number of audit
//! events, the policy version).

mod common;

use std::process::Command;

use actioncenter::machine::{TABLE, Who};
use actioncenter::*;
use common::{Db, os_account};

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Propose,
    Approve,
    Reject,
    Cancel,
    Retry,
    Undo,
    Show,
    Events,
    PolicySet,
}

const VERBS: [Verb; 9] = [
    Verb::Propose,
    Verb::Approve,
    Verb::Reject,
    Verb::Cancel,
    Verb::Retry,
    Verb::Undo,
    Verb::Show,
    Verb::Events,
    Verb::PolicySet,
];

const CATEGORIES: [Category; 2] = [Category::Device, Category::File];

impl Verb {
    fn from(self) -> Option<Status> {
        match self {
            Verb::Propose => None,
            Verb::Retry => Some(Status::Failed),
            Verb::Undo => Some(Status::Completed),
            _ => Some(Status::Pending),
        }
    }

    fn event(self) -> Option<Event> {
        Some(match self {
            Verb::Propose => Event::Propose,
            Verb::Approve => Event::Approve,
            Verb::Reject => Event::Reject,
            Verb::Cancel => Event::Cancel,
            Verb::Retry => Event::Retry,
            Verb::Undo => Event::Undo,
            _ => return None,
        })
    }

    fn row(self) -> Option<&'static actioncenter::machine::Row> {
        let event = self.event()?;
        let from = self.from();
        Some(
            TABLE
                .iter()
                .find(|r| r.from == from && r.event == event)
                .unwrap_or_else(|| panic!("no row for {from:?} {event}")),
        )
    }
}

#[derive(Debug, Clone)]
struct Role {
    name: String,
    grants: Vec<(Operation, Vec<String>)>,
}

impl Role {
    fn grants(&self, op: Operation, category: Category) -> bool {
        self.grants.iter().any(|(g, cats)| {
            (*g == op || *g == Operation::Administer)
                && cats.iter().any(|c| c == "*" || c == category.as_str())
        })
    }

    fn grants_everywhere(&self, op: Operation) -> bool {
        Category::ALL.into_iter().all(|c| self.grants(op, c))
    }

    fn subject(&self) -> String {
        format!("p_{}", self.name)
    }
}

/// No grant; each operation on devices and on "*"; the built-in roles.
fn roles() -> Vec<Role> {
    let mut out = vec![Role {
        name: "nothing".into(),
        grants: Vec::new(),
    }];
    for op in Operation::ALL {
        for cat in ["device", "*"] {
            out.push(Role {
                name: format!("{op}_on_{}", if cat == "*" { "all" } else { cat }),
                grants: vec![(op, vec![cat.to_owned()])],
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

fn matrix_policy(roles: &[Role]) -> Value {
    let mut role_map = serde_json::Map::new();
    role_map.insert("admin".into(), json!({"administer": ["*"]}));
    let mut principals = serde_json::Map::new();
    principals.insert(os_account(), json!(["admin"]));
    for p in ["sam", "ann", "exe"] {
        principals.insert(p.into(), json!(["admin"]));
    }
    for r in roles {
        let mut grants = serde_json::Map::new();
        for (op, cats) in &r.grants {
            grants.insert(op.as_str().to_owned(), json!(cats));
        }
        role_map.insert(r.name.clone(), Value::Object(grants));
        principals.insert(r.subject(), json!([r.name]));
    }
    json!({
        "roles": role_map,
        "principals": principals,
        "automation": {"default": "semi"},
        "allow_self_approval": false,
    })
}

fn expected(role: &Role, verb: Verb, category: Category) -> bool {
    match verb {
        Verb::Show => role.grants(Operation::View, category),
        Verb::Events => role.grants_everywhere(Operation::View),
        Verb::PolicySet => role.grants_everywhere(Operation::Administer),
        // A manual response (README, "command line"): Propose, and
        // Approve too, since it counts as its proposer's approval.
        Verb::Propose => {
            role.grants(Operation::Propose, category) && role.grants(Operation::Approve, category)
        }
        // The command line finds the action by id prefix first, which
        // needs View on its category, then sends the event.
        _ => {
            role.grants(Operation::View, category)
                && match verb.row().expect("row").who {
                    Who::Holder(op) | Who::ProposerOr(op) => role.grants(op, category),
                    Who::LeaseHolder => role.grants(Operation::Execute, category),
                    Who::System => false,
                }
        }
    }
}

fn admin() -> Principal {
    Principal::new("sam", ["admin"])
}

fn center(db: &Db) -> ActionCenter {
    let store = SqliteStore::open(&db.path).expect("open");
    ActionCenter::new(store, Policy::default())
}

/// A fresh action of `category` in `status`, set up through the library.
fn set_up(db: &Db, category: Category, status: Status, n: usize) -> Action {
    let c = center(db);
    let ann = Principal::new("ann", ["admin"]);
    let exe = Principal::new("exe", ["admin"]);
    let (kind, entity) = match category {
        Category::Device => (
            Kind::IsolateDevice,
            Entity::Device {
                device_id: format!("dev-{n}"),
                name: None,
            },
        ),
        _ => (
            Kind::QuarantineFile,
            Entity::File {
                sha256: format!("{n:064x}"),
                path: format!("C:\\tmp\\f{n}.exe"),
                device_id: format!("dev-{n}"),
            },
        ),
    };
    let p = Proposal::new(kind, entity, Source::Playbook { name: "cli".into() });
    let mut a = c.propose(&admin(), p).expect("setup propose");
    if status != Status::Pending {
        a = c
            .approve(&ann, a.id, &Decide::default())
            .expect("setup approve");
        // Claim everything claimable; what earlier cells left is completed.
        let req = ClaimRequest {
            limit: 1000,
            ..ClaimRequest::default()
        };
        let mut token = String::new();
        for got in c.claim(&exe, &req).expect("claim") {
            let t = got.lease_token().unwrap_or_default().to_owned();
            if got.id == a.id {
                token = t;
            } else {
                c.complete(&exe, got.id, &t, json!({}))
                    .expect("complete a leftover");
            }
        }
        assert!(!token.is_empty(), "setup claim");
        a = if status == Status::Failed {
            c.fail(&exe, a.id, &token, "boom").expect("setup fail")
        } else {
            c.complete(&exe, a.id, &token, json!({}))
                .expect("setup complete")
        };
    }
    assert_eq!(a.status, status);
    a
}

fn snapshot(db: &Db) -> (u64, u64) {
    let c = center(db);
    let (seq, _) = c.store().chain_head().expect("head");
    (seq, c.stored_policy().expect("policy").version)
}

fn actionctl_as(db: &Db, who: &str, args: &[String]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_actionctl"))
        .arg("--db")
        .arg(&db.path)
        .arg("--json")
        .env_remove("ACTIONCENTER_DB")
        .env_remove("ACTIONCENTER_POLICY")
        .env("ACTIONCENTER_ACTOR", who)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run actionctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn args_for(db: &Db, verb: Verb, category: Category, a: &Action, n: usize) -> Vec<String> {
    let id = a.id.to_string();
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    match verb {
        Verb::Propose => match category {
            Category::Device => s(&["propose", "isolate_device", "--device-id"])
                .into_iter()
                .chain([format!("dev-p{n}")])
                .collect(),
            _ => s(&["propose", "quarantine_file", "--sha256"])
                .into_iter()
                .chain([
                    format!("{:064x}", n + 1_000_000),
                    "--path".into(),
                    "C:\\tmp\\p.exe".into(),
                    "--device-id".into(),
                    format!("dev-p{n}"),
                ])
                .collect(),
        },
        Verb::Approve => s(&["approve", &id]),
        Verb::Reject => s(&["reject", &id, "-m", "no"]),
        Verb::Cancel => s(&["cancel", &id, "-m", "stop"]),
        Verb::Retry => s(&["retry", &id]),
        Verb::Undo => s(&["undo", &id, "-m", "undo it", "--yes"]),
        Verb::Show => s(&["show", &id]),
        Verb::Events => s(&["events", "--limit", "1"]),
        Verb::PolicySet => {
            let c = center(db);
            let stored = c.stored_policy().expect("policy");
            let file = db.file(
                "same-policy.json",
                &serde_json::to_string(&stored.policy).expect("policy json"),
            );
            vec![
                "policy".into(),
                "set".into(),
                file.to_string_lossy().into_owned(),
            ]
        }
    }
}

#[test]
fn each_command_line_verb_allowed_and_denied_against_the_stored_policy() {
    let db = Db::none();
    let roles = roles();
    // The file, made by the library with the matrix policy stored.
    {
        let policy = Policy::from_value(matrix_policy(&roles)).expect("policy");
        let store = SqliteStore::open(&db.path).expect("create");
        let c = ActionCenter::new(store, policy.clone());
        c.set_policy(&admin(), policy, None, Some("matrix"))
            .expect("store the matrix policy");
    }
    let (mut cells, mut allowed, mut n) = (0usize, 0usize, 0usize);
    for role in &roles {
        for verb in VERBS {
            for category in CATEGORIES {
                n += 1;
                cells += 1;
                let a = set_up(&db, category, verb.from().unwrap_or(Status::Pending), n);
                let before = snapshot(&db);
                let ok = expected(role, verb, category);
                let what = format!("{} {verb:?} on {category}", role.name);
                let args = args_for(&db, verb, category, &a, n);
                let (code, out, err) = actionctl_as(&db, &role.subject(), &args);
                let after = snapshot(&db);
                let now = center(&db).get(&admin(), a.id).expect("get");
                if ok {
                    allowed += 1;
                    assert_eq!(code, 0, "{what}: {out} {err}");
                    if let Some(row) = verb.row() {
                        assert!(after.0 > before.0, "{what}: no audit event");
                        if verb != Verb::Propose {
                            assert!(row.to.contains(&now.status), "{what}: {}", now.status);
                            assert_ne!(now.version, a.version, "{what}: not moved");
                        }
                    } else if verb == Verb::PolicySet {
                        assert_eq!(after.1, before.1 + 1, "{what}: policy version");
                    } else {
                        assert_eq!(before, after, "{what}: a read changed something");
                        assert!(!out.is_empty(), "{what}: printed nothing");
                    }
                } else {
                    assert_eq!(code, 3, "{what}: {out} {err}");
                    assert!(
                        format!("{out}{err}").contains("permission_denied"),
                        "{what}: {out} {err}"
                    );
                    assert_eq!(before, after, "{what}: a denied call changed something");
                    assert_eq!(
                        (now.version, now.status),
                        (a.version, a.status),
                        "{what}: moved"
                    );
                }
            }
        }
    }
    println!(
        "permission matrix (cli): {cells} cells ({} roles x {} verbs x {} categories), {allowed} allowed, {} denied",
        roles.len(),
        VERBS.len(),
        CATEGORIES.len(),
        cells - allowed
    );
    assert_eq!(cells, roles.len() * VERBS.len() * CATEGORIES.len());
    assert!(allowed > 0 && allowed < cells);
}
