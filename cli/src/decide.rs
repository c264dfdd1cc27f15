//! The commands that change actions: approve, reject, cancel, retry (one
//! result per action, through the library's `bulk`) and undo.

use std::io::{BufRead, IsTerminal, Write};

use actioncenter::{
    Action, ActionId, BulkOp, Error, Filter, ItemResult, Seen, Selection, Status, UndoRequest,
};

use crate::args::{DecideArgs, UndoArgs};
use crate::exit::{CliError, Code, items_code};
use crate::output::{Out, ShortIds, stderr_color};
use crate::session::Session;
use crate::views::plural;

/// Which decision a command makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Approve,
    Reject,
    Cancel,
    Retry,
}

impl Verb {
    fn op(self, comment: Option<String>) -> BulkOp {
        match self {
            Verb::Approve => BulkOp::Approve { comment },
            // The library requires the comment; an empty one is refused there.
            Verb::Reject => BulkOp::Reject {
                comment: comment.unwrap_or_default(),
            },
            Verb::Cancel => BulkOp::Cancel {
                comment: comment.unwrap_or_default(),
            },
            Verb::Retry => BulkOp::Retry { comment },
        }
    }

    fn present(self) -> &'static str {
        match self {
            Verb::Approve => "Approve",
            Verb::Reject => "Reject",
            Verb::Cancel => "Cancel",
            Verb::Retry => "Retry",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Verb::Approve => "Approved",
            Verb::Reject => "Rejected",
            Verb::Cancel => "Cancelled",
            Verb::Retry => "Retried",
        }
    }
}

