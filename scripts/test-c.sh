#!/usr/bin/env bash
# The C API: builds libactioncenter, checks include/actioncenter.h against
# what the pinned cbindgen generates, compiles the header as C11 and C++,
# runs the C tests under valgrind, and runs the C example (a playbook seeds
# a SQLite file, the executor agent works through it) under valgrind too.
# Then, when scripts/pg-cluster.sh can start a throwaway PostgreSQL
# cluster, the library is rebuilt with the feature `postgres` and the
# PostgreSQL tests run against it; otherwise they are skipped, saying why.
# Needs cargo, gcc, g++ and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

for tool in cargo gcc g++ valgrind; do
  command -v "$tool" > /dev/null || { echo "test-c: $tool is required" >&2; exit 1; }
done

cargo build -p actioncenter-ffi
# Unit tests of the crate, and the header: regenerated in memory with the
# pinned cbindgen and compared byte for byte with include/actioncenter.h.
cargo test -p actioncenter-ffi

target=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
lib="$target/debug"
out="$target/c"
mkdir -p "$out"
system_tmp=${TMPDIR:-/tmp}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work" RUST_BACKTRACE=0

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude -Iexamples/c)
cxxflags=(-Wall -Wextra -Wpedantic -Werror -g -Iinclude)
link=(-L"$lib" -lactioncenter -Wl,-rpath,"$lib")
# What a static Rust library needs from the system (`--print native-static-libs`).
static_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)

echo "== header compiles as C11, C++11 and C++17"
gcc "${cflags[@]}" -fsyntax-only -x c include/actioncenter.h
g++ -std=c++11 "${cxxflags[@]}" -fsyntax-only -x c++ include/actioncenter.h
g++ -std=c++17 "${cxxflags[@]}" -fsyntax-only -x c++ include/actioncenter.h

echo "== compile the C tests and examples"
tests=(lifecycle errors bad_input threads permissions hostile)
for t in "${tests[@]}"; do
  gcc "${cflags[@]}" -pthread "tests/c/test_$t.c" -o "$out/test_$t" "${link[@]}"
done
g++ -std=c++11 "${cxxflags[@]}" tests/c/test_cpp.cpp -o "$out/test_cpp" "${link[@]}"
# The playbook links the shared library, the executor the static one.
gcc "${cflags[@]}" examples/c/playbook.c -o "$out/playbook" "${link[@]}"
gcc "${cflags[@]}" examples/c/executor.c "$lib/libactioncenter.a" "${static_libs[@]}" \
  -o "$out/executor"

# Runs a program under valgrind; fails on any error or leak, and shows
# valgrind's summary lines. With the project's suppressions file
# (tests/c/valgrind.supp: what the PostgreSQL client leaves, see there);
# `grind_clean` runs without it, as the README tells a C integrator to.
grind() {
  grind_with "--suppressions=$root/tests/c/valgrind.supp" "$@"
}
grind_clean() {
  grind_with "" "$@"
}
grind_with() {
  local supp=$1 name=$2; shift 2
  local log="$out/$name.valgrind"
  if ! valgrind --leak-check=full --error-exitcode=1 ${supp:+"$supp"} --log-file="$log" "$@"; then
    echo "test-c: $name failed under valgrind; its log:" >&2
    cat "$log" >&2
    return 1
  fi
  grep -E "definitely lost|indirectly lost|possibly lost|ERROR SUMMARY|All heap blocks" "$log" |
    sed "s/^==[0-9]*==/  $name:/"
}

echo "== C tests under valgrind"
passed=0
for t in "${tests[@]}" cpp; do
  grind "test_$t" "$out/test_$t" | tee "$work/$t.out"
  n=$(sed -n 's/^[a-z_]*: \([0-9]*\) passed, 0 failed$/\1/p' "$work/$t.out")
  passed=$((passed + n))
done

echo "== C example: a playbook seeds a SQLite file, the executor works through it"
db="$work/shared.db"
"$out/playbook" "$db"
grind_clean executor "$out/executor" "$db" c-agent-1 | tee "$work/executor.out"
grep -qx "completed 4, failed 1" "$work/executor.out"
"$out/playbook" "$db" undo
grind_clean executor-undo "$out/executor" "$db" c-agent-1 | tee "$work/undo.out"
grep -q "restore_file (undo)" "$work/undo.out"
grep -qx "completed 1, failed 0" "$work/undo.out"

echo "== the README's C example, under the README's valgrind command (no suppressions)"
awk '/<!-- BEGIN c -->/ {on = 1} /<!-- END c -->/ {on = 0}
     on && /^```c$/ {code = 1; next} code && /^```$/ {exit} code {print}' README.md > "$out/readme.c"
gcc "${cflags[@]}" "$out/readme.c" -o "$out/readme" "${link[@]}"
(cd "$work" && grind_clean readme "$out/readme")

echo "== PostgreSQL: the C API on a throwaway cluster"
# Last, since it rebuilds the library with the feature `postgres`.
pg_status=0
if [ -f scripts/pg-cluster.sh ]; then
  # In the system's temporary directory: the cluster's owner must reach it.
  cluster=$(TMPDIR="$system_tmp" bash scripts/pg-cluster.sh start --owner $$ 2> "$work/pg.err") ||
    pg_status=$?
else
  echo "scripts/pg-cluster.sh is missing" > "$work/pg.err"
  pg_status=2
fi
if [ "$pg_status" -eq 0 ]; then
  pg_url=$(sed -n 's/^ACTIONCENTER_PG_URL=//p' <<< "$cluster")
  pg_dir=$(sed -n 's/^ACTIONCENTER_PG_DIR=//p' <<< "$cluster")
  trap 'bash scripts/pg-cluster.sh stop "$pg_dir" || true; rm -rf "$work"' EXIT
  cargo build -p actioncenter-ffi --features postgres
  gcc "${cflags[@]}" -pthread tests/c/test_postgres.c -o "$out/test_postgres" "${link[@]}"
  ACTIONCENTER_PG_URL="$pg_url" grind test_postgres "$out/test_postgres" | tee "$work/postgres.out"
  n=$(sed -n 's/^postgres: \([0-9]*\) passed, 0 failed$/\1/p' "$work/postgres.out")
  [ -n "$n" ] || { echo "test-c: the PostgreSQL tests did not run" >&2; exit 1; }
  passed=$((passed + n))
elif [ "$pg_status" -eq 2 ]; then
  echo "postgres: skipped: $(cat "$work/pg.err")"
else
  cat "$work/pg.err" >&2
  exit 1
fi

echo "c: $passed passed, 0 failed"
