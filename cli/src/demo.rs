//! `actionctl demo`: a week of a security team's work, played through the
//! engine's ordinary verbs with a clock set in the past, then the Pending
//! and History tabs.

use std::sync::Arc;

use actioncenter::chrono::{Duration, Utc};
use actioncenter::serde_json::json;
use actioncenter::{
    Action, ActionCenter, ClaimRequest, Clock, Decide, Entity, Error, Filter, Kind, ManualClock,
    PageRequest, Policy, Principal, Proposal, Source, Status, Store, SystemClock, UndoRequest,
};

use crate::args::{DemoArgs, Global};
use crate::exit::CliError;
use crate::output::{Out, short_id};
use crate::session::{Backend, Open, Session, bootstrap_policy, open_store};
use crate::views;

/// The SHA-256 of the malicious `invoice.exe` quarantined on four devices.
pub const INVOICE_SHA256: &str = "5f1d8e3a9c2b4f6071e8d9c0b1a2f3e4d5c6b7a8091f2e3d4c5b6a7980f1e2d3";
const HELPER_SHA256: &str = "a3c9e1f0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4";
const REPORT_SHA256: &str = "0e4b7c1d2a3f5e6b8c9d0a1f2e3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d";

/// The people and services of the story, with roles of the default policy.
pub struct Cast {
    pub air: Principal,
    pub antivirus: Principal,
    pub soar: Principal,
    pub siem: Principal,
    pub alice: Principal,
    pub bob: Principal,
    pub dana: Principal,
    pub edr: Principal,
    pub mail: Principal,
    pub idp: Principal,
    pub proxy: Principal,
}

impl Cast {
    /// The cast as the principals of a policy, with `carol`, an analyst for
    /// you to act as (`--as carol`).
    pub fn principals(&self) -> Vec<&Principal> {
        vec![
            &self.air,
            &self.antivirus,
            &self.soar,
            &self.siem,
            &self.alice,
            &self.bob,
            &self.dana,
            &self.edr,
            &self.mail,
            &self.idp,
            &self.proxy,
        ]
    }

    /// The demo's first policy: the library's default roles, the cast
    /// and `carol` named with theirs, and the account that made the
    /// database an administrator. `--policy FILE` replaces it.
    pub fn policy(&self, global: &Global) -> Result<Policy, CliError> {
        if global.policy.is_some() {
            return bootstrap_policy(global);
        }
        let mut policy = Policy::default().with_principal("carol", ["analyst"])?;
        for p in self.principals() {
            policy = policy.with_principal(&p.id, p.roles.iter().cloned())?;
        }
        policy = policy.with_principal(&crate::session::os_account()?, ["admin"])?;
        Ok(policy)
    }

    pub fn new() -> Cast {
        Cast {
            air: Principal::new("air", ["automation"]),
            antivirus: Principal::new("antivirus", ["automation"]),
            soar: Principal::new("soar", ["automation"]),
            siem: Principal::new("siem-connector", ["automation"]),
            alice: Principal::new("alice", ["analyst"]),
            bob: Principal::new("bob", ["analyst"]),
            dana: Principal::new("dana", ["responder"]),
            edr: Principal::new("edr-agent", ["executor"]),
            mail: Principal::new("mail-agent", ["executor"]),
            idp: Principal::new("idp-agent", ["executor"]),
            proxy: Principal::new("proxy-agent", ["executor"]),
        }
    }
}

/// The engine with a clock the story moves forward.
struct Story {
    center: ActionCenter,
    clock: Arc<ManualClock>,
}

impl Story {
    fn later(&self, minutes: i64) {
        self.clock.advance(Duration::minutes(minutes));
    }

    /// Moves the clock to `minutes` before the real now, unless it is past that.
    fn catch_up(&self, minutes: i64) {
        let target = Utc::now() - Duration::minutes(minutes);
        if self.clock.now() < target {
            self.clock.set(target);
        }
    }

