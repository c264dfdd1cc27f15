//! Races through the HTTP API: many clients at once against one server
//! (see `http_races` for what is raced and checked).
//!
//! `ACTIONCENTER_RACE_SCALE=N` multiplies the actions.
#![allow(clippy::unwrap_used)]

mod common;
mod http_races;

use common::{Api, TestServer};

#[test]
fn many_clients_racing_through_the_api_lose_nothing_and_run_nothing_twice() {
    let scale: usize = std::env::var("ACTIONCENTER_RACE_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let server = TestServer::start_with(|s| s.requests_per_minute = 0);
    let api = |p: &str, _: usize| -> Api { server.bearer(p) };
    let races = http_races::race(
        &server.center,
        &api,
        600 * scale,
        "HTTP, 8 clients on one server",
    );
    assert!(races >= 600);
}
