//! The operator's commands: audit verification, sweeps, policies, whoami.

use std::path::Path;

use actioncenter::{Action, Category, Operation};
use comfy_table::Cell;

use crate::exit::CliError;
use crate::output::{Out, ShortIds};
use crate::session::{Identity, Session, load_policy};

/// `actionctl audit verify`.
pub fn audit_verify(s: &Session, out: Out) -> Result<(), CliError> {
    let report = s.center.verify_audit()?;
    if out.json {
        out.json(&report)?;
    } else if report.is_intact() {
        out.line(format!(
            "Audit trail intact: {} event{} checked, head {}",
            report.events_checked,
            crate::views::plural(usize::try_from(report.events_checked).unwrap_or(usize::MAX)),
            report.head
        ))?;
    }
    match report.first_bad {
        None => Ok(()),
        Some(bad) => Err(CliError::AuditBroken(bad)),
    }
}

/// `actionctl expire`.
pub fn expire(s: &Session, out: Out) -> Result<(), CliError> {
    let moved = s.center.expire_due()?;
    print_moved(
        s,
        out,
        &moved,
        "No pending action has passed its approval window.",
        "Expired",
    )
}

/// `actionctl recover-leases`.
pub fn recover_leases(s: &Session, out: Out) -> Result<(), CliError> {
    let moved = s.center.recover_leases()?;
    print_moved(
        s,
        out,
        &moved,
        "No executor's lease has run out.",
        "Back in the queue",
    )
}

fn print_moved(
    s: &Session,
    out: Out,
    moved: &[Action],
    none: &str,
    what: &str,
) -> Result<(), CliError> {
    if out.json {
        return Ok(out.json(moved)?);
    }
    if moved.is_empty() {
        return Ok(out.line(none)?);
    }
    let mut ids = ShortIds::new(&s.center);
    let mut t = out.new_table(["ID", "KIND", "ENTITY", "NOW"]);
    for a in moved {
        t.add_row(vec![
            Cell::new(ids.of(a.id)),
            Cell::new(a.kind.name()),
            Cell::new(a.entity.describe()),
            out.status_cell(a.status),
        ]);
    }
    out.space_columns(&mut t);
    out.table(&t)?;
    out.line(format!("{what}: {}.", moved.len()))?;
    Ok(())
}

/// `actionctl policy check FILE`.
pub fn policy_check(out: Out, file: &Path) -> Result<(), CliError> {
    let policy = load_policy(file)?;
    if out.json {
        return Ok(out.json(&policy)?);
    }
    let roles: Vec<&str> = policy.roles().collect();
    out.line(format!(
        "{}: valid policy with {} role{}: {}",
        file.display(),
        roles.len(),
        crate::views::plural(roles.len()),
        roles.join(", ")
    ))?;
    Ok(())
}

/// `actionctl policy show`.
pub fn policy_show(identity: &Identity, out: Out) -> Result<(), CliError> {
    if out.json {
        return Ok(out.json(&identity.policy)?);
    }
    out.line(format!("# {}", identity.source.describe()))?;
    out.line(identity.policy.to_json())?;
    Ok(())
}

/// `actionctl whoami`.
pub fn whoami(identity: &Identity, out: Out) -> Result<(), CliError> {
    let actor = &identity.actor;
    if out.json {
        return Ok(out.json(actor)?);
    }
    let roles = if actor.roles.is_empty() {
        "no roles".to_owned()
    } else {
        format!("roles {}", actor.roles.join(", "))
    };
    out.line(format!(
        "{} ({roles}, from {})",
        actor.id,
        identity.source.describe()
    ))?;
    if let Some(hint) = identity.unnamed_hint() {
        out.line(hint)?;
    }
    let mut t = out.new_table(["OPERATION", "CATEGORIES"]);
    for op in Operation::ALL {
        if op == Operation::Administer {
            continue;
        }
        let cats = identity.policy.categories_allowed(actor, op);
        let text = if cats.len() == Category::ALL.len() {
            "all".to_owned()
        } else if cats.is_empty() {
            "-".to_owned()
        } else {
            cats.iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        t.add_row(vec![op.as_str().to_owned(), text]);
    }
    out.space_columns(&mut t);
    out.table(&t)?;
    Ok(())
}