    fn propose(&self, by: &Principal, p: Proposal) -> Result<Action, Error> {
        self.later(7);
        self.center.propose(by, p)
    }

    fn approve(&self, by: &Principal, a: &Action, comment: Option<&str>) -> Result<Action, Error> {
        self.later(25);
        let decide = Decide {
            comment: comment.map(str::to_owned),
            expected_version: None,
        };
        self.center.approve(by, a.id, &decide)
    }

    /// Claims `a` as `agent` and lets `finish` complete or fail it.
    fn execute(
        &self,
        agent: &Principal,
        a: &Action,
        lease_seconds: i64,
        finish: impl FnOnce(&ActionCenter, &Action) -> Result<Action, Error>,
    ) -> Result<Action, Error> {
        self.later(3);
        let request = ClaimRequest {
            limit: 1,
            lease_seconds,
            kinds: Some(vec![a.kind.clone()]),
        };
        let claimed = self.center.claim(agent, &request)?;
        let Some(mine) = claimed.into_iter().next().filter(|c| c.id == a.id) else {
            return Err(Error::validation(
                "demo",
                format!("the executor did not get action {} from the queue", a.id),
            ));
        };
        self.later(4);
        finish(&self.center, &mine)
    }

    fn complete(
        &self,
        agent: &Principal,
        a: &Action,
        result: serde_json::Value,
    ) -> Result<Action, Error> {
        self.execute(agent, a, 600, |c, a| {
            c.complete(agent, a.id, a.lease_token().unwrap_or_default(), result)
        })
    }

    fn fail(&self, agent: &Principal, a: &Action, error: &str) -> Result<Action, Error> {
        self.execute(agent, a, 600, |c, a| {
            c.fail(agent, a.id, a.lease_token().unwrap_or_default(), error)
        })
    }

    fn undo(&self, by: &Principal, a: &Action, comment: &str) -> Result<Action, Error> {
        self.later(30);
        let request = UndoRequest {
            comment: comment.to_owned(),
            expected_version: Some(a.version),
            ..UndoRequest::default()
        };
        Ok(self.center.undo(by, a.id, &request)?.action)
    }
}

fn device(id: &str) -> Entity {
    Entity::Device {
        device_id: id.to_owned(),
        name: None,
    }
}

fn file(sha256: &str, path: &str, device_id: &str) -> Entity {
    Entity::File {
        sha256: sha256.to_owned(),
        path: path.to_owned(),
        device_id: device_id.to_owned(),
    }
}

fn on_device(kind: &Kind, device_id: &str, name: &str) -> Entity {
    let (device_id, name) = (device_id.to_owned(), name.to_owned());
    match kind {
        Kind::StopService | Kind::StartService => Entity::Service { device_id, name },
        Kind::DisableDriver | Kind::EnableDriver => Entity::Driver { device_id, name },
        _task => Entity::ScheduledTask { device_id, name },
    }
}

fn air(inv: &str) -> Source {
    Source::AutomatedInvestigation {
        investigation_id: inv.to_owned(),
    }
}

fn playbook(name: &str) -> Source {
    Source::Playbook {
        name: name.to_owned(),
    }
}

fn manual(by: &Principal) -> Source {
    Source::ManualResponse {
        person: by.id.clone(),
    }
}

/// A proposal with an investigation, parameters and optional alert.
fn proposal(kind: Kind, entity: Entity, source: Source) -> Proposal {
    Proposal::new(kind, entity, source)
}

fn with(
    mut p: Proposal,
    inv: Option<&str>,
    alert: Option<&str>,
    params: serde_json::Value,
) -> Proposal {
    p.investigation_id = inv.map(str::to_owned).or(p.investigation_id);
    p.alert_id = alert.map(str::to_owned);
    if let serde_json::Value::Object(map) = params {
        p.parameters = map;
    }
    p
}

