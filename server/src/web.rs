//! The HTTP stack: routes, security headers, limits, timeouts,
//! compression, request logging without secrets, and the listener.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::{AppState, Settings, assets};

/// The console's Content-Security-Policy: scripts, styles and connections
/// from this origin only, no inline script, never in a frame.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn app(state: AppState) -> Router {
    let (api, doc) = crate::api::router().split_for_parts();
    let doc_json = serde_json::to_string(&doc).unwrap_or_default();
    let timeout = state.settings().request_timeout;
    let max_body = state.settings().max_body;
    let tls = state.settings().tls.is_some();
    // The live feed streams for as long as the client stays; every other
    // request has a deadline.
    let served = serde_json::to_value(&doc)
        .map(|doc| crate::api::served_routes(&doc))
        .unwrap_or_default();
    let api = api.route_layer(middleware::from_fn_with_state(
        std::sync::Arc::new(served),
        crate::api::refuse_unread,
    ));
    let api = api.layer(middleware::from_fn_with_state(
        (timeout, max_body),
        deadline,
    ));
    let mut router = Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::asset))
        .route("/healthz", get(healthz))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc) }
            }),
        )
        .merge(crate::oidc::routes())
        .merge(api)
        .fallback(not_found)
        .with_state(state.clone());
    let headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ));
    // The refusals of the routes and extractors become error documents
    // before they are compressed (their text is read); those of the body
    // limit, outside the compression, after. The security headers go on
    // last, so every answer has them, those error documents included.
    router = router
        .layer(middleware::from_fn(one_of_each))
        .layer(middleware::from_fn(errors_as_json))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn(errors_as_json))
        .layer(headers)
        .layer(middleware::from_fn(log));
    if tls {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.blocking(|c| c.store().chain_head()).await {
        Ok(Ok((seq, _))) => {
            axum::Json(serde_json::json!({"ok": true, "events": seq})).into_response()
        }
        Ok(Err(e)) | Err(ApiError { error: e, .. }) => ApiError::from(e).into_response(),
    }
}

async fn not_found() -> Response {
    ApiError::invalid(StatusCode::NOT_FOUND, "path", "no such page or endpoint").into_response()
}

async fn deadline(
    State((timeout, max_body)): State<(Duration, usize)>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/api/v1/events/stream" {
        return next.run(request).await;
    }
    // The body first, whole, under the deadline: one that does not arrive
    // in time is the client's delay (408), not a slow store's.
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(timeout, axum::body::to_bytes(body, max_body)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return unread_body(&e),
        Err(_) => {
            return ApiError::invalid(
                StatusCode::REQUEST_TIMEOUT,
                "body",
                format!("the body did not arrive within {} s", timeout.as_secs()),
            )
            .into_response();
        }
    };
    let request = Request::from_parts(parts, axum::body::Body::from(body));
    let left = timeout.saturating_sub(started.elapsed());
    match tokio::time::timeout(left, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::from(actioncenter::Error::Storage {
            message: format!(
                "the request took longer than {} s, and the change it asked for may yet be made: \
                 read the action before you repeat it",
                timeout.as_secs()
            ),
            retryable: true,
            source: None,
        })
        .into_response(),
    }
}

/// The request headers the server reads that may be sent once: who is
/// asking, what the body is, which version or retry it names. Sent twice
/// (by a client and a proxy, say), whichever one a layer read first
/// would win; the request is refused instead.
const ONCE: [&str; 6] = [
    "authorization",
    "content-type",
    "if-match",
    "idempotency-key",
    "last-event-id",
    crate::auth::CSRF_HEADER,
];

async fn one_of_each(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Some(name) = ONCE
        .iter()
        .find(|name| headers.get_all(**name).iter().nth(1).is_some())
    {
        return ApiError::invalid(
            StatusCode::BAD_REQUEST,
            &format!("header {name}"),
            "is given more than once; send it once",
        )
        .into_response();
    }
    next.run(request).await
}

/// The answer to a body that could not be read: over the limit (413), or
/// broken off or malformed (400).
fn unread_body(e: &axum::Error) -> Response {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return ApiError::invalid(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body",
                "the body is larger than the limit",
            )
            .into_response();
        }
        cause = c.source();
    }
    ApiError::invalid(
        StatusCode::BAD_REQUEST,
        "body",
        format!("the body could not be read: {e}"),
    )
    .into_response()
}

/// Turns the plain-text refusals of the HTTP layers (a body over the
/// limit, a path or query that does not parse, a method not allowed) into
/// the API's error document, so every error a client sees has one shape.
async fn errors_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (field, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body", "the body is larger than the limit".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method", "this path does not take that method".to_owned())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("body", "the body must be JSON".to_owned()),
        StatusCode::NOT_FOUND => ("path", "no such page or endpoint".to_owned()),
        _ => {
            let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let (field, text) = refused_part(&text);
            let mut r = ApiError::invalid(status, &field, text).into_response();
            *r.status_mut() = status;
            return r;
        }
    };
    ApiError::invalid(status, field, message).into_response()
}

/// The field an extractor's plain-text refusal is about, and its message
/// without the extractor's prefix: a query string's parameter when serde
/// names one (`duplicate field \`after\``), else `query` or `request`.
fn refused_part(text: &str) -> (String, String) {
    let Some(rest) = text.strip_prefix("Failed to deserialize query string: ") else {
        return ("request".to_owned(), text.to_owned());
    };
    let named = rest
        .split_once('`')
        .and_then(|(_, after)| after.split_once('`'))
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    (named.unwrap_or("query").to_owned(), rest.to_owned())
}

/// One line per request: method, path without its query (a query may
/// hold an OpenID Connect code), status and time. Never a header or body.
async fn log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        ms = start.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Serves on a socket the caller bound (HTTPS with `settings.tls`) until
/// Ctrl-C or SIGTERM.
pub async fn listen_on(
    state: AppState,
    settings: &Settings,
    listener: std::net::TcpListener,
) -> Result<(), String> {
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("the listening socket: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("the listening socket: {e}"))?;
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(Some(Duration::from_secs(5)));
    });
    match &settings.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| format!("TLS certificate or key: {e}"))?;
            let mut server = axum_server::from_tcp_rustls(listener, config).handle(handle);
            tune(server.http_builder(), settings);
            server.serve(app).await
        }
        None => {
            let mut server = axum_server::from_tcp(listener).handle(handle);
            tune(server.http_builder(), settings);
            server.serve(app).await
        }
    }
    .map_err(|e| format!("cannot serve on {addr}: {e}"))
}

fn tune(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    settings: &Settings,
) {
    builder
        .http1()
        .max_buf_size(settings.max_head.max(8192))
        .header_read_timeout(Duration::from_secs(10))
        .timer(hyper_util::rt::TokioTimer::new());
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
