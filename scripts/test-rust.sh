#!/usr/bin/env bash
# Format, lints and the Rust test suites of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
cargo run --quiet --example investigation -p actioncenter -- "$(mktemp -d)/example.db" > /dev/null
