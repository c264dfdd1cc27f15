//! Hostile input through `actionctl`: injection strings stored verbatim,
//! control sequences rendered inert in what it prints for people, invalid
//! UTF-8 arguments and files, deep and oversized policy files, odd times.
//! Each: a clear error, nothing stored, no panic.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use common::{Db, Run, command};

const INJECTIONS: [&str; 3] = ["'; DROP TABLE actions;--", "\" OR 1=1 --", "1' OR '1'='1"];
const ANSI: &str = "\u{1b}[2J\u{1b}]0;title\u{7}<img src=x onerror=alert(1)>";

/// Nothing a terminal would act on: no ESC, BEL or other control
/// character but newline and tab.
#[track_caller]
fn inert(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        panic!(
            "{what} printed the control character U+{:04X}: {text:?}",
            u32::from(c)
        );
    }
}

#[track_caller]
fn no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    assert!(run.code != 101, "{run:#?}");
}

fn count(db: &Db) -> usize {
    db.actions().len()
}

#[test]
fn injection_strings_are_stored_verbatim_and_found_by_filters() {
    let db = Db::demo();
    let before = count(&db);
    for (i, evil) in INJECTIONS.iter().enumerate() {
        let device = format!("{evil}{i}");
        let out = db.json(&[
            "propose",
            "isolate_device",
            "--device-id",
            &device,
            "--device-name",
            evil,
            "--investigation",
            evil,
            "--param",
            &format!("note={evil}"),
            "-m",
            evil,
        ]);
        let a = &out["action"];
        assert_eq!(a["entity"]["device_id"], device.as_str());
        assert_eq!(a["entity"]["name"], *evil);
        assert_eq!(a["investigation_id"], *evil);
        assert_eq!(a["parameters"]["note"], *evil);
        let id = a["id"].as_str().expect("id");
        let shown = db.json(&["show", id]);
        assert_eq!(shown["action"]["entity"]["device_id"], device.as_str());
        let found = db.admin_json(&["history", "--status", "all", "--investigation", evil]);
        assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{evil}");
        let found = db.admin_json(&["history", "--status", "all", "--entity", &device]);
        assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{evil}");
        let none = db.admin_json(&["history", "--status", "all", "--created-by", evil]);
        assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{evil}");
    }
    assert_eq!(count(&db), before + INJECTIONS.len(), "the table is whole");
    let audit = db.run_as_me(&["audit", "verify"]);
    assert_eq!(audit.code, 0, "the chain verifies: {audit:#?}");
}

#[test]
fn control_sequences_are_escaped_in_everything_printed_for_people() {
    let db = Db::demo();
    let out = db.json(&[
        "propose",
        "isolate_device",
        "--device-id",
        "dev-ansi",
        "--param",
        &format!("note={ANSI}"),
        "--param",
        &format!("{ANSI}=key"),
    ]);
    let id = out["action"]["id"].as_str().expect("id").to_owned();
    // Stored verbatim, and JSON output keeps it exactly (escaped as JSON).
    assert_eq!(out["action"]["parameters"]["note"], ANSI);
    let json = db.run(&["--json", "show", &id]);
    inert("show --json", json.ok());
    for args in [
        vec!["show", id.as_str()],
        vec!["pending"],
        vec!["history", "--status", "all"],
        vec!["events"],
        vec!["counts"],
    ] {
        let run = db.run_as_me(&args);
        inert(&args.join(" "), run.ok());
    }
    // In names and comments control characters are refused, and the
    // refusal itself is inert.
    let before = count(&db);
    for args in [
        vec!["propose", "isolate_device", "--device-id", ANSI],
        vec![
            "propose",
            "isolate_device",
            "--device-id",
            "d-1",
            "--device-name",
            ANSI,
        ],
        vec![
            "propose",
            "isolate_device",
            "--device-id",
            "d-2",
            "-m",
            ANSI,
        ],
        vec![
            "propose",
            "isolate_device",
            "--device-id",
            "d-3",
            "--investigation",
            ANSI,
        ],
    ] {
        let run = db.run(&args);
        no_panic(&run);
        assert_ne!(run.code, 0, "{run:#?}");
        inert("an error line", &run.stderr);
        assert!(run.stderr.contains("control characters"), "{run:#?}");
    }
    assert_eq!(count(&db), before, "nothing stored");
}

