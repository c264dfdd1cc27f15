#!/usr/bin/env bash
# The Python package, from scratch: a fresh virtual environment (.venv),
# the abi3 wheel built by maturin and installed into it, the stubs checked
# against the built module (mypy.stubtest), mypy --strict, ruff, the
# pytest suite, the README's example, the example playbook, and short
# runs of the benchmarks (python/benches; the peers they measure against
# are pinned in python/benches/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv="$root/.venv"
python="${PYTHON:-python3}"

"$python" -m venv --clear "$venv"
py="$venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 ruff==0.17.6 \
  -r python/benches/requirements.txt

dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
"$venv/bin/maturin" build --release --quiet --manifest-path python/Cargo.toml \
  --interpreter "$py" --out "$dist"
wheel=$(find "$dist" -name 'actioncenter-*.whl' -print -quit)
echo "wheel: $(basename "$wheel")"
"$py" -m pip install --quiet --disable-pip-version-check --force-reinstall "$wheel"

# Everything below runs from outside python/, so `import actioncenter`
# is the installed wheel, not the source folder.
"$py" - <<'EOF'
import actioncenter, os
assert "site-packages" in actioncenter.__file__, actioncenter.__file__
here = os.path.dirname(actioncenter.__file__)
for f in ("py.typed", "_native.pyi"):
    assert os.path.exists(os.path.join(here, f)), f"{f} missing from the wheel"
print(f"installed actioncenter {actioncenter.__version__}")
EOF

echo "stubtest:"
"$py" -m mypy.stubtest actioncenter --allowlist python/stubtest-allowlist.txt
echo "mypy --strict:"
sources=(python/actioncenter python/tests examples/python python/benches)
"$py" -m mypy --config-file python/pyproject.toml "${sources[@]}"
echo "ruff:"
"$venv/bin/ruff" check --config python/pyproject.toml "${sources[@]}"
"$venv/bin/ruff" format --check --config python/pyproject.toml "${sources[@]}"

status=0
"$venv/bin/pytest" -p no:cacheprovider python/tests || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: the Python suite is missing" >&2
  exit 1
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi

# The README's example as written, in a scratch folder (it makes a database).
"$py" - "$root/README.md" "$dist" <<'EOF'
import re, subprocess, sys
readme, scratch = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
section = text.split("<!-- BEGIN python -->")[1].split("<!-- END python -->")[0]
(code,) = re.findall(r"```python\n(.*?)```", section, re.S)
subprocess.run([sys.executable, "-c", code], cwd=scratch, check=True, stdout=subprocess.DEVNULL)
print("README example: ok")
EOF

"$py" examples/python/playbook.py > /dev/null
echo "example playbook: ok"
"$py" python/benches/approve_rate.py --actions 100
"$py" python/benches/compare.py --quick > /dev/null
echo "python/benches/compare.py --quick: ok"
for case in none approve ids get rust-approve rust-get; do
  "$py" python/benches/calls.py 50 "$case"
done
echo "python/benches/calls.py: ok"
"$py" python/benches/wal_pages.py 100 > /dev/null
echo "python/benches/wal_pages.py: ok"
