//! Hostile input over HTTP: injection strings stored verbatim, oversized
//! and NUL-laden values, invalid UTF-8, deep JSON, huge numbers, unknown
//! enum values, odd times, oversized heads, slow clients and malformed
//! credentials. Each: a clear JSON error, nothing stored, no crash, and the
//! server still answers.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use actioncenter::{Filter, PageRequest, Policy};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

const INJECTIONS: [&str; 5] = [
    "'; DROP TABLE actions;--",
    "\" OR 1=1 --",
    "1' OR '1'='1",
    "x'); DELETE FROM audit_events; --",
    "%' OR 1=1; SELECT * FROM credentials --",
];

/// Actions stored, audit events written: what must not move on a refusal.
fn tally(s: &TestServer) -> (usize, usize) {
    let actions = s
        .center
        .list(&s.admin, &Filter::default(), &PageRequest::default())
        .expect("list")
        .items
        .len();
    let events = s
        .center
        .events_since(&s.admin, 0, 1000)
        .expect("events")
        .len();
    (actions, events)
}

/// The server still answers, and the trail is intact.
fn still_well(s: &TestServer) {
    let r = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
        .get(s.url("/healthz"))
        .send()
        .expect("healthz");
    assert_eq!(r.status(), 200);
    assert!(s.center.verify_audit().expect("verify").is_intact());
}

