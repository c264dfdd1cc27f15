//! The API from outside: every verb, every error kind's status, who may
//! do what, sessions and CSRF, tokens, limits and headers.

mod common;

use common::{TestServer, approve_and_claim, ends_soon, error_kind, expect, isolate, quarantine};
use serde_json::{Value, json};

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

fn version_of(v: &Value) -> u64 {
    v["version"].as_u64().expect("version")
}

#[test]
fn a_proposal_goes_from_pending_to_undone_over_http() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    let edr = s.bearer("edr");
    let sha = "a".repeat(64);

    let r = soar.post("/api/v1/actions", quarantine("dev-1", &sha));
    assert_eq!(r.headers()["etag"], "\"1\"");
    let first = expect(r, 201);
    let other = expect(soar.post("/api/v1/actions", quarantine("dev-2", &sha)), 201);
    assert_eq!(first["status"], "pending");

    let page = expect(alice.get("/api/v1/actions?tab=pending&limit=1"), 200);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let page2 = expect(
        alice.get(&format!(
            "/api/v1/actions?tab=pending&limit=1&cursor={cursor}"
        )),
        200,
    );
    assert_eq!(page2["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(page["items"][0]["id"], page2["items"][0]["id"]);

    let counts = expect(alice.get("/api/v1/counts?tab=pending"), 200);
    assert_eq!(counts["statuses"]["pending"], 2);

    for a in [&first, &other] {
        let id = id_of(a);
        let approved = expect(
            alice.post_if(
                &format!("/api/v1/actions/{id}/approve"),
                version_of(a),
                json!({"comment": "confirmed"}),
            ),
            200,
        );
        assert_eq!(approved["status"], "approved");
    }
    let claimed = expect(
        edr.post("/api/v1/claims", json!({"limit": 10, "lease_seconds": 60})),
        200,
    );
    let claimed = claimed.as_array().expect("claimed").clone();
    assert_eq!(claimed.len(), 2);
    for a in &claimed {
        let id = id_of(a);
        let token = a["attempts"]
            .as_array()
            .and_then(|x| x.last())
            .map(|t| t["lease_token"].clone())
            .expect("lease");
        expect(
            edr.post(
                &format!("/api/v1/actions/{id}/heartbeat"),
                json!({"lease_token": token, "lease_seconds": 60}),
            ),
            200,
        );
        let done = expect(
            edr.post(
                &format!("/api/v1/actions/{id}/complete"),
                json!({"lease_token": token, "result": {"ok": true}}),
            ),
            200,
        );
        assert_eq!(done["status"], "completed");
    }

    let id = id_of(&first);
    let preview = expect(alice.get(&format!("/api/v1/actions/{id}/undo")), 200);
    let instances = preview["instances"].as_array().expect("instances").clone();
    assert_eq!(instances.len(), 1, "{preview}");
    assert_eq!(instances[0]["id"], other["id"]);
    let seen: Vec<Value> = instances
        .iter()
        .map(|a| json!({"id": a["id"], "version": a["version"]}))
        .collect();
    let undone = alice.post(
        &format!("/api/v1/actions/{id}/undo"),
        json!({"comment": "false positive", "instances": seen}),
    );
    let etag = undone
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let report = expect(undone, 200);
    assert_eq!(etag, Some(format!("\"{}\"", version_of(&report["action"]))));
    assert_eq!(report["action"]["status"], "undoing");
    assert_eq!(
        report["instances"][0]["action"]["status"], "undoing",
        "{report}"
    );

    let events = expect(alice.get(&format!("/api/v1/actions/{id}/events")), 200);
    let names: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(names.first(), Some(&"propose"), "{names:?}");
    assert!(names.contains(&"undo"), "{names:?}");
    let all = expect(alice.get("/api/v1/events?after=0&limit=1000"), 200);
    assert!(all.as_array().map(Vec::len).unwrap_or(0) >= 10);
    let audit = expect(alice.get("/api/v1/audit"), 200);
    assert_eq!(audit["intact"], true, "{audit}");
    let overview = expect(alice.get("/api/v1/overview?days=7"), 200);
    assert_eq!(overview["days"], 7);
}

#[test]
fn reject_cancel_fail_retry_and_bulk() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    let edr = s.bearer("edr");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = id_of(&a);
    assert_eq!(
        error_kind(
            alice.post(&format!("/api/v1/actions/{id}/reject"), json!({})),
            400
        ),
        "validation"
    );
    let rejected = expect(
        alice.post(
            &format!("/api/v1/actions/{id}/reject"),
            json!({"comment": "benign"}),
        ),
        200,
    );
    assert_eq!(rejected["status"], "rejected");

    let b = expect(soar.post("/api/v1/actions", isolate("dev-2")), 201);
    let cancelled = expect(
        alice.post(
            &format!("/api/v1/actions/{}/cancel", id_of(&b)),
            json!({"comment": "dup"}),
        ),
        200,
    );
    assert_eq!(cancelled["status"], "cancelled");

    let c = expect(soar.post("/api/v1/actions", isolate("dev-3")), 201);
    expect(
        alice.post(&format!("/api/v1/actions/{}/approve", id_of(&c)), json!({})),
        200,
    );
    let claimed = expect(
        edr.post("/api/v1/claims", json!({"limit": 1, "lease_seconds": 60})),
        200,
    );
    let token = claimed[0]["attempts"][0]["lease_token"].clone();
    let failed = expect(
        edr.post(
            &format!("/api/v1/actions/{}/fail", id_of(&c)),
            json!({"lease_token": token, "error": "agent offline"}),
        ),
        200,
    );
    assert!(
        matches!(failed["status"].as_str(), Some("failed") | Some("approved")),
        "{failed}"
    );
    if failed["status"] == "failed" {
        let retried = expect(
            alice.post(&format!("/api/v1/actions/{}/retry", id_of(&c)), json!({})),
            200,
        );
        assert_eq!(retried["status"], "approved");
    }

    let mut seen = Vec::new();
    for d in ["dev-4", "dev-5", "dev-6"] {
        let a = expect(soar.post("/api/v1/actions", isolate(d)), 201);
        seen.push(json!({"id": a["id"], "version": a["version"]}));
    }
    let bulk = expect(
        alice.post(
            "/api/v1/bulk",
            // A client that always writes the optional snapshot: null is none.
            json!({"op": "approve", "comment": "batch", "ids": seen, "snapshot": null}),
        ),
        200,
    );
    let results = bulk["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert!(
        results.iter().all(|r| r["action"]["status"] == "approved"),
        "{bulk}"
    );

    for d in ["dev-7", "dev-8"] {
        expect(soar.post("/api/v1/actions", isolate(d)), 201);
    }
    let filter = json!({"statuses": ["pending"], "kinds": ["isolate_device"]});
    let preview = expect(
        alice.post(
            "/api/v1/bulk/preview",
            json!({"op": "reject", "comment": "x", "filter": filter}),
        ),
        200,
    );
    assert_eq!(preview["count"], 2);
    let snapshot = preview["snapshot"].clone();
    let done = expect(
        alice.post(
            "/api/v1/bulk",
            json!({"op": "reject", "comment": "benign", "filter": filter, "snapshot": snapshot}),
        ),
        200,
    );
    assert_eq!(done["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        error_kind(
            alice.post(
                "/api/v1/bulk",
                json!({"op": "reject", "comment": "x", "filter": filter})
            ),
            400
        ),
        "validation"
    );
}

