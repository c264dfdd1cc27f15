"""Writes the results of scripts/bench.sh into docs/benchmarks.md.

    python3 scripts/bench-report.py PAGE COMMAND ROWS.jsonl...

Replaces what lies between the page's `<!-- BEGIN results -->` and
`<!-- END results -->` markers (the machine, the command and the table)
and leaves the rest of the page, the written analysis, as it is. A page
without the markers gets them, at its end.
"""

import datetime
import json
import os
import platform
import subprocess
import sys


def machine() -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    try:
        rustc = subprocess.run(
            ["rustc", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        rustc = "rustc unknown"
    return (
        f"{os.cpu_count()} cores, {cpu}{mem}; Linux {platform.release()}; "
        f"{rustc}; Python {platform.python_version()}"
    )


def cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def table(rows: list) -> str:
    out = [
        "| measure | actioncenter | peer | ratio | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    skipped = []
    for r in rows:
        if "skipped" in r:
            skipped.append(f"- {r['group']} skipped: {r['skipped']}")
            continue
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        met = {True: "yes", False: "**no**", None: ""}[r.get("met")]
        out.append(
            f"| {cell(r['measure'])} | {cell(r['actioncenter'])} | {cell(r['peer'])} "
            f"| {ratio} | {cell(r['target'])} | {met} |"
        )
    return "\n".join(out + ([""] + skipped if skipped else []))


def main() -> None:
    page, command, *files = sys.argv[1:]
    rows = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    day = datetime.date.today().isoformat()
    block = (
        "<!-- BEGIN results -->\n"
        f"Measured on {day}: {machine()}.\n\n"
        f"```sh\n{command}\n```\n\n"
        f"{table(rows)}\n"
        "<!-- END results -->"
    )
    try:
        with open(page, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Benchmarks\n"
    begin, end = "<!-- BEGIN results -->", "<!-- END results -->"
    if begin in text and end in text:
        text = text.split(begin)[0] + block + text.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(page, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {page}")


if __name__ == "__main__":
    main()
