//! Races: threads, and processes, contending for the same actions.
//!
//! Each round seeds actions, gives each to two or more contenders (on
//! different threads, each holding its own handle on the database, as
//! separate processes would), starts them together and checks:
//! - no lost update: the transitions acknowledged on one action have
//!   distinct versions, each is in its trail, and every acknowledged
//!   decision is in the final state (one decision per acknowledged
//!   approval or rejection, no more);
//! - no double execution: no attempt of an action claimed twice, at most
//!   one completion accepted per action;
//! - no stale lease: no completion accepted with the token of a lease the
//!   sweep took back;
//! - `verify_audit` intact and the counts equal to a recount.
//!
//! A race is one contested action (two contenders or more). The count is
//! printed; `ACTIONCENTER_RACE_SCALE=N` multiplies the rounds.
//!
//! Backends: memory, SQLite (several handles on one file, and several OS
//! processes: this test binary run again as `child_race_worker`), and
//! PostgreSQL (several stores on one schema; skipped without
//! `ACTIONCENTER_PG_URL`, run by scripts/test-postgres.sh).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};

use actioncenter::*;
use support::*;

fn dan() -> Principal {
    Principal::new("dan", ["analyst"])
}

/// How long each claim's lease lasts, and how far the lease sweeper moves
/// the clock to take them back.
const LEASE: i64 = 30;