/// What the story left worth pointing at.
pub struct Highlights {
    /// The first quarantine of invoice.exe, on FIN-LT-042.
    pub invoice: Action,
    /// A pending action proposed by dana (approving it as dana is refused).
    pub dana_pending: Action,
}

/// Plays the story. Every step goes through the engine's verbs, so the
/// audit trail is as real as any.
fn play(s: &Story, c: &Cast) -> Result<Highlights, Error> {
    // Day 0: an investigation on HR-WS-017; its isolation waits for a
    // decision that never comes, and expires.
    let _never_decided = s.propose(
        &c.air,
        with(
            proposal(Kind::IsolateDevice, device("HR-WS-017"), air("inv-2039")),
            None,
            Some("ALR-77761"),
            json!({"isolation_type": "full"}),
        ),
    )?;
    s.later(120);
    let scan = s.propose(
        &c.air,
        with(
            proposal(Kind::RunAntivirusScan, device("HR-WS-017"), air("inv-2039")),
            None,
            None,
            json!({"scan_type": "full"}),
        ),
    )?;
    s.approve(&c.alice, &scan, None)?;
    s.complete(&c.edr, &scan, json!({"threats_found": 0}))?;

    // Day 1: invoice.exe is found on four devices, by the antivirus and
    // by an investigation; all four quarantines are approved and done.
    s.later(22 * 60);
    let mut invoices = Vec::new();
    for (device_id, source, approver) in [
        ("FIN-LT-042", Source::Antivirus, &c.alice),
        ("HR-WS-017", Source::Antivirus, &c.alice),
        ("ENG-LT-007", air("inv-2042"), &c.bob),
        ("SALES-LT-023", air("inv-2042"), &c.bob),
    ] {
        let by = if source == Source::Antivirus {
            &c.antivirus
        } else {
            &c.air
        };
        let path = "C:\\Users\\Public\\Downloads\\invoice.exe";
        let q = s.propose(
            by,
            with(
                proposal(
                    Kind::QuarantineFile,
                    file(INVOICE_SHA256, path, device_id),
                    source,
                ),
                Some("inv-2042"),
                Some("ALR-77810"),
                json!({}),
            ),
        )?;
        s.approve(approver, &q, Some("known ransomware dropper"))?;
        invoices.push(s.complete(&c.edr, &q, json!({"quarantined": true}))?);
        s.later(40);
    }

    // Day 2: a ransomware precursor on FIN-LT-042.
    s.later(20 * 60);
    let isolate = s.propose(
        &c.air,
        with(
            proposal(Kind::IsolateDevice, device("FIN-LT-042"), air("inv-2041")),
            None,
            Some("ALR-77842"),
            json!({"isolation_type": "full"}),
        ),
    )?;
    s.approve(
        &c.alice,
        &isolate,
        Some("ransomware precursor: isolate now"),
    )?;
    s.complete(&c.edr, &isolate, json!({"isolated": true}))?;
    let restrict = s.propose(
        &c.air,
        proposal(
            Kind::RestrictCodeExecution,
            device("FIN-LT-042"),
            air("inv-2041"),
        ),
    )?;
    s.approve(&c.alice, &restrict, None)?;
    let restrict = s.complete(&c.edr, &restrict, json!({"policy": "signed-only"}))?;
    let run_key = s.propose(
        &c.air,
        proposal(
            Kind::RemoveRegistryKey,
            Entity::RegistryKey {
                device_id: "FIN-LT-042".into(),
                key: "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run".into(),
                value_name: Some("updater".into()),
            },
            air("inv-2041"),
        ),
    )?;
    s.approve(&c.bob, &run_key, None)?;
    let run_key = s.fail(&c.edr, &run_key, "access denied: the key is protected")?;
    s.later(60);
    s.center.retry(
        &c.alice,
        run_key.id,
        Some("protection lifted by the desktop team"),
    )?;
    s.fail(&c.edr, &run_key, "access denied: the key is protected")?;
    let driver = s.propose(
        &c.air,
        proposal(
            Kind::DisableDriver,
            on_device(&Kind::DisableDriver, "FIN-LT-042", "rtkio64"),
            air("inv-2041"),
        ),
    )?;
    s.later(30);
    s.center.reject(
        &c.bob,
        driver.id,
        &Decide::with_comment("signed Realtek driver, not malicious"),
    )?;
    let package = s.propose(
        &c.alice,
        with(
            proposal(
                Kind::Custom("collect_investigation_package".into()),
                device("FIN-LT-042"),
                Source::Custom {
                    name: "edr-live-response".into(),
                },
            ),
            Some("inv-2041"),
            None,
            json!({"include": ["memory", "event_logs"]}),
        ),
    )?;
    s.approve(&c.bob, &package, None)?;
    s.complete(
        &c.edr,
        &package,
        json!({"package": "pkg-2041.zip", "bytes": 184_320_112}),
    )?;

    // Day 3: a phishing campaign.
    s.later(18 * 60);
    let soft = s.propose(
        &c.soar,
        with(
            proposal(
                Kind::SoftDeleteEmail,
                Entity::EmailCluster {
                    cluster_id: "cl-7f3a".into(),
                    query: Some("subject:\"Invoice overdue\"".into()),
                },
                playbook("phishing-response"),
            ),
            Some("inv-2043"),
            Some("ALR-77901"),
            json!({"messages": 37}),
        ),
    )?;
    s.approve(&c.alice, &soft, None)?;
    s.complete(&c.mail, &soft, json!({"deleted": 37}))?;
    let hard = s.propose(
        &c.soar,
        with(
            proposal(
                Kind::HardDeleteEmail,
                Entity::EmailCluster {
                    cluster_id: "cl-7f3a".into(),
                    query: None,
                },
                playbook("phishing-response"),
            ),
            Some("inv-2043"),
            None,
            json!({}),
        ),
    )?;
    s.later(45);
    s.center
        .cancel(&c.soar, hard.id, "superseded by the soft delete")?;
    let block = s.propose(
        &c.air,
        proposal(
            Kind::BlockUrl,
            Entity::Url {
                url: "http://invoice-overdue.example/pay".into(),
            },
            air("inv-2043"),
        ),
    )?;
    s.approve(&c.bob, &block, None)?;
    s.complete(&c.proxy, &block, json!({"blocked": true}))?;
    let partner = s.propose(
        &c.air,
        proposal(
            Kind::BlockUrl,
            Entity::Url {
                url: "https://partner-portal.example/login".into(),
            },
            air("inv-2043"),
        ),
    )?;
    s.approve(&c.bob, &partner, None)?;
    let partner = s.complete(&c.proxy, &partner, json!({"blocked": true}))?;
    s.later(120);
    let unblock = s.propose(
        &c.alice,
        proposal(
            Kind::UnblockUrl,
            Entity::Url {
                url: "https://intranet-wiki.example".into(),
            },
            manual(&c.alice),
        ),
    )?;
    s.complete(&c.proxy, &unblock, json!({"unblocked": true}))?;

    // Day 4: credential theft.
    s.later(20 * 60);
    let mut jdoe = proposal(
        Kind::DisableUser,
        Entity::User {
            user_id: "j.doe".into(),
        },
        air("inv-2044"),
    );
    jdoe.incident_id = Some("INC-4480".into());
    let jdoe = s.propose(&c.air, jdoe)?;
    s.approve(&c.alice, &jdoe, Some("impossible travel and token theft"))?;
    let jdoe = s.complete(
        &c.idp,
        &jdoe,
        json!({"disabled": true, "sessions_revoked": 4}),
    )?;
    s.later(90);
    let msmith = s.propose(
        &c.bob,
        proposal(
            Kind::EnableUser,
            Entity::User {
                user_id: "m.smith".into(),
            },
            manual(&c.bob),
        ),
    )?;
    s.complete(&c.idp, &msmith, json!({"enabled": true}))?;

    // Day 5: clean-up on ENG-LT-007 and FIN-LT-042.
    s.later(20 * 60);
    for (kind, entity) in [
        (Kind::RemoveCodeRestriction, device("ENG-LT-007")),
        (
            Kind::RestoreRegistryKey,
            Entity::RegistryKey {
                device_id: "ENG-LT-007".into(),
                key: "HKLM\\Software\\Contoso\\Agent".into(),
                value_name: None,
            },
        ),
        (
            Kind::StartService,
            on_device(&Kind::StartService, "ENG-LT-007", "Spooler"),
        ),
    ] {
        let a = s.propose(&c.bob, proposal(kind, entity, manual(&c.bob)))?;
        s.complete(&c.edr, &a, json!({}))?;
    }
    let restrict = s.undo(&c.bob, &restrict, "device cleaned; lift the restriction")?;
    s.complete(&c.edr, &restrict, json!({"policy": "none"}))?;

    // Day 6: j.doe's account comes back, but the directory is down.
    s.later(20 * 60);
    let jdoe = s.undo(&c.bob, &jdoe, "password reset and MFA re-registered")?;
    s.fail(&c.idp, &jdoe, "directory service unavailable")?;
    // An undo the proxy agent has been carrying out since (its lease is long).
    let tracker = s.propose(
        &c.alice,
        proposal(
            Kind::BlockUrl,
            Entity::Url {
                url: "https://cdn.partner-analytics.example/t.js".into(),
            },
            manual(&c.alice),
        ),
    )?;
    let tracker = s.complete(&c.proxy, &tracker, json!({"blocked": true}))?;
    let tracker = s.undo(&c.alice, &tracker, "the partner's tracker is allowed")?;
    s.execute(&c.proxy, &tracker, 86_400, |_, a| Ok(a.clone()))?;

    // Days 7 and 8: what waits for the analysts now.
    s.later(20 * 60);
    s.propose(
        &c.air,
        proposal(
            Kind::StopService,
            on_device(&Kind::StopService, "FIN-LT-042", "UpdaterSvc"),
            air("inv-2041"),
        ),
    )?;
    s.propose(
        &c.air,
        proposal(
            Kind::RemoveScheduledTask,
            on_device(
                &Kind::RemoveScheduledTask,
                "FIN-LT-042",
                "\\Microsoft\\Windows\\UpdateCheck",
            ),
            air("inv-2041"),
        ),
    )?;
    s.later(180);
    s.propose(
        &c.antivirus,
        with(
            proposal(
                Kind::QuarantineFile,
                file(
                    HELPER_SHA256,
                    "C:\\ProgramData\\setup_helper.dll",
                    "ENG-LT-007",
                ),
                Source::Antivirus,
            ),
            None,
            Some("ALR-77950"),
            json!({}),
        ),
    )?;
    s.later(240);
    s.propose(
        &c.soar,
        with(
            proposal(
                Kind::SoftDeleteEmail,
                Entity::EmailCluster {
                    cluster_id: "cl-88b1".into(),
                    query: Some("from:billing@invoice-overdue.example".into()),
                },
                playbook("phishing-response"),
            ),
            Some("inv-2043"),
            None,
            json!({"messages": 12}),
        ),
    )?;
    s.propose(
        &c.soar,
        with(
            proposal(
                Kind::BlockUrl,
                Entity::Url {
                    url: "http://login-micros0ft.example".into(),
                },
                playbook("phishing-response"),
            ),
            Some("inv-2043"),
            None,
            json!({}),
        ),
    )?;
    s.later(600);
    s.propose(
        &c.siem,
        with(
            proposal(
                Kind::DisableUser,
                Entity::User {
                    user_id: "svc-backup".into(),
                },
                Source::Custom {
                    name: "sentinel-rule-4711".into(),
                },
            ),
            Some("inv-2044"),
            None,
            json!({}),
        ),
    )?;
    s.later(300);
    let dana_pending = s.propose(
        &c.dana,
        proposal(
            Kind::ReleaseDevice,
            device("HR-WS-017"),
            playbook("device-restore"),
        ),
    )?;
    s.propose(
        &c.soar,
        proposal(
            Kind::RestoreScheduledTask,
            on_device(
                &Kind::RestoreScheduledTask,
                "ENG-LT-007",
                "\\Contoso\\NightlyBackup",
            ),
            playbook("task-rollback"),
        ),
    )?;
    s.later(240);
    s.propose(
        &c.air,
        with(
            proposal(Kind::IsolateDevice, device("SALES-LT-023"), air("inv-2045")),
            None,
            Some("ALR-78012"),
            json!({"isolation_type": "selective"}),
        ),
    )?;

    // The last hour: an executor is restoring a file right now, two
    // approved actions and an undo wait for executors.
    s.catch_up(90);
    s.propose(
        &c.bob,
        proposal(
            Kind::RestoreEmail,
            Entity::EmailCluster {
                cluster_id: "cl-5520".into(),
                query: None,
            },
            manual(&c.bob),
        ),
    )?;
    s.propose(
        &c.alice,
        proposal(
            Kind::EnableDriver,
            on_device(&Kind::EnableDriver, "FIN-LT-042", "rtkio64"),
            manual(&c.alice),
        ),
    )?;
    s.undo(&c.alice, &partner, "partner portal: false positive")?;
    let report = s.propose(
        &c.alice,
        proposal(
            Kind::RestoreFile,
            file(
                REPORT_SHA256,
                "C:\\Users\\m.smith\\Documents\\report.xlsm",
                "ENG-LT-007",
            ),
            manual(&c.alice),
        ),
    )?;
    s.execute(&c.edr, &report, 7200, |_, a| Ok(a.clone()))?;

    // The sweep a scheduler runs: the day-0 isolation's window has closed.
    s.later(10);
    s.center.expire_due()?;

    let invoice = invoices
        .into_iter()
        .next()
        .ok_or_else(|| Error::validation("demo", "no invoice.exe quarantine"))?;
    Ok(Highlights {
        invoice,
        dana_pending,
    })
}

