//! The one error type of the engine.
//!
//! Every kind has a stable number ([`ErrorKind::code`]) that is also the C
//! status code, and a Python exception class of its own.

use serde::Serialize;

use crate::machine::Event;
use crate::model::{ActionId, Category, Kind, Status};
use crate::policy::Operation;

/// Largest JSON document [`parse_json`] reads (a request, a policy, a
/// filter), in bytes. Checked before parsing, so an oversized document
/// costs nothing.
pub const MAX_DOCUMENT_LEN: usize = 1024 * 1024;

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, in kinds a caller can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No action with this id (or prefix); or, when `id` names what it
    /// is (`account alice`, `token <uuid>`), no such thing.
    #[error("{} not found", fmt_not_found(.id))]
    NotFound { id: String },

    /// The action's status does not allow the event.
    #[error("cannot {event} action{}: it is {status}", fmt_id(.id))]
    InvalidTransition {
        id: Option<ActionId>,
        status: Status,
        event: Event,
    },

    /// The principal lacks a permission.
    #[error("{principal} may not {operation} {} actions{}", fmt_category(.category), fmt_detail(.detail))]
    PermissionDenied {
        principal: String,
        operation: Operation,
        /// `None` when the principal may do it on no category at all.
        category: Option<Category>,
        /// Why, when the missing grant alone does not say it.
        detail: Option<String>,
    },

    /// The proposer tried to approve their own action.
    #[error("{principal} proposed action {id} and may not approve it")]
    SelfApproval { principal: String, id: ActionId },

    /// Someone else changed the action first; read it again and retry.
    #[error("action {id} was changed concurrently (expected version {expected}, found {actual})")]
    Conflict {
        id: ActionId,
        expected: u64,
        actual: u64,
    },

    /// The stored policy changed while the call was being decided, or is
    /// not the version the caller named. Kind `conflict`.
    #[error(
        "the policy changed (expected version {expected}, found {actual}); read it again and retry"
    )]
    PolicyChanged { expected: u64, actual: u64 },

    /// A bulk selection no longer matches what the caller previewed.
    /// Kind `conflict`.
    #[error(
        "the selection changed since it was previewed ({previewed} actions then, {now} now); preview it again"
    )]
    SelectionChanged { previewed: u64, now: u64 },

    /// An action of the same kind on the same entity is already active
    /// (pending, approved or running), or an idempotency key was reused
    /// for a different proposal.
    #[error("{}", duplicate_message(.kind, .entity, .existing, .idempotency_key))]
    Duplicate {
        kind: Kind,
        entity: String,
        existing: ActionId,
        /// Set when the refusal is about a reused idempotency key.
        idempotency_key: Option<String>,
    },

    /// Input that breaks a rule: a missing comment, an oversized string,
    /// malformed JSON, an invalid policy...
    #[error("invalid {field}: {message}")]
    Validation { field: String, message: String },

    /// A deadline passed: the action's approval window or the executor's lease.
    #[error("action {id}: {what} expired at {at}")]
    Expired {
        id: ActionId,
        what: &'static str,
        at: chrono::DateTime<chrono::Utc>,
    },

    /// The lease token is not the current lease's: the executor's lease
    /// was taken back and the action claimed again. Kind `expired`.
    /// The token is the caller's own, shown cut short.
    #[error(
        "action {id}: lease token {} is not the current lease; the action was taken back",
        quoted(.token)
    )]
    StaleLease { id: ActionId, token: String },

    /// The caller could not be identified: a wrong password, a disabled
    /// account, an unknown, expired or revoked session or token. The
    /// message never says which of the account or the password was wrong.
    #[error("not signed in: {reason}")]
    Unauthenticated { reason: String },

    /// Too many requests or sign-in attempts in a short time; try again
    /// after `retry_after_seconds`.
    #[error("too many {what}: try again in {retry_after_seconds} s")]
    RateLimited {
        what: String,
        retry_after_seconds: u64,
    },

    /// The database failed, or is not one this library can use.
    #[error("storage: {message}{}", if *.retryable { " (temporary: retrying may help)" } else { "" })]
    Storage {
        message: String,
        /// Whether the same call may succeed if tried again (a busy
        /// database, a lost connection), as opposed to a database that is
        /// not ours or a schema this library cannot use.
        retryable: bool,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

fn duplicate_message(
    kind: &Kind,
    entity: &str,
    existing: &ActionId,
    key: &Option<String>,
) -> String {
    match key {
        Some(key) => {
            format!("idempotency key {key:?} was used for another proposal (action {existing})")
        }
        None => format!("action is already in progress: {kind} on {entity} is {existing}"),
    }
}

/// `action <id>` for an action's id; an id that names what it is
/// (`account alice`) as it is.
/// `text` cut to at most `max` bytes, at a character boundary, with `…`
/// (three bytes, within the `max`) where it was cut.
pub(crate) fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max.saturating_sub('…'.len_utf8());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// `text` quoted for a message (as `{:?}` shows it), its first 64
/// characters when it is longer.
pub(crate) fn quoted(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{:?}…", &text[..end]),
        None => format!("{text:?}"),
    }
}

