//! The read-only views: the Pending and History tabs, the flyout of one
//! action, counts, and the change feed.

use std::time::Duration as StdDuration;

use actioncenter::{Action, AuditEvent, Filter, Page, PageRequest, Status, Verdict};
use comfy_table::Cell;
use serde_json::Value;

use crate::args::{CountsArgs, EventsArgs, HistoryArgs, PageArgs, PendingArgs};
use crate::exit::CliError;
use crate::filter;
use crate::output::{Out, ShortIds, ago, expires_in, human_duration, timestamp};
use crate::session::Session;

/// `actionctl pending`.
pub fn pending(s: &Session, out: Out, args: &PendingArgs) -> Result<(), CliError> {
    let mut f = filter::build(&args.filter, s.center.now())?;
    f.statuses = vec![Status::Pending];
    let page = list(s, &f, &args.page)?;
    if out.json {
        return Ok(out.json(&page)?);
    }
    print_pending(s, out, &f, &page, "pending")
}

/// `actionctl history`.
pub fn history(s: &Session, out: Out, args: &HistoryArgs) -> Result<(), CliError> {
    let mut f = filter::build(&args.filter, s.center.now())?;
    f.statuses = filter::statuses(&args.status)?;
    f.decided_by = args.decided_by.clone();
    let page = list(s, &f, &args.page)?;
    if out.json {
        return Ok(out.json(&page)?);
    }
    print_history(s, out, &f, &page, "history")
}

fn list(s: &Session, f: &Filter, page: &PageArgs) -> Result<Page, CliError> {
    let request = PageRequest {
        limit: Some(page.limit),
        cursor: page.cursor.clone(),
    };
    Ok(s.center.list(s.actor(), f, &request)?)
}

/// Prints the Pending tab; `command` is the command that gives the next page.
pub fn print_pending(
    s: &Session,
    out: Out,
    f: &Filter,
    page: &Page,
    command: &str,
) -> Result<(), CliError> {
    if page.items.is_empty() {
        out.line("No pending actions.")?;
        return Ok(());
    }
    let now = s.center.now();
    let mut ids = ShortIds::new(&s.center);
    let mut table = out.new_table([
        "ID",
        "KIND",
        "ENTITY",
        "SOURCE",
        "INVESTIGATION",
        "AGE",
        "EXPIRES IN",
    ]);
    for a in &page.items {
        table.add_row(vec![
            Cell::new(ids.of(a.id)),
            Cell::new(a.kind.name()),
            Cell::new(a.entity.describe()),
            Cell::new(a.source.describe()),
            Cell::new(a.investigation_id.as_deref().unwrap_or("-")),
            Cell::new(human_duration(now - a.created_at)),
            Cell::new(expires_in(a, now)),
        ]);
    }
    out.space_columns(&mut table);
    out.keep_whole(&mut table, &[0, 1, 4, 5, 6]);
    out.table(&table)?;
    footer(s, out, f, page, command)
}

/// Prints the History tab; `command` is the command that gives the next page.
pub fn print_history(
    s: &Session,
    out: Out,
    f: &Filter,
    page: &Page,
    command: &str,
) -> Result<(), CliError> {
    if page.items.is_empty() {
        out.line("No actions in the history.")?;
        return Ok(());
    }
    let now = s.center.now();
    let mut ids = ShortIds::new(&s.center);
    let mut table = out.new_table([
        "ID",
        "UPDATED",
        "STATUS",
        "KIND",
        "ENTITY",
        "SOURCE",
        "INVESTIGATION",
        "DECIDED BY",
    ]);
    for a in &page.items {
        table.add_row(vec![
            Cell::new(ids.of(a.id)),
            Cell::new(ago(a.updated_at, now)),
            out.status_cell(a.status),
            Cell::new(a.kind.name()),
            Cell::new(a.entity.describe()),
            Cell::new(a.source.describe()),
            Cell::new(a.investigation_id.as_deref().unwrap_or("-")),
            Cell::new(decided_by(a)),
        ]);
    }
    out.space_columns(&mut table);
    out.keep_whole(&mut table, &[0, 1, 2, 3, 6, 7]);
    out.table(&table)?;
    footer(s, out, f, page, command)
}

