//! `/api/v1`: every engine verb over JSON. Each handler authenticates
//! (the [`Caller`] extractor), converts, forwards to the engine on the
//! blocking pool, and converts the answer; the rules are the engine's.

use actioncenter::engine::{BulkOp, ClaimRequest, Decide, Seen, Selection, UndoRequest};
use actioncenter::identity::SessionLimits;
use actioncenter::query::{Filter, PageRequest};
use actioncenter::{ActionId, Category, Kind, Operation, Policy, Proposal, SourceType, Status};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, ClientAddress, how};
use crate::error::{ApiError, ApiResult};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "actioncenter",
        description = "Approval, execution hand-off, undo and audit of automated remediation actions. Errors are {\"error\": {\"kind\", \"code\", \"message\", ...}}; see docs/http.md for the status of each kind.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorDoc)),
    modifiers(&Security),
    security(("token" = []), ("session" = [])),
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API's routes, with the document they describe.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_session, sign_in, sign_out))
        .routes(routes!(config))
        .routes(routes!(list_actions, propose))
        .routes(routes!(get_action))
        .routes(routes!(action_events))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(cancel))
        .routes(routes!(retry))
        .routes(routes!(undo_instances, undo))
        .routes(routes!(heartbeat))
        .routes(routes!(complete))
        .routes(routes!(fail))
        .routes(routes!(claim))
        .routes(routes!(bulk_preview))
        .routes(routes!(bulk))
        .routes(routes!(counts))
        .routes(routes!(overview))
        .routes(routes!(events))
        .routes(routes!(event_stream))
        .routes(routes!(verify_audit))
        .routes(routes!(checkpoints, make_checkpoint))
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(policy_history))
}

// ----- documents ---------------------------------------------------------

/// An error: `{"error": {...}}`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorBody {
    error: ErrorDoc,
}

/// The library's error document, with the kind's own fields beside these.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDoc {
    /// not_found, invalid_transition, permission_denied, self_approval, conflict, validation,
    /// expired, storage, duplicate, unauthenticated, rate_limited.
    kind: String,
    code: i32,
    message: String,
    retryable: bool,
}

/// An action, in the library's JSON schema (docs/json.md).
#[derive(ToSchema)]
#[schema(as = Action)]
#[allow(dead_code)]
struct ActionDoc {
    #[schema(format = Uuid)]
    id: String,
    kind: String,
    category: String,
    #[schema(value_type = Object)]
    entity: Value,
    #[schema(value_type = Object)]
    source: Value,
    status: String,
    version: u64,
    created_at: String,
    created_by: String,
    updated_at: String,
    #[schema(value_type = Vec<Object>)]
    decisions: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    attempts: Vec<Value>,
}

/// A page of actions.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PageDoc {
    #[schema(value_type = Vec<ActionDoc>)]
    items: Vec<Value>,
    next_cursor: Option<String>,
}

/// An audit event (docs/json.md).
#[derive(ToSchema)]
#[schema(as = AuditEvent)]
#[allow(dead_code)]
struct EventDoc {
    seq: u64,
    action_id: Option<String>,
    at: String,
    actor: String,
    event: String,
    hash: String,
    prev_hash: String,
}

/// One server-sent event of the live feed: `id` is the audit event's
/// sequence number, `event` is `audit`, `data` the audit event in JSON.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SseEventDoc {
    id: String,
    event: String,
    data: String,
}

/// Sign in with a local account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SignIn {
    account: String,
    password: String,
}

/// A decision's options.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
struct DecideBody {
    /// Required to reject.
    comment: Option<String>,
}

/// A comment, required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    comment: String,
}

/// An undo: the comment, and the other instances of the same file the
/// caller confirmed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UndoBody {
    comment: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    instances: Vec<Seen>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct HeartbeatBody {
    lease_token: String,
    lease_seconds: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    lease_token: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    result: Value,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FailBody {
    lease_token: String,
    error: String,
}

/// A bulk call: the operation's fields (`op`, `comment`) and either `ids`
/// (each at the version seen) or `filter` with the preview's `snapshot`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct BulkDoc {
    /// approve, reject, cancel, retry, undo.
    op: String,
    comment: Option<String>,
    #[schema(value_type = Vec<Object>)]
    ids: Option<Vec<Value>>,
    #[schema(value_type = Object)]
    filter: Option<Value>,
    snapshot: Option<String>,
}

/// A policy change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    #[schema(value_type = Object)]
    policy: Value,
    expected_version: Option<u64>,
    comment: Option<String>,
}

// ----- helpers -----------------------------------------------------------