#[test]
fn arguments_that_are_not_utf8_are_refused_clearly() {
    let db = Db::demo();
    let before = count(&db);
    let bad = OsString::from_vec(vec![b'd', 0xff, 0xfe, b'x']);
    for flag in ["--device-id", "--investigation", "-m"] {
        let mut c = command(&db.path);
        c.args(["propose", "isolate_device"]);
        if flag != "--device-id" {
            c.args(["--device-id", "dev-ok"]);
        }
        c.arg(flag).arg(&bad);
        let out = c.output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{flag}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{flag} panicked: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.trim().is_empty(), "{flag}: no error");
        assert!(
            String::from_utf8(out.stderr.clone()).is_ok(),
            "{flag}: the error is not UTF-8 itself"
        );
    }
    assert_eq!(count(&db), before, "nothing stored");
}

#[test]
fn hostile_policy_files_get_a_clear_error_and_change_nothing() {
    let db = Db::demo();
    let version = db.admin_json(&["policy", "show"])["version"].clone();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_obj = format!(
        r#"{{"roles": {}{}}}"#,
        "{\"a\": ".repeat(10_000),
        "}".repeat(10_000)
    );
    let huge = format!(
        r#"{{"roles": {{}}, "x": "{}"}}"#,
        "y".repeat(2 * 1024 * 1024)
    );
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("deep.json", deep.into_bytes()),
        ("deep_obj.json", deep_obj.into_bytes()),
        ("huge.json", huge.into_bytes()),
        (
            "latin1.json",
            vec![b'{', b'"', 0xe9, b'"', b':', b'1', b'}'],
        ),
        ("nul.json", b"{\"roles\": {\"a\\u0000\": {}}}".to_vec()),
        (
            "bignum.json",
            br#"{"roles": {}, "defaults": {"quorum": 18446744073709551616}}"#.to_vec(),
        ),
        (
            "float.json",
            br#"{"roles": {}, "defaults": {"pending_ttl_seconds": 1e400}}"#.to_vec(),
        ),
        (
            "negative.json",
            br#"{"roles": {}, "defaults": {"max_attempts": -1}}"#.to_vec(),
        ),
        (
            "enum.json",
            br#"{"roles": {"r": {"obliterate": ["*"]}}}"#.to_vec(),
        ),
        (
            "injection.json",
            br#"{"roles": {"r": {"view": ["'; DROP TABLE actions;--"]}}}"#.to_vec(),
        ),
    ];
    for (name, bytes) in files {
        let path = db.dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        let p = path.to_string_lossy().into_owned();
        for args in [
            vec!["policy", "check", p.as_str()],
            vec!["policy", "set", p.as_str()],
        ] {
            let t = std::time::Instant::now();
            let run = db.run_as_me(&args);
            no_panic(&run);
            assert_ne!(run.code, 0, "{name}: {run:#?}");
            let line = run.error_line();
            assert!(line.starts_with("error: "), "{name}: {line}");
            // Refused for its own flaw, not because it names no
            // administrator (which every one of these files also does).
            assert!(!line.contains("nobody could change"), "{name}: {line}");
            inert(name, line);
            assert!(t.elapsed() < std::time::Duration::from_secs(20), "{name}");
        }
    }
    assert_eq!(db.admin_json(&["policy", "show"])["version"], version);
}

#[test]
fn odd_times_in_filters_are_read_or_refused_clearly() {
    let db = Db::demo();
    let all = db.admin_json(&["history", "--status", "all", "--limit", "1000"])["items"]
        .as_array()
        .map(Vec::len)
        .expect("items");
    for when in [
        "2000-01-01T00:00:00+14:00",
        "2000-01-01T00:00:00-12:00",
        "0001-01-01T00:00:00Z",
    ] {
        let got = db.admin_json(&[
            "history", "--status", "all", "--limit", "1000", "--since", when,
        ]);
        assert_eq!(got["items"].as_array().map(Vec::len), Some(all), "{when}");
    }
    let got = db.admin_json(&[
        "history",
        "--status",
        "all",
        "--since",
        "9999-12-31T23:59:59Z",
    ]);
    assert_eq!(got["items"].as_array().map(Vec::len), Some(0));
    for when in [
        "0000-01-01T00:00:00Z",
        "2016-12-31T23:59:60Z",
        "2026-01-01T00:00:00+25:00",
        "99999999999999999999d",
        "-5d",
        "1e400",
        "tomorrow",
    ] {
        let run = db.run_as_me(&["history", "--status", "all", "--since", when]);
        no_panic(&run);
        if run.code != 0 {
            let line = run.error_line();
            assert!(line.starts_with("error: "), "{when}: {line}");
            inert(when, line);
        }
    }
}
