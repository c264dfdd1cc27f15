#!/usr/bin/env bash
# The README's first command: the demo through cargo, on a throwaway
# database, then the audit check of what it wrote, and the example policy
# the README shows. (actionctl's own tests
# run with `cargo test --workspace` in test-rust.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cargo run --quiet -p actionctl -- --db "$dir/demo.db" demo > "$dir/demo.out"
grep -q '^Pending (9)$' "$dir/demo.out"
grep -q '^History (20)$' "$dir/demo.out"
cargo run --quiet -p actionctl -- --db "$dir/demo.db" audit verify
cargo run --quiet -p actionctl -- policy check examples/policy.json
echo "actionctl demo, audit verify, policy check examples/policy.json: ok"