/// Parses a JSON body with the library's strict reader: a body that is
/// not JSON text, too deep, with duplicate keys or unknown fields is a
/// `validation` error naming `what`.
fn body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &Bytes,
    what: &str,
) -> ApiResult<T> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
    if !json_type {
        return Err(ApiError::invalid(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            what,
            "the body must be JSON, sent with Content-Type: application/json",
        ));
    }
    // The server decodes no compression: a compressed body is refused,
    // not parsed as if it were the JSON text.
    for encoding in headers.get_all(header::CONTENT_ENCODING) {
        let shown = String::from_utf8_lossy(encoding.as_bytes()).into_owned();
        let plain = shown
            .split(',')
            .all(|coding| coding.trim().eq_ignore_ascii_case("identity"));
        if !plain {
            return Err(ApiError::invalid(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                what,
                format!(
                    "the body must be sent uncompressed, without Content-Encoding (got {shown:?})"
                ),
            ));
        }
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, what, format!("not UTF-8: {e}")))?;
    // Over core's document limit is a body too large, whether the server's
    // own body limit (a little higher, for the request around it) caught
    // it or the parser did: 413 either way.
    let too_large = text.len() > actioncenter::error::MAX_DOCUMENT_LEN;
    actioncenter::parse_json_object(what, text).map_err(|error| ApiError {
        error,
        status: too_large.then_some(StatusCode::PAYLOAD_TOO_LARGE),
    })
}

fn ok_json(value: impl serde::Serialize) -> Response {
    Json(value).into_response()
}

fn action_response(action: &actioncenter::Action) -> Response {
    let mut r = Json(action).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", action.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// The version an `If-Match` header names, if it has one.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    // `*`: any version of the action there is (RFC 9110), no check.
    if text.trim() == "*" {
        return Ok(None);
    }
    // One strong tag, as the server gives it: If-Match compares strongly
    // (RFC 9110), so a weak `W/"3"` can never match, and a bare or doubly
    // quoted number is not a tag the server gave; nor is "01" (tags are
    // compared as text, and the server writes no leading zero), nor "0"
    // (versions start at 1).
    let digits = text
        .trim()
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .filter(|d| !d.starts_with('0'));
    digits
        .and_then(|d| d.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "If-Match",
                format!("must be an ETag the server gave, like \"3\"; got {text:?}"),
            )
        })
}

/// The action a path names: a full id, or a prefix of an action the
/// caller may view (core's `resolve_id_for`).
fn action_id(
    center: &actioncenter::ActionCenter,
    by: &actioncenter::Principal,
    text: &str,
) -> actioncenter::Result<ActionId> {
    center.resolve_id_for(by, text)
}

async fn run<T, F>(state: &AppState, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&actioncenter::ActionCenter) -> actioncenter::Result<T> + Send + 'static,
{
    Ok(state.blocking(f).await??)
}

/// The list filters, as query parameters. List parameters take commas or
/// repeat.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    /// `pending` or `history`: the tab's statuses.
    tab: Option<String>,
    /// Statuses, comma-separated.
    status: Option<String>,
    /// Action kinds, comma-separated.
    kind: Option<String>,
    category: Option<String>,
    /// Source types, comma-separated.
    source: Option<String>,
    investigation_id: Option<String>,
    entity: Option<String>,
    created_by: Option<String>,
    decided_by: Option<String>,
    /// RFC 3339.
    created_after: Option<String>,
    /// RFC 3339.
    created_before: Option<String>,
}

/// A page of a list, as query parameters (the counts refuse them).
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 1000; 50 when absent.
    limit: Option<usize>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// A list's query string: its filter and its page.
#[derive(Debug, Default)]
pub struct ListQuery {
    filter: FilterQuery,
    page: PageQuery,
}

fn split<T>(
    field: &str,
    text: &Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> ApiResult<Vec<T>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    // An empty value is refused, not read as "any" (an unset variable
    // would widen the selection), as the filter's names are in core.
    text.split(',')
        .map(str::trim)
        .map(|s| {
            let why = if s.is_empty() {
                "must not be empty (leave the parameter out for any)".to_owned()
            } else {
                format!("unknown value {s:?}")
            };
            parse(s).ok_or_else(|| ApiError::invalid(StatusCode::BAD_REQUEST, field, why))
        })
        .collect()
}

/// A name or value of a query string, decoded as a form encodes it
/// (`+` a space, `%XX` a byte); refused unless the bytes are UTF-8.
fn form_decoded(field: &str, raw: &str) -> ApiResult<String> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            ApiError::invalid(
                StatusCode::BAD_REQUEST,
                field,
                "is not UTF-8 once decoded".to_owned(),
            )
        })
}

