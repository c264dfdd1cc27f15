//! The console's files, embedded in the binary: nothing is loaded from
//! another host, and the server needs no files beside itself.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Name, media type and bytes of every embedded file.
pub const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
];

fn file(name: &str) -> Option<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, b)| (*t, *b))
}

fn respond(name: &str, cache: &'static str) -> Response {
    match file(name) {
        Some((media, bytes)) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            r
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The console's page.
pub async fn index() -> Response {
    respond("index.html", "no-cache")
}

/// `/assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    respond(&name, "no-cache")
}