#[test]
fn every_error_kind_has_its_status() {
    let s = TestServer::start_with(|st| st.requests_per_minute = 0);
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    let edr = s.bearer("edr");
    let unknown = "0190aaaa-0000-7000-8000-000000000000";
    assert_eq!(
        error_kind(alice.get(&format!("/api/v1/actions/{unknown}")), 404),
        "not_found"
    );

    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = id_of(&a);
    assert_eq!(
        error_kind(
            edr.post(&format!("/api/v1/actions/{id}/approve"), json!({})),
            403
        ),
        "permission_denied"
    );
    assert_eq!(
        error_kind(
            alice.post_if(&format!("/api/v1/actions/{id}/approve"), 7, json!({})),
            409
        ),
        "conflict"
    );
    expect(
        alice.post(&format!("/api/v1/actions/{id}/approve"), json!({})),
        200,
    );
    assert_eq!(
        error_kind(
            alice.post(&format!("/api/v1/actions/{id}/approve"), json!({})),
            409
        ),
        "invalid_transition"
    );
    assert_eq!(
        error_kind(soar.post("/api/v1/actions", isolate("dev-1")), 409),
        "duplicate"
    );
    expect(
        edr.post("/api/v1/claims", json!({"limit": 1, "lease_seconds": 60})),
        200,
    );
    let stale = json!({"lease_token": "00000000000000000000000000000000", "result": {}});
    assert_eq!(
        error_kind(
            edr.post(&format!("/api/v1/actions/{id}/complete"), stale),
            409
        ),
        "expired"
    );

    let mine = expect(alice.post("/api/v1/actions", isolate("dev-9")), 201);
    assert_eq!(
        error_kind(
            alice.post(
                &format!("/api/v1/actions/{}/approve", id_of(&mine)),
                json!({})
            ),
            403
        ),
        "self_approval"
    );

    let bad = alice
        .request(reqwest::Method::POST, "/api/v1/actions")
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .expect("send");
    assert_eq!(error_kind(bad, 400), "validation");
    assert_eq!(
        error_kind(s.anonymous().get("/api/v1/actions"), 401),
        "unauthenticated"
    );

    let limited = TestServer::start_with(|st| st.requests_per_minute = 3);
    let v = limited.bearer("victor");
    for _ in 0..3 {
        expect(v.get("/api/v1/actions"), 200);
    }
    let r = v.get("/api/v1/actions");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    assert_eq!(error_kind(r, 429), "rate_limited");
}