/// Who decided, as core says it (approvers or rejecters, whoever
/// cancelled), or the system for an expired action.
fn decided_by(a: &Action) -> String {
    let who = a.decided_by();
    match (who.is_empty(), a.status) {
        (true, Status::Expired) => "(expired)".to_owned(),
        (true, _undecided) => "-".to_owned(),
        (false, _decided) => who.join(", "),
    }
}

/// `Showing 50 of 1,234. Next page: actionctl history --cursor ...`
fn footer(s: &Session, out: Out, f: &Filter, page: &Page, command: &str) -> Result<(), CliError> {
    let total = s.center.counts(s.actor(), f)?.total();
    let shown = page.items.len();
    match &page.next_cursor {
        Some(cursor) => out.line(format!(
            "Showing {shown} of {total}. Next page: actionctl {command} --cursor {cursor} (with the same filters)"
        ))?,
        None if page.items.len() as u64 == total => out.line(format!("{total} in all."))?,
        None => out.line(format!("Showing the last {shown} of {total}."))?,
    }
    Ok(())
}

/// `actionctl show ID`: the flyout.
pub fn show(s: &Session, out: Out, id: &str) -> Result<(), CliError> {
    let id = s.center.resolve_id_for(s.actor(), id)?;
    let action = s.center.get(s.actor(), id)?;
    let events = s.center.history_of(s.actor(), id)?;
    if out.json {
        return Ok(out.json(&serde_json::json!({ "action": action, "events": events }))?);
    }
    let now = s.center.now();
    let policy = s.center.policy()?;
    let mut ids = ShortIds::new(&s.center);
    let a = &action;

    out.line(format!("Action {}", a.id))?;
    let mut t = out.record_table();
    let mut row = |name: &str, value: Cell| {
        t.add_row(vec![out.paint(Cell::new(name), None, true), value]);
    };
    let status = match (a.status, a.expires_at) {
        (Status::Pending, Some(_)) => format!(
            "{} (expires in {})",
            out.status_text(a.status),
            expires_in(a, now)
        ),
        (status, _) => out.status_text(status),
    };
    row("Status", Cell::new(status));
    let inverse = a
        .kind
        .inverse()
        .map(|k| format!("; undone by {k}"))
        .unwrap_or_else(|| "; cannot be undone".to_owned());
    row(
        "Kind",
        Cell::new(format!("{} ({} category{inverse})", a.kind, a.category)),
    );
    row("Entity", Cell::new(fields_of(&a.entity)));
    row("Source", Cell::new(a.source.explain()));
    for (name, value) in [
        ("Investigation", &a.investigation_id),
        ("Incident", &a.incident_id),
        ("Alert", &a.alert_id),
    ] {
        if let Some(v) = value {
            row(name, Cell::new(v));
        }
    }
    row(
        "Created",
        Cell::new(format!(
            "{} by {} ({})",
            timestamp(a.created_at),
            acting(&a.created_by, a.created_via.as_deref()),
            ago(a.created_at, now)
        )),
    );
    row(
        "Updated",
        Cell::new(format!(
            "{} ({}), version {}",
            timestamp(a.updated_at),
            ago(a.updated_at, now),
            a.version
        )),
    );
    if let Some(at) = a.expires_at {
        row(
            "Expires",
            Cell::new(format!("{} ({})", timestamp(at), ago(at, now))),
        );
    }
    if a.status == Status::Pending {
        row(
            "Approvals",
            Cell::new(format!(
                "{} of {} needed",
                a.approvers().len(),
                policy.quorum(&a.kind)
            )),
        );
    }
    row(
        "Attempts",
        Cell::new(format!(
            "{} of {} allowed",
            a.forward_attempts(),
            policy.max_attempts(&a.kind)
        )),
    );
    if !a.parameters.is_empty() {
        row(
            "Parameters",
            Cell::new(Value::Object(a.parameters.clone()).to_string()),
        );
    }
    if let Some(u) = &a.undo {
        let mut text = format!(
            "asked by {} at {}, runs {}: {}",
            u.requested_by,
            timestamp(u.requested_at),
            u.inverse,
            u.comment
        );
        if let Some(from) = u.fanned_out_from {
            text.push_str(&format!(" (with all instances of {})", ids.of(from)));
        }
        row("Undo", Cell::new(text));
    }
    if let Some(c) = &a.cancellation {
        row(
            "Cancelled",
            Cell::new(format!("by {} at {}: {}", c.by, timestamp(c.at), c.comment)),
        );
    }
    out.space_columns(&mut t);
    out.table(&t)?;

    if !a.decisions.is_empty() {
        out.line("")?;
        out.line("Decisions")?;
        let mut t = out.new_table(["AT", "BY", "VERDICT", "COMMENT"]);
        for d in &a.decisions {
            let verdict = match d.verdict {
                Verdict::Approve => "approve",
                Verdict::Reject => "reject",
            };
            t.add_row(vec![
                timestamp(d.at),
                acting(&d.by, d.via.as_deref()),
                verdict.to_owned(),
                d.comment.clone().unwrap_or_default(),
            ]);
        }
        out.space_columns(&mut t);
        out.table(&t)?;
    }

    if !a.attempts.is_empty() {
        out.line("")?;
        out.line("Attempts")?;
        let mut t = out.new_table([
            "#",
            "RUNS",
            "EXECUTOR",
            "CLAIMED",
            "LEASE UNTIL",
            "FINISHED",
            "OUTCOME",
        ]);
        for (n, at) in a.attempts.iter().enumerate() {
            let runs = if at.undo {
                a.undo
                    .as_ref()
                    .map(|u| u.inverse.to_string())
                    .unwrap_or_else(|| "undo".to_owned())
            } else {
                a.kind.to_string()
            };
            t.add_row(vec![
                (n + 1).to_string(),
                runs,
                at.executor.clone(),
                timestamp(at.claimed_at),
                timestamp(at.lease_until),
                at.finished_at
                    .map(timestamp)
                    .unwrap_or_else(|| "-".to_owned()),
                at.outcome
                    .as_ref()
                    .map(outcome_text)
                    .unwrap_or_else(|| "running".to_owned()),
            ]);
        }
        out.space_columns(&mut t);
        out.table(&t)?;
    }

    // Core says whether this action may be undone now and what the undo
    // would fan out to; the view only shows it.
    if let Ok(others) = s.center.check_undo(s.actor(), a.id, None)
        && !others.is_empty()
    {
        let devices: Vec<&str> = others.iter().filter_map(|o| o.entity.device_id()).collect();
        out.line("")?;
        out.line(format!(
            "The same file is quarantined on {} more device{}: {}.",
            others.len(),
            plural(others.len()),
            devices.join(", ")
        ))?;
        out.line(format!(
            "`actionctl undo {} --all-instances` restores it on all of them.",
            ids.of(a.id)
        ))?;
    }

    out.line("")?;
    out.line("Audit trail")?;
    print_events(out, &events, &mut ids)?;
    Ok(())
}