fn fmt_not_found(id: &str) -> String {
    if id.contains(' ') {
        id.to_owned()
    } else {
        format!("action {id}")
    }
}

fn fmt_id(id: &Option<ActionId>) -> String {
    id.map(|id| format!(" {id}")).unwrap_or_default()
}

fn fmt_category(category: &Option<Category>) -> &'static str {
    category.map_or("any", Category::as_str)
}

fn fmt_detail(detail: &Option<String>) -> String {
    detail
        .as_ref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

/// The kind of an [`Error`], without its data.
///
/// The numbers are stable: they are the C status codes and never change or
/// get reused. `0` is success in C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    NotFound = 1,
    InvalidTransition = 2,
    PermissionDenied = 3,
    SelfApproval = 4,
    Conflict = 5,
    Validation = 6,
    Expired = 7,
    Storage = 8,
    Duplicate = 9,
    Unauthenticated = 10,
    RateLimited = 11,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::NotFound,
        ErrorKind::InvalidTransition,
        ErrorKind::PermissionDenied,
        ErrorKind::SelfApproval,
        ErrorKind::Conflict,
        ErrorKind::Validation,
        ErrorKind::Expired,
        ErrorKind::Storage,
        ErrorKind::Duplicate,
        ErrorKind::Unauthenticated,
        ErrorKind::RateLimited,
    ];

    /// The stable number of this kind.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The snake_case name of this kind, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidTransition => "invalid_transition",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::SelfApproval => "self_approval",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Validation => "validation",
            ErrorKind::Expired => "expired",
            ErrorKind::Storage => "storage",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::RateLimited => "rate_limited",
        }
    }
}

impl Error {
    /// A `Validation` error about `field`.
    ///
    /// The field is cut to 1024 bytes and the message to 4096 (the
    /// README's limits), so that a refusal quoting what it refused stays
    /// short whatever it was given.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: clip(field.into(), crate::model::MAX_NAME_LEN),
            message: clip(message.into(), crate::model::MAX_COMMENT_LEN),
        }
    }

    /// A `Storage` error with its cause.
    pub fn storage(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Storage {
            message: message.into(),
            retryable: false,
            source: Some(Box::new(source)),
        }
    }

    /// A `Storage` error that trying again may cure (busy, timed out,
    /// connection lost).
    pub fn storage_retryable(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Storage {
            message: message.into(),
            retryable: true,
            source: Some(Box::new(source)),
        }
    }

    /// Whether trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Storage { retryable, .. } => *retryable,
            Error::Conflict { .. }
            | Error::PolicyChanged { .. }
            | Error::SelectionChanged { .. }
            | Error::RateLimited { .. } => true,
            _other => false,
        }
    }

    /// A `Storage` error with no underlying cause.
    pub fn storage_msg(message: impl Into<String>) -> Self {
        Error::Storage {
            message: message.into(),
            retryable: false,
            source: None,
        }
    }

    /// This error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::InvalidTransition { .. } => ErrorKind::InvalidTransition,
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Error::SelfApproval { .. } => ErrorKind::SelfApproval,
            Error::Conflict { .. }
            | Error::PolicyChanged { .. }
            | Error::SelectionChanged { .. } => ErrorKind::Conflict,
            Error::Duplicate { .. } => ErrorKind::Duplicate,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Expired { .. } | Error::StaleLease { .. } => ErrorKind::Expired,
            Error::Storage { .. } => ErrorKind::Storage,
            Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
        }
    }

    /// The error as JSON, for bindings and `--json` output:
    /// `{"kind": "conflict", "code": 5, "message": "...", ...fields}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let mut v = json!({
            "kind": self.kind().as_str(),
            "code": self.kind().code(),
            "message": self.to_string(),
            "retryable": self.is_retryable(),
        });
        let extra = match self {
            Error::NotFound { id } => json!({ "id": id }),
            Error::InvalidTransition { id, status, event } => {
                json!({ "id": id, "status": status, "event": event })
            }
            Error::PermissionDenied {
                principal,
                operation,
                category,
                ..
            } => {
                json!({ "principal": principal, "operation": operation, "category": category })
            }
            Error::SelfApproval { principal, id } => json!({ "principal": principal, "id": id }),
            Error::Conflict {
                id,
                expected,
                actual,
            } => {
                json!({ "id": id, "expected": expected, "actual": actual })
            }
            Error::Validation { field, .. } => json!({ "field": field }),
            Error::Expired { id, what, at } => json!({ "id": id, "what": what, "at": at }),
            Error::StaleLease { id, .. } => json!({ "id": id, "what": "lease_token" }),
            Error::PolicyChanged { expected, actual } => {
                json!({ "what": "policy", "expected": expected, "actual": actual })
            }
            Error::SelectionChanged { previewed, now } => {
                json!({ "what": "selection", "previewed": previewed, "now": now })
            }
            Error::Duplicate {
                kind,
                entity,
                existing,
                idempotency_key,
            } => {
                json!({ "action_kind": kind, "entity": entity, "existing": existing,
                        "idempotency_key": idempotency_key })
            }
            Error::Storage { .. } | Error::Unauthenticated { .. } => json!({}),
            Error::RateLimited {
                what,
                retry_after_seconds,
            } => json!({ "what": what, "retry_after_seconds": retry_after_seconds }),
        };
        if let (Some(map), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
            map.extend(extra);
        }
        v
    }
}