#[test]
fn who_may_do_what_comes_from_the_stored_policy() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let victor = s.bearer("victor");
    let alice = s.bearer("alice");
    let edr = s.bearer("edr");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = id_of(&a);
    // An executor's token cannot approve; a viewer can look but not undo.
    assert_eq!(
        error_kind(
            edr.post(&format!("/api/v1/actions/{id}/approve"), json!({})),
            403
        ),
        "permission_denied"
    );
    expect(victor.get(&format!("/api/v1/actions/{id}")), 200);
    assert_eq!(
        error_kind(
            victor.post(&format!("/api/v1/actions/{id}/approve"), json!({})),
            403
        ),
        "permission_denied"
    );
    let token = approve_and_claim(&s, &id);
    expect(
        edr.post(
            &format!("/api/v1/actions/{id}/complete"),
            json!({"lease_token": token, "result": {}}),
        ),
        200,
    );
    assert_eq!(
        error_kind(
            victor.post(
                &format!("/api/v1/actions/{id}/undo"),
                json!({"comment": "no"})
            ),
            403
        ),
        "permission_denied"
    );
    let still = expect(alice.get(&format!("/api/v1/actions/{id}")), 200);
    assert_eq!(still["status"], "completed");
    // Policy changes need Administer, and take effect at the next request.
    let policy = expect(alice.get("/api/v1/policy"), 200);
    let version = policy["version"].as_u64().expect("version");
    let body = json!({"policy": policy["policy"], "expected_version": version, "comment": "same"});
    assert_eq!(
        error_kind(alice.put_json("/api/v1/policy", body.clone()), 403),
        "permission_denied"
    );
    let admin = s.bearer("admin");
    let mut changed = policy["policy"].clone();
    changed["principals"]["alice"] = json!(["viewer"]);
    let body =
        json!({"policy": changed, "expected_version": version, "comment": "alice moves to viewer"});
    expect(admin.put_json("/api/v1/policy", body), 200);
    let b = expect(soar.post("/api/v1/actions", isolate("dev-2")), 201);
    assert_eq!(
        error_kind(
            alice.post(&format!("/api/v1/actions/{}/approve", id_of(&b)), json!({})),
            403
        ),
        "permission_denied"
    );
    let who = expect(alice.get("/api/v1/session"), 200);
    assert_eq!(who["roles"], json!(["viewer"]));
}

#[test]
fn a_policy_change_made_on_a_version_that_moved_on_is_refused_like_a_decision() {
    let s = TestServer::start();
    let admin = s.bearer("admin");
    let read = admin.get("/api/v1/policy");
    let etag = read.headers()["etag"].to_str().expect("etag").to_owned();
    let seen: Value = read.json().expect("json");
    let version = seen["version"].as_u64().expect("version");
    assert_eq!(etag, format!("\"{version}\""));
    let put = |if_match: &str, body: Value| {
        admin
            .request(reqwest::Method::PUT, "/api/v1/policy")
            .header("if-match", if_match)
            .json(&body)
            .send()
            .expect("PUT")
    };
    let first = put(&etag, json!({"policy": seen["policy"], "comment": "first"}));
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["etag"].to_str().expect("etag"),
        format!("\"{}\"", version + 1)
    );
    // A second administrator, still on the version both read: refused,
    // and nothing stored.
    let stale = put(
        &etag,
        json!({"policy": seen["policy"], "comment": "second"}),
    );
    assert_eq!(error_kind(stale, 409), "conflict");
    // A header and a body that disagree are refused before anything.
    let both = put(
        &format!("\"{}\"", version + 1),
        json!({"policy": seen["policy"], "expected_version": version}),
    );
    assert_eq!(error_kind(both, 400), "validation");
    let now = expect(admin.get("/api/v1/policy"), 200);
    assert_eq!(now["version"].as_u64(), Some(version + 1));
    assert_eq!(now["set_by"], "admin");
}

#[test]
fn signing_out_with_a_token_and_the_cookie_ends_the_cookie_s_session() {
    let s = TestServer::start();
    s.add_user("alice");
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = client
        .post(s.url("/api/v1/session"))
        .json(&json!({"account": "alice", "password": common::PASSWORD}))
        .send()
        .expect("sign in");
    assert_eq!(r.status(), 200);
    assert_eq!(s.live_sessions(), 1);
    let out = client
        .delete(s.url("/api/v1/session"))
        .bearer_auth(s.token("alice"))
        .send()
        .expect("delete");
    assert_eq!(out.status(), 204);
    assert_eq!(s.live_sessions(), 0, "the 204 left the session live");
}

#[test]
fn a_session_needs_its_csrf_token_to_change_anything() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = id_of(&a);
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    s.add_user("alice");
    let r = client
        .post(s.url("/api/v1/session"))
        .json(&json!({"account": "alice", "password": common::PASSWORD}))
        .send()
        .expect("sign in");
    let cookie = r.headers()["set-cookie"].to_str().expect("text").to_owned();
    assert!(cookie.starts_with("ac_session=acs_"), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing from {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cannot carry a Secure cookie: {cookie}"
    );
    let who: Value = r.json().expect("json");
    let csrf = who["csrf_token"].as_str().expect("csrf").to_owned();

    let without = client
        .post(s.url(&format!("/api/v1/actions/{id}/approve")))
        .json(&json!({}))
        .send()
        .expect("post");
    let body = expect(without, 403);
    assert_eq!(body["error"]["kind"], "validation", "{body}");
    assert_eq!(body["error"]["field"], "x-csrf-token", "{body}");
    let wrong = client
        .post(s.url(&format!("/api/v1/actions/{id}/approve")))
        .header("x-csrf-token", "nope")
        .json(&json!({}))
        .send()
        .expect("post");
    assert_eq!(error_kind(wrong, 403), "validation");
    let pending = expect(soar.get(&format!("/api/v1/actions/{id}")), 200);
    assert_eq!(
        pending["status"], "pending",
        "nothing changed without the token"
    );
    let with = client
        .post(s.url(&format!("/api/v1/actions/{id}/approve")))
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .expect("post");
    assert_eq!(expect(with, 200)["status"], "approved");
    // GET never changes state: the verbs are POST only.
    let get = client
        .get(s.url(&format!("/api/v1/actions/{id}/approve")))
        .send()
        .expect("get");
    assert_eq!(get.status(), 405);

    // Sign-out ends the session in the database.
    let out = client
        .delete(s.url("/api/v1/session"))
        .header("x-csrf-token", &csrf)
        .send()
        .expect("delete");
    assert_eq!(out.status(), 204);
    assert_eq!(s.live_sessions(), 0);
    assert_eq!(
        error_kind(
            client.get(s.url("/api/v1/session")).send().expect("get"),
            401
        ),
        "unauthenticated"
    );
}

