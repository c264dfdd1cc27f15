//! The one error type of the engine.
//!
//! Every kind has a stable number ([`ErrorKind::code`]) that is also the C
//! status code, and a Python exception class of its own.

use serde::Serialize;

use crate::machine::Event;
use crate::model::{ActionId, Category, Status};
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
    /// No action with this id (or prefix).
    #[error("action {id} not found")]
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

    /// The database failed, or is not one this library can use.
    #[error("storage: {message}")]
    Storage {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
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
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::NotFound,
        ErrorKind::InvalidTransition,
        ErrorKind::PermissionDenied,
        ErrorKind::SelfApproval,
        ErrorKind::Conflict,
        ErrorKind::Validation,
        ErrorKind::Expired,
        ErrorKind::Storage,
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
        }
    }
}

impl Error {
    /// A `Validation` error about `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A `Storage` error with its cause.
    pub fn storage(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Storage {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A `Storage` error with no underlying cause.
    pub fn storage_msg(message: impl Into<String>) -> Self {
        Error::Storage {
            message: message.into(),
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
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Expired { .. } => ErrorKind::Expired,
            Error::Storage { .. } => ErrorKind::Storage,
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
            Error::Storage { .. } => json!({}),
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
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
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
    fn codes_are_stable_and_in_order() {
        let codes: Vec<i32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, (1..=8).collect::<Vec<_>>());
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
    fn a_syntax_error_names_the_root() {
        let err = parse_json::<serde_json::Value>("policy", "{roles: ").expect_err("syntax");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "policy"),
            "{err:?}"
        );
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