/// Parses JSON into `T`, turning errors into `Validation` errors that name
/// the path of the bad field under `root`.
pub fn parse_json<T: serde::de::DeserializeOwned>(root: &str, text: &str) -> Result<T> {
    if text.len() > MAX_DOCUMENT_LEN {
        return Err(Error::validation(
            root,
            format!(
                "is {} bytes of JSON, the limit is {MAX_DOCUMENT_LEN}",
                text.len()
            ),
        ));
    }
    strict_scan(text).map_err(|message| Error::validation(root, message))?;
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        // A syntax error has no field to name: serde_path_to_error marks
        // the segments it could not tell with `?`.
        let path = e.path().to_string();
        let known = path
            .split('.')
            .filter(|seg| !seg.is_empty())
            .take_while(|seg| *seg != "?")
            .collect::<Vec<_>>()
            .join(".");
        let field = if known.is_empty() {
            root.to_owned()
        } else {
            format!("{root}.{known}")
        };
        Error::validation(field, e.into_inner().to_string())
    })?;
    // One value and nothing after it but white space: `{...}garbage` is
    // not a document.
    de.end()
        .map_err(|e| Error::validation(root, e.to_string()))?;
    Ok(value)
}

/// Parses a JSON object into `T`, as [`parse_json`] does, refusing any
/// other document first. serde reads a struct from an array too (its
/// fields by position), so without this `[]` would be a request with
/// every field at its default and `[5]` one whose first field is 5.
pub fn parse_json_object<T: serde::de::DeserializeOwned>(root: &str, text: &str) -> Result<T> {
    let first = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .bytes()
        .next();
    if first.is_some_and(|b| b != b'{') {
        return Err(Error::validation(root, "must be a JSON object"));
    }
    parse_json(root, text)
}

/// How deeply a JSON document may nest arrays and objects.
pub const MAX_JSON_DEPTH: usize = 128;