#[test]
fn sessions_end_when_idle_too_long_or_too_old() {
    let s = TestServer::start();
    let alice = s.signed_in("alice");
    expect(alice.get("/api/v1/session"), 200);
    s.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        error_kind(alice.get("/api/v1/session"), 401),
        "unauthenticated"
    );

    let bob = s.signed_in("bob");
    for _ in 0..24 {
        s.clock.advance(chrono::Duration::minutes(29));
        expect(bob.get("/api/v1/session"), 200);
    }
    s.clock.advance(chrono::Duration::minutes(29));
    let r = bob.get("/api/v1/session");
    let body = expect(r, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired"),
        "{body}"
    );
}

#[test]
fn expired_and_revoked_tokens_are_refused() {
    let s = TestServer::start();
    let short = s
        .center
        .create_token(&s.admin, "alice", "short", chrono::Duration::minutes(5))
        .expect("token");
    let client = reqwest::blocking::Client::new();
    let get = |t: &str| {
        client
            .get(s.url("/api/v1/actions"))
            .bearer_auth(t)
            .send()
            .expect("get")
    };
    expect(get(&short.secret), 200);
    s.clock.advance(chrono::Duration::minutes(6));
    let body = expect(get(&short.secret), 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired"),
        "{body}"
    );

    let live = s
        .center
        .create_token(&s.admin, "alice", "live", chrono::Duration::days(1))
        .expect("token");
    expect(get(&live.secret), 200);
    s.center
        .revoke_token(&s.admin, live.credential.id)
        .expect("revoke");
    let body = expect(get(&live.secret), 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("revoked"),
        "{body}"
    );
    assert_eq!(
        error_kind(get("act_not-a-real-token"), 401),
        "unauthenticated"
    );
    let r = client
        .get(s.url("/api/v1/actions"))
        .header("authorization", "Basic abc")
        .send()
        .expect("get");
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer realm=\"actioncenter\""
    );
    assert_eq!(error_kind(r, 401), "unauthenticated");
}

#[test]
fn sign_in_is_throttled_per_account_and_says_nothing_about_which_part_was_wrong() {
    let s = TestServer::start();
    s.add_user("alice");
    let anon = s.anonymous();
    let wrong = expect(
        anon.post(
            "/api/v1/session",
            json!({"account": "alice", "password": "not the password"}),
        ),
        401,
    );
    let nobody = expect(
        anon.post(
            "/api/v1/session",
            json!({"account": "mallory", "password": "not the password"}),
        ),
        401,
    );
    assert_eq!(wrong["error"]["message"], nobody["error"]["message"]);
    for _ in 0..9 {
        let _ = anon.post(
            "/api/v1/session",
            json!({"account": "alice", "password": "still wrong here"}),
        );
    }
    let r = anon.post(
        "/api/v1/session",
        json!({"account": "alice", "password": common::PASSWORD}),
    );
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_kind(r, 429), "rate_limited");
    assert_eq!(s.live_sessions(), 0);
}

#[test]
fn bodies_and_heads_have_limits_and_bad_bodies_clear_errors() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    // A body declared larger than the limit is refused on its head, before
    // a byte of it is read.
    let (status, body) = common::head_only_post(&s, &s.token("soar"), 3 * 1024 * 1024);
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["error"]["kind"], "validation", "{body}");
    // Just over the document limit, within the server's body limit: 413
    // too, not a 400.
    let mut proposal = isolate("dev-big");
    proposal["parameters"] = json!({"pad": "p".repeat(1024 * 1024)});
    let r = soar.post("/api/v1/actions", proposal);
    let big = expect(r, 413);
    assert_eq!(big["error"]["kind"], "validation", "{big}");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = soar
        .request(reqwest::Method::POST, "/api/v1/actions")
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .expect("send");
    assert_eq!(error_kind(r, 400), "validation");
    let r = soar
        .request(reqwest::Method::POST, "/api/v1/actions")
        .header("content-type", "application/json")
        .body(vec![b'"', 0xff, 0xfe, b'"'])
        .send()
        .expect("send");
    assert_eq!(error_kind(r, 400), "validation");
    let r = soar
        .request(reqwest::Method::POST, "/api/v1/actions")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .expect("send");
    assert_eq!(error_kind(r, 415), "validation");
    // A compressed body is not read as if it were plain: it was parsed
    // raw and refused as "not UTF-8" (400), or taken as sent.
    for encodings in [
        &["gzip"][..],
        &["br"],
        &["identity, gzip"],
        &["identity", "gzip"],
    ] {
        let mut request = soar
            .request(reqwest::Method::POST, "/api/v1/actions")
            .header("content-type", "application/json");
        for encoding in encodings {
            request = request.header("content-encoding", *encoding);
        }
        let r = request
            .body(r#"{"kind": "isolate_device"}"#)
            .send()
            .expect("send");
        let refused = expect(r, 415);
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("Content-Encoding"),
            "{encodings:?}: {refused}"
        );
    }
    let r = soar
        .request(reqwest::Method::GET, "/api/v1/actions")
        .header("x-padding", "p".repeat(100 * 1024))
        .send();
    match r {
        Ok(r) => assert!(r.status() == 431 || r.status() == 400, "{}", r.status()),
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    let listed = expect(soar.get("/api/v1/actions"), 200);
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(0),
        "nothing was stored"
    );
}

