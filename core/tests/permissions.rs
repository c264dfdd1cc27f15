//! The permission matrix, in process: every role × operation × category
//! against the stored policy.
//!
//! Nothing here lists cells by hand. The operations are the verbs a caller
//! can send; each names the machine event it sends, and the permission it
//! needs is read from the machine's TABLE ("who may" column), or is View
//! for the reading verbs and Administer everywhere for the database-wide
//! ones. The roles are every single grant (each operation on each category
//! and on "*"), no grant at all, and the built-in policy's roles. For each
//! cell the test stores a policy where the principal has exactly that
//! role, sets up an action of that category in the status the verb needs,
//! calls the verb, and checks: allowed, it works and moves the action as
//! the table says; denied, `PermissionDenied` and nothing changed (the
//! action's version, the number of events, the counts).

use actioncenter::machine::{TABLE, Who};
use actioncenter::*;

/// One verb a caller can send, and the status its action must be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Propose,
    Approve,
    Reject,
    CancelPending,
    CancelApproved,
    Retry,
    Claim,
    Heartbeat,
    Complete,
    Fail,
    Undo,
    UndoAgain,
    ClaimUndo,
    HeartbeatUndo,
    CompleteUndo,
    FailUndo,
    BulkApprove,
    BulkUndo,
    Get,
    List,
    History,
    SetPolicy,
    Impersonate,
}

const VERBS: [Verb; 23] = [
    Verb::Propose,
    Verb::Approve,
    Verb::Reject,
    Verb::CancelPending,
    Verb::CancelApproved,
    Verb::Retry,
    Verb::Claim,
    Verb::Heartbeat,
    Verb::Complete,
    Verb::Fail,
    Verb::Undo,
    Verb::UndoAgain,
    Verb::ClaimUndo,
    Verb::HeartbeatUndo,
    Verb::CompleteUndo,
    Verb::FailUndo,
    Verb::BulkApprove,
    Verb::BulkUndo,
    Verb::Get,
    Verb::List,
    Verb::History,
    Verb::SetPolicy,
    Verb::Impersonate,
];

/// What a verb needs.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// The machine event it sends from this status (None: a new action).
    Event(Option<Status>, Event),
    /// View on the action's category.
    View,
    /// Administer on every category.
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
            Verb::Claim => Need::Event(Some(S::Approved), Event::Claim),
            Verb::Heartbeat => Need::Event(Some(S::Running), Event::Heartbeat),
            Verb::Complete => Need::Event(Some(S::Running), Event::Complete),
            Verb::Fail => Need::Event(Some(S::Running), Event::Fail),
            Verb::Undo | Verb::BulkUndo => Need::Event(Some(S::Completed), Event::Undo),
            Verb::UndoAgain => Need::Event(Some(S::UndoFailed), Event::Undo),
            Verb::ClaimUndo => Need::Event(Some(S::Undoing), Event::Claim),
            Verb::HeartbeatUndo => Need::Event(Some(S::UndoRunning), Event::Heartbeat),
            Verb::CompleteUndo => Need::Event(Some(S::UndoRunning), Event::Complete),
            Verb::FailUndo => Need::Event(Some(S::UndoRunning), Event::Fail),
            Verb::Get | Verb::List | Verb::History => Need::View,
            Verb::SetPolicy | Verb::Impersonate => Need::AdministerEverywhere,
        }
    }

    /// The status the action must be in before the call.
    fn from(self) -> Option<Status> {
        match self.need() {
            Need::Event(from, _) => from,
            Need::View | Need::AdministerEverywhere => Some(Status::Pending),
        }
    }

    /// The row of the machine's table this verb goes through.
    fn row(self) -> Option<&'static actioncenter::machine::Row> {
        match self.need() {
            Need::Event(from, event) => {
                let row = TABLE
                    .iter()
                    .find(|r| r.from == from && r.event == event)
                    .unwrap_or_else(|| panic!("no row for {from:?} {event}"));
                Some(row)
            }
            _ => None,
        }
    }
}

/// A role made of grants: operation → categories.
#[derive(Debug, Clone)]
struct Role {
    name: String,
    grants: Vec<(Operation, Vec<String>)>,
}

