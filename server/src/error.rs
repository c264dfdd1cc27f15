//! Errors over HTTP: the library's error document under `"error"`, with
//! one documented status per kind (docs/http.md).

use actioncenter::{Error, ErrorKind};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An engine error on its way to a client, with the status to send.
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    /// A status other than the kind's own (413 for a body over the limit).
    pub status: Option<StatusCode>,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            error,
            status: None,
        }
    }
}

impl ApiError {
    /// A `validation` error about `field`, sent with `status`.
    pub fn invalid(status: StatusCode, field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            error: Error::validation(field, message),
            status: Some(status),
        }
    }

    pub fn unauthenticated(reason: impl Into<String>) -> ApiError {
        Error::Unauthenticated {
            reason: reason.into(),
        }
        .into()
    }
}

/// The HTTP status of each error kind: the table in docs/http.md.
pub fn status_of(error: &Error) -> StatusCode {
    match error.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::PermissionDenied | ErrorKind::SelfApproval => StatusCode::FORBIDDEN,
        ErrorKind::InvalidTransition
        | ErrorKind::Conflict
        | ErrorKind::Expired
        | ErrorKind::Duplicate => StatusCode::CONFLICT,
        ErrorKind::Validation => StatusCode::BAD_REQUEST,
        ErrorKind::Storage if error.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| status_of(&self.error));
        if status.is_server_error() {
            tracing::error!(error = %self.error, "request failed");
        }
        let body = serde_json::json!({ "error": self.error.to_json() });
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self.error {
            Error::Unauthenticated { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"actioncenter\""),
                );
            }
            Error::RateLimited {
                retry_after_seconds,
                ..
            } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_the_documented_status() {
        let doc = include_str!("../../docs/http.md");
        for kind in ErrorKind::ALL {
            let line = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", kind.as_str())))
                .unwrap_or_else(|| panic!("docs/http.md lacks a row for {kind:?}"));
            let error = sample(kind);
            let status = status_of(&error).as_u16().to_string();
            assert!(line.contains(&status), "{kind:?}: {status} not in {line:?}");
        }
    }

    fn sample(kind: ErrorKind) -> Error {
        let id = actioncenter::ActionId(actioncenter::uuid::Uuid::now_v7());
        match kind {
            ErrorKind::NotFound => Error::NotFound { id: "x".into() },
            ErrorKind::InvalidTransition => Error::InvalidTransition {
                id: Some(id),
                status: actioncenter::Status::Completed,
                event: actioncenter::Event::Approve,
            },
            ErrorKind::PermissionDenied => Error::PermissionDenied {
                principal: "p".into(),
                operation: actioncenter::Operation::Approve,
                category: None,
                detail: None,
            },
            ErrorKind::SelfApproval => Error::SelfApproval {
                principal: "p".into(),
                id,
            },
            ErrorKind::Conflict => Error::Conflict {
                id,
                expected: 1,
                actual: 2,
            },
            ErrorKind::Validation => Error::validation("f", "m"),
            ErrorKind::Expired => Error::StaleLease {
                id,
                token: "t".into(),
            },
            ErrorKind::Storage => Error::storage_msg("down"),
            ErrorKind::Duplicate => Error::Duplicate {
                kind: actioncenter::Kind::IsolateDevice,
                entity: "d".into(),
                existing: id,
                idempotency_key: None,
            },
            ErrorKind::Unauthenticated => Error::Unauthenticated { reason: "r".into() },
            ErrorKind::RateLimited => Error::RateLimited {
                what: "requests".into(),
                retry_after_seconds: 3,
            },
            other => panic!("no sample for {other:?}"),
        }
    }
}