/// Who acted, as the audit trail shows it: "root as dana" when an
/// administrator acted as someone.
fn acting(who: &str, via: Option<&str>) -> String {
    match via {
        Some(via) => format!("{via} as {who}"),
        None => who.to_owned(),
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The fields of an entity, one per line, from its JSON.
fn fields_of(entity: &actioncenter::Entity) -> String {
    let v = serde_json::to_value(entity).unwrap_or(Value::Null);
    let Some(map) = v.as_object() else {
        return entity.describe();
    };
    let mut lines = vec![
        map.get("type")
            .and_then(Value::as_str)
            .unwrap_or("entity")
            .to_owned(),
    ];
    for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "type") {
        let v = v
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string());
        lines.push(format!("  {k}: {v}"));
    }
    lines.join("\n")
}

fn outcome_text(outcome: &actioncenter::Outcome) -> String {
    use actioncenter::Outcome;
    match outcome {
        Outcome::Completed { result } => format!("completed {result}"),
        Outcome::Failed { error } => format!("failed: {error}"),
        Outcome::LeaseExpired => "lease expired".to_owned(),
    }
}

/// The audit events as a table.
fn print_events(out: Out, events: &[AuditEvent], ids: &mut ShortIds<'_>) -> Result<(), CliError> {
    let mut t = out.new_table([
        "SEQ", "AT", "ACTOR", "EVENT", "FROM", "TO", "ACTION", "COMMENT",
    ]);
    for e in events {
        t.add_row(event_row(out, e, ids));
    }
    out.space_columns(&mut t);
    out.keep_whole(&mut t, &[0, 1, 2, 3, 4, 5, 6]);
    out.table(&t)?;
    Ok(())
}