impl Role {
    fn json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (op, cats) in &self.grants {
            map.insert(op.as_str().to_owned(), serde_json::json!(cats));
        }
        serde_json::Value::Object(map)
    }

    /// Whether the role grants `op` on `category`: the oracle, written
    /// from the design (Administer implies every operation), not from
    /// `Policy::allows`.
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
}

/// Every role of the matrix: no grant; each operation on each category
/// and on "*"; and the built-in policy's roles.
fn roles() -> Vec<Role> {
    let mut out = vec![Role {
        name: "nothing".into(),
        grants: Vec::new(),
    }];
    for op in Operation::ALL {
        for cat in Category::ALL
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
    let builtin: serde_json::Value =
        serde_json::from_str(actioncenter::policy::DEFAULT_POLICY_JSON).expect("default policy");
    for (name, grants) in builtin["roles"].as_object().expect("roles") {
        let grants = grants
            .as_object()
            .expect("grants")
            .iter()
            // The sources a role may name are not grants.
            .filter(|(key, _)| key.as_str() != "sources")
            .map(|(op, cats)| {
                let op: Operation = serde_json::from_value(serde_json::json!(op)).expect("op");
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

/// A kind and an entity in `category`, undoable.
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
                sha256: format!("{:02x}", n % 256).repeat(32),
                path: format!("C:\\tmp\\f{n}.exe"),
                device_id: format!("dev-{n}"),
            },
        ),
        Category::Email => (
            Kind::SoftDeleteEmail,
            Entity::Mailbox {
                address: format!("u{n}@example.com"),
            },
        ),
        Category::Identity => (
            Kind::DisableUser,
            Entity::User {
                user_id: format!("u{n}@example.com"),
            },
        ),
        Category::Network => (
            Kind::BlockUrl,
            Entity::Url {
                url: format!("https://bad{n}.example.com/"),
            },
        ),
    };
    let p = Proposal::new(
        kind.clone(),
        entity,
        Source::Playbook {
            name: "matrix".into(),
        },
    );
    assert_eq!(kind.category(), Some(category));
    p
}

const SUBJECT: &str = "pat";

fn sam() -> Principal {
    Principal::new("sam", ["setup"])
}
fn ann() -> Principal {
    Principal::new("ann", ["setup"])
}
fn exe() -> Principal {
    Principal::new("exe", ["setup"])
}
/// The subject under its tested role.
fn pat(role: &Role) -> Principal {
    Principal::new(SUBJECT, [role.name.as_str()])
}
/// The subject's id with the setup role, to take a lease the subject will
/// then hold under its tested role.
fn pat_setup() -> Principal {
    Principal::new(SUBJECT, ["setup"])
}

/// The stored policy of one cell: the setup role (Administer on
/// everything), the subject's role, and the principals naming them.
fn policy_for(role: &Role, extra: &str) -> Policy {
    let json = serde_json::json!({
        "roles": { "setup": {"administer": ["*"]}, role.name.clone(): role.json() },
        "principals": {
            "sam": ["setup"], "ann": ["setup"], "exe": ["setup"], "dana": ["setup"],
            SUBJECT: [role.name.clone()]
        },
        "automation": {"default": "semi"},
        "allow_self_approval": false,
    });
    let mut value = json;
    if !extra.is_empty() {
        let more: serde_json::Value = serde_json::from_str(extra).expect("extra");
        for (k, v) in more.as_object().expect("object") {
            value[k] = v.clone();
        }
    }
    Policy::from_value(value).expect("cell policy")
}

struct Setup {
    center: ActionCenter,
    action: Option<Action>,
    token: String,
}

/// An engine storing `policy`, and an action of `category` brought to
/// `status` by the setup principals (a lease, when there is one, held by
/// the subject's id).
fn set_up(policy: Policy, category: Category, status: Option<Status>, verb: Verb) -> Setup {
    let center = ActionCenter::new(MemoryStore::new(), policy);
    let Some(status) = status else {
        return Setup {
            center,
            action: None,
            token: String::new(),
        };
    };
    use Status as S;
    let lease_to_subject = matches!(verb, Verb::Heartbeat | Verb::Complete | Verb::Fail)
        || matches!(
            verb,
            Verb::HeartbeatUndo | Verb::CompleteUndo | Verb::FailUndo
        );
    let claimer = if lease_to_subject { pat_setup() } else { exe() };
    let claim = |c: &ActionCenter, who: &Principal| -> Action {
        let got = c.claim(who, &ClaimRequest::default()).expect("setup claim");
        assert_eq!(got.len(), 1, "setup claim");
        got.into_iter().next().expect("one")
    };
    let a = center
        .propose(&sam(), proposal_in(category, 1))
        .expect("setup propose");
    let mut token = String::new();
    let mut a = a;
    if status != S::Pending {
        a = center
            .approve(&ann(), a.id, &Decide::default())
            .expect("setup approve");
    }
    if matches!(
        status,
        S::Running | S::Failed | S::Completed | S::Undoing | S::UndoRunning | S::UndoFailed
    ) {
        let who = if status == S::Running {
            &claimer
        } else {
            &exe()
        };
        a = claim(&center, who);
        token = a.lease_token().unwrap_or_default().to_owned();
    }
    if status == S::Failed {
        a = center
            .fail(&exe(), a.id, &token, "boom")
            .expect("setup fail");
    }
    if matches!(
        status,
        S::Completed | S::Undoing | S::UndoRunning | S::UndoFailed
    ) {
        a = center
            .complete(&exe(), a.id, &token, serde_json::json!({}))
            .expect("setup complete");
    }
    if matches!(status, S::Undoing | S::UndoRunning | S::UndoFailed) {
        let req = UndoRequest {
            comment: "setup".into(),
            ..UndoRequest::default()
        };
        a = center.undo(&ann(), a.id, &req).expect("setup undo").action;
    }
    if matches!(status, S::UndoRunning | S::UndoFailed) {
        let who = if status == S::UndoRunning {
            &claimer
        } else {
            &exe()
        };
        a = claim(&center, who);
        token = a.lease_token().unwrap_or_default().to_owned();
    }
    if status == S::UndoFailed {
        a = center
            .fail(&exe(), a.id, &token, "undo boom")
            .expect("setup fail undo");
    }
    assert_eq!(a.status, status, "setup for {verb:?}");
    Setup {
        center,
        action: Some(a),
        token,
    }
}

/// What an observer sees of the database: every action's id, status and
/// version, the number of audit events, the counts per status.
fn snapshot(center: &ActionCenter) -> (Vec<(ActionId, Status, u64)>, usize, Counts) {
    let admin = sam();
    let page = center
        .list(&admin, &Filter::default(), &PageRequest::default())
        .expect("list");
    let actions = page
        .items
        .iter()
        .map(|a| (a.id, a.status, a.version))
        .collect();
    let events = center.events_since(&admin, 0, 1000).expect("events").len();
    let counts = center.counts(&admin, &Filter::default()).expect("counts");
    (actions, events, counts)
}

/// What the subject's call came to.
#[derive(Debug)]
enum Outcome {
    /// It worked; the action is now in this status (None: nothing to move).
    Done(Option<Status>),
    /// Refused with this error.
    Refused(Error),
    /// It ran but did not touch the action (a claim outside the
    /// categories granted, a listing that hides it).
    Untouched,
}

fn call(s: &Setup, role: &Role, verb: Verb, category: Category) -> Outcome {
    let c = &s.center;
    let p = pat(role);
    let a = s.action.as_ref();
    let id = a.map(|a| a.id);
    let id = || id.expect("an action");
    let seen = || Seen::of(a.expect("an action"));
    let moved = |r: Result<Action>| match r {
        Ok(a) => Outcome::Done(Some(a.status)),
        Err(e) => Outcome::Refused(e),
    };
    let item = |r: Result<Vec<ItemResult>>| match r {
        Ok(mut items) => {
            assert_eq!(items.len(), 1);
            moved(items.remove(0).result)
        }
        Err(e) => Outcome::Refused(e),
    };
    let claimed = |r: Result<Vec<Action>>| match r {
        Ok(v) if v.is_empty() => Outcome::Untouched,
        Ok(v) => Outcome::Done(Some(v[0].status)),
        Err(e) => Outcome::Refused(e),
    };
    match verb {
        Verb::Propose => moved(c.propose(&p, proposal_in(category, 2))),
        Verb::Approve => moved(c.approve(&p, id(), &Decide::default())),
        Verb::Reject => moved(c.reject(&p, id(), &Decide::with_comment("no"))),
        Verb::CancelPending | Verb::CancelApproved => moved(c.cancel(&p, id(), "stop")),
        Verb::Retry => moved(c.retry(&p, id(), None)),
        Verb::Claim | Verb::ClaimUndo => claimed(c.claim(&p, &ClaimRequest::default())),
        Verb::Heartbeat | Verb::HeartbeatUndo => moved(c.heartbeat(&p, id(), &s.token, 60)),
        Verb::Complete | Verb::CompleteUndo => {
            moved(c.complete(&p, id(), &s.token, serde_json::json!({"ok": true})))
        }
        Verb::Fail | Verb::FailUndo => moved(c.fail(&p, id(), &s.token, "failed")),
        Verb::Undo | Verb::UndoAgain => {
            let req = UndoRequest {
                comment: "undo it".into(),
                ..UndoRequest::default()
            };
            match c.undo(&p, id(), &req) {
                Ok(r) => Outcome::Done(Some(r.action.status)),
                Err(e) => Outcome::Refused(e),
            }
        }
        Verb::BulkApprove => item(c.bulk(
            &p,
            &BulkOp::Approve { comment: None },
            &Selection::Ids(vec![seen()]),
        )),
        Verb::BulkUndo => item(c.bulk(
            &p,
            &BulkOp::Undo {
                comment: "bulk undo".into(),
            },
            &Selection::Ids(vec![seen()]),
        )),
        Verb::Get => match c.get(&p, id()) {
            Ok(got) => {
                assert_eq!(got.id, id());
                Outcome::Done(None)
            }
            Err(e) => Outcome::Refused(e),
        },
        Verb::History => match c.history_of(&p, id()) {
            Ok(events) => {
                assert!(!events.is_empty());
                Outcome::Done(None)
            }
            Err(e) => Outcome::Refused(e),
        },
        Verb::List => match c.list(&p, &Filter::default(), &PageRequest::default()) {
            Ok(page) if page.items.iter().any(|x| x.id == id()) => Outcome::Done(None),
            Ok(_) => Outcome::Untouched,
            Err(e) => Outcome::Refused(e),
        },
        Verb::SetPolicy => {
            let next = c.policy().expect("policy").with_self_approval(true);
            match c.set_policy(&p, next, None, Some("matrix")) {
                Ok(_) => Outcome::Done(None),
                Err(e) => Outcome::Refused(e),
            }
        }
        Verb::Impersonate => match c.impersonate(&p, "dana") {
            Ok(as_dana) => {
                assert_eq!(as_dana.via.as_deref(), Some(SUBJECT));
                Outcome::Done(None)
            }
            Err(e) => Outcome::Refused(e),
        },
    }
}

/// Whether the role lets the subject make this call, by the design.
fn expected(role: &Role, verb: Verb, category: Category) -> bool {
    match verb.need() {
        Need::View => role.grants(Operation::View, category),
        Need::AdministerEverywhere => role.grants_everywhere(Operation::Administer),
        Need::Event(..) => match verb.row().expect("row").who {
            Who::Holder(op) | Who::ProposerOr(op) => role.grants(op, category),
            Who::LeaseHolder => role.grants(Operation::Execute, category),
            Who::System => false,
        },
    }
}

/// Runs one cell; returns whether the call was allowed.
fn cell(role: &Role, verb: Verb, category: Category) -> bool {
    let policy = policy_for(role, "");
    let s = set_up(policy, category, verb.from(), verb);
    let before = snapshot(&s.center);
    let version_before = s.action.as_ref().map(|a| a.version);
    let allowed = expected(role, verb, category);
    let what = format!("{} {verb:?} on {category}", role.name);
    let outcome = call(&s, role, verb, category);
    let after = snapshot(&s.center);
    if allowed {
        match outcome {
            Outcome::Done(status) => {
                if let (Some(row), Some(status)) = (verb.row(), status) {
                    assert!(
                        row.to.contains(&status),
                        "{what}: {status} is not in the table's {:?}",
                        row.to
                    );
                }
                let changes = !matches!(
                    verb,
                    Verb::Get | Verb::List | Verb::History | Verb::Impersonate
                ) && !matches!(verb, Verb::Heartbeat | Verb::HeartbeatUndo);
                if changes {
                    assert!(after.1 > before.1, "{what}: allowed, but no audit event");
                } else {
                    assert_eq!(before, after, "{what}: a read changed something");
                }
            }
            other => panic!("{what}: should be allowed, got {other:?}"),
        }
    } else {
        match outcome {
            Outcome::Refused(e) => {
                assert_eq!(
                    e.kind(),
                    ErrorKind::PermissionDenied,
                    "{what}: refused for the wrong reason: {e}"
                );
                assert_eq!(e.kind().code(), 3);
                assert_eq!(e.to_json()["kind"], "permission_denied", "{what}");
            }
            Outcome::Untouched => {
                // Only a claim or a listing may quietly skip what the role
                // does not cover, and only when the role grants the
                // operation on some other category.
                let op = match verb {
                    Verb::Claim | Verb::ClaimUndo => Operation::Execute,
                    Verb::List => Operation::View,
                    other => panic!("{what}: {other:?} ignored the action instead of refusing"),
                };
                assert!(
                    role.grants_somewhere(op),
                    "{what}: a role without {op} anywhere must be refused"
                );
            }
            Outcome::Done(st) => panic!("{what}: should be denied, but it worked ({st:?})"),
        }
        assert_eq!(before, after, "{what}: a denied call changed something");
        if let (Some(v), Some(a)) = (version_before, s.action.as_ref()) {
            let now = s.center.get(&sam(), a.id).expect("get");
            assert_eq!(now.version, v, "{what}: version moved");
        }
    }
    allowed
}

#[test]
fn every_role_operation_and_category_against_the_stored_policy() {
    let roles = roles();
    let (mut cells, mut allowed) = (0usize, 0usize);
    for role in &roles {
        for verb in VERBS {
            for category in Category::ALL {
                cells += 1;
                if cell(role, verb, category) {
                    allowed += 1;
                }
            }
        }
    }
    println!(
        "permission matrix (rust): {cells} cells ({} roles x {} verbs x {} categories), {allowed} allowed, {} denied",
        roles.len(),
        VERBS.len(),
        Category::ALL.len(),
        cells - allowed
    );
    assert_eq!(cells, roles.len() * VERBS.len() * Category::ALL.len());
    assert!(allowed > 0 && allowed < cells);
}

#[test]
fn every_event_a_caller_can_send_is_in_the_matrix() {
    for row in TABLE {
        if row.who == Who::System {
            continue;
        }
        assert!(
            VERBS
                .iter()
                .any(|v| matches!(v.need(), Need::Event(f, e) if f == row.from && e == row.event)),
            "{:?} {} has no verb in the matrix",
            row.from,
            row.event
        );
    }
}

#[test]
fn the_proposer_may_cancel_with_no_cancel_grant() {
    for category in Category::ALL {
        let role = Role {
            name: "proposer".into(),
            grants: vec![(Operation::Propose, vec![category.as_str().into()])],
        };
        let center = ActionCenter::new(MemoryStore::new(), policy_for(&role, ""));
        let a = center
            .propose(&pat(&role), proposal_in(category, 3))
            .expect("propose");
        let done = center.cancel(&pat(&role), a.id, "mine").expect("cancel");
        assert_eq!(done.status, Status::Cancelled);
        // Another principal with the same role is not the proposer.
        let other = Principal::new("sam", [role.name.as_str()]);
        let b = center
            .propose(&pat(&role), proposal_in(category, 4))
            .expect("propose");
        let e = center.cancel(&other, b.id, "not mine").expect_err("denied");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    }
}

#[test]
fn self_approval_is_refused_administrators_included_unless_the_policy_allows_it() {
    let admin_role = Role {
        name: "boss".into(),
        grants: vec![(Operation::Administer, vec!["*".into()])],
    };
    let analyst = Role {
        name: "builtin_analyst".into(),
        grants: vec![
            (Operation::Propose, vec!["*".into()]),
            (Operation::Approve, vec!["*".into()]),
        ],
    };
    for role in [&admin_role, &analyst] {
        for category in Category::ALL {
            for bulk in [false, true] {
                let center = ActionCenter::new(MemoryStore::new(), policy_for(role, ""));
                let me = pat(role);
                let a = center
                    .propose(&me, proposal_in(category, 5))
                    .expect("propose");
                let before = snapshot(&center);
                let e = if bulk {
                    let mut items = center
                        .bulk(
                            &me,
                            &BulkOp::Approve { comment: None },
                            &Selection::Ids(vec![Seen::of(&a)]),
                        )
                        .expect("bulk");
                    items.remove(0).result.expect_err("self approval")
                } else {
                    center
                        .approve(&me, a.id, &Decide::default())
                        .expect_err("self approval")
                };
                assert_eq!(
                    e.kind(),
                    ErrorKind::SelfApproval,
                    "{} {category}",
                    role.name
                );
                assert_eq!(before, snapshot(&center));

                let allow = ActionCenter::new(
                    MemoryStore::new(),
                    policy_for(role, r#"{"allow_self_approval": true}"#),
                );
                let a = allow
                    .propose(&me, proposal_in(category, 6))
                    .expect("propose");
                let ok = allow
                    .approve(&me, a.id, &Decide::default())
                    .expect("allowed");
                assert_eq!(ok.status, Status::Approved);
            }
        }
    }
}

#[test]
fn a_quorum_counts_distinct_people_only() {
    let role = Role {
        name: "approver".into(),
        grants: vec![(Operation::Approve, vec!["*".into()])],
    };
    for category in Category::ALL {
        let kind = proposal_in(category, 0).kind;
        let extra = format!(r#"{{"kinds": {{"{kind}": {{"quorum": 3}}}}}}"#);
        let center = ActionCenter::new(MemoryStore::new(), policy_for(&role, &extra));
        let a = center
            .propose(&sam(), proposal_in(category, 7))
            .expect("propose");
        let once = center
            .approve(&pat(&role), a.id, &Decide::default())
            .expect("first");
        assert_eq!(once.status, Status::Pending);
        let before = snapshot(&center);
        // The same person again, alone or under another role: refused.
        let e = center
            .approve(&pat(&role), a.id, &Decide::default())
            .expect_err("twice");
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        let e = center
            .approve(&pat_setup(), a.id, &Decide::default())
            .expect_err("same id, other role");
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        // The same person acting through an administrator: still one person.
        let as_pat = center.impersonate(&ann(), SUBJECT).expect("impersonate");
        let e = center
            .approve(&as_pat, a.id, &Decide::default())
            .expect_err("through an administrator");
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        assert_eq!(before, snapshot(&center));
        let two = center
            .approve(&ann(), a.id, &Decide::default())
            .expect("ann");
        assert_eq!(two.status, Status::Pending);
        let three = center
            .approve(&exe(), a.id, &Decide::default())
            .expect("exe");
        assert_eq!(three.status, Status::Approved);
        assert_eq!(three.approvers().len(), 3);
    }
}

#[test]
fn acting_as_another_needs_administer_everywhere_and_is_recorded() {
    for role in roles() {
        let center = ActionCenter::new(MemoryStore::new(), policy_for(&role, ""));
        let result = center.impersonate(&pat(&role), "dana");
        if !role.grants_everywhere(Operation::Administer) {
            assert_eq!(
                result.expect_err("denied").kind(),
                ErrorKind::PermissionDenied,
                "{}",
                role.name
            );
            continue;
        }
        let dana = result.expect("impersonate");
        assert_eq!(dana.id, "dana");
        assert_eq!(dana.via.as_deref(), Some(SUBJECT));
        let a = center
            .propose(&dana, proposal_in(Category::File, 8))
            .expect("propose");
        let events = center.history_of(&sam(), a.id).expect("history");
        let json = serde_json::to_value(&events[0]).expect("event json");
        let text = json.to_string();
        assert!(text.contains("\"dana\""), "{text}");
        assert!(
            text.contains(SUBJECT),
            "the administrator is not recorded: {text}"
        );
        let approved = center
            .approve(&ann(), a.id, &Decide::default())
            .expect("approve");
        assert_eq!(approved.status, Status::Approved);
    }
}