/// A refusal with this status, in the API's JSON error shape; its kind.
fn refused(r: reqwest::blocking::Response, status: u16, what: &str) -> String {
    let got = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    assert_eq!(got, status, "{what}: {text}");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
    let kind = body["error"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!kind.is_empty(), "{what}: no error kind: {text}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: no message: {text}"
    );
    kind
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn injection_strings_are_stored_verbatim_and_harmless_in_every_field() {
    let s = TestServer::start();
    // Principal ids of the stored policy too.
    let mut policy: Policy = s.center.policy().expect("policy");
    for (i, evil) in INJECTIONS.iter().enumerate() {
        policy = policy
            .with_principal(&format!("{evil}{i}"), ["analyst"])
            .expect("an injection string is a valid principal id");
    }
    s.center
        .set_policy(&s.admin, policy, None, Some("hostile principals"))
        .expect("set policy");
    let soar = s.bearer("soar");
    for (i, evil) in INJECTIONS.iter().enumerate() {
        let body = json!({
            "kind": "isolate_device",
            "entity": {"type": "device", "device_id": format!("{evil}{i}"), "name": evil},
            "source": {"type": "playbook", "name": evil},
            "investigation_id": evil,
            "incident_id": evil,
            "alert_id": evil,
            "comment": evil,
            "parameters": {*evil: evil},
        });
        let a = expect(soar.post("/api/v1/actions", body), 201);
        let id = a["id"].as_str().expect("id").to_owned();
        let got = expect(soar.get(&format!("/api/v1/actions/{id}")), 200);
        assert_eq!(got["entity"]["device_id"], format!("{evil}{i}"));
        assert_eq!(got["entity"]["name"], *evil);
        assert_eq!(got["source"]["name"], *evil);
        assert_eq!(got["investigation_id"], *evil);
        assert_eq!(got["incident_id"], *evil);
        assert_eq!(got["alert_id"], *evil);
        assert_eq!(got["parameters"][*evil], *evil);
        // Filters: the string matches itself, and nothing else.
        let listed = expect(
            soar.get(&format!("/api/v1/actions?investigation_id={}", enc(evil))),
            200,
        );
        let items = listed["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{evil}: {listed}");
        assert_eq!(items[0]["id"], id.as_str());
        let by_entity = expect(
            soar.get(&format!(
                "/api/v1/actions?entity={}",
                enc(&format!("{evil}{i}"))
            )),
            200,
        );
        assert_eq!(by_entity["items"].as_array().map(Vec::len), Some(1));
        let nobody = expect(
            soar.get(&format!("/api/v1/actions?created_by={}", enc(evil))),
            200,
        );
        assert_eq!(nobody["items"].as_array().map(Vec::len), Some(0));
        // A principal named by an injection string decides, with an
        // injection string as its comment; both are recorded verbatim.
        let who = format!("{evil}{i}");
        let decider = s.bearer(&who);
        let done = expect(
            decider.post(
                &format!("/api/v1/actions/{id}/approve"),
                json!({"comment": evil}),
            ),
            200,
        );
        assert_eq!(done["decisions"][0]["by"], who.as_str());
        assert_eq!(done["decisions"][0]["comment"], *evil);
        let decided = expect(
            soar.get(&format!("/api/v1/actions?decided_by={}", enc(&who))),
            200,
        );
        assert_eq!(decided["items"].as_array().map(Vec::len), Some(1));
        let counts = expect(
            soar.get(&format!("/api/v1/counts?investigation_id={}", enc(evil))),
            200,
        );
        assert!(counts.to_string().contains("approved"), "{counts}");
    }
    // Every table is still there and whole.
    let all = expect(soar.get("/api/v1/actions"), 200);
    assert_eq!(
        all["items"].as_array().map(Vec::len),
        Some(INJECTIONS.len())
    );
    let (actions, _) = tally(&s);
    assert_eq!(actions, INJECTIONS.len());
    still_well(&s);
}

#[test]
fn oversized_values_and_nul_bytes_are_refused_and_nothing_is_stored() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let before = tally(&s);
    let limit = actioncenter::model::MAX_NAME_LEN;
    let with_device = |d: &str| {
        json!({"kind": "isolate_device", "entity": {"type": "device", "device_id": d},
               "source": {"type": "playbook", "name": "pb"}})
    };
    let megabyte = "m".repeat(1_000_000);
    let cases: Vec<(&str, Value)> = vec![
        ("1 MB device id", with_device(&megabyte)),
        (
            "name one past the limit",
            with_device(&"n".repeat(limit + 1)),
        ),
        ("NUL in a device id", with_device("dev\u{0}1")),
        ("NUL alone", with_device("\u{0}")),
        ("ESC in a device id", with_device("dev\u{1b}[2J")),
        (
            "OSC title in a device id",
            with_device("\u{1b}]0;title\u{7}"),
        ),
        (
            "NUL in a comment",
            json!({"kind": "isolate_device", "entity": {"type": "device", "device_id": "d"},
                   "source": {"type": "playbook", "name": "pb"}, "comment": "a\u{0}b"}),
        ),
        (
            "NUL in a parameter",
            json!({"kind": "isolate_device", "entity": {"type": "device", "device_id": "d"},
                   "source": {"type": "playbook", "name": "pb"}, "parameters": {"k": "v\u{0}"}}),
        ),
        (
            "1 MB comment",
            json!({"kind": "isolate_device", "entity": {"type": "device", "device_id": "d"},
                   "source": {"type": "playbook", "name": "pb"}, "comment": megabyte}),
        ),
        (
            "NUL in an investigation id",
            json!({"kind": "isolate_device", "entity": {"type": "device", "device_id": "d"},
                   "source": {"type": "automated_investigation", "investigation_id": "i\u{0}"}}),
        ),
    ];
    for (what, body) in cases {
        let kind = refused(soar.post("/api/v1/actions", body), 400, what);
        assert_eq!(kind, "validation", "{what}");
    }
    // Over the body limit (1 MiB): 413 on the head, before a byte of the
    // body is read.
    let (status, answer) = common::head_only_post(&s, &s.token("soar"), 2 * 1024 * 1024);
    assert_eq!(status, 413, "2 MiB body: {answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["error"]["kind"], "validation", "2 MiB body");
    assert_eq!(tally(&s), before, "nothing stored");
    // At the limit exactly, a name is accepted and round-trips.
    let name = "n".repeat(limit);
    let a = expect(soar.post("/api/v1/actions", with_device(&name)), 201);
    assert_eq!(a["entity"]["device_id"], name.as_str());
    // A decision's comment with a NUL is refused and changes nothing.
    let id = a["id"].as_str().expect("id").to_owned();
    let alice = s.bearer("alice");
    let mid = tally(&s);
    let r = alice.post(
        &format!("/api/v1/actions/{id}/reject"),
        json!({"comment": "no\u{0}"}),
    );
    assert_eq!(refused(r, 400, "NUL in a reject comment"), "validation");
    let r = alice.post(
        &format!("/api/v1/actions/{id}/approve"),
        json!({"comment": "c".repeat(1_000_000)}),
    );
    assert_eq!(refused(r, 400, "1 MB approve comment"), "validation");
    assert_eq!(tally(&s), mid);
    still_well(&s);
}

#[test]
fn a_query_where_none_is_taken_is_refused_and_changes_nothing() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = a["id"].as_str().expect("id").to_owned();
    let before = tally(&s);
    // A parameter the endpoint does not read would be dropped: an approve
    // "dry run" approved, a policy "version" gave the current one.
    let r = alice.post(
        &format!("/api/v1/actions/{id}/approve?dry_run=true"),
        json!({}),
    );
    let body: Value = serde_json::from_str(&r.text().expect("text")).expect("json");
    assert_eq!(body["error"]["kind"], "validation", "{body}");
    assert_eq!(body["error"]["field"], "dry_run", "{body}");
    assert_eq!(tally(&s), before, "nothing stored");
    assert_eq!(
        expect(alice.get(&format!("/api/v1/actions/{id}")), 200)["status"],
        "pending"
    );
    for path in [
        format!("/api/v1/actions/{id}?foo=1"),
        format!("/api/v1/actions/{id}/events?limit=1"),
        format!("/api/v1/actions/{id}/undo?x=1"),
        "/api/v1/policy?version=1".to_owned(),
        "/api/v1/policy/history?limit=1".to_owned(),
        "/api/v1/session?x".to_owned(),
        "/api/v1/audit?x=1".to_owned(),
        "/api/v1/audit/checkpoints?x=1".to_owned(),
        "/api/v1/config?x=1".to_owned(),
        // The counts take a filter, not a page.
        "/api/v1/counts?limit=5".to_owned(),
        "/api/v1/counts?cursor=zzz".to_owned(),
    ] {
        refused(alice.get(&path), 400, &path);
    }
    // An empty filter value is refused, as in a JSON filter: read as
    // absent, `?created_by=$UNSET` listed and counted everything.
    for query in [
        "created_by=",
        "decided_by=",
        "entity=",
        "investigation_id=",
        "status=",
        "kind=isolate_device,",
        "cursor=",
        "tab=",
    ] {
        refused(alice.get(&format!("/api/v1/actions?{query}")), 400, query);
        refused(alice.get(&format!("/api/v1/counts?{query}")), 400, query);
    }
    // A method the path does not serve is a 405, whatever it carries.
    for (method, path) in [
        (Method::POST, "/api/v1/counts?status=pending".to_owned()),
        (Method::DELETE, format!("/api/v1/actions/{id}?x=1")),
        (Method::OPTIONS, "/api/v1/actions?tab=pending".to_owned()),
    ] {
        let r = alice.request(method.clone(), &path).send().expect("send");
        refused(r, 405, &format!("{method} {path}"));
    }
    let r = alice
        .request(Method::DELETE, &format!("/api/v1/actions/{id}"))
        .header("if-match", "\"1\"")
        .send()
        .expect("send");
    refused(r, 405, "DELETE with If-Match");
    // An empty query is none; the endpoints that read one still do.
    expect(alice.get(&format!("/api/v1/actions/{id}?")), 200);
    expect(alice.get("/api/v1/actions?limit=1"), 200);
    expect(alice.get("/api/v1/counts?status=pending"), 200);
    still_well(&s);
}

