//! Local accounts and API tokens, for the doors that sign people and
//! hosts in (the server): `actionctl user ...` and `actionctl token ...`.
//!
//! Every check is core's: adding an account, listing and revoking tokens
//! need Administer for the acting principal (your operating-system account
//! under the stored policy, as for every command), and a password is
//! hashed and checked by core. This file reads the password, parses the
//! options and prints. No hash or secret is ever printed, except the new
//! token's secret, once, by `token create`.

use std::io::{BufRead, IsTerminal, Write};

use actioncenter::Error;
use actioncenter::chrono::{DateTime, Duration, Utc};
use actioncenter::identity::{Account, Credential, MAX_PASSWORD_LEN};
use comfy_table::Cell;
use serde::Serialize;

use crate::args::{PasswordArgs, TokenCreateArgs};
use crate::exit::CliError;
use crate::output::{Out, ago, timestamp};
use crate::session::Session;

/// `actionctl user add ID`.
pub fn user_add(s: &Session, out: Out, id: &str, pw: &PasswordArgs) -> Result<(), CliError> {
    let password = read_password(pw, &format!("Password for {id}"), true)?;
    let account = s.center.add_user(s.actor(), id, &password)?;
    print_account(out, &account, "Added account {id}")
}

/// `actionctl user passwd ID`: your own account's, or any with Administer.
pub fn user_passwd(s: &Session, out: Out, id: &str, pw: &PasswordArgs) -> Result<(), CliError> {
    let password = read_password(pw, &format!("New password for {id}"), true)?;
    let account = s.center.set_password(s.actor(), id, &password)?;
    print_account(
        out,
        &account,
        "Set the password of account {id}; its sessions ended",
    )
}

/// `actionctl user disable ID` and `actionctl user enable ID`.
pub fn user_disable(s: &Session, out: Out, id: &str, disabled: bool) -> Result<(), CliError> {
    let account = s.center.set_user_disabled(s.actor(), id, disabled)?;
    let sentence = if disabled {
        "Disabled account {id}: it cannot sign in, and its sessions and API tokens ended"
    } else {
        "Enabled account {id}"
    };
    print_account(out, &account, sentence)
}

/// The account as JSON, or `sentence` with `{id}` replaced by its id.
fn print_account(out: Out, account: &Account, sentence: &str) -> Result<(), CliError> {
    if out.json {
        return Ok(out.json(account)?);
    }
    out.line(sentence.replace("{id}", &account.id))?;
    Ok(())
}

/// What `token create --json` prints: the secret, once, and the token.
#[derive(Debug, Serialize)]
struct Created<'a> {
    secret: &'a str,
    token: &'a Credential,
}

/// `actionctl user list`.
pub fn user_list(s: &Session, out: Out) -> Result<(), CliError> {
    let accounts = s.center.users(s.actor())?;
    if out.json {
        return Ok(out.json(&accounts)?);
    }
    if accounts.is_empty() {
        return Ok(out.line("No accounts. Add one with `actionctl user add ID`.")?);
    }
    let now = s.center.now();
    let mut t = out.new_table(["ID", "STATUS", "CREATED BY", "CREATED", "UPDATED"]);
    for a in &accounts {
        t.add_row(vec![
            Cell::new(&a.id),
            Cell::new(if a.disabled { "disabled" } else { "active" }),
            Cell::new(&a.created_by),
            Cell::new(ago(a.created_at, now)),
            Cell::new(ago(a.updated_at, now)),
        ]);
    }
    out.space_columns(&mut t);
    out.table(&t)?;
    Ok(())
}

/// `actionctl token create --principal ID [--label L] [--ttl 90d]`.
pub fn token_create(s: &Session, out: Out, args: &TokenCreateArgs) -> Result<(), CliError> {
    let ttl = parse_ttl(&args.ttl)?;
    let issued = s
        .center
        .create_token(s.actor(), &args.principal, &args.label, ttl)?;
    if out.json {
        return Ok(out.json(&Created {
            secret: &issued.secret,
            token: &issued.credential,
        })?);
    }
    let c = &issued.credential;
    out.line(format!(
        "Created API token {} for {}{}, expires {}",
        c.id,
        c.principal,
        if c.label.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.label)
        },
        c.expires_at.map_or_else(|| "never".to_owned(), timestamp)
    ))?;
    out.line(&issued.secret)?;
    out.line("This secret is shown once and not stored: keep it now.")?;
    Ok(())
}

/// `actionctl token list`: every token, live or not, without secrets.
pub fn token_list(s: &Session, out: Out) -> Result<(), CliError> {
    let tokens = s.center.tokens(s.actor())?;
    if out.json {
        return Ok(out.json(&tokens)?);
    }
    if tokens.is_empty() {
        return Ok(
            out.line("No API tokens. Create one with `actionctl token create --principal ID`.")?
        );
    }
    let now = s.center.now();
    let mut t = out.new_table([
        "ID",
        "PRINCIPAL",
        "LABEL",
        "STATUS",
        "CREATED BY",
        "CREATED",
        "LAST USED",
        "EXPIRES",
    ]);
    for c in &tokens {
        t.add_row(vec![
            Cell::new(c.id),
            Cell::new(&c.principal),
            Cell::new(if c.label.is_empty() { "-" } else { &c.label }),
            Cell::new(token_status(c, now)),
            Cell::new(&c.created_by),
            Cell::new(ago(c.created_at, now)),
            Cell::new(ago(c.last_used_at, now)),
            Cell::new(
                c.expires_at
                    .map_or_else(|| "never".to_owned(), |at| ago(at, now)),
            ),
        ]);
    }
    out.keep_whole(&mut t, &[0]);
    out.space_columns(&mut t);
    out.table(&t)?;
    Ok(())
}