fn json_enum<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(Value::String(s.to_owned())).ok()
}

fn time(field: &str, text: &Option<String>) -> ApiResult<Option<chrono::DateTime<chrono::Utc>>> {
    text.as_deref()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&chrono::Utc))
                .map_err(|e| {
                    ApiError::invalid(
                        StatusCode::BAD_REQUEST,
                        field,
                        format!("{t:?} is not an RFC 3339 time: {e}"),
                    )
                })
        })
        .transpose()
}

/// The (method, path template) pairs an API document describes.
pub type ServedRoutes = std::collections::HashSet<(String, String)>;

/// The operations of the API document `doc` (its JSON): what
/// [`refuse_unread`] checks.
pub fn served_routes(doc: &Value) -> ServedRoutes {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut served = ServedRoutes::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS.into_iter().filter(|m| item.get(*m).is_some()) {
            served.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    served
}

/// The endpoints that read a query string (`GET`, and `HEAD` with it).
const READ_A_QUERY: [&str; 5] = [
    "/api/v1/actions",
    "/api/v1/counts",
    "/api/v1/overview",
    "/api/v1/events",
    "/api/v1/events/stream",
];

/// The changes that compare the version an `If-Match` names: a decision
/// (`POST`) and a new policy (`PUT`).
const READ_IF_MATCH: [&str; 6] = [
    "/api/v1/actions/{id}/approve",
    "/api/v1/actions/{id}/reject",
    "/api/v1/actions/{id}/cancel",
    "/api/v1/actions/{id}/retry",
    "/api/v1/actions/{id}/undo",
    "/api/v1/policy",
];

/// Refuses what an endpoint would not read: a parameter it does not take
/// is refused, never dropped (docs/http.md), so a `?dry_run=true` on an
/// approve does not approve (an empty query is none); and an `If-Match`
/// on a change that compares no version (a proposal, a lease holder's
/// report, a claim, a bulk call) is refused rather than ignored.
///
/// `served` holds the (method, path) pairs of the API document: a method
/// a path does not serve passes on to its `405`, whatever it carries.
/// These refusals come before the caller's credentials are read.
pub async fn refuse_unread(
    axum::extract::State(served): axum::extract::State<std::sync::Arc<ServedRoutes>>,
    path: axum::extract::MatchedPath,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::Method;
    let method = request.method().clone();
    let path = path.as_str();
    let documented = if method == Method::HEAD {
        Method::GET
    } else {
        method.clone()
    };
    if !served.contains(&(documented.to_string(), path.to_owned())) {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or_default();
    let reads_query = matches!(method, Method::GET | Method::HEAD) && READ_A_QUERY.contains(&path);
    if let Some(first) = query
        .split('&')
        .find(|p| !p.is_empty())
        .filter(|_| !reads_query)
    {
        let name = first.split_once('=').map_or(first, |(name, _)| name);
        let name = form_decoded("query", name).unwrap_or_default();
        let field = if name.is_empty() {
            "query"
        } else {
            name.as_str()
        };
        return ApiError::invalid(
            StatusCode::BAD_REQUEST,
            field,
            format!("{method} {path} takes no query parameters"),
        )
        .into_response();
    }
    let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes && request.headers().contains_key(header::IF_MATCH) && !READ_IF_MATCH.contains(&path)
    {
        return ApiError::invalid(
            StatusCode::BAD_REQUEST,
            "If-Match",
            format!("{method} {path} compares no version"),
        )
        .into_response();
    }
    next.run(request).await
}

/// The list parameters: they repeat (`status=a&status=b`) or take commas.
const LIST_PARAMETERS: [&str; 4] = ["status", "kind", "category", "source"];

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        ListQuery::parse(parts.uri.query().unwrap_or_default())
    }
}

impl ListQuery {
    /// Reads a query string: a list parameter given again adds its values,
    /// any other is refused the second time; every name and value must be
    /// UTF-8 once decoded.
    fn parse(query: &str) -> ApiResult<ListQuery> {
        let invalid = |field: &str, message: String| {
            ApiError::invalid(StatusCode::BAD_REQUEST, field, message)
        };
        let mut map = serde_json::Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decoded("query", name)?;
            let value = form_decoded(&name, value)?;
            match map.get_mut(&name) {
                Some(Value::String(values)) if LIST_PARAMETERS.contains(&name.as_str()) => {
                    values.push(',');
                    values.push_str(&value);
                }
                Some(_) => return Err(invalid(&name, "is given more than once".to_owned())),
                None => {
                    map.insert(name, Value::String(value));
                }
            }
        }
        let limit = match map.remove("limit") {
            Some(Value::String(text)) => Some(
                text.parse::<usize>()
                    .map_err(|e| invalid("limit", format!("{text:?}: {e}")))?,
            ),
            _ => None,
        };
        let cursor = match map.remove("cursor") {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        let filter = serde_json::from_value(Value::Object(map))
            .map_err(|e| invalid("query", e.to_string()))?;
        Ok(ListQuery {
            filter,
            page: PageQuery { limit, cursor },
        })
    }
}

