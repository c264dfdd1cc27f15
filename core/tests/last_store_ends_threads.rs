//! Closing the last store ends every thread the library started, so a
//! host (a C program under valgrind, say) exits with none of ours left.
//! Alone in its own test binary, so no other test's threads disturb the
//! count.
#![cfg(all(feature = "sqlite", target_os = "linux"))]

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn closing_the_last_sqlite_store_ends_its_pool_thread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = threads();
    let first = actioncenter::ActionCenter::open_sqlite(dir.path().join("a.db")).expect("open");
    let second = actioncenter::SqliteStore::open(dir.path().join("b.db")).expect("open");
    assert_eq!(threads(), before + 1, "one housekeeping thread for both");
    drop(first);
    assert_eq!(threads(), before + 1, "still one store open");
    drop(second);
    assert_eq!(
        threads(),
        before,
        "threads left after the last store closed"
    );
    // A store opened afterwards gets a thread of its own again.
    let again = actioncenter::SqliteStore::open(dir.path().join("a.db")).expect("reopen");
    assert_eq!(threads(), before + 1);
    drop(again);
    assert_eq!(threads(), before);
}