fn token_status(c: &Credential, now: DateTime<Utc>) -> &'static str {
    if c.revoked_at.is_some() {
        "revoked"
    } else if c.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "live"
    }
}

/// `actionctl token revoke TOKEN_ID`.
pub fn token_revoke(s: &Session, out: Out, id: &str) -> Result<(), CliError> {
    let parsed: actioncenter::uuid::Uuid = id.trim().parse().map_err(|_| {
        Error::validation(
            "token.id",
            format!("{id:?} is not a token id (the ID column of `actionctl token list`)"),
        )
    })?;
    s.center.revoke_token(s.actor(), parsed)?;
    if out.json {
        return Ok(out.json(&serde_json::json!({ "revoked": parsed }))?);
    }
    out.line(format!("Revoked API token {parsed}"))?;
    Ok(())
}

/// A token's lifetime: `90d`, `12h`, `2w`, `30m`.
fn parse_ttl(text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    let bad = || {
        Error::validation(
            "ttl",
            format!("{text:?} is not a lifetime: use 30m, 12h, 90d or 2w"),
        )
    };
    let (i, unit) = text.char_indices().last().ok_or_else(bad)?;
    let n: i64 = text[..i].parse().map_err(|_| bad())?;
    match unit {
        'm' => Duration::try_minutes(n),
        'h' => Duration::try_hours(n),
        'd' => Duration::try_days(n),
        'w' => Duration::try_weeks(n),
        _other => None,
    }
    .ok_or_else(bad)
}

/// The password for `user add` or `user passwd`: one line of standard
/// input with `--password-stdin`, else asked on the terminal without echo
/// (twice when `confirm`). Standard input that is not a terminal, without
/// `--password-stdin`, is refused rather than read by surprise.
fn read_password(args: &PasswordArgs, prompt: &str, confirm: bool) -> Result<String, CliError> {
    if args.password_stdin {
        return first_line(std::io::stdin().lock());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "standard input is not a terminal to ask for the password on: \
             pass it on standard input with --password-stdin"
                .into(),
        ));
    }
    let first = ask_hidden(&format!("{prompt}: "))?;
    if confirm {
        let again = ask_hidden("Again: ")?;
        if again != first {
            return Err(CliError::Usage(
                "the two passwords differ; nothing changed".into(),
            ));
        }
    }
    Ok(first)
}

/// The first line of `input`, without its line ending. Reads no more than
/// a password may hold, so a stream of garbage costs nothing.
fn first_line(input: impl BufRead) -> Result<String, CliError> {
    let limit = u64::try_from(MAX_PASSWORD_LEN + 2).unwrap_or(u64::MAX);
    let mut line = Vec::new();
    input
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::validation("password", format!("cannot read standard input: {e}")))?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    String::from_utf8(line).map_err(|_| Error::validation("password", "is not UTF-8").into())
}

/// Asks on the terminal with echo off, and restores the terminal after.
#[cfg(unix)]
fn ask_hidden(prompt: &str) -> Result<String, CliError> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let failed = |e: &dyn std::fmt::Display| {
        CliError::Usage(format!(
            "cannot turn off the terminal's echo ({e}): pass the password with --password-stdin"
        ))
    };
    let saved = tcgetattr(&stdin).map_err(|e| failed(&e))?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    let mut err = std::io::stderr().lock();
    write!(err, "{prompt}")?;
    err.flush()?;
    tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet).map_err(|e| failed(&e))?;
    let read = first_line(stdin.lock());
    // Restore the echo whatever the read gave.
    let restored = tcsetattr(&stdin, SetArg::TCSAFLUSH, &saved);
    let line = read?;
    restored.map_err(|e| failed(&e))?;
    Ok(line)
}

#[cfg(not(unix))]
fn ask_hidden(_prompt: &str) -> Result<String, CliError> {
    Err(CliError::Usage(
        "this system has no prompt without echo: pass the password with --password-stdin".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_the_first_line_without_its_ending() {
        let line = |input: &[u8]| first_line(input).map_err(|e| e.to_string());
        assert_eq!(line(b"correct horse\n").as_deref(), Ok("correct horse"));
        assert_eq!(line(b"crlf line\r\nrest").as_deref(), Ok("crlf line"));
        assert_eq!(line(b"no ending").as_deref(), Ok("no ending"));
        assert_eq!(line(b"").as_deref(), Ok(""));
        assert!(line(b"\xff\xfe\n").is_err());
        let long = vec![b'x'; MAX_PASSWORD_LEN * 4];
        assert_eq!(
            line(&long).map(|l| l.len()),
            Ok(MAX_PASSWORD_LEN + 2),
            "reads no more than a password may hold, and core refuses that"
        );
    }

    #[test]
    fn lifetimes_take_a_unit() {
        assert_eq!(parse_ttl("90d").ok(), Some(Duration::days(90)));
        assert_eq!(parse_ttl("12h").ok(), Some(Duration::hours(12)));
        assert_eq!(parse_ttl("2w").ok(), Some(Duration::weeks(2)));
        for bad in ["", "90", "d", "1y", "-"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}");
        }
    }
}