impl FilterQuery {
    fn filter(&self) -> ApiResult<Filter> {
        let mut filter = match self.tab.as_deref() {
            None => Filter::default(),
            Some("pending") => Filter::pending(),
            Some("history") => Filter::history(),
            Some(other) => {
                return Err(ApiError::invalid(
                    StatusCode::BAD_REQUEST,
                    "tab",
                    format!("must be pending or history, got {other:?}"),
                ));
            }
        };
        let statuses: Vec<Status> = split("status", &self.status, json_enum)?;
        if !statuses.is_empty() {
            filter.statuses = statuses;
        }
        filter.kinds = split("kind", &self.kind, |s| s.parse::<Kind>().ok())?;
        filter.categories = split("category", &self.category, |s| s.parse::<Category>().ok())?;
        filter.sources = split("source", &self.source, json_enum::<SourceType>)?;
        // Given empty, a name reaches core, which refuses it.
        filter.investigation_id = self.investigation_id.clone();
        filter.entity = self.entity.clone();
        filter.created_by = self.created_by.clone();
        filter.decided_by = self.decided_by.clone();
        filter.created_after = time("created_after", &self.created_after)?;
        filter.created_before = time("created_before", &self.created_before)?;
        Ok(filter)
    }
}

// ----- who is asking -----------------------------------------------------

/// Who `caller` is, for `GET /api/v1/session`. Reads the stored policy:
/// call it on the blocking pool.
fn whoami(center: &actioncenter::ActionCenter, caller: &Caller) -> actioncenter::Result<Value> {
    let policy = center.policy()?;
    let mut permissions = serde_json::Map::new();
    for op in Operation::ALL {
        let cats: Vec<&str> = policy
            .categories_allowed(&caller.principal, op)
            .into_iter()
            .map(Category::as_str)
            .collect();
        permissions.insert(op.as_str().to_owned(), json!(cats));
    }
    let csrf = caller
        .credential
        .as_ref()
        .filter(|c| !c.csrf.is_empty())
        .map(|c| c.csrf.clone());
    Ok(json!({
        "principal": caller.principal.id,
        "roles": caller.principal.roles,
        "via": caller.via,
        "how": how(caller),
        "csrf_token": csrf,
        "permissions": permissions,
        "expires_at": caller.credential.as_ref().and_then(|c| c.expires_at),
    }))
}

/// Who is asking: principal, roles, permissions per operation, and the
/// session's CSRF token.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, description = "the caller", body = Object), (status = 401, body = ErrorBody)))]
async fn get_session(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    Ok(ok_json(run(&state, move |c| whoami(c, &caller)).await?))
}