/// `actionctl demo`.
/// Plays the demo's story into the database `global` names: what `demo`
/// shows and `serve --demo` serves.
pub fn seed_demo(
    global: &Global,
    args: &DemoArgs,
) -> Result<(Arc<dyn Store>, actioncenter::Policy, Backend, Highlights), CliError> {
    let cast = Cast::new();
    let bootstrap = cast.policy(global)?;
    let start = Utc::now() - Duration::days(9);
    if global.policy.is_some() {
        // The story is written for the sample's policy; a policy of one's
        // own may not allow it (an automation level that approves what
        // the story approves by hand, a larger quorum). Played first on a
        // scratch store, it is refused before anything is written, or
        // removed (--fresh).
        let clock = Arc::new(ManualClock::starting_at(start));
        let scratch = ActionCenter::with_clock(
            Arc::new(actioncenter::MemoryStore::new()),
            bootstrap.clone(),
            clock.clone(),
        );
        if let Err(e) = play(
            &Story {
                center: scratch,
                clock,
            },
            &cast,
        ) {
            return Err(Error::validation(
                "policy",
                format!(
                    "the demo's story cannot be played under {}: {e}; nothing was written. \
                     Start the demo without --policy, then `actionctl policy set FILE`",
                    global
                        .policy
                        .as_deref()
                        .map_or_else(String::new, |p| p.display().to_string())
                ),
            )
            .into());
        }
    }
    let backend = Backend::from_args(global);
    if args.fresh {
        remove_database(&backend)?;
    }
    let store = open_store(&backend, Open::CreateIfMissing, true)?;
    let held = store.count(&Filter::default())?.total();
    if held > 0 && !args.append {
        return Err(Error::validation(
            "database",
            format!(
                "{} already holds {held} actions; the demo fills an empty database: pass --fresh to replace it, or --db for another file",
                backend.describe()
            ),
        )
        .into());
    }
    refuse_waiting_work(store.as_ref(), &backend)?;

    let clock = Arc::new(ManualClock::starting_at(start));
    let center = ActionCenter::with_clock(Arc::clone(&store), bootstrap.clone(), clock.clone());
    let highlights = play(&Story { center, clock }, &cast)?;
    Ok((store, bootstrap, backend, highlights))
}

