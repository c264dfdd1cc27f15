//! A reader that stops early (`actionctl pending | head -1`) is normal:
//! every output mode ends quietly, with success.

mod common;

use common::{Db, Run, command};

/// Runs `actionctl ARGS...` with standard output a pipe whose reading
/// end is closed before the command starts, so its first write fails.
fn into_closed_pipe(db: &Db, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
    drop(reader);
    let output = command(&db.path)
        .args(args)
        .stdout(writer)
        .output()
        .unwrap_or_else(|e| panic!("cannot run actionctl: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn a_table_into_a_closed_pipe_ends_quietly_with_success() {
    let db = Db::demo();
    let run = into_closed_pipe(&db, &["pending"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
}

#[test]
fn json_into_a_closed_pipe_ends_quietly_with_success() {
    let db = Db::demo();
    let run = into_closed_pipe(&db, &["--json", "pending"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
}

#[test]
fn a_json_stream_into_a_closed_pipe_ends_quietly_with_success() {
    let db = Db::demo();
    let run = into_closed_pipe(&db, &["--json", "events", "--follow"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
}

#[test]
fn help_that_cannot_be_written_is_an_output_error() {
    // `--help` ignored its write: into a full device it exited 0.
    let db = Db::none();
    for args in [
        &["--help"][..],
        &["--version"][..],
        &["pending", "--help"][..],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap_or_else(|e| panic!("/dev/full: {e}"));
        let output = command(&db.path)
            .args(args)
            .stdout(full)
            .output()
            .unwrap_or_else(|e| panic!("cannot run actionctl: {e}"));
        assert_eq!(output.status.code(), Some(74), "{args:?}: {output:?}");
    }
    let run = into_closed_pipe(&db, &["--help"]);
    assert_eq!(run.code, 0, "{run:?}");
}