/// Signs in with a local account; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignIn, security(()),
    responses((status = 200, description = "signed in", body = Object), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let request: SignIn = body(&headers, &bytes, "sign_in")?;
    let (limits, session): (_, SessionLimits) =
        (state.settings().sign_in, state.settings().session);
    let (issued, who) = run(&state, move |c| {
        let issued = c.sign_in(
            &request.account,
            &request.password,
            &address,
            &limits,
            &session,
        )?;
        let caller = Caller {
            principal: c.principal(&issued.credential.principal)?,
            via: crate::auth::Via::Session,
            credential: Some(issued.credential.clone()),
            external: None,
        };
        let who = whoami(c, &caller)?;
        Ok((issued, who))
    })
    .await?;
    let cookie = state.session_cookie(&issued);
    let mut r = ok_json(who);
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(r)
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "signed out"), (status = 401, body = ErrorBody)))]
async fn sign_out(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // The session the cookie names ends, whichever credential the request
    // came in with: an answer that clears the cookie must not leave its
    // session live. A cookie that names no live session is only cleared.
    let secret = crate::auth::session_secret(&headers);
    match (caller, secret) {
        (Ok(caller), Some(secret)) => {
            let by_session = caller.via == crate::auth::Via::Session;
            let limits = state.settings().session;
            run(&state, move |c| {
                if by_session || c.session(&secret, &limits).is_ok() {
                    c.sign_out(&secret)?;
                }
                Ok(())
            })
            .await?;
        }
        (Ok(_), None) => {}
        // Refused: a live session without its CSRF token stays refused.
        // A session that no longer authenticates (its principal left the
        // policy, it was idle too long) is ended by its cookie, so no one
        // is left signed in with no way out: a page reloaded since has no
        // CSRF token to send, and ending a session gives nothing (another
        // site cannot send the cookie: SameSite=Strict, and a DELETE from
        // it needs a preflight this server refuses).
        (Err(refused), Some(secret)) => {
            let csrf = headers
                .get(crate::auth::CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let limits = state.settings().session;
            let ended = run(&state, move |c| match c.session(&secret, &limits) {
                Ok(live) => {
                    let ok =
                        csrf.is_some_and(|t| crate::auth::same_secret(&t, &live.credential.csrf));
                    if ok {
                        c.sign_out(&secret)?;
                    }
                    Ok(ok)
                }
                // Refused as a caller (ended, idle, disabled, gone from the
                // policy): its cookie ends it. Any other failure (the store
                // busy) is no reason to end a session without its token.
                Err(
                    actioncenter::Error::Unauthenticated { .. }
                    | actioncenter::Error::PermissionDenied { .. },
                ) => {
                    c.sign_out(&secret)?;
                    Ok(true)
                }
                Err(other) => Err(other),
            })
            .await?;
            if !ended {
                return Err(refused);
            }
        }
        (Err(refused), None) => return Err(refused),
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, state.cleared_cookie());
    Ok(r)
}

/// What the sign-in page offers.
#[utoipa::path(get, path = "/api/v1/config", tag = "session", security(()),
    responses((status = 200, description = "sign-in options", body = Object)))]
async fn config(State(state): State<AppState>) -> Response {
    ok_json(json!({ "oidc": state.oidc().is_some() }))
}

// ----- actions -----------------------------------------------------------

/// Lists actions, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/actions", tag = "actions", params(FilterQuery, PageQuery),
    responses((status = 200, body = PageDoc), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_actions(
    State(state): State<AppState>,
    caller: Caller,
    q: ListQuery,
) -> ApiResult<Response> {
    let filter = q.filter.filter()?;
    let page = PageRequest {
        limit: q.page.limit,
        cursor: q.page.cursor,
    };
    let page = run(&state, move |c| c.list(&caller.principal, &filter, &page)).await?;
    Ok(ok_json(page))
}

/// Proposes an action. The `Idempotency-Key` header makes a retry safe: the
/// same key and body give the same action.
#[utoipa::path(post, path = "/api/v1/actions", tag = "actions", request_body(content = Object, description = "a proposal (docs/json.md)"),
    params(("Idempotency-Key" = Option<String>, Header, description = "a key of the caller's for this proposal")),
    responses((status = 201, body = ActionDoc), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let value: Value = body(&headers, &bytes, "proposal")?;
    let mut proposal = Proposal::from_json(&value.to_string())?;
    if let Some(key) = headers.get("idempotency-key") {
        let key = key.to_str().map_err(|_| {
            ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key",
                "must be visible ASCII",
            )
        })?;
        // Named twice, the key must be one: which would be kept is a guess.
        if proposal
            .idempotency_key
            .as_deref()
            .is_some_and(|k| k != key)
        {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key",
                "differs from the body's idempotency_key",
            ));
        }
        proposal = proposal.with_idempotency_key(key);
    }
    let action = run(&state, move |c| c.propose(&caller.principal, proposal)).await?;
    let mut r = action_response(&action);
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// One action, with its version as the ETag.
#[utoipa::path(get, path = "/api/v1/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "the id, or a unique prefix of 4+ hex digits")),
    responses((status = 200, body = ActionDoc), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn get_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let action = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        c.get(&caller.principal, id)
    })
    .await?;
    Ok(action_response(&action))
}

/// An action's audit events, oldest first.
#[utoipa::path(get, path = "/api/v1/actions/{id}/events", tag = "actions",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<EventDoc>), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn action_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let events = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        c.history_of(&caller.principal, id)
    })
    .await?;
    Ok(ok_json(events))
}