/// What serde_json would silently change in a document, refused before
/// it does: a key given twice (serde keeps the last), an integer beyond
/// 64 bits (serde turns `10**30` into the float `1e30`), and nesting past
/// [`MAX_JSON_DEPTH`]. A document that is not JSON at all passes here and
/// gets serde's own syntax error.
fn strict_scan(text: &str) -> std::result::Result<(), String> {
    use std::collections::HashSet;
    enum Frame {
        Object {
            keys: HashSet<String>,
            expect_key: bool,
        },
        Array,
    }
    let b = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                let mut escaped = false;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        escaped = true;
                        i += 1;
                    }
                    i += 1;
                }
                let Some(raw) = text.get(start..(i + 1).min(text.len())) else {
                    return Ok(());
                };
                i += 1;
                if let Some(Frame::Object { keys, expect_key }) = stack.last_mut()
                    && *expect_key
                {
                    *expect_key = false;
                    let key = if escaped {
                        match serde_json::from_str::<String>(raw) {
                            Ok(k) => k,
                            Err(_) => return Ok(()),
                        }
                    } else {
                        raw.trim_matches('"').to_owned()
                    };
                    if !keys.insert(key.clone()) {
                        return Err(format!("key {key:?} appears twice in one object"));
                    }
                }
            }
            b'{' | b'[' => {
                stack.push(if b[i] == b'{' {
                    Frame::Object {
                        keys: HashSet::new(),
                        expect_key: true,
                    }
                } else {
                    Frame::Array
                });
                if stack.len() > MAX_JSON_DEPTH {
                    return Err(format!("nests deeper than {MAX_JSON_DEPTH} levels"));
                }
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = true;
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let token = text.get(start..i).unwrap_or_default();
                let integer = !token.contains(['.', 'e', 'E']);
                if integer && token.parse::<i64>().is_err() && token.parse::<u64>().is_err() {
                    return Err(format!(
                        "the integer {token} does not fit in 64 bits and would lose digits; send it as a string"
                    ));
                }
            }
            _other => i += 1,
        }
    }
    Ok(())
}