pub fn demo(global: &Global, out: Out, args: &DemoArgs) -> Result<(), CliError> {
    let (store, bootstrap, backend, highlights) = seed_demo(global, args)?;
    // Show the result as the person at the terminal sees it, now.
    let session = Session::over(store, bootstrap, global, backend, Arc::new(SystemClock))?;
    let page = PageRequest::first(50);
    let (pending_f, history_f) = (Filter::pending(), Filter::history());
    let pending = session.center.list(session.actor(), &pending_f, &page)?;
    let history = session.center.list(session.actor(), &history_f, &page)?;
    if out.json {
        out.json(&json!({
            "database": session.backend.describe(),
            "pending": pending,
            "history": history,
        }))?;
        return Ok(());
    }
    let counts = session.center.counts(session.actor(), &Filter::default())?;
    out.line(format!(
        "Sample database {}: {} actions, every step in the audit trail.",
        session.backend.describe(),
        counts.total()
    ))?;
    out.line("")?;
    out.line(format!("Pending ({})", counts.get(Status::Pending)))?;
    views::print_pending(&session, out, &pending_f, &pending, "pending")?;
    out.line("")?;
    let in_history: u64 = Status::HISTORY.iter().map(|s| counts.get(*s)).sum();
    out.line(format!("History ({in_history})"))?;
    views::print_history(&session, out, &history_f, &history, "history")?;
    let invoice = short_id(&session.center, highlights.invoice.id);
    let dana = short_id(&session.center, highlights.dana_pending.id);
    let db = match global.db.to_str() {
        Some("actioncenter.db") | None => String::new(),
        Some(path) => format!("--db {path} "),
    };
    out.line("")?;
    out.line("Try:")?;
    let tries = [
        (
            format!("show {invoice}"),
            "the flyout: fields, decisions, attempts, audit events",
        ),
        (
            "approve --investigation inv-2041 -m 'confirmed'".to_owned(),
            "all its pending actions",
        ),
        (
            format!("--as dana approve {dana}"),
            "refused: dana, a responder, may not approve",
        ),
        (
            format!("undo {invoice} --all-instances -m 'false positive'"),
            "on all four devices",
        ),
        ("audit verify".to_owned(), "check the hash chain"),
    ];
    let width = tries.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (command, why) in tries {
        out.line(format!("  actionctl {db}{command:<width$}  # {why}"))?;
    }
    Ok(())
}

