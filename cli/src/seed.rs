//! `actionctl seed` (hidden): many generated actions, for measuring the
//! views on a large database. Like the demo, every action goes through the
//! engine's verbs, so the audit trail is real. It leaves nothing waiting
//! for executors (no Approved or Undoing action), so the demo can be added
//! on top with `demo --append`.

use std::sync::Arc;
use std::time::Instant;

use actioncenter::chrono::{Duration, Utc};
use actioncenter::serde_json::json;
use actioncenter::{
    ActionCenter, ClaimRequest, Decide, Entity, Error, Kind, ManualClock, Policy, Principal,
    Proposal, Source, UndoRequest,
};

use crate::args::{Global, SeedArgs};
use crate::demo::{Cast, refuse_waiting_work};
use crate::exit::CliError;
use crate::output::Out;
use crate::session::{Backend, Open, open_store};

/// A small deterministic generator (xorshift64*), so two seeds of the same
/// size hold the same kinds of actions.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `actionctl seed --count N --days D`.
pub fn seed(global: &Global, out: Out, args: &SeedArgs) -> Result<(), CliError> {
    let backend = Backend::from_args(global);
    let store = open_store(&backend, Open::CreateIfMissing, true)?;
    refuse_waiting_work(store.as_ref(), &backend)?;
    let now = Utc::now();
    let start = now - Duration::days(i64::from(args.days));
    let clock = Arc::new(ManualClock::starting_at(start));
    let cast = Cast::new();
    // Generated actions may repeat a kind on an entity: the seeder's first
    // policy allows that, as a measurement database needs.
    let mut bootstrap = serde_json::to_value(cast.policy(global)?)
        .map_err(|e| Error::validation("policy", e.to_string()))?;
    if let Some(defaults) = bootstrap
        .get_mut("defaults")
        .and_then(|d| d.as_object_mut())
    {
        defaults.insert("allow_duplicates".into(), json!(true));
    }
    let bootstrap = Policy::from_value(bootstrap)?;
    let center = ActionCenter::with_clock(store, bootstrap, clock.clone());
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let span_us = (now - start).num_microseconds().unwrap_or(i64::MAX);
    let step_us = span_us / i64::try_from(args.count.max(1)).unwrap_or(i64::MAX);
    let began = Instant::now();
    for i in 0..args.count {
        let at = start + Duration::microseconds(step_us * i64::try_from(i).unwrap_or(0));
        clock.set(at);
        // Decisions and executions follow within a minute or so, well
        // inside the executor's lease.
        let step = Duration::microseconds((step_us / 8).min(15_000_000));
        let recent = now - at < Duration::days(6);
        one(&center, &clock, &cast, &mut dice, i, recent, step)?;
    }
    clock.set(now);
    let expired = center.expire_due()?.len();
    let elapsed = began.elapsed();
    if out.json {
        out.json(&json!({
            "database": backend.describe(),
            "created": args.count,
            "expired": expired,
            "seconds": elapsed.as_secs_f64(),
        }))?;
    } else {
        out.line(format!(
            "Seeded {} actions into {} in {:.1}s ({expired} expired by the final sweep).",
            args.count,
            backend.describe(),
            elapsed.as_secs_f64()
        ))?;
    }
    Ok(())
}

