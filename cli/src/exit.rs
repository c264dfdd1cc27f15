//! How a command ends: its exit code and its one-line error.
//!
//! Library errors keep the library's stable numbers (1 to 8, the C status
//! codes), so a script can share one table with the bindings. The codes
//! above them are the command line's own.

use std::fmt;

use actioncenter::{BadEvent, Error, Mismatch};

/// A command line exit code. See `args::EXIT_CODES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u8);

impl Code {
    pub const SUCCESS: Code = Code(0);
    pub const AUDIT_BROKEN: Code = Code(9);
    pub const PARTIAL: Code = Code(10);
    pub const DECLINED: Code = Code(11);
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
    /// `audit verify` found an event that does not match.
    AuditBroken(BadEvent),
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
            CliError::AuditBroken(bad) => {
                let mut v = own("audit_broken");
                if let Some(map) = v.as_object_mut() {
                    map.insert("seq".into(), json!(bad.seq));
                    map.insert("action_id".into(), json!(bad.action_id));
                    map.insert("mismatch".into(), json!(bad.mismatch));
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
            CliError::AuditBroken(bad) => {
                let why = match &bad.mismatch {
                    Mismatch::Hash => "its hash is not the hash of its fields".to_owned(),
                    Mismatch::Link => "its prev_hash is not the previous event's hash".to_owned(),
                    Mismatch::Gap { expected } => {
                        format!("event {expected} is missing")
                    }
                };
                write!(
                    f,
                    "audit trail broken at event {} (action {}): {why}",
                    bad.seq, bad.action_id
                )
            }
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