/// What one contender did to one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    ApproveSeen(&'static str),
    Approve(&'static str),
    Reject(&'static str),
    Cancel,
    BulkApprove,
    BulkReject,
    Expire,
    Undo(&'static str),
    UndoFanOut,
    BulkUndo,
}

impl Op {
    /// Adds a decision (an approval or rejection) to the action.
    fn decides(self) -> bool {
        matches!(
            self,
            Op::ApproveSeen(_) | Op::Approve(_) | Op::Reject(_) | Op::BulkApprove | Op::BulkReject
        )
    }
}

/// The kind the execution rounds run: no other round leaves one approved.
fn restrict(device: &str) -> Proposal {
    Proposal::new(
        Kind::RestrictCodeExecution,
        Entity::Device {
            device_id: device.into(),
            name: None,
        },
        Source::AutomatedInvestigation {
            investigation_id: "inv-races".into(),
        },
    )
}

fn analyst(name: &str) -> Principal {
    Principal::new(name, ["analyst"])
}

#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    races: u64,
    acknowledged: u64,
    claims: u64,
    completions: u64,
    stale_refused: u64,
}

impl Figures {
    fn add(&mut self, o: Figures) {
        self.races += o.races;
        self.acknowledged += o.acknowledged;
        self.claims += o.claims;
        self.completions += o.completions;
        self.stale_refused += o.stale_refused;
    }
}

/// Handles on one database, all on one manual clock.
struct Backend {
    name: &'static str,
    handles: Vec<ActionCenter>,
    clock: Arc<ManualClock>,
}

impl Backend {
    fn first(&self) -> &ActionCenter {
        &self.handles[0]
    }
    fn handle(&self, i: usize) -> ActionCenter {
        self.handles[i % self.handles.len()].clone()
    }
}

fn scale() -> u64 {
    env_number("ACTIONCENTER_RACE_SCALE", 1).max(1)
}

/// Every round of every scenario on `backend`; the figures.
fn run_all(
    backend: &Backend,
    rng: &mut Rng,
    decide: usize,
    execute: usize,
    undo: usize,
) -> Figures {
    let mut total = Figures::default();
    for _ in 0..scale() {
        for chunk in split(decide) {
            total.add(decide_round(backend, rng, chunk));
        }
        for chunk in split(execute) {
            total.add(execute_round(backend, rng, chunk));
        }
        for chunk in split(undo) {
            total.add(undo_round(backend, rng, chunk));
        }
    }
    check_store(backend.first(), None);
    println!(
        "{}: {} races, {} transitions acknowledged, {} claims, {} completions, \
         {} stale-lease completions refused; 0 lost updates, 0 double executions, \
         0 stale completions accepted",
        backend.name,
        total.races,
        total.acknowledged,
        total.claims,
        total.completions,
        total.stale_refused
    );
    total
}

/// Rounds of at most 250 actions.
fn split(n: usize) -> Vec<usize> {
    let mut out = vec![250; n / 250];
    if !n.is_multiple_of(250) {
        out.push(n % 250);
    }
    out
}

/// Runs `tasks[t]` on thread `t`, all started together; the results.
fn run_threads<T: Send + 'static, R: Send + 'static>(
    tasks: Vec<Vec<T>>,
    work: impl Fn(usize, T) -> Vec<R> + Send + Sync + 'static,
) -> Vec<R> {
    let barrier = Arc::new(Barrier::new(tasks.len()));
    let work = Arc::new(work);
    let threads: Vec<_> = tasks
        .into_iter()
        .enumerate()
        .map(|(t, list)| {
            let barrier = barrier.clone();
            let work = work.clone();
            std::thread::spawn(move || {
                barrier.wait();
                list.into_iter()
                    .flat_map(|task| work(t, task))
                    .collect::<Vec<R>>()
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

/// The checks every scenario shares, on the acknowledged transitions of
/// each action: distinct versions (two acknowledged at one version is a
/// lost update), each in the trail, the final version past them all, and
/// one decision in the final state per acknowledged decision.
/// `before` is how many decisions each action had when the round began.
fn check_acks(center: &ActionCenter, acks: &[(ActionId, Op, Action)], before: usize) {
    let mut by_action: BTreeMap<ActionId, Vec<(Op, &Action)>> = BTreeMap::new();
    for (id, op, a) in acks {
        by_action.entry(*id).or_default().push((*op, a));
    }
    for (id, list) in by_action {
        let versions: HashSet<u64> = list.iter().map(|(_, a)| a.version).collect();
        assert_eq!(
            versions.len(),
            list.len(),
            "lost update on {id}: two transitions acknowledged at one version: {:?}",
            list.iter()
                .map(|(op, a)| (op, a.status, a.version))
                .collect::<Vec<_>>()
        );
        let now = center.get(&viewer(), id).unwrap();
        let trail = center.history_of(&viewer(), id).unwrap();
        for (op, a) in &list {
            assert!(now.version >= a.version);
            assert!(
                trail
                    .iter()
                    .any(|e| e.version == Some(a.version) && e.to == Some(a.status)),
                "{op:?} on {id} acknowledged at version {} is not in the trail",
                a.version
            );
        }
        let decided = list.iter().filter(|(op, _)| op.decides()).count();
        assert_eq!(
            now.decisions.len(),
            decided + before,
            "action {id}: {} decisions stored, {decided} acknowledged after {before}",
            now.decisions.len()
        );
    }
}

fn ok_or_lost(result: Result<Action>) -> Option<Action> {
    match result {
        Ok(a) => Some(a),
        Err(
            Error::Conflict { .. }
            | Error::InvalidTransition { .. }
            | Error::Expired { .. }
            | Error::StaleLease { .. },
        ) => None,
        // Two analysts' approvals may meet a policy reload; anything
        // else is a defect.
        Err(e) => panic!("unexpected error in a race: {e}"),
    }
}

// ----- Pending: approve, reject, cancel, bulk and the expiry sweep ------

fn decide_round(backend: &Backend, rng: &mut Rng, n: usize) -> Figures {
    let center = backend.first();
    let threads = 6;
    let round = rng.next_u64();
    // A third are URLs with a one-second approval window: the expiry
    // sweep contends for those.
    let actions: Vec<Action> = (0..n)
        .map(|i| {
            let p = if i % 3 == 0 {
                block_url(&format!("https://evil.example/{round}/{i}"))
            } else {
                isolate(&format!("dev-{round}-{i}"))
            };
            center.propose(&air(), p).unwrap()
        })
        .collect();
    let mut tasks: Vec<Vec<(Action, Op)>> = vec![Vec::new(); threads];
    for a in &actions {
        let mut ops = vec![
            Op::ApproveSeen("alice"),
            Op::Approve("bob"),
            Op::Reject("carol"),
            Op::Cancel,
            Op::BulkApprove,
            Op::BulkReject,
        ];
        if a.kind == Kind::BlockUrl {
            ops.push(Op::Expire);
        }
        let k = 2 + rng.below(3) as usize;
        let first = rng.below(threads as u64) as usize;
        for j in 0..k {
            let op = ops.remove(rng.below(ops.len() as u64) as usize);
            tasks[(first + j) % threads].push((a.clone(), op));
        }
    }
    for list in &mut tasks {
        shuffle(list, rng);
    }
    let handles: Vec<ActionCenter> = (0..threads).map(|t| backend.handle(t)).collect();
    let clock = backend.clock.clone();
    let acks = run_threads(tasks, move |t, (a, op)| {
        let c = &handles[t];
        // Read first, as a person looks before deciding.
        let seen = c.get(&viewer(), a.id).unwrap();
        let one = |r: Result<Action>| ok_or_lost(r).into_iter().map(|x| (a.id, op, x)).collect();
        match op {
            Op::ApproveSeen(who) => {
                one(c.approve(&analyst(who), a.id, &Decide::default().seen(seen.version)))
            }
            Op::Approve(who) => one(c.approve(&analyst(who), a.id, &Decide::default())),
            Op::Reject(who) => one(c.reject(
                &analyst(who),
                a.id,
                &Decide::with_comment("benign").seen(seen.version),
            )),
            Op::Cancel => one(c.cancel(&air(), a.id, "withdrawn")),
            Op::BulkApprove | Op::BulkReject => {
                let bulk = if op == Op::BulkApprove {
                    BulkOp::Approve { comment: None }
                } else {
                    BulkOp::Reject {
                        comment: "bulk".into(),
                    }
                };
                let items = c
                    .bulk(&dan(), &bulk, &Selection::Ids(vec![Seen::of(&seen)]))
                    .unwrap();
                items
                    .into_iter()
                    .filter_map(|i| ok_or_lost(i.result))
                    .map(|x| (a.id, op, x))
                    .collect()
            }
            Op::Expire => {
                if let Some(at) = a.expires_at {
                    clock.set(at.max(clock.now()));
                }
                // Every action the sweep moved is acknowledged, this one
                // or another whose window closed too.
                c.expire_due()
                    .unwrap()
                    .into_iter()
                    .map(|x| (x.id, Op::Expire, x))
                    .collect()
            }
            other => unreachable!("{other:?}"),
        }
    });
    check_acks(center, &acks, 0);
    // At most one decision leaves Pending; what is acknowledged is what
    // the action shows.
    for a in &actions {
        let now = center.get(&viewer(), a.id).unwrap();
        let leaving: Vec<&Action> = acks
            .iter()
            .filter(|(id, op, x)| *id == a.id && *op != Op::Cancel && x.status != Status::Pending)
            .map(|(_, _, x)| x)
            .collect();
        assert!(leaving.len() <= 1, "{} left Pending twice", a.id);
        if let Some(winner) = leaving.first()
            && now.status != Status::Cancelled
        {
            assert_eq!(now.status, winner.status, "action {}", a.id);
        }
    }
    Figures {
        races: n as u64,
        acknowledged: acks.len() as u64,
        ..Figures::default()
    }
}

// ----- Approved: claim, heartbeat, complete, fail, cancel, lease sweep --

/// What an executor did with one claim.
#[derive(Debug, Clone)]
struct Claimed {
    id: ActionId,
    attempt: usize,
    executor: String,
    token: String,
    completed: Option<Action>,
    refused_stale: bool,
}

fn execute_round(backend: &Backend, rng: &mut Rng, n: usize) -> Figures {
    let center = backend.first();
    let round = rng.next_u64();
    let mut actions = Vec::new();
    for i in 0..n {
        let a = center
            .propose(&air(), restrict(&format!("exec-{round}-{i}")))
            .unwrap();
        actions.push(center.approve(&alice(), a.id, &Decide::default()).unwrap());
    }
    let ids: HashSet<ActionId> = actions.iter().map(|a| a.id).collect();
    let executors = 4;
    let claims: Arc<Mutex<Vec<Claimed>>> = Arc::default();
    let others: Arc<Mutex<Vec<(ActionId, Op, Action)>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(executors + 2));
    let mut threads = Vec::new();
    for e in 0..executors {
        let c = backend.handle(e);
        let claims = claims.clone();
        let barrier = barrier.clone();
        let done = done.clone();
        let mut rng = Rng::new(rng.next_u64());
        let ids = ids.clone();
        threads.push(std::thread::spawn(move || {
            let me = agent(e);
            barrier.wait();
            let mut idle = 0;
            while idle < 3 {
                let request = ClaimRequest {
                    limit: 1 + rng.below(2) as usize,
                    lease_seconds: LEASE,
                    kinds: Some(vec![Kind::RestrictCodeExecution]),
                };
                let got = c.claim(&me, &request).unwrap();
                if got.is_empty() {
                    if done.load(std::sync::atomic::Ordering::SeqCst) {
                        idle += 1;
                    }
                    std::thread::yield_now();
                    continue;
                }
                idle = 0;
                for a in got {
                    assert!(ids.contains(&a.id), "claimed another round's action");
                    let token = a.lease_token().unwrap().to_owned();
                    let mut claim = Claimed {
                        id: a.id,
                        attempt: a.attempts.len(),
                        executor: me.id.clone(),
                        token: token.clone(),
                        completed: None,
                        refused_stale: false,
                    };
                    // Some executors dawdle, so the sweeper takes their
                    // lease back first.
                    if rng.chance(1, 4) {
                        std::thread::sleep(std::time::Duration::from_millis(rng.below(3)));
                    }
                    if rng.chance(1, 3) {
                        let _ = ok_or_lost(c.heartbeat(&me, a.id, &token, LEASE));
                    }
                    let result = if rng.chance(9, 10) {
                        c.complete(&me, a.id, &token, serde_json::json!({"by": me.id}))
                    } else {
                        c.fail(&me, a.id, &token, "agent crashed")
                    };
                    match result {
                        Ok(x) => claim.completed = Some(x),
                        // The lease ran out, or the sweep took it back
                        // (and maybe another executor claimed it since).
                        Err(
                            Error::StaleLease { .. }
                            | Error::Expired { .. }
                            | Error::InvalidTransition { .. }
                            | Error::Conflict { .. },
                        ) => claim.refused_stale = true,
                        Err(e) => panic!("complete: {e}"),
                    }
                    claims.lock().unwrap().push(claim);
                }
            }
        }));
    }
    // The lease sweeper: moves the clock past every lease and takes them
    // back, a few times during the round.
    {
        let c = backend.handle(executors);
        let clock = backend.clock.clone();
        let barrier = barrier.clone();
        let others = others.clone();
        let done = done.clone();
        let sweeps = 3 + rng.below(3);
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            for _ in 0..sweeps {
                std::thread::sleep(std::time::Duration::from_millis(2));
                clock.advance(chrono::Duration::seconds(LEASE + 1));
                for x in c.recover_leases().unwrap() {
                    others.lock().unwrap().push((x.id, Op::Expire, x));
                }
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    // A canceller, contending with the executors for approved actions.
    {
        let c = backend.handle(executors + 1);
        let barrier = barrier.clone();
        let others = others.clone();
        let mut order: Vec<Action> = actions.clone();
        shuffle(&mut order, rng);
        order.truncate(n / 5);
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            for a in order {
                if let Some(x) = ok_or_lost(c.cancel(&air(), a.id, "not needed")) {
                    others.lock().unwrap().push((a.id, Op::Cancel, x));
                }
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    // What is left over (an action whose lease was taken back after the
    // executors stopped) is swept once more.
    backend.clock.advance(chrono::Duration::seconds(LEASE + 1));
    for x in center.recover_leases().unwrap() {
        others.lock().unwrap().push((x.id, Op::Expire, x));
    }
    // What went back to the queue is withdrawn, so no later round claims it.
    for a in &actions {
        if let Some(x) = ok_or_lost(center.cancel(&air(), a.id, "round over"))
            && x.status == Status::Cancelled
        {
            others.lock().unwrap().push((a.id, Op::Cancel, x));
        }
    }
    let claims = claims.lock().unwrap().clone();
    let others = others.lock().unwrap().clone();

    // No attempt claimed twice; tokens all distinct.
    let mut attempts: HashMap<(ActionId, usize), &Claimed> = HashMap::new();
    let mut tokens = HashSet::new();
    for c in &claims {
        if let Some(first) = attempts.insert((c.id, c.attempt), c) {
            panic!(
                "double execution: attempt {} of {} claimed by {} and {}",
                c.attempt, c.id, first.executor, c.executor
            );
        }
        assert!(
            tokens.insert(c.token.clone()),
            "a lease token handed out twice"
        );
    }
    let mut figures = Figures {
        races: n as u64,
        claims: claims.len() as u64,
        ..Figures::default()
    };
    let mut acks: Vec<(ActionId, Op, Action)> = others.clone();
    for a in &actions {
        let now = center.get(&viewer(), a.id).unwrap();
        let mine: Vec<&Claimed> = claims.iter().filter(|c| c.id == a.id).collect();
        let completed: Vec<&Claimed> = mine
            .iter()
            .copied()
            .filter(|c| {
                c.completed
                    .as_ref()
                    .is_some_and(|x| x.status == Status::Completed)
            })
            .collect();
        assert!(
            completed.len() <= 1,
            "double execution: {} completed {} times",
            a.id,
            completed.len()
        );
        for c in &mine {
            // The final state's attempt with this token.
            let attempt = now
                .attempts
                .iter()
                .find(|t| t.lease_token == c.token)
                .unwrap_or_else(|| panic!("the claim of {} is not in its attempts", a.id));
            match (&c.completed, &attempt.outcome) {
                (Some(_), Some(Outcome::LeaseExpired)) => {
                    panic!("a completion of {} with a stale lease was accepted", a.id)
                }
                (Some(_), Some(Outcome::Completed { .. } | Outcome::Failed { .. })) => {}
                (Some(_), other) => panic!("accepted, yet the attempt shows {other:?}"),
                (None, Some(Outcome::Completed { .. } | Outcome::Failed { .. })) => {
                    panic!("{} finished by an executor that was refused", a.id)
                }
                (None, _) => assert!(c.refused_stale),
            }
            if let Some(x) = &c.completed {
                figures.completions += 1;
                acks.push((a.id, Op::Approve("executor"), x.clone()));
            }
            if c.refused_stale {
                figures.stale_refused += 1;
            }
        }
        assert_eq!(
            now.status == Status::Completed,
            completed.len() == 1,
            "action {} is {} after {} accepted completions",
            a.id,
            now.status,
            completed.len()
        );
    }
    // The executor's acks are checked for versions and the trail only:
    // they add no decision (the approval of setup is not counted either).
    let for_versions: Vec<(ActionId, Op, Action)> = acks
        .into_iter()
        .map(|(id, _, x)| (id, Op::Cancel, x))
        .collect();
    check_versions(center, &for_versions);
    figures.acknowledged = for_versions.len() as u64 + claims.len() as u64;
    figures
}

/// [`check_acks`] without the decision count.
fn check_versions(center: &ActionCenter, acks: &[(ActionId, Op, Action)]) {
    let mut by_action: BTreeMap<ActionId, Vec<&Action>> = BTreeMap::new();
    for (id, _, a) in acks {
        by_action.entry(*id).or_default().push(a);
    }
    for (id, list) in by_action {
        let versions: HashSet<u64> = list.iter().map(|a| a.version).collect();
        assert_eq!(versions.len(), list.len(), "lost update on {id}");
        let trail = center.history_of(&viewer(), id).unwrap();
        for a in list {
            assert!(
                trail
                    .iter()
                    .any(|e| e.version == Some(a.version) && e.to == Some(a.status)),
                "{id} acknowledged at version {} is not in the trail",
                a.version
            );
        }
    }
}

// ----- Completed: undo, undo with fan-out, bulk undo --------------------

fn undo_round(backend: &Backend, rng: &mut Rng, n: usize) -> Figures {
    let center = backend.first();
    let round = rng.next_u64();
    // Files in groups of three instances (one per device), so an undo's
    // fan-out contends with the undo of each other instance.
    let ex = agent(99);
    let mut actions = Vec::new();
    for i in 0..n {
        let sha = format!("{:016x}", round ^ (i / 3) as u64).repeat(4);
        let a = center
            .propose(&air(), quarantine(&format!("dev-{i}"), &sha))
            .unwrap();
        center.approve(&alice(), a.id, &Decide::default()).unwrap();
        actions.push(a.id);
    }
    loop {
        let got = center
            .claim(
                &ex,
                &ClaimRequest {
                    limit: 100,
                    lease_seconds: 3600,
                    kinds: Some(vec![Kind::QuarantineFile]),
                },
            )
            .unwrap();
        if got.is_empty() {
            break;
        }
        for a in got {
            let token = a.lease_token().unwrap();
            center
                .complete(&ex, a.id, token, serde_json::json!({}))
                .unwrap();
        }
    }
    let threads = 5;
    let mut tasks: Vec<Vec<(ActionId, Op)>> = vec![Vec::new(); threads];
    for id in &actions {
        let mut ops = vec![
            Op::Undo("alice"),
            Op::Undo("bob"),
            Op::UndoFanOut,
            Op::BulkUndo,
        ];
        let k = 2 + rng.below(2) as usize;
        let first = rng.below(threads as u64) as usize;
        for j in 0..k {
            let op = ops.remove(rng.below(ops.len() as u64) as usize);
            tasks[(first + j) % threads].push((*id, op));
        }
    }
    for list in &mut tasks {
        shuffle(list, rng);
    }
    let handles: Vec<ActionCenter> = (0..threads).map(|t| backend.handle(t)).collect();
    let acks = run_threads(tasks, move |t, (id, op)| {
        let c = &handles[t];
        let seen = c.get(&viewer(), id).unwrap();
        let request = |instances| UndoRequest {
            comment: "false positive".into(),
            expected_version: Some(seen.version),
            instances,
        };
        let mut out = Vec::new();
        match op {
            Op::Undo(who) => {
                if let Some(x) = undo_ok(c.undo(&analyst(who), id, &request(Vec::new()))) {
                    out.push((id, op, x.action));
                }
            }
            Op::UndoFanOut => {
                let instances: Vec<Seen> = c
                    .undo_instances(&carol(), id)
                    .unwrap()
                    .iter()
                    .map(Seen::of)
                    .collect();
                if let Some(x) = undo_ok(c.undo(&carol(), id, &request(instances))) {
                    out.push((id, op, x.action));
                    for item in x.instances {
                        if let Some(y) = ok_or_lost(item.result) {
                            out.push((item.id, op, y));
                        }
                    }
                }
            }
            Op::BulkUndo => {
                let items = c
                    .bulk(
                        &dan(),
                        &BulkOp::Undo {
                            comment: "bulk undo".into(),
                        },
                        &Selection::Ids(vec![Seen::of(&seen)]),
                    )
                    .unwrap();
                for item in items {
                    if let Some(y) = ok_or_lost(item.result) {
                        out.push((item.id, op, y));
                    }
                }
            }
            other => unreachable!("{other:?}"),
        }
        out
    });
    check_acks(center, &acks, 1);
    for id in &actions {
        let undos = acks.iter().filter(|(a, _, _)| a == id).count();
        let now = center.get(&viewer(), *id).unwrap();
        assert!(undos <= 1, "{id} undone {undos} times");
        assert_eq!(
            now.status == Status::Undoing,
            undos == 1,
            "{id} is {} after {undos} acknowledged undos",
            now.status
        );
    }
    Figures {
        races: n as u64,
        acknowledged: acks.len() as u64,
        ..Figures::default()
    }
}

fn undo_ok(result: Result<UndoReport>) -> Option<UndoReport> {
    match result {
        Ok(r) => Some(r),
        Err(Error::Conflict { .. } | Error::InvalidTransition { .. }) => None,
        Err(e) => panic!("undo: {e}"),
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::starting_at(chrono::Utc::now()))
}

// ----- the runs -----------------------------------------------------------

#[test]
fn races_on_memory() {
    let mut rng = Rng::new(seed("ACTIONCENTER_RACE_SEED"));
    let clock = manual_clock();
    let center = ActionCenter::with_clock(Arc::new(MemoryStore::new()), policy(), clock.clone());
    let backend = Backend {
        name: "memory, 6 threads",
        handles: vec![center],
        clock,
    };
    let f = run_all(&backend, &mut rng, 2500, 1250, 1250);
    assert!(f.races >= 5000);
}

#[cfg(feature = "sqlite")]
#[test]
fn races_on_sqlite_with_a_handle_per_thread() {
    let mut rng = Rng::new(seed("ACTIONCENTER_RACE_SEED"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("races.db");
    let clock = manual_clock();
    // The subject is concurrency, not durability: NORMAL keeps it quick.
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let handles = (0..7)
        .map(|_| {
            let store = SqliteStore::open_with(&db, &options).unwrap();
            ActionCenter::with_clock(Arc::new(store), policy(), clock.clone())
        })
        .collect();
    let backend = Backend {
        name: "SQLite, 7 handles on one file, 6 threads",
        handles,
        clock,
    };
    let f = run_all(&backend, &mut rng, 1500, 750, 750);
    assert!(f.races >= 3000);
}

#[cfg(feature = "postgres")]
#[test]
fn races_on_postgres_with_a_store_per_thread() {
    let Some(url) = std::env::var("ACTIONCENTER_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        println!("skipped: ACTIONCENTER_PG_URL is not set (scripts/test-postgres.sh sets it)");
        return;
    };
    let mut rng = Rng::new(seed("ACTIONCENTER_RACE_SEED"));
    let schema = format!("races_{}_{}", std::process::id(), rng.below(1_000_000));
    let clock = manual_clock();
    let handles = (0..7)
        .map(|_| {
            let options = PostgresOptions {
                pool_size: 2,
                ..PostgresOptions::in_schema(&schema)
            };
            let store = PostgresStore::connect_with(&url, &options).unwrap();
            ActionCenter::with_clock(Arc::new(store), policy(), clock.clone())
        })
        .collect();
    let backend = Backend {
        name: "PostgreSQL, 7 stores on one schema, 6 threads",
        handles,
        clock,
    };
    let f = run_all(&backend, &mut rng, 1000, 500, 500);
    drop(backend);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    assert!(f.races >= 2000);
}

// ----- several OS processes on one SQLite file ----------------------------

#[cfg(feature = "sqlite")]
const RACE_DB: &str = "ACTIONCENTER_RACE_DB";
#[cfg(feature = "sqlite")]
const RACE_CHILD: &str = "ACTIONCENTER_RACE_CHILD";

#[cfg(feature = "sqlite")]
fn sqlite_normal(db: &std::path::Path) -> SqliteStore {
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    SqliteStore::open_with(db, &options).unwrap()
}

#[cfg(feature = "sqlite")]
#[test]
fn races_between_processes_on_one_sqlite_file() {
    use std::process::{Command, Stdio};
    let mut rng = Rng::new(seed("ACTIONCENTER_RACE_SEED"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("processes.db");
    let center = ActionCenter::new(sqlite_normal(&db), policy());
    let n = 1000 * scale() as usize;
    let mut pending = Vec::new();
    let mut approved = Vec::new();
    for i in 0..n {
        pending.push(center.propose(&air(), isolate(&format!("p-{i}"))).unwrap());
        if i % 2 == 0 {
            let a = center.propose(&air(), restrict(&format!("q-{i}"))).unwrap();
            approved.push(center.approve(&alice(), a.id, &Decide::default()).unwrap());
        }
    }
    let go = dir.path().join("go");
    let children: Vec<_> = (0..4)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child_race_worker",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(RACE_DB, &db)
                .env(
                    RACE_CHILD,
                    format!("{i} {} {}", rng.next_u64(), go.display()),
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(&go, b"go").unwrap();
    let mut acks: Vec<(ActionId, Op, Action)> = Vec::new();
    let mut claims: HashMap<(ActionId, usize), String> = HashMap::new();
    let mut completions: HashMap<ActionId, usize> = HashMap::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {text}");
        for line in text.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                ["OK", id, op, who, ..] => {
                    let id: ActionId = id.parse().unwrap();
                    let now = center.store().get(id).unwrap().unwrap();
                    // The version and status acknowledged, as printed.
                    let mut x = now.clone();
                    x.status = w[4].parse().unwrap();
                    x.version = w[5].parse().unwrap();
                    let who: &'static str = if *who == "-" { "air" } else { "child" };
                    let op = match *op {
                        "approve" => Op::ApproveSeen(who),
                        "reject" => Op::Reject(who),
                        "cancel" => Op::Cancel,
                        "bulk" => Op::BulkApprove,
                        other => panic!("{other}"),
                    };
                    acks.push((id, op, x));
                }
                ["CLAIM", id, attempt, by, "."] => {
                    let key = (id.parse().unwrap(), attempt.parse().unwrap());
                    if let Some(first) = claims.insert(key, by.to_string()) {
                        panic!("double execution: attempt {attempt} of {id} by {first} and {by}");
                    }
                }
                ["DONE", id, "."] => *completions.entry(id.parse().unwrap()).or_default() += 1,
                _ => {}
            }
        }
    }
    check_acks(&center, &acks, 0);
    for a in &pending {
        let leaving = acks
            .iter()
            .filter(|(id, op, x)| *id == a.id && *op != Op::Cancel && x.status != Status::Pending)
            .count();
        assert!(leaving <= 1, "{} left Pending twice", a.id);
    }
    for a in &approved {
        let done = completions.get(&a.id).copied().unwrap_or(0);
        assert!(
            done <= 1,
            "double execution: {} completed {done} times",
            a.id
        );
        let now = center.get(&viewer(), a.id).unwrap();
        assert_eq!(now.status == Status::Completed, done == 1, "{}", a.id);
    }
    check_store(&center, None);
    let races = pending.len() + approved.len();
    println!(
        "SQLite, 4 processes on one file: {races} races ({} decisions, {} claims), \
         {} transitions acknowledged; 0 lost updates, 0 double executions",
        pending.len(),
        approved.len(),
        acks.len() + claims.len() + completions.len()
    );
    assert!(races >= 1500);
}

/// A process of `races_between_processes_on_one_sqlite_file`: decides on
/// every pending action in a random order, then executes what it can
/// claim.
#[cfg(feature = "sqlite")]
#[test]
#[ignore = "run by races_between_processes_on_one_sqlite_file in a child process"]
fn child_race_worker() {
    use std::io::Write;
    let (Ok(db), Ok(me)) = (std::env::var(RACE_DB), std::env::var(RACE_CHILD)) else {
        return;
    };
    let parts: Vec<&str> = me.splitn(3, ' ').collect();
    let (index, seed, go) = (parts[0], parts[1].parse().unwrap(), parts[2]);
    let mut rng = Rng::new(seed);
    let center = ActionCenter::new(sqlite_normal(std::path::Path::new(&db)), policy());
    let me_analyst = analyst(&format!("analyst-{index}"));
    let me_agent = Principal::new(format!("proc-agent-{index}"), ["executor"]);
    let mut ids: Vec<ActionId> = all_actions(&center)
        .into_iter()
        .filter(|a| a.status == Status::Pending)
        .map(|a| a.id)
        .collect();
    shuffle(&mut ids, &mut rng);
    while !std::path::Path::new(go).exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let mut out = std::io::stdout().lock();
    // The test harness starts the first line with the test's name.
    writeln!(out).unwrap();
    for id in ids {
        let seen = center.get(&viewer(), id).unwrap();
        let (op, result) = match rng.below(4) {
            0 => (
                "approve",
                center.approve(&me_analyst, id, &Decide::default().seen(seen.version)),
            ),
            1 => (
                "reject",
                center.reject(
                    &me_analyst,
                    id,
                    &Decide::with_comment("benign").seen(seen.version),
                ),
            ),
            2 => ("cancel", center.cancel(&air(), id, "withdrawn")),
            _ => (
                "bulk",
                center
                    .bulk(
                        &me_analyst,
                        &BulkOp::Approve { comment: None },
                        &Selection::Ids(vec![Seen::of(&seen)]),
                    )
                    .unwrap()
                    .pop()
                    .unwrap()
                    .result,
            ),
        };
        if let Some(x) = ok_or_lost(result) {
            let who = if op == "cancel" { "-" } else { "analyst" };
            writeln!(out, "OK {id} {op} {who} {} {} .", x.status, x.version).unwrap();
        }
    }
    let request = ClaimRequest {
        limit: 1,
        lease_seconds: 300,
        kinds: Some(vec![Kind::RestrictCodeExecution]),
    };
    loop {
        let got = center.claim(&me_agent, &request).unwrap();
        if got.is_empty() {
            break;
        }
        for a in got {
            writeln!(out, "CLAIM {} {} {} .", a.id, a.attempts.len(), me_agent.id).unwrap();
            let token = a.lease_token().unwrap().to_owned();
            if ok_or_lost(center.complete(&me_agent, a.id, &token, serde_json::json!({}))).is_some()
            {
                writeln!(out, "DONE {} .", a.id).unwrap();
            }
        }
    }
    out.flush().unwrap();
}