/// Refuses a database holding actions that wait for an executor: the
/// sample's own executors claim from the same queue and would take them.
pub fn refuse_waiting_work(store: &dyn Store, backend: &Backend) -> Result<(), CliError> {
    let waiting = store
        .count(&Filter {
            statuses: vec![Status::Approved, Status::Undoing],
            ..Filter::default()
        })?
        .total();
    if waiting == 0 {
        return Ok(());
    }
    Err(Error::validation(
        "database",
        format!(
            "{} holds {waiting} actions waiting for executors, which the sample's executors would take; use another file",
            backend.describe()
        ),
    )
    .into())
}

/// Deletes the database behind `backend`, after checking that it is an
/// actioncenter database (a file that is not one is refused untouched).
fn remove_database(backend: &Backend) -> Result<(), CliError> {
    match backend {
        Backend::Sqlite(path) => {
            if !path.exists() {
                return Ok(());
            }
            drop(open_store(backend, Open::Existing, false)?);
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let p = std::path::PathBuf::from(p);
                if p.exists() {
                    std::fs::remove_file(&p).map_err(|e| {
                        Error::storage(format!("cannot remove {}: {e}", p.display()), e)
                    })?;
                }
            }
            Ok(())
        }
        // A shared server database is not ours to delete.
        Backend::Postgres(_) => Err(Error::validation(
            "fresh",
            "--fresh deletes a SQLite file; on PostgreSQL, point --postgres at an empty database",
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actioncenter::{Category, SourceType};
    use std::collections::BTreeSet;

    fn played() -> Result<(ActionCenter, Highlights), Error> {
        let clock = Arc::new(ManualClock::starting_at(Utc::now() - Duration::days(9)));
        let center = ActionCenter::with_clock(
            Arc::new(actioncenter::MemoryStore::new()),
            Policy::default(),
            clock.clone(),
        );
        let story = Story {
            center: center.clone(),
            clock,
        };
        let h = play(&story, &Cast::new())?;
        Ok((center, h))
    }

    fn all(center: &ActionCenter) -> Result<Vec<Action>, Error> {
        let admin = Principal::new("root", ["admin"]);
        Ok(center
            .list(&admin, &Filter::default(), &PageRequest::first(1000))?
            .items)
    }

    #[test]
    fn the_story_covers_every_status_source_and_kind() -> Result<(), Error> {
        let (center, _) = played()?;
        let actions = all(&center)?;
        assert!(
            (28..=36).contains(&actions.len()),
            "{} actions",
            actions.len()
        );
        let statuses: BTreeSet<Status> = actions.iter().map(|a| a.status).collect();
        assert_eq!(statuses, Status::ALL.into_iter().collect());
        let sources: BTreeSet<SourceType> =
            actions.iter().map(|a| a.source.source_type()).collect();
        assert_eq!(sources, SourceType::ALL.into_iter().collect());
        let kinds: BTreeSet<String> = actions.iter().map(|a| a.kind.to_string()).collect();
        for kind in Kind::builtin() {
            assert!(kinds.contains(&kind.to_string()), "no {kind}");
        }
        assert!(kinds.iter().any(|k| k.starts_with("custom:")));
        let categories: BTreeSet<Category> = actions.iter().map(|a| a.category).collect();
        assert_eq!(categories.len(), Category::ALL.len());
        assert!(center.verify_audit()?.is_intact());
        Ok(())
    }

    #[test]
    fn the_story_ends_in_the_past_with_a_live_lease() -> Result<(), Error> {
        let (center, _) = played()?;
        let admin = Principal::new("root", ["admin"]);
        let events = center.events_since(&admin, 0, 1000)?;
        let now = Utc::now();
        assert!(events.iter().all(|e| e.at < now));
        let last = events.last().map(|e| e.at).unwrap_or(now);
        assert!(
            now - last < Duration::minutes(30),
            "the story ended at {last}"
        );
        let running = all(&center)?
            .into_iter()
            .find(|a| a.status == Status::Running)
            .and_then(|a| a.lease_until());
        assert!(running.is_some_and(|until| until > now + Duration::minutes(30)));
        Ok(())
    }

    #[test]
    fn invoice_exe_is_quarantined_on_four_devices() -> Result<(), Error> {
        let (center, h) = played()?;
        let alice = Principal::new("alice", ["analyst"]);
        let others = center.undo_instances(&alice, h.invoice.id)?;
        let devices: Vec<&str> = others.iter().filter_map(|a| a.entity.device_id()).collect();
        assert_eq!(devices.len(), 3, "{devices:?}");
        assert_eq!(h.dana_pending.created_by, "dana");
        assert_eq!(h.dana_pending.status, Status::Pending);
        Ok(())
    }
}
