#!/usr/bin/env bash
# The console in a real browser: Chromium (the distribution's package,
# installed when missing and we are root, as in CI), Playwright for Python
# in a virtual environment at target/browser-venv (its own browser download
# skipped), actionctl built, then the pytest suite in tests/browser.
# Screenshots of every page land in target/browser-artifacts/.
#
#   bash scripts/test-browser.sh              # everything
#   bash scripts/test-browser.sh -k undo      # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
  else
    echo "test-browser: $chromium is missing; install the chromium package (as root: apt-get install chromium)" >&2
    exit 1
  fi
fi

venv="$root/target/browser-venv"
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
# Playwright drives the system Chromium: it must not fetch browsers of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check playwright==1.65.2 pytest==9.2.0

cargo build --quiet -p actionctl
export ACTIONCTL="${ACTIONCTL:-$root/target/debug/actionctl}"

rm -rf "$root/target/browser-artifacts"
mkdir -p "$root/target/browser-artifacts"
cd "$root/tests/browser"
"$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
echo "browser tests: ok; screenshots in target/browser-artifacts/"