macro_rules! decision {
    ($name:ident, $path:literal, $body:ty, $doc:literal, |$c:ident, $by:ident, $id:ident, $b:ident, $seen:ident| $call:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "decisions", request_body = $body,
            params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "the ETag seen")),
            responses((status = 200, body = ActionDoc), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
                      (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
            headers: HeaderMap,
            bytes: Bytes,
        ) -> ApiResult<Response> {
            let $b: $body = if bytes.is_empty() {
                serde_json::from_str("{}").map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, "body", e.to_string()))?
            } else {
                body(&headers, &bytes, "body")?
            };
            let $seen = if_match(&headers)?;
            let action = run(&state, move |$c| {
                let $id = action_id($c, &caller.principal, &id)?;
                let $by = &caller.principal;
                $call
            })
            .await?;
            Ok(action_response(&action))
        }
    };
}

decision!(
    approve,
    "/api/v1/actions/{id}/approve",
    DecideBody,
    "Approves a pending action.",
    |c, by, id, b, seen| c.approve(
        by,
        id,
        &Decide {
            comment: b.comment,
            expected_version: seen
        }
    )
);
decision!(
    reject,
    "/api/v1/actions/{id}/reject",
    DecideBody,
    "Rejects a pending action; a comment is required.",
    |c, by, id, b, seen| c.reject(
        by,
        id,
        &Decide {
            comment: b.comment,
            expected_version: seen
        }
    )
);
decision!(
    cancel,
    "/api/v1/actions/{id}/cancel",
    CommentBody,
    "Cancels a pending or approved action.",
    |c, by, id, b, seen| c.cancel_expecting(by, id, &b.comment, seen)
);
decision!(
    retry,
    "/api/v1/actions/{id}/retry",
    DecideBody,
    "Sends a failed action back to the executors.",
    |c, by, id, b, seen| c.retry_expecting(by, id, b.comment.as_deref(), seen)
);

/// The other instances of the same file an undo of this action may also
/// apply to ("Apply to N more instances of this file").
#[utoipa::path(get, path = "/api/v1/actions/{id}/undo", tag = "decisions",
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn undo_instances(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (action, instances) = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        let by = &caller.principal;
        // View first: who may not see it learns nothing of its state.
        let action = c.get(by, id)?;
        let instances = c.check_undo(by, id, None)?;
        Ok((action, instances))
    })
    .await?;
    let mut r = ok_json(json!({ "action": action, "instances": instances }));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", action.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// Undoes a completed action, and the listed instances of the same file.
#[utoipa::path(post, path = "/api/v1/actions/{id}/undo", tag = "decisions", request_body = UndoBody,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn undo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let b: UndoBody = body(&headers, &bytes, "undo")?;
    let seen = if_match(&headers)?;
    let report = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        c.undo(
            &caller.principal,
            id,
            &UndoRequest {
                comment: b.comment,
                expected_version: seen,
                instances: b.instances,
            },
        )
    })
    .await?;
    // The action asked for, at its new version, as every call that
    // returns an action tags it.
    let mut r = ok_json(&report);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", report.action.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

// ----- executors ---------------------------------------------------------

/// Claims approved actions (and undos) to run, each under a lease.
#[utoipa::path(post, path = "/api/v1/claims", tag = "executors", request_body(content = Object, description = "{\"limit\", \"lease_seconds\", \"kinds\"}"),
    responses((status = 200, body = Vec<ActionDoc>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let request: ClaimRequest = body(&headers, &bytes, "claim")?;
    let claimed = run(&state, move |c| c.claim(&caller.principal, &request)).await?;
    Ok(ok_json(claimed))
}

/// Renews a lease.
#[utoipa::path(post, path = "/api/v1/actions/{id}/heartbeat", tag = "executors", request_body = HeartbeatBody,
    params(("id" = String, Path)),
    responses((status = 200, body = ActionDoc), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let b: HeartbeatBody = body(&headers, &bytes, "heartbeat")?;
    let action = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        c.heartbeat(&caller.principal, id, &b.lease_token, b.lease_seconds)
    })
    .await?;
    Ok(action_response(&action))
}

/// Reports a run that succeeded.
#[utoipa::path(post, path = "/api/v1/actions/{id}/complete", tag = "executors", request_body = CompleteBody,
    params(("id" = String, Path)),
    responses((status = 200, body = ActionDoc), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let b: CompleteBody = body(&headers, &bytes, "complete")?;
    let action = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        c.complete(&caller.principal, id, &b.lease_token, b.result)
    })
    .await?;
    Ok(action_response(&action))
}

/// Reports a run that failed.
#[utoipa::path(post, path = "/api/v1/actions/{id}/fail", tag = "executors", request_body = FailBody,
    params(("id" = String, Path)),
    responses((status = 200, body = ActionDoc), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn fail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let b: FailBody = body(&headers, &bytes, "fail")?;
    let action = run(&state, move |c| {
        let id = action_id(c, &caller.principal, &id)?;
        c.fail(&caller.principal, id, &b.lease_token, &b.error)
    })
    .await?;
    Ok(action_response(&action))
}