fn event_row(out: Out, e: &AuditEvent, ids: &mut ShortIds<'_>) -> Vec<Cell> {
    vec![
        Cell::new(e.seq),
        Cell::new(timestamp(e.at)),
        Cell::new(e.actor_shown()),
        Cell::new(e.event.as_str()),
        Cell::new(e.from.map(Status::as_str).unwrap_or("-")),
        match e.to {
            Some(to) => out.status_cell(to),
            None => Cell::new("-"),
        },
        Cell::new(subject(e, ids)),
        Cell::new(e.comment.as_deref().unwrap_or("")),
    ]
}

/// `actionctl counts`.
pub fn counts(s: &Session, out: Out, args: &CountsArgs) -> Result<(), CliError> {
    let f = filter::build(&args.filter, s.center.now())?;
    let counts = s.center.counts(s.actor(), &f)?;
    if out.json {
        return Ok(out.json(&counts)?);
    }
    let mut t = out.new_table(["STATUS", "ACTIONS"]);
    for status in Status::ALL {
        t.add_row(vec![
            out.status_cell(status),
            Cell::new(counts.get(status)).set_alignment(comfy_table::CellAlignment::Right),
        ]);
    }
    t.add_row(vec![
        out.paint(Cell::new("total"), None, true),
        Cell::new(counts.total()).set_alignment(comfy_table::CellAlignment::Right),
    ]);
    out.space_columns(&mut t);
    Ok(out.table(&t)?)
}

/// `actionctl events`.
pub fn events(s: &Session, out: Out, args: &EventsArgs) -> Result<(), CliError> {
    if args.follow {
        return follow(s, out, args);
    }
    let events = s.center.events_since(s.actor(), args.since, args.limit)?;
    // A full batch may be the last one: look one event further to know.
    let next_since = match events.last() {
        Some(last) if events.len() == args.limit => s
            .center
            .events_since(s.actor(), last.seq, 1)?
            .first()
            .map(|_| last.seq),
        _last_batch => None,
    };
    if out.json {
        let page = serde_json::json!({ "items": events, "next_since": next_since });
        return Ok(out.json(&page)?);
    }
    if events.is_empty() {
        out.line(format!("No events after {}.", args.since))?;
        return Ok(());
    }
    let mut ids = ShortIds::new(&s.center);
    print_events(out, &events, &mut ids)?;
    if let Some(seq) = next_since {
        out.line(format!("More: actionctl events --since {seq}"))?;
    }
    Ok(())
}

/// Polls the change feed until interrupted, one line per event.
fn follow(s: &Session, out: Out, args: &EventsArgs) -> Result<(), CliError> {
    use std::io::Write;
    let mut last = args.since;
    let mut ids = ShortIds::new(&s.center);
    loop {
        let batch = s.center.events_since(s.actor(), last, args.limit)?;
        for e in &batch {
            if out.json {
                out.json_line(e)?;
            } else {
                // Lines print as they come: align on fixed widths.
                let action = subject(e, &mut ids);
                out.line(follow_line(out, e, &action))?;
            }
            last = e.seq;
        }
        std::io::stdout().flush()?;
        if batch.len() < args.limit {
            std::thread::sleep(StdDuration::from_millis(args.interval_ms));
        }
    }
}

fn follow_line(out: Out, e: &AuditEvent, action: &str) -> String {
    let comment = e
        .comment
        .as_deref()
        .map(|c| format!("  {c}"))
        .unwrap_or_default();
    format!(
        "{:>6}  {}  {:<12}  {:<12}  {:<11} -> {}  {action}{comment}",
        e.seq,
        timestamp(e.at),
        e.actor_shown(),
        e.event.as_str(),
        e.from.map(Status::as_str).unwrap_or("-"),
        e.to.map_or_else(|| "-".to_owned(), |to| out.status_text(to)),
    )
}

/// What an event is about: its action's short id, or the policy's version.
fn subject(e: &AuditEvent, ids: &mut ShortIds<'_>) -> String {
    match e.action_id {
        Some(id) => ids.of(id),
        None => format!("policy v{}", e.version.unwrap_or(0)),
    }
}
