//! The operator's commands: audit verification and checkpoints, sweeps,
//! the stored policy, whoami.

use std::io::Write;
use std::path::Path;

use actioncenter::checkpoint::{self, Checkpoint};
use actioncenter::{Action, Category, Error, Operation, StoredPolicy, VerifyOptions};
use comfy_table::Cell;

use crate::exit::CliError;
use crate::output::{Out, ShortIds};
use crate::session::{Session, load_policy};

/// Reads a small text file the user named (a key, a checkpoint), capped at
/// the library's document limit; errors name the file.
fn read_named(path: &Path, root: &str) -> Result<String, CliError> {
    let shown = path.display().to_string();
    std::fs::File::open(path)
        .map_err(|e| Error::validation(root, format!("cannot read the file: {e}")))
        .and_then(|f| actioncenter::error::read_document(root, f))
        .map_err(|e| CliError::InFile(shown, e))
}

/// Writes a new file, refusing to replace one; `private` makes it readable
/// by its owner only.
fn write_new(path: &Path, text: &str, private: bool) -> Result<(), CliError> {
    write_to(create_new(path, private)?, path, text)
}

/// `path`, created empty: refused if it exists.
fn create_new(path: &Path, private: bool) -> Result<std::fs::File, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path).map_err(|e| {
        CliError::InFile(
            path.display().to_string(),
            Error::validation("out", format!("cannot create the file: {e}")),
        )
    })
}

fn write_to(mut file: std::fs::File, path: &Path, text: &str) -> Result<(), CliError> {
    file.write_all(text.as_bytes()).map_err(|e| {
        CliError::InFile(
            path.display().to_string(),
            Error::validation("out", format!("cannot write: {e}")),
        )
    })
}

/// `actionctl audit verify [--public-key FILE] [--checkpoint FILE]`.
pub fn audit_verify(
    s: &Session,
    out: Out,
    public_key: Option<&Path>,
    exported: Option<&Path>,
) -> Result<(), CliError> {
    let public_key = match public_key {
        Some(path) => Some(
            checkpoint::verifying_key_from_pem(&read_named(path, "public_key")?)
                .map_err(|e| CliError::InFile(path.display().to_string(), e))?,
        ),
        None => None,
    };
    let checkpoint = match exported {
        Some(path) => Some(
            Checkpoint::from_json(&read_named(path, "checkpoint")?)
                .map_err(|e| CliError::InFile(path.display().to_string(), e))?,
        ),
        None => None,
    };
    let report = s.center.verify_audit_with(&VerifyOptions {
        public_key,
        checkpoint,
    })?;
    if out.json {
        out.json(&report)?;
    } else if report.is_intact() {
        let cps = &report.checkpoints;
        let signed = match (cps.checked, cps.signatures_checked) {
            (0, _) => "no checkpoint".to_owned(),
            (n, true) => format!(
                "{n} checkpoint{}, signatures valid",
                crate::views::plural(n as usize)
            ),
            (n, false) => format!(
                "{n} checkpoint{} in place (signatures not checked: pass --public-key)",
                crate::views::plural(n as usize)
            ),
        };
        out.line(format!(
            "Audit trail intact: {} event{} and {} action{} checked, {signed}, head {}",
            report.events_checked,
            crate::views::plural(usize::try_from(report.events_checked).unwrap_or(usize::MAX)),
            report.actions_checked,
            crate::views::plural(usize::try_from(report.actions_checked).unwrap_or(usize::MAX)),
            report.head
        ))?;
    }
    if report.is_intact() {
        Ok(())
    } else {
        Err(CliError::AuditBroken(Box::new(report)))
    }
}