#[test]
fn an_idempotency_key_makes_a_retry_give_the_first_answer() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let send = || {
        soar.request(reqwest::Method::POST, "/api/v1/actions")
            .header("idempotency-key", "case-42")
            .json(&isolate("dev-1"))
            .send()
            .expect("send")
    };
    let first = expect(send(), 201);
    let again = expect(send(), 201);
    assert_eq!(first["id"], again["id"]);
    let other = soar
        .request(reqwest::Method::POST, "/api/v1/actions")
        .header("idempotency-key", "case-42")
        .json(&isolate("dev-2"))
        .send()
        .expect("send");
    assert_eq!(error_kind(other, 409), "duplicate");
    // A key is its proposer's own: another principal's proposal under it
    // is a proposal of its own, and takes nothing from the first.
    let alice = s.bearer("alice");
    let theirs = expect(
        alice
            .request(reqwest::Method::POST, "/api/v1/actions")
            .header("idempotency-key", "case-42")
            .json(&isolate("dev-3"))
            .send()
            .expect("send"),
        201,
    );
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(theirs["created_by"], "alice");
    assert_eq!(expect(send(), 201)["id"], first["id"]);
}

#[test]
fn every_refusal_carries_the_security_headers() {
    let s = TestServer::start();
    let alice = s.bearer("alice");
    let plain = reqwest::blocking::Client::new();
    const HEADERS: [&str; 5] = [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "cross-origin-opener-policy",
    ];
    // Over the body limit the server answers on the head and closes (a
    // client still writing the body would see a broken pipe): read raw.
    let answer = common::head_only_answer(&s, &s.token("alice"), 2 << 20).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    for name in HEADERS.into_iter().chain(["cache-control: no-store"]) {
        assert!(
            answer.contains(&format!("\r\n{name}")),
            "a body over the limit: no {name} in {answer}"
        );
    }
    let refusals = [
        ("an unknown asset", plain.get(s.url("/assets/nope.js")), 404),
        ("a method not allowed", plain.put(s.url("/healthz")), 405),
        (
            "a header sent twice",
            alice
                .request(reqwest::Method::POST, "/api/v1/actions")
                .header("content-type", "application/json")
                .header("content-type", "application/json")
                .body("{}"),
            400,
        ),
        (
            "a bad query",
            alice.request(reqwest::Method::GET, "/api/v1/actions?limit=0"),
            400,
        ),
    ];
    for (what, request, status) in refusals {
        let r = request.send().expect("send");
        assert_eq!(r.status().as_u16(), status, "{what}");
        let h = r.headers();
        for name in HEADERS {
            assert!(h.contains_key(name), "{what}: no {name} in {h:?}");
        }
        assert_eq!(h["cache-control"], "no-store", "{what}");
        assert!(
            h["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("application/json")),
            "{what}: {h:?}"
        );
    }
}

#[test]
fn the_console_is_served_with_a_strict_content_security_policy() {
    let s = TestServer::start();
    let r = reqwest::blocking::get(s.url("/")).expect("get");
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().expect("html");
    assert!(
        !html.contains("<script>") && !html.contains("onclick="),
        "no inline script"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from another host"
    );
    let js = reqwest::blocking::get(s.url("/assets/app.js")).expect("get");
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        reqwest::blocking::get(s.url("/assets/nope.js"))
            .expect("get")
            .status(),
        404
    );
}

