//! How the Pending and History views hold up on a large SQLite database.
//!
//! ```sh
//! cargo run --release --example scale -p actioncenter -- scale.db 1000000
//! ```
//!
//! Seeds the file through the engine (synchronous=NORMAL to save time)
//! until it holds the asked number of actions, about one in ten Pending
//! and the rest completed, then times the views an analyst opens, each
//! the median of several runs.

use std::sync::Arc;
use std::time::Instant;

use actioncenter::*;
use chrono::{Duration, TimeZone, Utc};

/// A timed view: returns how many rows it read.
type View<'a> = Box<dyn Fn() -> Result<usize> + 'a>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "scale.db".to_owned());
    let want: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_with(&path, &options)?);
    let clock = Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
    ));
    // Isolations wait for approval; everything else runs at once.
    let automation = Automation {
        default: AutomationLevel::Full,
        kinds: [(Kind::IsolateDevice, AutomationLevel::Semi)].into(),
        ..Automation::default()
    };
    let policy = Policy::default().with_automation(automation);
    let center = ActionCenter::with_clock(store, policy, clock.clone());
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let agent = Principal::new("agent", ["executor"]);

    let have = center.counts(&alice, &Filter::default())?.total();
    let started = Instant::now();
    for i in have..want {
        clock.advance(Duration::milliseconds(20));
        let device = format!("dev-{}", i % 5000);
        let (kind, entity) = if i % 10 == 0 {
            (
                Kind::IsolateDevice,
                Entity::Device {
                    device_id: device,
                    name: None,
                },
            )
        } else {
            let sha256 = format!("{:064x}", i % 20_000);
            (
                Kind::QuarantineFile,
                Entity::File {
                    sha256,
                    path: "C:\\x.exe".into(),
                    device_id: device,
                },
            )
        };
        let source = Source::AutomatedInvestigation {
            investigation_id: format!("inv-{}", i / 25),
        };
        center.propose(&air, Proposal::new(kind, entity, source))?;
        if i % 1000 == 999 || i + 1 == want {
            for a in center.claim(
                &agent,
                &ClaimRequest {
                    limit: 1000,
                    lease_seconds: 3600,
                    kinds: None,
                },
            )? {
                center.complete(
                    &agent,
                    a.id,
                    a.lease_token().unwrap_or_default(),
                    serde_json::json!({}),
                )?;
            }
        }
        if i % 100_000 == 99_999 {
            eprintln!("seeded {} actions in {:.0?}", i + 1, started.elapsed());
        }
    }

    let counts = center.counts(&alice, &Filter::default())?;
    println!(
        "{path}: {} actions ({} pending, {} completed)",
        counts.total(),
        counts.get(Status::Pending),
        counts.get(Status::Completed)
    );
    let page = PageRequest::first(50);
    let deep_cursor = {
        let mut cursor = None;
        for _ in 0..20 {
            let p = center.list(
                &alice,
                &Filter::history(),
                &PageRequest {
                    limit: Some(50),
                    cursor: cursor.clone(),
                },
            )?;
            cursor = p.next_cursor;
        }
        cursor
    };
    let some_hash = format!("{:064x}", 4321);
    let views: Vec<(&str, View<'_>)> = vec![
        (
            "pending, first page",
            Box::new(|| Ok(center.list(&alice, &Filter::pending(), &page)?.items.len())),
        ),
        (
            "history, first page",
            Box::new(|| Ok(center.list(&alice, &Filter::history(), &page)?.items.len())),
        ),
        (
            "history, page 21",
            Box::new(|| {
                let req = PageRequest {
                    limit: Some(50),
                    cursor: deep_cursor.clone(),
                };
                Ok(center.list(&alice, &Filter::history(), &req)?.items.len())
            }),
        ),
        (
            "one investigation",
            Box::new(|| {
                Ok(center
                    .list(&alice, &Filter::investigation("inv-777"), &page)?
                    .items
                    .len())
            }),
        ),
        (
            "one file hash",
            Box::new(|| {
                let f = Filter {
                    entity: Some(some_hash.clone()),
                    ..Filter::default()
                };
                Ok(center.list(&alice, &f, &page)?.items.len())
            }),
        ),
        (
            "counts per status",
            Box::new(|| Ok(center.counts(&alice, &Filter::default())?.total() as usize)),
        ),
        (
            "pending counts",
            Box::new(|| Ok(center.counts(&alice, &Filter::pending())?.total() as usize)),
        ),
    ];
    for (name, view) in &views {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..7 {
            let t = Instant::now();
            rows = view()?;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "  {name:<22} {:>9.2?}  ({rows} rows)",
            times[times.len() / 2]
        );
    }
    Ok(())
}
