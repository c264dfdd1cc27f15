//! `actionctl`: the analyst's command line for actioncenter.
//!
//! It only parses, calls the library and prints: every rule (permissions,
//! transitions, comments, quorum, expiry) lives in the `actioncenter`
//! crate, so the command line, the C API and the Python package refuse the
//! same things with the same errors.

#![forbid(unsafe_code)]

mod admin;
mod args;
mod decide;
mod demo;
mod exit;
mod filter;
mod identity;
mod output;
mod propose;
mod seed;
mod serve;
mod session;
mod views;

use std::io::ErrorKind as IoKind;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind as ClapKind;

use crate::args::{AuditCommand, Cli, Command, PolicyCommand, TokenCommand, UserCommand};
use crate::decide::{Verb, print_error};
use crate::exit::{CliError, Code};
use crate::output::Out;
use crate::session::{Open, Session};

fn main() -> ExitCode {
    let json_asked = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, json_asked),
    };
    let out = Out::new(cli.global.json);
    let result = run(&cli, out);
    // Everything the command opened is closed by now: the database file is
    // left checkpointed, whatever the outcome.
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of standard output stopped early (`| head -1`): that
        // is normal, not a failure, in every output mode.
        Err(CliError::Output(e)) if e.kind() == IoKind::BrokenPipe => ExitCode::SUCCESS,
        Err(CliError::Reported(code)) => ExitCode::from(code.0),
        Err(e) => {
            let line = if out.json {
                e.to_json().to_string()
            } else {
                e.to_string()
            };
            print_error(&line, out.json);
            ExitCode::from(e.code().0)
        }
    }
}

/// Help and version go to standard output with success; any other parse
/// error is one line on standard error with the usage code.
fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    if matches!(e.kind(), ClapKind::DisplayHelp | ClapKind::DisplayVersion) {
        // As every command's output: a reader that stopped early is
        // normal, a write that failed otherwise (a full disk) is not.
        return match e.print() {
            Ok(()) => ExitCode::SUCCESS,
            Err(w) if w.kind() == IoKind::BrokenPipe => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(Code::OUTPUT.0),
        };
    }
    if e.kind() == ClapKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(Code::USAGE.0);
    }
    // The first paragraph says what is wrong (with the missing arguments
    // indented under it); the rest is usage and tips.
    let rendered = e.render().to_string();
    let first: Vec<&str> = rendered
        .split("\n\n")
        .next()
        .unwrap_or("invalid arguments")
        .lines()
        .map(str::trim)
        .collect();
    let what = first.join(" ");
    let what = what.trim_start_matches("error: ");
    let err = CliError::Usage(format!("{what} (see actionctl --help)"));
    let line = if json {
        err.to_json().to_string()
    } else {
        err.to_string()
    };
    print_error(&line, json);
    ExitCode::from(Code::USAGE.0)
}

fn run(cli: &Cli, out: Out) -> Result<(), CliError> {
    let g = &cli.global;
    match &cli.command {
        // Commands that need no database.
        Command::Policy {
            command: PolicyCommand::Check { file },
        } => admin::policy_check(out, file),
        Command::Audit {
            command: AuditCommand::Keygen { out: file },
        } => admin::audit_keygen(out, file),
        Command::Demo(args) => demo::demo(g, out, args),
        Command::Seed(args) => seed::seed(g, out, args),
        Command::Serve(args) => serve::serve(g, out, args),
        command => {
            let session = Session::open(g, Open::Existing)?;
            on_database(&session, command, out)
        }
    }
}

fn on_database(s: &Session, command: &Command, out: Out) -> Result<(), CliError> {
    match command {
        Command::Pending(args) => views::pending(s, out, args),
        Command::History(args) => views::history(s, out, args),
        Command::Show { id } => views::show(s, out, id),
        Command::Counts(args) => views::counts(s, out, args),
        Command::Events(args) => views::events(s, out, args),
        Command::Propose(args) => propose::propose(s, out, args),
        Command::Approve(args) => decide::decide(s, out, Verb::Approve, args),
        Command::Reject(args) => decide::decide(s, out, Verb::Reject, args),
        Command::Cancel(args) => decide::decide(s, out, Verb::Cancel, args),
        Command::Retry(args) => decide::decide(s, out, Verb::Retry, args),
        Command::Undo(args) => decide::undo(s, out, args),
        Command::Audit {
            command:
                AuditCommand::Verify {
                    public_key,
                    checkpoint,
                },
        } => admin::audit_verify(s, out, public_key.as_deref(), checkpoint.as_deref()),
        Command::Audit {
            command: AuditCommand::Checkpoint { key, out: export },
        } => admin::audit_checkpoint(s, out, key, export.as_deref()),
        Command::Expire => admin::expire(s, out),
        Command::RecoverLeases => admin::recover_leases(s, out),
        Command::Policy {
            command: PolicyCommand::Show,
        } => admin::policy_show(s, out),
        Command::Policy {
            command: PolicyCommand::History,
        } => admin::policy_history(s, out),
        Command::Policy {
            command:
                PolicyCommand::Set {
                    file,
                    comment,
                    expect_version,
                },
        } => admin::policy_set(s, out, file, comment.as_deref(), *expect_version),
        Command::Whoami => admin::whoami(s, out),
        Command::User { command } => match command {
            UserCommand::Add { id, password } => identity::user_add(s, out, id, password),
            UserCommand::Passwd { id, password } => identity::user_passwd(s, out, id, password),
            UserCommand::Disable { id } => identity::user_disable(s, out, id, true),
            UserCommand::Enable { id } => identity::user_disable(s, out, id, false),
            UserCommand::List => identity::user_list(s, out),
        },
        Command::Token { command } => match command {
            TokenCommand::Create(args) => identity::token_create(s, out, args),
            TokenCommand::List => identity::token_list(s, out),
            TokenCommand::Revoke { id } => identity::token_revoke(s, out, id),
        },
        Command::Policy {
            command: PolicyCommand::Check { .. },
        }
        | Command::Audit {
            command: AuditCommand::Keygen { .. },
        }
        | Command::Demo(_)
        | Command::Seed(_)
        | Command::Serve(_) => Err(CliError::Usage(
            "this command does not use the database".into(),
        )),
    }
}