#[test]
fn the_openapi_document_describes_every_route() {
    let s = TestServer::start();
    let doc: Value = reqwest::blocking::get(s.url("/api/v1/openapi.json"))
        .expect("get")
        .json()
        .expect("json");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/actions",
        "/api/v1/actions/{id}",
        "/api/v1/actions/{id}/approve",
        "/api/v1/actions/{id}/reject",
        "/api/v1/actions/{id}/undo",
        "/api/v1/claims",
        "/api/v1/bulk",
        "/api/v1/events/stream",
        "/api/v1/policy",
        "/api/v1/session",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(paths["/api/v1/session"].get("delete").is_some());
    // The counts take the list's filter and not its page; the list both.
    let names = |path: &str| -> Vec<String> {
        paths[path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has no parameters"))
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    };
    let (counts, list) = (names("/api/v1/counts"), names("/api/v1/actions"));
    for filter in ["tab", "status", "investigation_id", "created_before"] {
        assert!(
            counts.contains(&filter.to_owned()),
            "counts lack {filter}: {counts:?}"
        );
        assert!(
            list.contains(&filter.to_owned()),
            "the list lacks {filter}: {list:?}"
        );
    }
    for page in ["limit", "cursor"] {
        assert!(
            !counts.contains(&page.to_owned()),
            "counts list {page}: {counts:?}"
        );
        assert!(
            list.contains(&page.to_owned()),
            "the list lacks {page}: {list:?}"
        );
    }
}

#[test]
fn the_live_feed_delivers_new_events_and_resumes_from_last_event_id() {
    use std::io::{BufRead, BufReader};
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let token = s.token("alice");
    let open = |last: Option<u64>| {
        let client = reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .expect("client");
        let mut r = client
            .get(s.url("/api/v1/events/stream"))
            .bearer_auth(&token);
        if let Some(l) = last {
            r = r.header("last-event-id", l.to_string());
        }
        let r = r.send().expect("stream");
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        BufReader::new(r)
    };
    let mut stream = open(None);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let mut ids = Vec::new();
    let mut line = String::new();
    while ids.is_empty() {
        line.clear();
        stream.read_line(&mut line).expect("read");
        if let Some(data) = line.strip_prefix("data: ") {
            let e: Value = serde_json::from_str(data.trim()).expect("event json");
            if e["action_id"] == a["id"] {
                ids.push(e["seq"].as_u64().expect("seq"));
            }
        }
    }
    drop(stream);
    expect(soar.post("/api/v1/actions", isolate("dev-2")), 201);
    expect(soar.post("/api/v1/actions", isolate("dev-3")), 201);
    let mut resumed = open(Some(ids[0]));
    let mut seqs = Vec::new();
    while seqs.len() < 2 {
        line.clear();
        resumed.read_line(&mut line).expect("read");
        if let Some(id) = line.strip_prefix("id: ") {
            seqs.push(id.trim().parse::<u64>().expect("seq"));
        }
    }
    assert_eq!(seqs, vec![ids[0] + 1, ids[0] + 2]);
}

#[test]
fn a_resume_point_this_trail_never_reached_is_refused_not_waited_for() {
    // A client resuming with a position from another database was kept
    // waiting, silently, until this trail grew past it: every event up
    // to there was never sent.
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let head = s.center.store().chain_head().expect("head").0;
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    let token = s.token("alice");
    let stream = |header: Option<&str>, query: &str| {
        let mut r = client
            .get(s.url(&format!("/api/v1/events/stream{query}")))
            .bearer_auth(&token);
        if let Some(h) = header {
            r = r.header("last-event-id", h);
        }
        r.send().expect("stream")
    };
    for (header, query) in [
        (Some(format!("{}", head + 1)), String::new()),
        (Some("18446744073709551615".to_owned()), String::new()),
        (Some("five".to_owned()), String::new()),
        (Some("-1".to_owned()), String::new()),
        // A sign is no part of an id the feed sends.
        (Some("+1".to_owned()), String::new()),
        (None, format!("?after={}", head + 100)),
        // The feed has no page: a limit would be dropped.
        (None, "?after=0&limit=1".to_owned()),
    ] {
        let r = stream(header.as_deref(), &query);
        assert_eq!(r.status(), 400, "{header:?} {query}");
        let body: Value = r.json().expect("json");
        assert_eq!(body["error"]["kind"], "validation", "{body}");
    }
    let r = alice.get(&format!("/api/v1/events?after={}", head + 1));
    assert_eq!(r.status(), 400);
    // The head itself and anything before it still resume.
    let r = stream(Some(&head.to_string()), "");
    assert_eq!(r.status(), 200);
    drop(r);
    let events = expect(alice.get(&format!("/api/v1/events?after={head}")), 200);
    assert_eq!(events.as_array().map(Vec::len), Some(0));
    let events = expect(alice.get("/api/v1/events?after=0"), 200);
    assert_eq!(events.as_array().map(Vec::len), Some(head as usize));
}

#[test]
fn a_revoked_token_ends_its_live_feed() {
    let s = TestServer::start();
    let issued = s
        .center
        .create_token(&s.admin, "alice", "feed", chrono::Duration::days(1))
        .expect("token");
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    let r = client
        .get(s.url("/api/v1/events/stream"))
        .bearer_auth(&issued.secret)
        .send()
        .expect("stream");
    assert_eq!(r.status(), 200);
    s.center
        .revoke_token(&s.admin, issued.credential.id)
        .expect("revoke");
    ends_soon(r);
}

#[test]
fn under_tls_the_server_speaks_https_and_the_session_cookie_is_secure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write");
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).expect("write");
    let s = TestServer::start_tls(cert_path, key_path);
    s.add_user("alice");
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).expect("root");
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(root)
        .resolve("localhost", s.addr)
        .build()
        .expect("client");
    let base = format!("https://localhost:{}", s.addr.port());
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"account": "alice", "password": common::PASSWORD}))
        .send()
        .expect("https");
    let cookie = r.headers()["set-cookie"].to_str().expect("text").to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(r.headers().contains_key("strict-transport-security"));
    assert_eq!(r.status(), 200);
    let plain = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", s.addr.port()))
        .send();
    assert!(
        plain.is_err() || plain.is_ok_and(|r| r.status() != 200),
        "plain HTTP is not served"
    );
}