/// Reads a JSON document (a policy file, a request body) of at most
/// [`MAX_DOCUMENT_LEN`] bytes: reading stops there, so an endless source
/// (`/dev/zero`) costs nothing, and text that is not UTF-8 is refused.
pub fn read_document(root: &str, reader: impl std::io::Read) -> Result<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_DOCUMENT_LEN).unwrap_or(u64::MAX) + 1;
    reader
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::validation(root, format!("cannot be read: {e}")))?;
    if bytes.len() > MAX_DOCUMENT_LEN {
        return Err(Error::validation(
            root,
            format!("is more than {MAX_DOCUMENT_LEN} bytes, the limit"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::validation(
            root,
            format!(
                "is not UTF-8 (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::validation("json", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_lease_token_is_shown_cut_short() {
        // An executor's token of any length is echoed back in its own
        // message, but no longer than a name would be.
        let err = Error::StaleLease {
            id: ActionId(uuid::Uuid::nil()),
            token: "t".repeat(10_000_000),
        };
        let message = err.to_string();
        assert!(message.len() < 300, "{} bytes", message.len());
        assert!(
            message.contains("\"tttt") && message.contains('…'),
            "{message}"
        );
        let short = Error::StaleLease {
            id: ActionId(uuid::Uuid::nil()),
            token: "abc".into(),
        };
        assert!(
            short.to_string().contains("lease token \"abc\" is not"),
            "{short}"
        );
    }

    #[test]
    fn codes_are_stable_and_in_order() {
        let codes: Vec<i32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, (1..=11).collect::<Vec<_>>());
    }

    #[test]
    fn not_found_names_an_action_unless_the_id_says_what_it_is() {
        let action = Error::NotFound {
            id: "0190a6b2".into(),
        };
        assert_eq!(action.to_string(), "action 0190a6b2 not found");
        let account = Error::NotFound {
            id: "account alice".into(),
        };
        assert_eq!(account.to_string(), "account alice not found");
    }

    #[test]
    fn a_rate_limit_says_when_to_try_again_in_its_json() {
        let e = Error::RateLimited {
            what: "sign in attempts".into(),
            retry_after_seconds: 42,
        };
        let json = e.to_json();
        assert_eq!(
            (
                json["kind"].as_str(),
                json["code"].as_i64(),
                json["retry_after_seconds"].as_u64(),
                json["retryable"].as_bool()
            ),
            (Some("rate_limited"), Some(11), Some(42), Some(true))
        );
        assert_eq!(
            e.to_string(),
            "too many sign in attempts: try again in 42 s"
        );
    }

    #[test]
    fn an_oversized_document_is_refused_before_parsing() {
        let text = format!("[{}0]", "0,".repeat(MAX_DOCUMENT_LEN / 2));
        let err = parse_json::<serde_json::Value>("proposal", &text).expect_err("too big");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "proposal"),
            "{err:?}"
        );
        assert!(err.to_string().contains("the limit is 1048576"), "{err}");
    }

    #[test]
    fn a_duplicate_key_is_refused_at_any_depth() {
        for text in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"x": [{"b": 1, "c": {"d": 1, "d": 1}}]}"#,
            r#"{"a": 1, "\u0061": 2}"#,
        ] {
            let err = parse_json::<serde_json::Value>("proposal", text).expect_err(text);
            assert!(err.to_string().contains("appears twice"), "{text}: {err}");
        }
        assert!(
            parse_json::<serde_json::Value>("p", r#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#)
                .is_ok()
        );
    }

    #[test]
    fn an_integer_past_64_bits_is_refused_not_rounded() {
        let err = parse_json::<serde_json::Value>(
            "parameters",
            r#"{"n": 1000000000000000000000000000000}"#,
        )
        .expect_err("huge");
        assert!(err.to_string().contains("does not fit in 64 bits"), "{err}");
        let ok: serde_json::Value = parse_json(
            "p",
            r#"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1.5e300}"#,
        )
        .expect("in range");
        assert_eq!(ok["a"].as_u64(), Some(u64::MAX));
    }

    #[test]
    fn deep_nesting_is_a_validation_error() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse_json::<serde_json::Value>("parameters", &text).expect_err("deep");
        assert!(err.to_string().contains("nests deeper"), "{err}");
    }

    #[test]
    fn reading_stops_at_the_limit() {
        let endless = std::io::repeat(b'0');
        let err = read_document("policy", endless).expect_err("endless");
        assert!(err.to_string().contains("more than 1048576 bytes"), "{err}");
        let err = read_document("policy", &b"{\"a\": \"\xff\"}"[..]).expect_err("latin-1");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_root() {
        let err = parse_json::<serde_json::Value>("policy", "{roles: ").expect_err("syntax");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "policy"),
            "{err:?}"
        );
    }

    #[test]
    fn a_refusal_quotes_at_most_its_limits() {
        let long = "é".repeat(10_000);
        let Error::Validation { field, message } = Error::validation(&long, &long) else {
            unreachable!()
        };
        assert_eq!((field.len() <= 1024, message.len() <= 4096), (true, true));
        assert!(field.ends_with('…') && message.ends_with('…'));
        assert!(message.starts_with("éé"));
        let short = Error::validation("id", "is fine");
        assert_eq!(
            short.to_string(),
            Error::validation("id", "is fine").to_string()
        );
        assert!(matches!(short, Error::Validation { message, .. } if message == "is fine"));
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted(&"x".repeat(100)), format!("\"{}\"…", "x".repeat(64)));
    }

    #[test]
    fn text_after_the_document_is_refused() {
        for text in [
            r#"{"a": 1}garbage"#,
            r#"{"a": 1}{"x": 1}"#,
            "{}]]]",
            "[] 1",
            "{} ,",
        ] {
            let err = parse_json::<serde_json::Value>("proposal", text).expect_err(text);
            assert!(
                matches!(&err, Error::Validation { field, message }
                    if field == "proposal" && message.contains("trailing characters")),
                "{text}: {err:?}"
            );
        }
        let ok: serde_json::Value =
            parse_json("proposal", "{\"a\": 1} \n\t ").expect("white space");
        assert_eq!(ok, serde_json::json!({"a": 1}));
    }

    #[test]
    fn a_document_that_must_be_an_object_is_refused_as_an_array() {
        // Read as a struct, `[]` is every field at its default and `[5]`
        // sets the first field by position.
        let claim: crate::ClaimRequest = parse_json("claim", "[5]").expect("serde reads it");
        assert_eq!(claim.limit, 5);
        for text in ["[]", " \n[5]", "[5, 60, []]", "5", "\"all\"", "null"] {
            let err = parse_json_object::<crate::ClaimRequest>("claim", text).expect_err(text);
            assert!(
                matches!(&err, Error::Validation { field, message }
                    if field == "claim" && message == "must be a JSON object"),
                "{text}: {err:?}"
            );
        }
        let claim: crate::ClaimRequest =
            parse_json_object("claim", " \r\n\t{\"limit\": 3}").expect("an object");
        assert_eq!(claim.limit, 3);
        assert!(crate::Filter::from_json("[]").is_err());
        assert!(crate::Proposal::from_json("[]").is_err());
        assert!(crate::Policy::from_json("[]").is_err());
    }

    #[test]
    fn a_type_error_names_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            inner: Inner,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        let err = parse_json::<Outer>("x", r#"{"inner": {"n": -1}}"#).expect_err("type");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "x.inner.n"),
            "{err:?}"
        );
    }
}
