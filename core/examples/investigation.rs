//! An automated investigation, end to end, on a SQLite file.
//!
//! ```sh
//! cargo run --example investigation -p actioncenter -- demo.db
//! ```
//!
//! An automated investigation and the antivirus engine propose actions;
//! some are approved at once by policy, others wait for an analyst, who
//! approves most and rejects one; an executor carries them out (one
//! fails and is retried); a false positive is undone on every device that
//! quarantined the file; the audit trail is verified.

use actioncenter::*;
use serde_json::json;

fn main() -> Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "demo.db".to_owned());
    let policy = Policy::from_json(
        r#"{
          "roles": {
            "automation": { "view": ["*"], "propose": ["*"] },
            "analyst":    { "view": ["*"], "propose": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"] },
            "executor":   { "view": ["*"], "execute": ["*"] },
            "admin":      { "view": ["*"], "administer": ["*"] }
          },
          "automation": { "default": "semi", "sources": { "antivirus": "full" } },
          "kinds": { "disable_user": { "quorum": 2 } }
        }"#,
    )?;
    let center = ActionCenter::new(SqliteStore::open(&path)?, policy);
    let air = Principal::new("air", ["automation"]);
    let av = Principal::new("defender-av", ["automation"]);
    let alice = Principal::new("alice@contoso.example", ["analyst"]);
    let bob = Principal::new("bob@contoso.example", ["analyst"]);
    let agent = Principal::new("agent-7", ["executor"]);

    println!("actioncenter example on {path}\n");

    // 1. Proposals.
    let inv = "inv-1042";
    let from_air = || Source::AutomatedInvestigation {
        investigation_id: inv.to_owned(),
    };
    let payload = "9e107d9d372bb6826bd81d3542a419d6b0f8e2a1c5d4e3f2a1b0c9d8e7f6a5b4";
    let file_on = |device: &str| Entity::File {
        sha256: payload.to_owned(),
        path: "C:\\Users\\Public\\invoice.pdf.exe".to_owned(),
        device_id: device.to_owned(),
    };
    let mut quarantines = Vec::new();
    for device in ["dev-ws-014", "dev-ws-022", "dev-ws-031"] {
        quarantines.push(center.propose(
            &air,
            Proposal::new(Kind::QuarantineFile, file_on(device), from_air()),
        )?);
    }
    let by_av = center.propose(
        &av,
        Proposal::new(
            Kind::QuarantineFile,
            file_on("dev-ws-040"),
            Source::Antivirus,
        ),
    )?;
    let isolate = center.propose(
        &air,
        Proposal::new(
            Kind::IsolateDevice,
            Entity::Device {
                device_id: "dev-ws-014".into(),
                name: Some("WS-014".into()),
            },
            from_air(),
        ),
    )?;
    let service = center.propose(
        &air,
        Proposal::new(
            Kind::StopService,
            Entity::Service {
                device_id: "dev-ws-014".into(),
                name: "UpdaterSvc".into(),
            },
            from_air(),
        ),
    )?;
    let task = center.propose(
        &air,
        Proposal::new(
            Kind::RemoveScheduledTask,
            Entity::ScheduledTask {
                device_id: "dev-ws-022".into(),
                name: "NightlyBackup".into(),
            },
            from_air(),
        ),
    )?;
    let mut disable = Proposal::new(
        Kind::DisableUser,
        Entity::User {
            user_id: "j.doe@contoso.example".into(),
        },
        from_air(),
    );
    disable
        .parameters
        .insert("reason".into(), json!("credential theft suspected"));
    let disable = center.propose(&air, disable)?;
    println!(
        "proposed {} actions; antivirus quarantine is {}",
        8, by_av.status
    );
    print_counts(&center, &alice)?;

    // 2. The analyst's decisions.
    for a in quarantines.iter().chain([&isolate, &service]) {
        center.approve(&alice, a.id, &Decide::with_comment("confirmed malicious"))?;
    }
    center.reject(
        &alice,
        task.id,
        &Decide::with_comment("legitimate backup job"),
    )?;
    let half = center.approve(&alice, disable.id, &Decide::default())?;
    println!(
        "\ndisable_user after one approval: {} (quorum 2)",
        half.status
    );
    center.approve(&bob, disable.id, &Decide::default())?;
    match center.approve(&alice, task.id, &Decide::default()) {
        Err(e) => println!("approving the rejected task again: {e}"),
        Ok(_) => println!("unexpected: a rejected action was approved"),
    }

    // 3. The executor.
    let claimed = center.claim(
        &agent,
        &ClaimRequest {
            limit: 100,
            lease_seconds: 120,
            kinds: None,
        },
    )?;
    println!("\n{} claimed {} actions", agent.id, claimed.len());
    for a in &claimed {
        if a.id == service.id {
            center.fail(
                &agent,
                a.id,
                a.lease_token().unwrap_or_default(),
                "service UpdaterSvc not found",
            )?;
        } else {
            center.complete(
                &agent,
                a.id,
                a.lease_token().unwrap_or_default(),
                json!({"done_by": agent.id}),
            )?;
        }
    }
    center.retry(
        &alice,
        service.id,
        Some("the service name was case-sensitive"),
    )?;
    for a in center.claim(
        &agent,
        &ClaimRequest {
            limit: 10,
            lease_seconds: 120,
            kinds: None,
        },
    )? {
        center.complete(
            &agent,
            a.id,
            a.lease_token().unwrap_or_default(),
            json!({"stopped": true}),
        )?;
    }
    print_counts(&center, &alice)?;

    // 4. A false positive: undo the quarantine everywhere.
    let more = center.undo_instances(&alice, quarantines[0].id)?;
    println!(
        "\nundoing the quarantine of {payload:.12}… on {} and {} more instances",
        quarantines[0].entity.describe(),
        more.len()
    );
    let report = center.undo(
        &alice,
        quarantines[0].id,
        &UndoRequest {
            comment: "vendor-signed installer".into(),
            // What was shown above, and only that.
            instances: more.iter().map(Seen::of).collect(),
            ..UndoRequest::default()
        },
    )?;
    let fanned = report.instances.iter().filter(|r| r.result.is_ok()).count();
    println!("undo requested on 1 + {fanned} actions");
    for a in center.claim(
        &agent,
        &ClaimRequest {
            limit: 100,
            lease_seconds: 120,
            kinds: Some(vec![Kind::QuarantineFile]),
        },
    )? {
        center.complete(
            &agent,
            a.id,
            a.lease_token().unwrap_or_default(),
            json!({"restored": true}),
        )?;
    }

    // 5. The History tab, and the audit.
    println!("\nHistory (investigation {inv} and antivirus):");
    let history = center.list(&alice, &Filter::history(), &PageRequest::first(20))?;
    for a in &history.items {
        println!(
            "  {:<12} {:<24} {:<40} {}",
            a.status,
            a.kind,
            a.entity.describe(),
            a.source.describe()
        );
    }
    let audit = center.verify_audit()?;
    println!(
        "\naudit: {} events, intact: {}",
        audit.events_checked,
        audit.is_intact()
    );
    if !audit.is_intact() {
        return Err(Error::storage_msg(format!(
            "audit chain broken: {:?}",
            audit.first_bad
        )));
    }
    Ok(())
}

fn print_counts(center: &ActionCenter, who: &Principal) -> Result<()> {
    let counts = center.counts(who, &Filter::default())?;
    let shown: Vec<String> = counts
        .0
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!("counts: {}", shown.join(", "));
    Ok(())
}
