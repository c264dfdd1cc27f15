//! The console's files, embedded in the binary: nothing is loaded from
//! another host, and the server needs no files beside itself.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Embeds each named file of `server/assets/` with the media type its
/// extension gives.
macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, media_type($name), include_bytes!(concat!("../assets/", $name)))),*]
    };
}

const fn media_type(name: &str) -> &'static str {
    let b = name.as_bytes();
    match b[b.len() - 1] {
        b'l' => "text/html; charset=utf-8",
        b's' if b[b.len() - 2] == b's' => "text/css; charset=utf-8",
        b's' => "text/javascript; charset=utf-8",
        b'g' => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Name, media type and bytes of every embedded file.
pub const FILES: &[(&str, &str, &[u8])] = embed!(
    "index.html",
    "app.css",
    "favicon.svg",
    "app.js",
    "action-list.js",
    "action-table.js",
    "api.js",
    "audit.js",
    "chart.js",
    "csv.js",
    "dom.js",
    "errors.js",
    "flyout.js",
    "format.js",
    "investigation.js",
    "overview.js",
    "policy.js",
    "session.js",
    "signin.js",
    "undo.js",
);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_folder_is_embedded_with_its_type() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("assets")
            .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        assert_eq!(media_type("a.css"), "text/css; charset=utf-8");
        assert_eq!(media_type("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(media_type("a.html"), "text/html; charset=utf-8");
        assert_eq!(media_type("a.svg"), "image/svg+xml");
    }
}