#[test]
fn a_cancel_or_retry_on_a_version_that_moved_on_is_a_conflict_however_the_requests_interleave() {
    // The server checked If-Match on cancel and retry with a read of its
    // own before the change: an approval landing between the two had the
    // cancel go through on a version the client never saw.
    let s = TestServer::start_with(|s| s.requests_per_minute = 0);
    let (soar, alice, admin) = (s.bearer("soar"), s.bearer("alice"), s.bearer("admin"));
    for round in 0..300 {
        let a = expect(
            soar.post("/api/v1/actions", isolate(&format!("race-{round}"))),
            201,
        );
        let id = id_of(&a);
        let (approve, cancel) = std::thread::scope(|t| {
            let approve = t.spawn(|| {
                alice
                    .post_if(&format!("/api/v1/actions/{id}/approve"), 1, json!({}))
                    .status()
                    .as_u16()
            });
            let cancel = t.spawn(|| {
                admin
                    .post_if(
                        &format!("/api/v1/actions/{id}/cancel"),
                        1,
                        json!({"comment": "saw it pending"}),
                    )
                    .status()
                    .as_u16()
            });
            (approve.join().unwrap(), cancel.join().unwrap())
        });
        let now = expect(alice.get(&format!("/api/v1/actions/{id}")), 200);
        match (approve, cancel) {
            (200, 409) => assert_eq!(now["status"], "approved", "round {round}"),
            (409, 200) => assert_eq!(now["status"], "cancelled", "round {round}"),
            other => panic!("round {round}: {other:?}, now {}", now["status"]),
        }
        assert_eq!(now["version"], 2, "round {round}");
    }
}

#[test]
fn list_parameters_repeat_or_take_commas_and_a_query_must_be_utf8() {
    let s = TestServer::start();
    let (soar, alice) = (s.bearer("soar"), s.bearer("alice"));
    let a = expect(soar.post("/api/v1/actions", isolate("rep-1")), 201);
    expect(soar.post("/api/v1/actions", isolate("rep-2")), 201);
    expect(
        alice.post_if(
            &format!("/api/v1/actions/{}/approve", id_of(&a)),
            1,
            json!({}),
        ),
        200,
    );
    for path in ["/api/v1/actions", "/api/v1/counts"] {
        let commas = expect(alice.get(&format!("{path}?status=pending,approved")), 200);
        let repeated = expect(
            alice.get(&format!("{path}?status=pending&status=approved")),
            200,
        );
        assert_eq!(repeated, commas, "{path}");
        let mixed = expect(
            alice.get(&format!(
                "{path}?status=pending&kind=isolate_device&status=approved"
            )),
            200,
        );
        assert_eq!(mixed, commas, "{path}");
        let one = expect(alice.get(&format!("{path}?status=pending")), 200);
        assert_ne!(one, commas, "{path}");
        // Not a list: the second is refused, not chosen.
        let r = alice.get(&format!("{path}?entity=rep-1&entity=rep-2"));
        assert_eq!(error_kind(r, 400), "validation", "{path}");
        // Bytes that are not UTF-8 are refused, not replaced.
        for bad in [
            "entity=%ff",
            "created_by=%C3%28",
            "%ff=1",
            "status=pending&kind=%fe",
        ] {
            let r = alice.get(&format!("{path}?{bad}"));
            assert_eq!(error_kind(r, 400), "validation", "{path}?{bad}");
        }
        // Forms' spaces and escapes still decode.
        expect(
            alice.get(&format!("{path}?created_by=air+bot&entity=rep%2D1")),
            200,
        );
    }
    assert_eq!(
        expect(
            alice.get("/api/v1/counts?status=pending&status=approved"),
            200
        )["total"],
        2
    );
    let r = alice.get("/api/v1/actions?limit=5&limit=6");
    assert_eq!(error_kind(r, 400), "validation");
    let r = alice.get("/api/v1/actions?limit=-1");
    assert_eq!(error_kind(r, 400), "validation");
}

#[test]
fn the_live_feed_opens_at_once_with_nothing_to_send() {
    // With no event past the resume point the head goes out at once, with
    // or without compression: a browser's EventSource opens then, not at
    // the first event or keep-alive.
    let s = TestServer::start();
    let head = expect(s.anonymous().get("/healthz"), 200)["events"]
        .as_u64()
        .expect("events");
    for encoding in ["identity", "gzip"] {
        let request = format!(
            "GET /api/v1/events/stream HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
             last-event-id: {head}\r\naccept-encoding: {encoding}\r\n\r\n",
            s.addr,
            s.token("alice")
        );
        let answer =
            common::raw_exchange(&s, request.as_bytes(), std::time::Duration::from_secs(2));
        assert!(answer.starts_with("HTTP/1.1 200"), "{encoding}: {answer:?}");
        assert!(
            answer.contains("text/event-stream"),
            "{encoding}: {answer:?}"
        );
    }
}

#[test]
fn if_match_star_is_any_version() {
    // RFC 9110: `If-Match: *` holds when the resource exists; it was
    // refused as a malformed ETag.
    let s = TestServer::start();
    let (soar, alice) = (s.bearer("soar"), s.bearer("alice"));
    let a = expect(soar.post("/api/v1/actions", isolate("star-1")), 201);
    let r = alice
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/actions/{}/approve", id_of(&a)),
        )
        .header("if-match", "*")
        .json(&json!({}))
        .send()
        .expect("send");
    assert_eq!(expect(r, 200)["status"], "approved");
    let r = alice
        .request(
            reqwest::Method::POST,
            "/api/v1/actions/0190aaaa-0000-7000-8000-000000000000/approve",
        )
        .header("if-match", "*")
        .json(&json!({}))
        .send()
        .expect("send");
    assert_eq!(error_kind(r, 404), "not_found");
}

/// The test policy without `alice`: she has left.
fn without_alice(s: &TestServer) {
    let policy = actioncenter::Policy::default()
        .with_principal("admin", ["admin"])
        .and_then(|p| p.with_principal("bob", ["analyst"]))
        .expect("policy");
    s.center
        .set_policy(&s.admin, policy, None, Some("alice left"))
        .expect("set policy");
}

