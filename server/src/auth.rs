//! Who is asking: the session cookie (with its CSRF token on every
//! state-changing request), an API token, or an OpenID Connect bearer
//! token. The engine checks every credential and gives the roles; this
//! module only reads them off the request.

use actioncenter::identity::{Authenticated, CredentialKind};
use actioncenter::{Error, Principal};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ac_session";
/// The header a session's state-changing requests carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Session,
    Token,
    Oidc,
}

/// An authenticated caller, with the roles the stored policy gives it now.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub via: Via,
    /// The session or token, when the caller used one.
    pub credential: Option<actioncenter::identity::Credential>,
    /// Who an issuer's access token named, when the caller sent one: a
    /// live feed checks it again as it runs.
    pub external: Option<crate::oidc::Identity>,
}

/// The session secret in the request's cookie, if any.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for cookie in cookie::Cookie::split_parse(text).flatten() {
            if cookie.name() == SESSION_COOKIE {
                return Some(cookie.value().to_owned());
            }
        }
    }
    None
}

fn bearer(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the Authorization header is not text"))?;
    let Some((scheme, token)) = text.split_once(' ') else {
        return Err(ApiError::unauthenticated(
            "the Authorization header must be \"Bearer <token>\"",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthenticated(
            "the Authorization header must be \"Bearer <token>\"",
        ));
    }
    Ok(Some(token.trim().to_owned()))
}

/// Whether two secrets are equal, in time that does not depend on where
/// they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The client's address, for throttling sign-in.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let token = bearer(&parts.headers)?;
        let session = session_secret(&parts.headers);
        let csrf = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let unsafe_method = changes_state(&parts.method);
        let app = state.clone();
        let caller = state
            .blocking(move |center| -> Result<Caller, ApiError> {
                let caller = if let Some(token) = token {
                    if token.starts_with(actioncenter::identity::TOKEN_PREFIX) {
                        let Authenticated {
                            principal,
                            credential,
                        } = center.authenticate_token(&token)?;
                        Caller {
                            principal,
                            via: Via::Token,
                            credential: Some(credential),
                            external: None,
                        }
                    } else if let Some(oidc) = app.oidc() {
                        let identity = oidc.validate_access_token(&token)?;
                        Caller {
                            principal: center
                                .authenticate_external(&identity.id, &identity.groups)?,
                            via: Via::Oidc,
                            credential: None,
                            external: Some(identity),
                        }
                    } else {
                        return Err(ApiError::unauthenticated("unknown token"));
                    }
                } else if let Some(secret) = session {
                    let Authenticated {
                        principal,
                        credential,
                    } = center.session(&secret, &app.settings().session)?;
                    if unsafe_method {
                        let ok = csrf
                            .as_deref()
                            .is_some_and(|c| same_secret(c, &credential.csrf));
                        if !ok {
                            // The request, not the caller's permissions,
                            // is at fault: named as the header it lacks.
                            return Err(ApiError::invalid(
                                axum::http::StatusCode::FORBIDDEN,
                                CSRF_HEADER,
                                "a request made with the session cookie must carry the session's CSRF token (GET /api/v1/session gives it)",
                            ));
                        }
                    }
                    Caller {
                        principal,
                        via: Via::Session,
                        credential: Some(credential),
                        external: None,
                    }
                } else {
                    return Err(ApiError::unauthenticated(
                        "sign in, or send an API token as \"Authorization: Bearer <token>\"",
                    ));
                };
                let limit = app.settings().requests_per_minute;
                if limit > 0 {
                    center.rate_limit(
                        &format!("requests:principal:{}", caller.principal.id),
                        chrono::Duration::minutes(1),
                        limit,
                    )?;
                }
                Ok(caller)
            })
            .await??;
        Ok(caller)
    }
}

impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Option<Caller>> {
        match <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Some(caller)),
            Err(ApiError {
                error: Error::Unauthenticated { .. },
                ..
            }) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The credential kind a caller used, for display.
pub fn how(caller: &Caller) -> &'static str {
    match (&caller.via, &caller.credential) {
        (Via::Oidc, _) => "oidc",
        (_, Some(c)) if c.kind == CredentialKind::Token => "token",
        (_, Some(c)) => {
            if c.label == "oidc" {
                "oidc"
            } else {
                "password"
            }
        }
        _ => "unknown",
    }
}