// ----- bulk --------------------------------------------------------------

/// What a bulk call by filter would act on now, and its snapshot.
#[utoipa::path(post, path = "/api/v1/bulk/preview", tag = "bulk", request_body = BulkDoc,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn bulk_preview(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (op, selection) = bulk_request(&headers, &bytes)?;
    let filter = match selection {
        BulkTarget::Filter(filter, None) => *filter,
        BulkTarget::Filter(_, Some(_)) => {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "bulk.snapshot",
                "a preview gives a snapshot and takes none",
            ));
        }
        BulkTarget::Ids(_) => {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "filter",
                "a preview needs a filter",
            ));
        }
    };
    let preview = run(&state, move |c| {
        c.preview_bulk(&caller.principal, &op, &filter)
    })
    .await?;
    Ok(ok_json(preview))
}

/// Approves, rejects, cancels, retries or undoes several actions: one
/// result per item, each checked on its own.
#[utoipa::path(post, path = "/api/v1/bulk", tag = "bulk", request_body = BulkDoc,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (op, target) = bulk_request(&headers, &bytes)?;
    let selection = match target {
        BulkTarget::Ids(ids) => Selection::Ids(ids),
        BulkTarget::Filter(filter, Some(snapshot)) => Selection::Filter {
            filter: *filter,
            snapshot,
        },
        BulkTarget::Filter(_, None) => {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "snapshot",
                "a bulk call by filter needs the snapshot of its preview (POST /api/v1/bulk/preview)",
            ));
        }
    };
    let results = run(&state, move |c| c.bulk(&caller.principal, &op, &selection)).await?;
    Ok(ok_json(json!({ "results": results })))
}

enum BulkTarget {
    Ids(Vec<Seen>),
    Filter(Box<Filter>, Option<String>),
}

fn bulk_request(headers: &HeaderMap, bytes: &Bytes) -> ApiResult<(BulkOp, BulkTarget)> {
    let mut value: serde_json::Map<String, Value> = body(headers, bytes, "bulk")?;
    let ids = value.remove("ids");
    let filter = value.remove("filter");
    let snapshot = value.remove("snapshot");
    let op: BulkOp = actioncenter::parse_json("bulk", &Value::Object(value).to_string())?;
    let target = match (ids, filter) {
        (Some(_), None) if snapshot.as_ref().is_some_and(|s| !s.is_null()) => {
            // A snapshot guards a selection by filter; beside ids it would
            // guard nothing, and the caller would think it did.
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "bulk.snapshot",
                "goes with a filter; ids carry their versions instead",
            ));
        }
        (Some(ids), None) => {
            BulkTarget::Ids(actioncenter::parse_json("bulk.ids", &ids.to_string())?)
        }
        (None, Some(filter)) => {
            let snapshot = match snapshot {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(_) => {
                    return Err(ApiError::invalid(
                        StatusCode::BAD_REQUEST,
                        "bulk.snapshot",
                        "must be a string",
                    ));
                }
            };
            BulkTarget::Filter(Box::new(Filter::from_json(&filter.to_string())?), snapshot)
        }
        _ => {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "bulk",
                "name either ids or a filter",
            ));
        }
    };
    Ok((op, target))
}

// ----- queries -----------------------------------------------------------

/// Counts per status for a filter: the tab badges.
#[utoipa::path(get, path = "/api/v1/counts", tag = "queries", params(FilterQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    q: ListQuery,
) -> ApiResult<Response> {
    // A filter, not a page: a limit or cursor here would be dropped.
    for (field, given) in [
        ("limit", q.page.limit.is_some()),
        ("cursor", q.page.cursor.is_some()),
    ] {
        if given {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                field,
                "counts take a filter, not a page",
            ));
        }
    }
    let filter = q.filter.filter()?;
    let counts = run(&state, move |c| c.counts(&caller.principal, &filter)).await?;
    let total = counts.total();
    Ok(ok_json(json!({ "statuses": counts, "total": total })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// 1 to 366; 30 when absent.
    days: Option<i64>,
}

/// The queue at a glance.
#[utoipa::path(get, path = "/api/v1/overview", tag = "queries", params(OverviewQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
async fn overview(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OverviewQuery>,
) -> ApiResult<Response> {
    let days = q.days.unwrap_or(30);
    let o = run(&state, move |c| c.overview(&caller.principal, days)).await?;
    Ok(ok_json(o))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The last sequence number seen; 0 for the start.
    after: Option<u64>,
    /// 1 to 1000; 100 when absent.
    limit: Option<usize>,
}

/// Audit events after a sequence number.
#[utoipa::path(get, path = "/api/v1/events", tag = "audit", params(EventsQuery),
    responses((status = 200, body = Vec<EventDoc>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Response> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100));
    let events = run(&state, move |c| {
        c.events_since(&caller.principal, after, limit)
    })
    .await?;
    Ok(ok_json(events))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The last sequence number seen; the trail's head when absent. A
    /// `Last-Event-ID` (a reconnecting browser's) takes its place.
    after: Option<u64>,
}