/// Resolves every id before acting on any, so a typo changes nothing.
fn resolve_all(s: &Session, prefixes: &[String]) -> Result<Vec<ActionId>, CliError> {
    let mut ids: Vec<ActionId> = Vec::new();
    for p in prefixes {
        let id = s.center.resolve_id_for(s.actor(), p)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// What each id names, as read now: the decision applies to each action
/// only while it is still at the version read here. An id the actor may
/// not read gets its own failed item.
fn seen_all(s: &Session, ids: &[ActionId]) -> (Vec<Seen>, Vec<ItemResult>) {
    let mut seen = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match s.center.get(s.actor(), *id) {
            Ok(a) => seen.push(Seen::of(&a)),
            Err(e) => failed.push(ItemResult {
                id: *id,
                result: Err(e),
            }),
        }
    }
    (seen, failed)
}

/// `actionctl approve|reject|cancel|retry`.
pub fn decide(s: &Session, out: Out, verb: Verb, args: &DecideArgs) -> Result<(), CliError> {
    let op = verb.op(args.comment.clone());
    let results = match &args.investigation {
        Some(inv) => match by_investigation(s, out, verb, &op, inv, args)? {
            Some(results) => results,
            None => return Ok(()),
        },
        None => {
            let ids = resolve_all(s, &args.ids)?;
            let (seen, mut failed) = seen_all(s, &ids);
            let mut results = if seen.is_empty() {
                Vec::new()
            } else {
                s.center.bulk(s.actor(), &op, &Selection::Ids(seen))?
            };
            results.append(&mut failed);
            // In the order the ids were given.
            results.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
            results
        }
    };
    if let (false, true, Some(inv)) = (out.json, results.is_empty(), &args.investigation) {
        out.line(format!(
            "No action of investigation {inv} can be {}.",
            verb.past().to_lowercase()
        ))?;
    }
    report_items(s, out, &results, verb.past())
}

/// A decision on every action of an investigation it applies to: exactly
/// the ones shown (or named by `--snapshot`), never one that arrived since.
/// `None` when the command only previewed.
fn by_investigation(
    s: &Session,
    out: Out,
    verb: Verb,
    op: &BulkOp,
    inv: &str,
    args: &DecideArgs,
) -> Result<Option<Vec<ItemResult>>, CliError> {
    let filter = Filter::investigation(inv.to_owned());
    let snapshot = match &args.snapshot {
        Some(token) => token.clone(),
        None => {
            let preview = s.center.preview_bulk(s.actor(), op, &filter)?;
            if out.json && args.preview {
                out.json(&preview)?;
                return Ok(None);
            }
            if preview.count == 0 {
                return Ok(Some(Vec::new()));
            }
            if !out.json {
                let mut ids = ShortIds::new(&s.center);
                let n = usize::try_from(preview.count).unwrap_or(usize::MAX);
                out.line(format!(
                    "{} {n} action{} of investigation {inv}:",
                    if args.preview {
                        "Would act on"
                    } else {
                        "Acting on"
                    },
                    plural(n)
                ))?;
                for item in &preview.items {
                    let a = s.center.get(s.actor(), item.id)?;
                    out.line(format!("  {} {}", ids.of(item.id), describe(&a)))?;
                }
                if args.preview {
                    out.line(format!("Snapshot: {}", preview.snapshot))?;
                    return Ok(None);
                }
            }
            if !args.yes {
                confirm(verb.present(), n_of(&preview))?;
            }
            preview.snapshot
        }
    };
    let selection = Selection::Filter { filter, snapshot };
    Ok(Some(s.center.bulk(s.actor(), op, &selection)?))
}

fn n_of(p: &actioncenter::BulkPreview) -> usize {
    usize::try_from(p.count).unwrap_or(usize::MAX)
}

/// `(quarantine_file, C:\x.exe on dev-1): now approved`
fn describe(a: &Action) -> String {
    format!("({}, {})", a.kind, a.entity.describe())
}

/// Prints one line per item (successes on stdout, failures on stderr) or
/// the library's JSON, and turns the results into the exit code.
fn report_items(s: &Session, out: Out, results: &[ItemResult], done: &str) -> Result<(), CliError> {
    let failures: Vec<&Error> = results
        .iter()
        .filter_map(|r| r.result.as_ref().err())
        .collect();
    if out.json {
        out.json(results)?;
    } else {
        let mut ids = ShortIds::new(&s.center);
        let several = results.len() > 1;
        for r in results {
            match &r.result {
                Ok(a) => out.line(format!(
                    "{done} {} {}: now {}{}",
                    ids.of(r.id),
                    describe(a),
                    out.status_text(a.status),
                    quorum_note(s, a)
                ))?,
                Err(e) if several => print_error(&format!("{}: {e}", ids.of(r.id)), false),
                Err(e) => print_error(&e.to_string(), false),
            }
        }
        if several {
            out.line(format!(
                "{} of {} succeeded.",
                results.len() - failures.len(),
                results.len()
            ))?;
        }
    }
    match items_code(failures, results.len()) {
        Code::SUCCESS => Ok(()),
        code => Err(CliError::Reported(code)),
    }
}

/// `, 1 of 2 approvals` for an action still short of its quorum.
fn quorum_note(s: &Session, a: &Action) -> String {
    if a.status != Status::Pending {
        return String::new();
    }
    match s.center.policy() {
        Ok(policy) => format!(
            " ({} of {} approvals)",
            a.approvers().len(),
            policy.quorum(&a.kind)
        ),
        Err(_) => String::new(),
    }
}

/// Prints an error on one line of standard error.
pub fn print_error(message: &str, json: bool) {
    let line = message.replace(['\n', '\r'], " ");
    let mut err = std::io::stderr().lock();
    let _ = if json {
        writeln!(err, "{line}")
    } else if stderr_color() {
        writeln!(err, "\x1b[31merror:\x1b[0m {line}")
    } else {
        writeln!(err, "error: {line}")
    };
}

/// `actionctl undo ID [--all-instances]`.
pub fn undo(s: &Session, out: Out, args: &UndoArgs) -> Result<(), CliError> {
    let id = s.center.resolve_id_for(s.actor(), &args.id)?;
    let action = s.center.get(s.actor(), id)?;
    // Fail before asking anything if the library would refuse the undo.
    let others = s
        .center
        .check_undo(s.actor(), id, args.comment.as_deref().or(Some("")))?;
    let mut ids = ShortIds::new(&s.center);
    let touched = 1 + if args.all_instances { others.len() } else { 0 };

    if !out.json {
        let inverse = action
            .kind
            .inverse()
            .map(|k| k.to_string())
            .unwrap_or_default();
        out.line(format!(
            "Undo {} {}: an executor will run {inverse}.",
            ids.of(id),
            describe(&action)
        ))?;
        if !others.is_empty() {
            let devices: Vec<&str> = others.iter().filter_map(|o| o.entity.device_id()).collect();
            out.line(format!(
                "The same file is quarantined on {} more device{}: {}.",
                others.len(),
                plural(others.len()),
                devices.join(", ")
            ))?;
            out.line(if args.all_instances {
                format!(
                    "--all-instances: it will be restored on {} more device{} too.",
                    others.len(),
                    plural(others.len())
                )
            } else {
                "Only this instance will be restored; add --all-instances for every device."
                    .to_owned()
            })?;
        }
    }
    if !args.yes {
        confirm("Undo", touched)?;
    }
    // Exactly what was shown: the action at the version read, and the
    // other instances listed above, each at the version read.
    let request = UndoRequest {
        comment: args.comment.clone().unwrap_or_default(),
        expected_version: Some(action.version),
        instances: if args.all_instances {
            others.iter().map(Seen::of).collect()
        } else {
            Vec::new()
        },
    };
    let report = s.center.undo(s.actor(), id, &request)?;
    let failures: Vec<&Error> = report
        .instances
        .iter()
        .filter_map(|r| r.result.as_ref().err())
        .collect();
    if out.json {
        out.json(&report)?;
    } else {
        out.line(format!(
            "Undo asked for {} {}: now {}",
            ids.of(report.action.id),
            describe(&report.action),
            out.status_text(report.action.status)
        ))?;
        for r in &report.instances {
            match &r.result {
                Ok(a) => out.line(format!(
                    "Undo asked for {} {}: now {}",
                    ids.of(r.id),
                    describe(a),
                    out.status_text(a.status)
                ))?,
                Err(e) => print_error(&format!("{}: {e}", ids.of(r.id)), false),
            }
        }
        if !report.instances.is_empty() {
            // Undoing, not undone: the inverse runs when an executor claims it.
            out.line(format!(
                "{} of {} sent to undo; waiting for an executor.",
                1 + report.instances.len() - failures.len(),
                1 + report.instances.len()
            ))?;
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::Reported(Code::PARTIAL))
    }
}

/// Asks on the terminal whether to `verb` `n` actions. Refuses when no
/// one can answer: standard input is not a terminal.
fn confirm(verb: &str, n: usize) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "{} changes {n} action{}: pass --yes to confirm when standard input is not a terminal",
            verb.to_lowercase(),
            plural(n)
        )));
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{verb} {n} action{}? [y/N] ", plural(n))?;
    err.flush()?;
    drop(err);
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _no => Err(CliError::Declined(format!(
            "{} not confirmed; nothing changed",
            verb.to_lowercase()
        ))),
    }
}