#[test]
fn what_a_call_would_not_read_is_refused_and_changes_nothing() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    let edr = s.bearer("edr");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = a["id"].as_str().expect("id").to_owned();
    let token = approve_and_claim(&s, &id);
    let before = tally(&s);
    // A lease holder's report and a proposal compare no version: an
    // If-Match on them is refused, not ignored.
    let with_tag = |path: &str, tag: &str, body: Value| {
        edr.request(Method::POST, path)
            .header("if-match", tag)
            .json(&body)
            .send()
            .expect("send")
    };
    let heartbeat = format!("/api/v1/actions/{id}/heartbeat");
    let complete = format!("/api/v1/actions/{id}/complete");
    for tag in ["garbage", "\"1\"", "\"99\""] {
        let r = with_tag(&heartbeat, tag, json!({"lease_token": token}));
        assert_eq!(
            refused(r, 400, tag),
            "validation",
            "heartbeat, If-Match {tag}"
        );
        let r = with_tag(&complete, tag, json!({"lease_token": token}));
        assert_eq!(
            refused(r, 400, tag),
            "validation",
            "complete, If-Match {tag}"
        );
    }
    let r = soar
        .request(Method::POST, "/api/v1/actions")
        .header("if-match", "\"1\"")
        .json(&isolate("dev-2"))
        .send()
        .expect("send");
    refused(r, 400, "a proposal with If-Match");
    // A preview gives a snapshot; one sent to it was ignored.
    let r = alice.post(
        "/api/v1/bulk/preview",
        json!({"op": "cancel", "comment": "x", "filter": {"statuses": ["pending"]}, "snapshot": "abc"}),
    );
    let body: Value = serde_json::from_str(&r.text().expect("text")).expect("json");
    assert_eq!(body["error"]["field"], "bulk.snapshot", "{body}");
    // Two idempotency keys that differ: which would be kept is a guess.
    let keyed = |header: &str, key: &str| {
        let mut proposal = isolate("dev-3");
        proposal["idempotency_key"] = json!(key);
        soar.request(Method::POST, "/api/v1/actions")
            .header("idempotency-key", header)
            .json(&proposal)
            .send()
            .expect("send")
    };
    let body: Value =
        serde_json::from_str(&keyed("hdrkey", "bodykey").text().expect("text")).expect("json");
    assert_eq!(body["error"]["field"], "Idempotency-Key", "{body}");
    assert_eq!(tally(&s), before, "nothing stored");
    assert_eq!(keyed("same", "same").status(), 201);
    // The lease still holds: the reports refused changed nothing.
    let done = expect(edr.post(&complete, json!({"lease_token": token})), 200);
    assert_eq!(done["status"], "completed");
    still_well(&s);
}

