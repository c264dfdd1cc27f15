"""Browser tests of the Action center console: a real server on a demo
database, driven in Chromium as a person would.

Each test module gets a fresh server (``actionctl serve``) on a fresh demo
database; each test a fresh browser context (no cookies, no storage).
Screenshots go to ``target/browser-artifacts/``.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ACTIONCTL = os.environ.get("ACTIONCTL") or str(ROOT / "target" / "debug" / "actionctl")
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "target" / "browser-artifacts"
PASSWORD = "console test passphrase 7"
# The demo's analysts and responder, and the operating-system account that
# made the database: the demo's administrator.
ADMIN = getpass.getuser()
PEOPLE = ("carol", "alice", "dana", ADMIN)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 414, "height": 860}

# The SHA-256 of the demo's invoice.exe, quarantined on four devices.
INVOICE_SHA256 = "5f1d8e3a9c2b4f6071e8d9c0b1a2f3e4d5c6b7a8091f2e3d4c5b6a7980f1e2d3"

expect.set_options(timeout=10_000)


def actionctl(db: Path, *args: str, stdin: Optional[str] = None) -> str:
    done = subprocess.run(
        [ACTIONCTL, "--db", str(db), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"actionctl {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Server:
    """A running server on a demo database, and API tokens for the cast."""

    base_url: str
    db: Path
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, body: Any = None, *, as_: str = "soar",
            headers: Optional[dict[str, str]] = None) -> Any:
        """Calls the API with the API token of `as_`; raises ApiError on an error status."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.tokens[as_]}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            request.add_header(k, v)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            raise ApiError(e.code, json.loads(text) if text else None) from None
        return json.loads(text) if text else None

    def action(self, action_id: str) -> dict[str, Any]:
        return self.api("GET", f"/api/v1/actions/{action_id}")

    def actions(self, **query: Any) -> list[dict[str, Any]]:
        query.setdefault("limit", 1000)
        text = urllib.parse.urlencode(query)
        return self.api("GET", f"/api/v1/actions?{text}")["items"]

    def propose(self, proposal: dict[str, Any], as_: str = "soar") -> dict[str, Any]:
        return self.api("POST", "/api/v1/actions", proposal, as_=as_)

    def execute(self, action_id: str, as_: str = "edr-agent", result: Any = None) -> dict[str, Any]:
        """Claims the action as an executor and completes it."""
        kind = self.action(action_id)["kind"]
        claimed = self.api("POST", "/api/v1/claims", {"limit": 50, "lease_seconds": 120, "kinds": [kind]}, as_=as_)
        claimed = claimed if isinstance(claimed, list) else claimed.get("items", claimed.get("actions", []))
        mine = [a for a in claimed if a["id"] == action_id]
        assert mine, f"{as_} could not claim {action_id}: {claimed}"
        token = mine[0]["attempts"][-1]["lease_token"]
        return self.api("POST", f"/api/v1/actions/{action_id}/complete",
                        {"lease_token": token, "result": result or {"done": True}}, as_=as_)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(folder: Path) -> Server:
    """Seeds a demo database, adds the people's accounts and the machines' tokens, and serves it."""
    db = folder / "actioncenter.db"
    actionctl(db, "demo")
    for person in PEOPLE:
        actionctl(db, "user", "add", person, "--password-stdin", stdin=PASSWORD + "\n")
    tokens = {}
    for machine in ("soar", "edr-agent"):
        out = json.loads(actionctl(db, "token", "create", "--principal", machine, "--label", "browser-tests", "--json"))
        tokens[machine] = out["secret"]
    # A checkpoint key, so an administrator can sign checkpoints from the Audit page.
    key = folder / "checkpoint.pem"
    actionctl(db, "audit", "keygen", "--out", str(key))
    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [ACTIONCTL, "--db", str(db), "serve", "--listen", f"127.0.0.1:{port}", "--checkpoint-key", str(key)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", db, process, log, tokens)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(server.base_url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server did not answer /healthz within 60 s:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="actioncenter-browser-"))
    s = start_server(folder)
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.exit(f"{CHROMIUM} is missing: install Chromium (scripts/test-browser.sh does as root)", returncode=1)
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture()
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    """A fresh context per test: no cookies, no local storage, nothing shared."""
    ctx = browser.new_context(viewport=WIDE, base_url=server.base_url, accept_downloads=True, locale="en-US",
                              timezone_id="UTC")
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    # Refused calls (401 before sign-in, 403 for a self-approval...) are the
    # network's messages, not the page's; a CSP refusal or a script error is.
    p.on("console", lambda m: errors.append(m.text)
         if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    yield p
    # A script error or a CSP violation is a failure of the page, whatever the test checked.
    assert not errors, f"errors in the page: {errors}"


def sign_in(page: Page, account: str = "carol", password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Account").fill(account)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#whoami-name")).to_contain_text(account)


@pytest.fixture()
def carol(page: Page) -> Page:
    """The page, signed in as carol (an analyst), on Pending."""
    sign_in(page, "carol")
    expect(page.locator("tr.action-row").first).to_be_visible()
    return page


def signed_in_request(playwright: Playwright, server: Server, account: str):
    """An API client of its own (its own cookie jar), signed in as `account`, and its CSRF token."""
    client = playwright.request.new_context(base_url=server.base_url)
    response = client.post("/api/v1/session", data={"account": account, "password": PASSWORD})
    assert response.ok, response.text()
    return client, response.json()["csrf_token"]


def session_call(page: Page, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A call with the page's session cookie and CSRF token, as the console makes it."""
    session = page.request.get("/api/v1/session").json()
    headers = {"X-CSRF-Token": session["csrf_token"], "Content-Type": "application/json"}
    response = page.request.fetch(path, method=method, headers=headers,
                                   data=None if body is None else json.dumps(body))
    text = response.text()
    return response.status, (json.loads(text) if text else None)


def row(page: Page, action_id: str):
    return page.locator(f'tr.action-row[data-id="{action_id}"]')


def shot(page: Page, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def proposal(kind: str, entity: dict[str, Any], name: str = "browser-tests", **extra: Any) -> dict[str, Any]:
    """A playbook's proposal: it waits for approval under the demo's policy."""
    return {"kind": kind, "entity": entity, "source": {"type": "playbook", "name": name}, **extra}