/// `actionctl audit checkpoint --key FILE [--out FILE]`.
pub fn audit_checkpoint(
    s: &Session,
    out: Out,
    key: &Path,
    export: Option<&Path>,
) -> Result<(), CliError> {
    let signing = checkpoint::signing_key_from_pem(&read_named(key, "signing_key")?)
        .map_err(|e| CliError::InFile(key.display().to_string(), e))?;
    // The export file first: a name that is taken must refuse the
    // command before a checkpoint is signed and stored.
    let file = export.map(|path| create_new(path, false)).transpose()?;
    let cp = match s.center.checkpoint(s.actor(), &signing) {
        Ok(cp) => cp,
        Err(e) => {
            if let Some(path) = export {
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    };
    if let (Some(file), Some(path)) = (file, export) {
        write_to(file, path, &format!("{}\n", cp.to_json()))?;
    }
    if out.json {
        return Ok(out.json(&cp)?);
    }
    out.line(format!(
        "Checkpoint signed at event {}, head {}{}",
        cp.seq,
        cp.hash,
        export
            .map(|p| format!(", written to {}", p.display()))
            .unwrap_or_default()
    ))?;
    Ok(())
}

/// `actionctl audit keygen --out FILE`: FILE and FILE.pub.
pub fn audit_keygen(out: Out, path: &Path) -> Result<(), CliError> {
    let key = checkpoint::generate_key()?;
    let public_path = std::path::PathBuf::from(format!("{}.pub", path.display()));
    if public_path.exists() {
        return Err(CliError::InFile(
            public_path.display().to_string(),
            Error::validation("out", "the file exists; choose another name"),
        ));
    }
    write_new(path, &checkpoint::signing_key_to_pem(&key)?, true)?;
    write_new(
        &public_path,
        &checkpoint::verifying_key_to_pem(&key.verifying_key())?,
        false,
    )?;
    if out.json {
        return Ok(out.json(&serde_json::json!({
            "private_key": path, "public_key": public_path,
        }))?);
    }
    out.line(format!(
        "Wrote the private key to {} (mode 0600) and the public key to {}",
        path.display(),
        public_path.display()
    ))?;
    Ok(())
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
    // What `policy set` refuses whatever the stored policy is, refused
    // here too: a file that passes the check is one `set` can store.
    policy
        .check_changeable()
        .map_err(|e| CliError::InFile(file.display().to_string(), e))?;
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
pub fn policy_show(s: &Session, out: Out) -> Result<(), CliError> {
    let stored = s.center.stored_policy()?;
    if out.json {
        return Ok(out.json(&*stored)?);
    }
    out.line(format!("# {}", describe_version(&stored)))?;
    out.line(stored.policy.to_json())?;
    Ok(())
}

fn describe_version(p: &StoredPolicy) -> String {
    format!(
        "policy version {}, set by {} at {}, digest {}",
        p.version,
        p.set_by,
        p.set_at.format("%Y-%m-%d %H:%M:%S UTC"),
        p.digest
    )
}

/// `actionctl policy history`.
pub fn policy_history(s: &Session, out: Out) -> Result<(), CliError> {
    let history = s.center.policy_history(s.actor())?;
    if out.json {
        return Ok(out.json(&history)?);
    }
    let mut t = out.new_table(["VERSION", "SET BY", "SET AT", "DIGEST"]);
    for p in &history {
        t.add_row(vec![
            p.version.to_string(),
            p.set_by.clone(),
            p.set_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            p.digest.clone(),
        ]);
    }
    out.space_columns(&mut t);
    out.table(&t)?;
    Ok(())
}

/// `actionctl policy set FILE`.
pub fn policy_set(
    s: &Session,
    out: Out,
    file: &Path,
    comment: Option<&str>,
    expect_version: Option<u64>,
) -> Result<(), CliError> {
    let policy = load_policy(file)?;
    let stored = s
        .center
        .set_policy(s.actor(), policy, expect_version, comment)?;
    if out.json {
        return Ok(out.json(&*stored)?);
    }
    out.line(format!("Stored {}", describe_version(&stored)))?;
    Ok(())
}

/// `actionctl whoami`.
pub fn whoami(s: &Session, out: Out) -> Result<(), CliError> {
    let actor = s.actor();
    let stored = s.center.stored_policy()?;
    if out.json {
        return Ok(out.json(&serde_json::json!({
            "account": s.actor.account,
            "principal": actor,
            "shown": actor.shown(),
            "policy_version": stored.version,
        }))?);
    }
    let roles = if actor.roles.is_empty() {
        "no roles".to_owned()
    } else {
        format!("roles {}", actor.roles.join(", "))
    };
    out.line(format!(
        "{} ({roles}, from the stored policy version {})",
        actor.shown(),
        stored.version
    ))?;
    let mut t = out.new_table(["OPERATION", "CATEGORIES"]);
    for op in Operation::ALL {
        let cats = stored.policy.categories_allowed(actor, op);
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