/// The live feed: every audit event as a server-sent event (`id` is its
/// sequence number, `event` is `audit`). `Last-Event-ID` resumes.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "audit", params(StreamQuery),
    responses((status = 200, description = "text/event-stream: each event is one of these", content_type = "text/event-stream", body = SseEventDoc),
              (status = 403, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn event_stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Response> {
    let resume = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(str::trim)
                // Digits, as the feed sends them: `+5` is no id of its.
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::invalid(
                        StatusCode::BAD_REQUEST,
                        "Last-Event-ID",
                        "must be the sequence number of an event (the id of one this feed sent)",
                    )
                })?,
        ),
    };
    let head = state.feed().head();
    let after = resume.or(q.after).unwrap_or(head);
    // The permission check and the resume point's, before the stream
    // starts: a point past the trail's head is refused, not waited for.
    let check = caller.principal.clone();
    run(&state, move |c| {
        c.events_since(&check, after, 1).map(|_| ())
    })
    .await?;
    Ok(crate::feed::stream(state, caller, after).into_response())
}

/// Verifies the whole audit trail: the chain, every action row, the
/// policy and the checkpoints.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn verify_audit(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let report = run(&state, move |c| c.verify_audit_as(&caller.principal)).await?;
    Ok(ok_json(report))
}

trait ViewCheck {
    fn get_policy_for_view(&self, by: &actioncenter::Principal) -> actioncenter::Result<()>;
}

impl ViewCheck for actioncenter::ActionCenter {
    fn get_policy_for_view(&self, by: &actioncenter::Principal) -> actioncenter::Result<()> {
        self.policy_history(by).map(|_| ())
    }
}

/// The signed checkpoints of the trail, oldest first.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
async fn checkpoints(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let list = run(&state, move |c| c.checkpoints(&caller.principal)).await?;
    Ok(ok_json(list))
}

/// Signs a checkpoint of the trail with the server's key.
#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn make_checkpoint(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let key = state.settings().checkpoint_key.clone();
    let Some(key) = key else {
        // Who may not sign is told that first, not how the server runs.
        run(&state, move |c| {
            c.check_checkpoint_signer(&caller.principal)
        })
        .await?;
        return Err(ApiError::invalid(
            StatusCode::BAD_REQUEST,
            "checkpoint_key",
            "this server has no checkpoint key (start it with --checkpoint-key)",
        ));
    };
    let cp = run(&state, move |c| c.checkpoint(&caller.principal, &key)).await?;
    Ok(ok_json(cp))
}

/// The stored policy.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn get_policy(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let stored = run(&state, move |c| {
        c.get_policy_for_view(&caller.principal)?;
        c.stored_policy()
    })
    .await?;
    let mut r = ok_json(&*stored);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", stored.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// Stores a new policy. Needs Administer.
#[utoipa::path(put, path = "/api/v1/policy", tag = "policy", request_body = PolicyBody,
    params(("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let b: PolicyBody = body(&headers, &bytes, "policy_change")?;
    // If-Match names the version the caller saw, as on an action; the
    // body's expected_version says the same, and they must agree.
    let expected = match (if_match(&headers)?, b.expected_version) {
        (Some(header), Some(body)) if header != body => {
            return Err(ApiError::invalid(
                StatusCode::BAD_REQUEST,
                "If-Match",
                format!("names version {header}, the body's expected_version {body}"),
            ));
        }
        (header, body) => header.or(body),
    };
    let policy = Policy::from_value(b.policy)?;
    let stored = run(&state, move |c| {
        c.set_policy(&caller.principal, policy, expected, b.comment.as_deref())
    })
    .await?;
    let mut r = ok_json(&*stored);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", stored.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// Every version of the stored policy, oldest first.
#[utoipa::path(get, path = "/api/v1/policy/history", tag = "policy",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
async fn policy_history(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let list = run(&state, move |c| c.policy_history(&caller.principal)).await?;
    Ok(ok_json(list))
}
