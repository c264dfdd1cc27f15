//! Opening and closing stores must not leave threads behind: every pool
//! shares one housekeeping thread. Alone in its own test binary, so no
//! other test's threads disturb the count.
#![cfg(all(feature = "sqlite", target_os = "linux"))]

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn reopening_a_store_does_not_pile_up_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.db");
    drop(actioncenter::SqliteStore::open(&path).expect("open"));
    let before = threads();
    for _ in 0..20 {
        drop(actioncenter::SqliteStore::open(&path).expect("open"));
    }
    assert_eq!(
        threads(),
        before,
        "threads left behind by 20 open/close cycles"
    );
}
