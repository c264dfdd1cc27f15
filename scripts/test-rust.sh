#!/usr/bin/env bash
# Format, lints and the Rust test suites of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The bindings build core with the `postgres` feature; core's own suites
# run here on memory and SQLite, and on PostgreSQL in scripts/test-postgres.sh.
# Among them the crash, race and interleaving suites (docs/reliability.md):
# longer runs with ACTIONCENTER_CRASH_CYCLES=1000, ACTIONCENTER_SERVER_CRASH_CYCLES=N
# and ACTIONCENTER_RACE_SCALE=N.
cargo test --workspace --exclude actioncenter
cargo test -p actioncenter
cargo run --quiet --example investigation -p actioncenter -- "$(mktemp -d)/example.db" > /dev/null