#[test]
fn invalid_utf8_deep_json_and_huge_numbers_get_clear_errors() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let alice = s.bearer("alice");
    let admin = s.bearer("admin");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = a["id"].as_str().expect("id").to_owned();
    let before = tally(&s);
    let raw = |m: Method, path: &str, body: Vec<u8>| {
        let who = if path.contains("policy") {
            &admin
        } else {
            &alice
        };
        who.request(m, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .expect("send")
    };
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let bodies: Vec<(&str, Method, String, Vec<u8>)> = vec![
        (
            "invalid UTF-8 inside a string",
            Method::POST,
            "/api/v1/actions".into(),
            [&br#"{"kind": "isolate_device", "entity": {"type": "device", "device_id": "d"#[..], &[0xc3, 0x28], br#""}, "source": {"type": "antivirus"}}"#].concat(),
        ),
        ("lone continuation byte", Method::POST, format!("/api/v1/actions/{id}/approve"), vec![b'{', 0x80, b'}']),
        ("10,000 deep body", Method::POST, "/api/v1/actions".into(), deep(10_000).into_bytes()),
        (
            "10,000 deep parameters",
            Method::POST,
            "/api/v1/actions".into(),
            format!(r#"{{"kind": "isolate_device", "entity": {{"type": "device", "device_id": "d2"}}, "source": {{"type": "antivirus"}}, "parameters": {{"p": {}}}}}"#, deep(10_000)).into_bytes(),
        ),
        ("10,000 deep policy", Method::PUT, "/api/v1/policy".into(), format!(r#"{{"policy": {}}}"#, deep(10_000)).into_bytes()),
        ("10,000 deep bulk", Method::POST, "/api/v1/bulk".into(), format!(r#"{{"op": "approve", "ids": {}}}"#, deep(10_000)).into_bytes()),
        (
            "u64::MAX + 1 version",
            Method::POST,
            "/api/v1/bulk".into(),
            format!(r#"{{"op": "approve", "ids": [{{"id": "{id}", "version": 18446744073709551616}}]}}"#).into_bytes(),
        ),
        (
            "negative version",
            Method::POST,
            "/api/v1/bulk".into(),
            format!(r#"{{"op": "approve", "ids": [{{"id": "{id}", "version": -1}}]}}"#).into_bytes(),
        ),
        (
            "1e400 in parameters",
            Method::POST,
            "/api/v1/actions".into(),
            br#"{"kind": "isolate_device", "entity": {"type": "device", "device_id": "d3"}, "source": {"type": "antivirus"}, "parameters": {"n": 1e400}}"#.to_vec(),
        ),
        (
            "10**30 in parameters",
            Method::POST,
            "/api/v1/actions".into(),
            br#"{"kind": "isolate_device", "entity": {"type": "device", "device_id": "d4"}, "source": {"type": "antivirus"}, "parameters": {"n": 1000000000000000000000000000000}}"#.to_vec(),
        ),
        ("1e400 lease", Method::POST, "/api/v1/claims".into(), br#"{"limit": 1, "lease_seconds": 1e400}"#.to_vec()),
        ("negative lease", Method::POST, "/api/v1/claims".into(), br#"{"limit": 1, "lease_seconds": -5}"#.to_vec()),
        ("u64::MAX + 1 limit", Method::POST, "/api/v1/claims".into(), br#"{"limit": 18446744073709551616}"#.to_vec()),
        ("unknown kind", Method::POST, "/api/v1/actions".into(), br#"{"kind": "reboot_planet", "entity": {"type": "device", "device_id": "d5"}, "source": {"type": "antivirus"}}"#.to_vec()),
        ("unknown entity type", Method::POST, "/api/v1/actions".into(), br#"{"kind": "isolate_device", "entity": {"type": "toaster", "device_id": "d6"}, "source": {"type": "antivirus"}}"#.to_vec()),
        ("unknown source type", Method::POST, "/api/v1/actions".into(), br#"{"kind": "isolate_device", "entity": {"type": "device", "device_id": "d7"}, "source": {"type": "oracle"}}"#.to_vec()),
        ("unknown bulk op", Method::POST, "/api/v1/bulk".into(), format!(r#"{{"op": "obliterate", "ids": [{{"id": "{id}", "version": 1}}]}}"#).into_bytes()),
        // A snapshot beside ids guards nothing; the caller would think it did.
        ("a snapshot beside ids", Method::POST, "/api/v1/bulk".into(), format!(r#"{{"op": "approve", "ids": [{{"id": "{id}", "version": 1}}], "snapshot": "garbage"}}"#).into_bytes()),
        ("duplicate key", Method::POST, format!("/api/v1/actions/{id}/reject"), br#"{"comment": "a", "comment": "b"}"#.to_vec()),
        // serde reads a struct from an array by position: `[]` would be a
        // claim with every field at its default.
        ("an array for a claim", Method::POST, "/api/v1/claims".into(), b"[]".to_vec()),
        ("an array for a claim's fields", Method::POST, "/api/v1/claims".into(), b"[5, 60]".to_vec()),
        ("a claim naming no kind", Method::POST, "/api/v1/claims".into(), br#"{"limit": 5, "kinds": []}"#.to_vec()),
        ("an array for a reject", Method::POST, format!("/api/v1/actions/{id}/reject"), br#"["no"]"#.to_vec()),
        ("an array for a proposal", Method::POST, "/api/v1/actions".into(), br#"["isolate_device"]"#.to_vec()),
        ("an array for a policy", Method::PUT, "/api/v1/policy".into(), b"[]".to_vec()),
        ("a string for a bulk call", Method::POST, "/api/v1/bulk".into(), br#""approve""#.to_vec()),
    ];
    for (what, method, path, body) in bodies {
        let t = Instant::now();
        let r = raw(method, &path, body);
        let status = r.status().as_u16();
        assert!(status == 400 || status == 413, "{what}: {status}");
        assert_eq!(refused(r, status, what), "validation", "{what}");
        assert!(t.elapsed() < Duration::from_secs(10), "{what}: slow");
    }
    // Huge and odd If-Match values.
    for tag in [
        "99999999999999999999",
        "\"-1\"",
        "\"1e400\"",
        "\"\u{00e9}\"",
        // Only the strong tag the server gave: not a weak one, a bare
        // number or one quoted twice.
        "W/\"1\"",
        "1",
        "\"\"1\"\"",
        "\"+1\"",
        // Tags are compared as text: "01" is not the "1" the server gave.
        "\"01\"",
        "\"00\"",
        // Versions start at 1: no ETag the server gives.
        "\"0\"",
    ] {
        let r = alice
            .request(Method::POST, &format!("/api/v1/actions/{id}/approve"))
            .header(
                "if-match",
                reqwest::header::HeaderValue::from_bytes(tag.as_bytes()).expect("header"),
            )
            .json(&json!({}))
            .send()
            .expect("send");
        assert_eq!(refused(r, 400, tag), "validation", "If-Match {tag}");
    }
    // Unknown enum values and huge numbers in query parameters.
    for query in [
        "status=bogus",
        "kind=reboot_planet",
        "category=printers",
        "source=oracle",
        "tab=everything",
        "limit=18446744073709551616",
        "limit=-1",
        "limit=0",
        "created_after=yesterday",
        "created_after=2026-01-01T00:00:00%2B25:00",
        // A misspelt filter is refused, not dropped (which listed everything).
        "stauts=pending",
        "tab=pending&investigation=inv-1",
    ] {
        let r = alice.get(&format!("/api/v1/actions?{query}"));
        assert_eq!(r.status(), 400, "{query}");
        refused(r, 400, query);
    }
    for path in [
        "/api/v1/counts?stauts=pending",
        "/api/v1/events?afterr=3",
        "/api/v1/events/stream?from=3",
        "/api/v1/overview?day=7",
    ] {
        let r = alice.get(path);
        assert_eq!(r.status(), 400, "{path}");
        assert_eq!(refused(r, 400, path), "validation", "{path}");
    }
    // The answer names the parameter, as a list's does.
    for (path, field) in [
        ("/api/v1/events?afterr=3", "afterr"),
        ("/api/v1/events?after=1&after=2", "after"),
        ("/api/v1/overview?day=7", "day"),
    ] {
        let body: serde_json::Value = alice.get(path).json().expect("json");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.contains("Failed to deserialize"), "{path}: {body}");
    }
    // Bytes that are not UTF-8 once a query is decoded are refused, not
    // read as U+FFFD.
    for query in ["investigation_id=%FF%FE", "entity=%C3%28", "created_by=%80"] {
        let r = alice.get(&format!("/api/v1/actions?{query}"));
        refused(r, 400, query);
    }
    for query in [
        "after=18446744073709551616",
        "after=18446744073709551615",
        "after=-1",
        "limit=1e400",
        "limit=0",
    ] {
        let r = admin.get(&format!("/api/v1/events?{query}"));
        refused(r, 400, query);
    }
    assert_eq!(tally(&s), before, "nothing stored");
    still_well(&s);
}

#[test]
fn odd_time_zones_and_far_dates_in_filters_are_read_right() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let before = tally(&s);
    let now = s.center.now();
    let at = |offset: &str, hours: i64| {
        let t = now + chrono::Duration::hours(hours);
        let tz: chrono::FixedOffset = offset.parse().expect("offset");
        enc(&t.with_timezone(&tz).to_rfc3339())
    };
    // The same instant written in +14:00 and -12:00: the action is after
    // an hour ago and before an hour from now, whatever the zone.
    for tz in ["+14:00", "-12:00", "+00:00", "+05:45"] {
        let listed = expect(
            soar.get(&format!(
                "/api/v1/actions?created_after={}&created_before={}",
                at(tz, -1),
                at(tz, 1)
            )),
            200,
        );
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(1), "{tz}");
        let none = expect(
            soar.get(&format!("/api/v1/actions?created_after={}", at(tz, 1))),
            200,
        );
        assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{tz}");
    }
    // Far dates: an answer (all or nothing), or a clear refusal; never a
    // server error.
    for (t, all) in [
        ("9999-12-31T23:59:59Z", None),
        ("9999-12-31T23:59:59-12:00", None),
        ("0000-01-01T00:00:00Z", None),
        ("0001-01-01T00:00:00%2B14:00", None),
        ("2016-12-31T23:59:60Z", None),
        ("1970-01-01T00:00:00Z", Some(true)),
    ] {
        for field in ["created_after", "created_before"] {
            let r = soar.get(&format!("/api/v1/actions?{field}={t}"));
            let status = r.status().as_u16();
            if status == 400 {
                refused(r, 400, t);
                continue;
            }
            let body = expect(r, 200);
            let n = body["items"].as_array().map(Vec::len).expect("items");
            assert!(n <= 1, "{field}={t}");
            if let Some(true) = all {
                assert_eq!(n, usize::from(field == "created_after"), "{field}={t}");
            }
        }
    }
    assert_eq!(tally(&s), before);
    still_well(&s);
}

#[test]
fn control_sequences_and_markup_in_stored_text_leave_as_json_escapes() {
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let evil = "\u{1b}[2J\u{1b}]0;title\u{7}<img src=x onerror=alert(1)>";
    let body = json!({
        "kind": "isolate_device",
        "entity": {"type": "device", "device_id": "dev-ansi", "name": "<img src=x onerror=alert(1)>"},
        "source": {"type": "playbook", "name": "<script>alert(1)</script>"},
        "parameters": {"note": evil},
    });
    let a = expect(soar.post("/api/v1/actions", body), 201);
    let id = a["id"].as_str().expect("id").to_owned();
    let r = soar.get(&format!("/api/v1/actions/{id}"));
    assert_eq!(r.status(), 200);
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let bytes = r.bytes().expect("bytes");
    assert!(
        !bytes.iter().any(|b| *b == 0x1b || *b == 0x07),
        "raw control bytes in a JSON response"
    );
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(v["parameters"]["note"], evil, "stored verbatim");
    assert_eq!(v["entity"]["name"], "<img src=x onerror=alert(1)>");
    still_well(&s);
}

#[test]
fn oversized_heads_get_431_and_a_slow_client_is_cut_off_while_others_are_served() {
    let s = TestServer::start();
    let token = s.token("soar");
    // One header past the head limit.
    let big = format!(
        "GET /api/v1/actions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(64 * 1024)
    );
    let answer = raw_exchange(&s, big.as_bytes(), Duration::from_secs(10));
    assert!(
        answer.is_empty()
            || answer.starts_with("HTTP/1.1 431")
            || answer.starts_with("HTTP/1.1 400"),
        "{answer:.200}"
    );
    // Many small headers adding up past the limit.
    let mut many = String::from("GET /api/v1/actions HTTP/1.1\r\nHost: x\r\n");
    for i in 0..2000 {
        many.push_str(&format!("X-H{i}: {}\r\n", "v".repeat(30)));
    }
    many.push_str("\r\n");
    let answer = raw_exchange(&s, many.as_bytes(), Duration::from_secs(10));
    assert!(
        answer.is_empty()
            || answer.starts_with("HTTP/1.1 431")
            || answer.starts_with("HTTP/1.1 400"),
        "{answer:.200}"
    );

    // A client sending its head one byte a second.
    let addr = s.addr;
    let slow = std::thread::spawn(move || {
        let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let head = b"GET /api/v1/actions HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        let start = Instant::now();
        for b in head {
            if tcp.write_all(&[*b]).is_err() {
                return Some(start.elapsed());
            }
            let mut buf = [0u8; 256];
            match tcp.read(&mut buf) {
                Ok(0) => return Some(start.elapsed()),
                Ok(_) => return Some(start.elapsed()),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return Some(start.elapsed()),
            }
            std::thread::sleep(Duration::from_millis(950));
            if start.elapsed() > Duration::from_secs(30) {
                return None;
            }
        }
        None
    });
    // Others are served meanwhile.
    let soar = s.bearer("soar");
    for _ in 0..5 {
        let t = Instant::now();
        expect(soar.get("/api/v1/actions"), 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "another client waited"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let cut = slow
        .join()
        .expect("slow client")
        .expect("the slow client was never cut off");
    assert!(
        cut >= Duration::from_secs(5) && cut < Duration::from_secs(20),
        "cut off after {cut:?}"
    );
    still_well(&s);
}

#[test]
fn a_header_read_once_and_sent_twice_is_refused_not_taken_first_come() {
    // Two Authorization headers were answered as whichever came first:
    // which principal a request acts for was left to the order a proxy
    // wrote them in.
    let s = TestServer::start();
    let soar = s.bearer("soar");
    let a = expect(soar.post("/api/v1/actions", isolate("dev-1")), 201);
    let id = a["id"].as_str().expect("id").to_owned();
    let before = tally(&s);
    let (alice, viewer) = (s.token("alice"), s.token("soar"));
    let client = reqwest::blocking::Client::new();
    let twice = |name: &str, first: String, second: String, path: &str, body: &str| {
        let mut headers = reqwest::header::HeaderMap::new();
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("name");
        let value = |v: &str| reqwest::header::HeaderValue::from_str(v).expect("value");
        if name != reqwest::header::AUTHORIZATION {
            headers.insert(
                reqwest::header::AUTHORIZATION,
                value(&format!("Bearer {alice}")),
            );
        }
        if name != reqwest::header::CONTENT_TYPE {
            headers.insert(reqwest::header::CONTENT_TYPE, value("application/json"));
        }
        headers.append(name.clone(), value(&first));
        headers.append(name, value(&second));
        client
            .post(s.url(path))
            .headers(headers)
            .body(body.to_owned())
            .send()
            .expect("send")
    };
    let approve = format!("/api/v1/actions/{id}/approve");
    for (name, first, second, path, body) in [
        (
            "authorization",
            format!("Bearer {alice}"),
            format!("Bearer {viewer}"),
            approve.as_str(),
            "{}",
        ),
        (
            "authorization",
            format!("Bearer {viewer}"),
            format!("Bearer {alice}"),
            approve.as_str(),
            "{}",
        ),
        (
            "content-type",
            "application/json".into(),
            "text/plain".into(),
            approve.as_str(),
            "{}",
        ),
        (
            "if-match",
            "\"1\"".into(),
            "\"2\"".into(),
            approve.as_str(),
            "{}",
        ),
        (
            "x-csrf-token",
            "a".into(),
            "b".into(),
            approve.as_str(),
            "{}",
        ),
        (
            "idempotency-key",
            "k1".into(),
            "k2".into(),
            "/api/v1/actions",
            &isolate("dev-2").to_string(),
        ),
    ] {
        let r = twice(name, first, second, path, body);
        assert_eq!(refused(r, 400, name), "validation", "{name}");
    }
    assert_eq!(tally(&s), before, "nothing changed");
    let r = reqwest::blocking::Client::new()
        .get(s.url("/api/v1/events/stream"))
        .bearer_auth(&alice)
        .header("last-event-id", "1")
        .header("last-event-id", "2")
        .send()
        .expect("send");
    assert_eq!(refused(r, 400, "last-event-id"), "validation");
    // Once each, the same request goes through.
    let r = client
        .post(s.url(&approve))
        .bearer_auth(&alice)
        .header("if-match", "\"1\"")
        .json(&json!({}))
        .send()
        .expect("send");
    assert_eq!(r.status(), 200);
    still_well(&s);
}

#[test]
fn malformed_cookies_and_tokens_get_401_in_json() {
    let s = TestServer::start();
    let before = tally(&s);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let long = "A".repeat(10 * 1024);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "garbage session cookie",
            "cookie",
            b"ac_session=garbage".to_vec(),
        ),
        ("empty session cookie", "cookie", b"ac_session=".to_vec()),
        (
            "many session cookies",
            "cookie",
            "ac_session=x; ".repeat(200).into_bytes(),
        ),
        (
            "non-ASCII cookie",
            "cookie",
            [&b"ac_session="[..], &[0xff, 0xfe, 0x80]].concat(),
        ),
        (
            "cookie with an injection",
            "cookie",
            b"ac_session=' OR 1=1 --".to_vec(),
        ),
        ("Bearer with no token", "authorization", b"Bearer".to_vec()),
        ("Bearer and a space", "authorization", b"Bearer ".to_vec()),
        (
            "10 KB token",
            "authorization",
            format!("Bearer {long}").into_bytes(),
        ),
        (
            "non-ASCII token",
            "authorization",
            [&b"Bearer "[..], &[0xc3, 0x28, 0xff]].concat(),
        ),
        (
            "injection token",
            "authorization",
            b"Bearer ' OR 1=1 --".to_vec(),
        ),
        (
            "Basic credentials",
            "authorization",
            b"Basic YWRtaW46YWRtaW4=".to_vec(),
        ),
        (
            "a token with no scheme",
            "authorization",
            b"acx_0123456789".to_vec(),
        ),
    ];
    for (what, name, value) in cases {
        let value = reqwest::header::HeaderValue::from_bytes(&value).expect("header value");
        for (method, path) in [
            (Method::GET, "/api/v1/actions"),
            (Method::POST, "/api/v1/actions"),
        ] {
            let mut r = client
                .request(method.clone(), s.url(path))
                .header(name, value.clone());
            if method == Method::POST {
                r = r.json(&isolate("dev-x"));
            }
            let r = r.send().expect("send");
            assert_eq!(refused(r, 401, what), "unauthenticated", "{what} {method}");
        }
    }
    assert_eq!(tally(&s), before, "nothing stored");
    still_well(&s);
}

#[test]
fn refusals_read_the_same_when_the_client_takes_gzip() {
    // Browsers always send Accept-Encoding; the layer that turns the
    // HTTP layers' plain-text refusals into the error document read them
    // after compression, and sent the gzip bytes as the message.
    let s = TestServer::start();
    let token = s.token("alice");
    let client = reqwest::blocking::Client::new();
    let read = |path: &str, gzip: bool| -> (u16, Value) {
        let mut req = client.get(s.url(path)).bearer_auth(&token);
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        let r = req.send().expect("GET");
        let status = r.status().as_u16();
        let zipped = r
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v == "gzip");
        let bytes = r.bytes().expect("body").to_vec();
        let mut text = String::new();
        if zipped {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .expect("gzip");
        } else {
            text = String::from_utf8(bytes).expect("utf-8");
        }
        (status, serde_json::from_str(&text).expect("a JSON error"))
    };
    for path in [
        "/api/v1/actions?limit=-1",
        "/api/v1/actions/%ff%fe",
        "/api/v1/overview?days=abc",
    ] {
        let (plain_status, plain) = read(path, false);
        let (status, zipped) = read(path, true);
        assert_eq!((status, &zipped), (plain_status, &plain), "{path}");
        assert_eq!(status, 400, "{path}");
        let message = zipped["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains('\u{fffd}') && !message.contains('\u{1f}'),
            "{path}: {message:?}"
        );
    }
}

#[test]
fn a_body_that_does_not_arrive_in_time_is_the_clients_delay_not_the_stores() {
    let s = TestServer::start_with(|s| s.request_timeout = Duration::from_secs(1));
    let before = tally(&s);
    let head = format!(
        "POST /api/v1/actions HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"a\":",
        s.addr,
        s.token("soar")
    );
    let answer = raw_exchange(&s, head.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body: Value =
        serde_json::from_str(answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)).expect("json");
    assert_eq!(body["error"]["kind"], "validation", "{body}");
    assert_eq!(body["error"]["field"], "body", "{body}");
    assert_eq!(tally(&s), before, "nothing stored");
    // A body on time is still read whole and served.
    let soar = s.bearer("soar");
    expect(soar.post("/api/v1/actions", isolate("on-time")), 201);
    still_well(&s);
}