#[test]
fn a_session_idle_too_long_ends_its_live_feed() {
    let s = TestServer::start();
    let alice = s.signed_in("alice");
    let r = alice
        .client
        .get(s.url("/api/v1/events/stream"))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .expect("stream");
    assert_eq!(r.status(), 200);
    // The stream is no one's activity: past the idle limit it ends, as
    // the session's next request would be refused.
    s.clock.advance(chrono::Duration::minutes(31));
    ends_soon(r);
}

#[test]
fn a_principal_who_left_the_policy_can_still_sign_out() {
    let s = TestServer::start();
    let alice = s.signed_in("alice");
    expect(alice.get("/api/v1/session"), 200);
    without_alice(&s);
    assert_eq!(
        error_kind(alice.get("/api/v1/session"), 403),
        "permission_denied"
    );
    // A page reloaded since holds no CSRF token: the cookie alone ends a
    // session that no longer authenticates.
    let out = alice
        .client
        .delete(s.url("/api/v1/session"))
        .send()
        .expect("delete");
    assert_eq!(out.status(), 204);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap_or("")
            .contains("Max-Age=0"),
        "the cookie is cleared"
    );
    assert_eq!(s.live_sessions(), 0, "the session ended");
}

#[test]
fn a_cookie_holding_an_api_token_signs_nothing_out() {
    let s = TestServer::start();
    let token = s.token("alice");
    let out = reqwest::blocking::Client::new()
        .delete(s.url("/api/v1/session"))
        .header("cookie", format!("ac_session={token}"))
        .send()
        .expect("delete");
    assert_eq!(out.status(), 204, "the cookie is cleared");
    let still = reqwest::blocking::Client::new()
        .get(s.url("/api/v1/actions"))
        .bearer_auth(&token)
        .send()
        .expect("get");
    assert_eq!(still.status(), 200, "the token was revoked by a sign-out");
}

#[test]
fn a_live_session_is_not_ended_without_its_csrf_token() {
    let s = TestServer::start();
    let alice = s.signed_in("alice");
    let forged = alice
        .client
        .delete(s.url("/api/v1/session"))
        .send()
        .expect("delete");
    assert_eq!(error_kind(forged, 403), "validation");
    assert_eq!(s.live_sessions(), 1);
    expect(alice.get("/api/v1/session"), 200);
}

#[test]
fn signing_in_to_an_account_whose_principal_left_does_not_confirm_its_password() {
    let s = TestServer::start();
    s.add_user("alice");
    without_alice(&s);
    let sign_in = |password: &str| {
        reqwest::blocking::Client::new()
            .post(s.url("/api/v1/session"))
            .json(&json!({"account": "alice", "password": password}))
            .send()
            .expect("sign in")
    };
    let right = expect(sign_in(common::PASSWORD), 401);
    let wrong = expect(sign_in("not the password at all"), 401);
    assert_eq!(right["error"], wrong["error"]);
    assert_eq!(s.live_sessions(), 0);
}

/// Adds `vic`, who may view device actions only.
fn with_device_viewer(s: &TestServer) {
    let mut policy: Value =
        serde_json::from_str(&s.center.policy().expect("policy").to_json()).expect("json");
    policy["roles"]["device_viewer"] = json!({"view": ["device"]});
    policy["principals"]["vic"] = json!(["device_viewer"]);
    let policy = actioncenter::Policy::from_json(&policy.to_string()).expect("policy");
    s.center
        .set_policy(&s.admin, policy, None, Some("vic"))
        .expect("set policy");
}

#[test]
fn the_undo_preview_of_an_action_one_may_not_view_tells_nothing_of_its_state() {
    let s = TestServer::start();
    with_device_viewer(&s);
    let soar = s.bearer("soar");
    let file = expect(
        soar.post("/api/v1/actions", quarantine("dev-1", &"b".repeat(64))),
        201,
    );
    let id = file["id"].as_str().expect("id");
    // Pending: an undo preview by someone who may view it is a 409 that
    // names the status; vic may not view file actions, so 403 first.
    let r = s.bearer("vic").get(&format!("/api/v1/actions/{id}/undo"));
    let body = expect(r, 403);
    assert!(body["error"].get("status").is_none(), "{body}");
    assert_eq!(
        error_kind(
            s.bearer("alice").get(&format!("/api/v1/actions/{id}/undo")),
            409
        ),
        "invalid_transition"
    );
}

#[test]
fn verifying_the_trail_needs_view_on_every_category_as_the_feed_does() {
    let s = TestServer::start();
    with_device_viewer(&s);
    let vic = s.bearer("vic");
    assert_eq!(
        error_kind(vic.get("/api/v1/events"), 403),
        "permission_denied"
    );
    assert_eq!(
        error_kind(vic.get("/api/v1/audit"), 403),
        "permission_denied"
    );
    let report = expect(s.bearer("victor").get("/api/v1/audit"), 200);
    assert!(report["events_checked"].as_u64().is_some(), "{report}");
}

#[test]
fn signing_a_checkpoint_tells_who_may_not_sign_that_first() {
    let s = TestServer::start();
    let alice = s.bearer("alice");
    assert_eq!(
        error_kind(alice.post("/api/v1/audit/checkpoints", json!({})), 403),
        "permission_denied"
    );
    let admin = s.bearer("admin");
    let r = admin.post("/api/v1/audit/checkpoints", json!({}));
    let body = expect(r, 400);
    assert_eq!(body["error"]["field"], "checkpoint_key", "{body}");
}