/// What the `i`th action targets and who proposes it.
fn proposal(cast: &Cast, dice: &mut Dice, i: u64) -> (Principal, Proposal) {
    let kinds: Vec<Kind> = Kind::builtin().collect();
    let kind = kinds[usize::try_from(dice.below(kinds.len() as u64)).unwrap_or(0)].clone();
    let device_id = format!("DEV-{:05}", dice.below(5000));
    let n = dice.below(100_000);
    let entity = match kind.accepted_entities().first() {
        Some(actioncenter::EntityType::File) => Entity::File {
            sha256: format!(
                "{:064x}",
                u128::from(dice.below(400)) * 0x9e37_79b9_7f4a_7c15_f39c
            ),
            path: format!("C:\\Users\\Public\\sample-{n}.exe"),
            device_id,
        },
        Some(actioncenter::EntityType::RegistryKey) => Entity::RegistryKey {
            device_id,
            key: format!("HKLM\\Software\\Sample\\Key{n}"),
            value_name: None,
        },
        Some(actioncenter::EntityType::Service) => Entity::Service {
            device_id,
            name: format!("svc{n}"),
        },
        Some(actioncenter::EntityType::Driver) => Entity::Driver {
            device_id,
            name: format!("drv{n}"),
        },
        Some(actioncenter::EntityType::ScheduledTask) => Entity::ScheduledTask {
            device_id,
            name: format!("\\Sample\\Task{n}"),
        },
        Some(actioncenter::EntityType::EmailCluster | actioncenter::EntityType::Mailbox) => {
            Entity::EmailCluster {
                cluster_id: format!("cl-{n:05x}"),
                query: None,
            }
        }
        Some(actioncenter::EntityType::User) => Entity::User {
            user_id: format!("user{n}"),
        },
        Some(actioncenter::EntityType::Url) => Entity::Url {
            url: format!("http://site-{n}.example/"),
        },
        Some(actioncenter::EntityType::Device) | None => Entity::Device {
            device_id,
            name: None,
        },
    };
    let investigation = format!("inv-{}", 10_000 + i / 5);
    let (by, source) = match dice.below(10) {
        0..=4 => (
            &cast.air,
            Source::AutomatedInvestigation {
                investigation_id: investigation.clone(),
            },
        ),
        5 | 6 => (&cast.antivirus, Source::Antivirus),
        7 => (
            &cast.soar,
            Source::Playbook {
                name: "phishing-response".into(),
            },
        ),
        8 => (
            &cast.siem,
            Source::Custom {
                name: "sentinel".into(),
            },
        ),
        _manual => (
            &cast.alice,
            Source::ManualResponse {
                person: cast.alice.id.clone(),
            },
        ),
    };
    let mut p = Proposal::new(kind, entity, source);
    p.investigation_id = Some(investigation);
    (by.clone(), p)
}

/// Proposes the `i`th action and plays one of the usual endings.
fn one(
    center: &ActionCenter,
    clock: &ManualClock,
    cast: &Cast,
    dice: &mut Dice,
    i: u64,
    recent: bool,
    step: Duration,
) -> Result<(), Error> {
    let (by, p) = proposal(cast, dice, i);
    let undoable = p.kind.is_undoable();
    let action = center.propose(&by, p)?;
    let roll = dice.below(100);
    let manual = action.created_by == cast.alice.id;
    if !manual {
        // Leave recent ones for the Pending tab; old ones for the expiry sweep.
        if (recent && roll < 35) || (!recent && roll >= 95) {
            return Ok(());
        }
        clock.advance(step);
        if (35..45).contains(&roll) {
            center.reject(&cast.bob, action.id, &Decide::with_comment("benign"))?;
            return Ok(());
        }
        if (45..50).contains(&roll) {
            center.cancel(&by, action.id, "superseded")?;
            return Ok(());
        }
        center.approve(&cast.bob, action.id, &Decide::default())?;
    }
    clock.advance(step);
    let agent = &cast.edr;
    let claim = |kind: &Kind| {
        center.claim(
            agent,
            &ClaimRequest {
                limit: 1,
                lease_seconds: 300,
                kinds: Some(vec![kind.clone()]),
            },
        )
    };
    let claimed = claim(&action.kind)?;
    if roll == 94 {
        return Ok(()); // Running: the executor is at it (or died).
    }
    clock.advance(step);
    for a in &claimed {
        if roll >= 90 {
            center.fail(
                agent,
                a.id,
                a.lease_token().unwrap_or_default(),
                "device offline",
            )?;
            continue;
        }
        center.complete(
            agent,
            a.id,
            a.lease_token().unwrap_or_default(),
            json!({"ok": true}),
        )?;
        if undoable && (80..90).contains(&roll) {
            clock.advance(step);
            center.undo(
                &cast.bob,
                a.id,
                &UndoRequest {
                    comment: "false positive".into(),
                    ..UndoRequest::default()
                },
            )?;
            clock.advance(step);
            for u in claim(&a.kind)? {
                if roll < 87 {
                    center.complete(
                        agent,
                        u.id,
                        u.lease_token().unwrap_or_default(),
                        json!({"ok": true}),
                    )?;
                } else {
                    center.fail(
                        agent,
                        u.id,
                        u.lease_token().unwrap_or_default(),
                        "device offline",
                    )?;
                }
            }
        }
    }
    Ok(())
}
