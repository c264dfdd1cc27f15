//! How a command ends: its exit code and its one-line error.
//!
//! Library errors keep the library's stable numbers (1 to 11 today, the C
//! status codes), so a script can share one table with the bindings. The
//! range 1 to 19 is the library's, for the kinds it has and the kinds it
//! may add; the command line's own codes start at 20, so the two never
//! collide.

use std::fmt;

use actioncenter::{AuditReport, Error};

/// A command line exit code. See `args::EXIT_CODES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u8);

impl Code {
    pub const SUCCESS: Code = Code(0);
    /// The last code the library's error kinds may take.
    #[cfg(test)]
    pub const LAST_LIBRARY: Code = Code(19);
    pub const AUDIT_BROKEN: Code = Code(20);
    pub const PARTIAL: Code = Code(21);
    pub const DECLINED: Code = Code(22);
    pub const USAGE: Code = Code(64);
    /// EX_IOERR of sysexits.h: standard output could not be written (a
    /// closed pipe is not that: it ends with success).
    pub const OUTPUT: Code = Code(74);

    /// The code of a library error: its kind's stable number.
    pub fn of(e: &Error) -> Code {
        Code(u8::try_from(e.kind().code()).unwrap_or(u8::MAX))
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The library refused or failed.
    Core(Error),
    /// The library refused a file: the policy named by --policy or `policy check`.
    InFile(String, Error),
    /// The command line itself is wrong (clap's errors, and refusals such as
    /// an unconfirmed undo when standard input is not a terminal).
    Usage(String),
    /// `audit verify` found an event, action, policy or checkpoint that
    /// does not match.
    AuditBroken(Box<AuditReport>),
    /// The person answered no to a confirmation.
    Declined(String),
    /// The command already printed its errors (one per failed item); exit with this code.
    Reported(Code),
    /// Writing the output failed.
    Output(std::io::Error),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e)
    }
}

impl CliError {
    pub fn code(&self) -> Code {
        match self {
            CliError::Core(e) | CliError::InFile(_, e) => Code::of(e),
            CliError::Usage(_) => Code::USAGE,
            CliError::AuditBroken(_) => Code::AUDIT_BROKEN,
            CliError::Declined(_) => Code::DECLINED,
            CliError::Reported(code) => *code,
            CliError::Output(_) => Code::OUTPUT,
        }
    }

    /// The error as one JSON object: the library's `Error::to_json` for
    /// library errors, the same shape for the command line's own.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let own =
            |kind: &str| json!({"kind": kind, "code": self.code().0, "message": self.to_string()});
        match self {
            CliError::Core(e) => e.to_json(),
            CliError::InFile(file, e) => {
                let mut v = e.to_json();
                if let Some(map) = v.as_object_mut() {
                    map.insert("file".into(), json!(file));
                    map.insert("message".into(), json!(self.to_string()));
                }
                v
            }
            CliError::Usage(_) => own("usage"),
            CliError::AuditBroken(report) => {
                let mut v = own("audit_broken");
                if let Some(map) = v.as_object_mut() {
                    map.insert("first_bad".into(), json!(report.first_bad));
                    map.insert("first_bad_action".into(), json!(report.first_bad_action));
                    map.insert("policy_problem".into(), json!(report.policy_problem));
                    map.insert("counts_problem".into(), json!(report.counts_problem));
                    map.insert(
                        "checkpoint_problem".into(),
                        json!(report.checkpoints.problem),
                    );
                }
                v
            }
            CliError::Declined(_) => own("declined"),
            CliError::Reported(_) => own("reported"),
            CliError::Output(_) => own("output"),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Core(e) => write!(f, "{e}"),
            CliError::InFile(file, e) => write!(f, "{file}: {e}"),
            CliError::Usage(m) | CliError::Declined(m) => f.write_str(m),
            CliError::AuditBroken(report) => write!(
                f,
                "audit trail broken: {}",
                report
                    .problem()
                    .unwrap_or_else(|| "a problem was reported".to_owned())
            ),
            CliError::Reported(code) => write!(f, "failed with exit code {}", code.0),
            CliError::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

/// Folds the per-item results of a command over several actions into its
/// exit code: success when every item succeeded, the items' code when all
/// failed alike, `PARTIAL` otherwise.
pub fn items_code<'a>(failures: impl IntoIterator<Item = &'a Error>, total: usize) -> Code {
    let codes: Vec<Code> = failures.into_iter().map(Code::of).collect();
    match codes.first() {
        None => Code::SUCCESS,
        Some(first) if codes.len() == total && codes.iter().all(|c| c == first) => *first,
        Some(_) => Code::PARTIAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_code_with_its_number() {
        let text = crate::args::EXIT_CODES;
        for (code, name) in [
            (1, "not found"),
            (2, "invalid transition"),
            (3, "permission denied"),
            (4, "self approval"),
            (5, "conflict"),
            (6, "validation"),
            (7, "expired"),
            (8, "storage"),
            (9, "duplicate"),
            (10, "unauthenticated"),
            (11, "rate limited"),
            (Code::AUDIT_BROKEN.0, "audit broken"),
            (Code::PARTIAL.0, "partial"),
            (Code::DECLINED.0, "declined"),
            (Code::USAGE.0, "usage"),
            (Code::OUTPUT.0, "output"),
        ] {
            let line = format!("{code:>4}  {name}");
            assert!(text.contains(&line), "missing {line:?} in:\n{text}");
        }
    }

    #[test]
    fn the_command_lines_codes_never_meet_the_librarys() {
        for kind in actioncenter::ErrorKind::ALL {
            assert!(kind.code() >= 1 && kind.code() <= i32::from(Code::LAST_LIBRARY.0));
            let line = format!("{:>4}  {}", kind.code(), kind.as_str().replace('_', " "));
            assert!(
                crate::args::EXIT_CODES.contains(&line),
                "the exit code table lacks the library's kind {kind:?} ({line:?})"
            );
        }
        for own in [
            Code::AUDIT_BROKEN,
            Code::PARTIAL,
            Code::DECLINED,
            Code::USAGE,
            Code::OUTPUT,
        ] {
            assert!(own.0 > Code::LAST_LIBRARY.0, "{own:?}");
        }
    }

    #[test]
    fn library_codes_are_the_kinds_numbers() {
        let e = Error::NotFound { id: "x".into() };
        assert_eq!(Code::of(&e), Code(1));
        let e = Error::validation("comment", "a comment is required");
        assert_eq!(Code::of(&e), Code(6));
    }

    #[test]
    fn items_alike_keep_their_code_and_mixed_are_partial() {
        let nf = Error::NotFound { id: "x".into() };
        let v = Error::validation("comment", "required");
        assert_eq!(items_code([], 3), Code::SUCCESS);
        assert_eq!(items_code([&nf], 1), Code(1));
        assert_eq!(items_code([&nf, &nf], 2), Code(1));
        assert_eq!(items_code([&nf], 2), Code::PARTIAL);
        assert_eq!(items_code([&nf, &v], 2), Code::PARTIAL);
    }
}
