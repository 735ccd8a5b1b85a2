"""The web manager in a real browser (issue 11): Debian's chromium, headless, driven by
Playwright for Python, against a real ``keywarden serve`` with the demo tenant.

Skipped, with the reason, when chromium is not installed (``apt-get install chromium``;
``.ci/run`` installs it), when the frontend is not built (``make frontend``; ``make test``
builds it), and in the PostgreSQL pass (the server under test runs on its own SQLite
file, so a second run would test nothing new). Screenshots go to
``tests/e2e/screenshots/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import BACKEND
from tests.harness import ROOT, patience
from tests.processes import ServerProcess

CHROMIUM = Path(os.environ.get("KEYWARDEN_CHROMIUM", "/usr/bin/chromium"))
DIST = ROOT / "frontend" / "dist"
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"
# Without the background-networking flags chromium keeps trying to reach Google's hosts,
# which this machine's closed network refuses.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _missing() -> str | None:
    if BACKEND != "sqlite":
        return "the browser tests run in the SQLite pass only"
    if not CHROMIUM.exists():
        return f"chromium not found at {CHROMIUM}: apt-get install chromium"
    if not (DIST / "index.html").exists() or not AXE.exists():
        return "the web manager is not built: make frontend"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.skip(reason=reason))


def _cli(env: dict[str, str], *args: str) -> str:
    keywarden = Path(sys.executable).parent / "keywarden"
    done = subprocess.run(
        [str(keywarden), *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=patience(120),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass
class Site:
    """The server under test, its demo tenant and a way to sign in."""

    url: str
    env: dict[str, str]
    demo: dict[str, Any]
    var: Path

    @property
    def tenant_id(self) -> str:
        return str(self.demo["tenant_id"])

    def sign_in_url(self, marking: str = "PR-0001") -> str:
        printed = _cli(self.env, "sign-in-link", "--tenant", self.tenant_id, "--key", marking)
        code = re.search(r"#link=(\S+)", printed)
        assert code is not None, printed
        return f"{self.url}/sign-in#link={code[1]}"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A partner's call with the demo's Superadmin API token."""
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Authorization": f"Bearer {self.demo['token']}",
                     "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=patience(30)) as response:
            body = json.loads(response.read())
        assert not body.get("errors"), body
        return body["data"]  # type: ignore[no-any-return]

    def enrolment_code(self, name: str) -> tuple[str, str]:
        """A new site bridge's one-time enrolment code, and the bridge's id."""
        created = self.graphql(
            "mutation($i: CreateBridgeEnrolmentInput!) { createBridgeEnrolment(input: $i) "
            "{ code bridge { id } } }", {"i": {"name": name}},
        )["createBridgeEnrolment"]
        return str(created["code"]), str(created["bridge"]["id"])

    def offline_bridge(self) -> str:
        """An enrolled site bridge whose agent is not running: its id."""
        code, bridge_id = self.enrolment_code("Back office")
        public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        self.graphql(
            "mutation($i: EnrolBridgeInput!) { enrolBridge(input: $i) { bridgeId } }",
            {"i": {"tenantId": self.tenant_id, "code": code,
                   "publicKey": base64.b64encode(public).decode(), "agentVersion": "1.0.0"}},
        )
        return bridge_id


# --- carrying out programming jobs on site, as a partner's API calls --------------------

CYLINDER_JOBS = """
query($c: ID!) {
  programmingJobs(filter: {cylinderId: $c, status: [PENDING]}) { edges { node { id } } }
  programmingKeys { id marking } }
"""
ASSIGN = """
mutation($i: AssignProgrammingJobsInput!) {
  assignProgrammingJobs(input: $i) { errors { message } } }
"""
LOAD = """
mutation($i: LoadProgrammingJobsInput!) { loadProgrammingJobs(input: $i) { errors { message } } }
"""
REPORT = """
mutation($i: ReportProgrammingResultsInput!) { reportProgrammingResults(input: $i) {
  auditEventsStored errors { message } } }
"""


def program_on_site(site: Site, cylinder_id: str, events: list[dict[str, str]]) -> int:
    """The main key's holder carries the cylinder's open jobs there and reports them done, with
    ``events`` (``at``, ``keyUid``, ``result``) read out of the cylinder first (R15, R17, R28),
    as a partner's API calls; how many events the server stored."""
    found = site.graphql(CYLINDER_JOBS, {"c": cylinder_id})
    jobs = [e["node"]["id"] for e in found["programmingJobs"]["edges"]]
    main = next(k["id"] for k in found["programmingKeys"] if k["marking"] == "PR-0001")
    assigned = site.graphql(ASSIGN, {"i": {"programmingKeyId": main, "jobIds": jobs}})
    assert assigned["assignProgrammingJobs"]["errors"] == []
    loaded = site.graphql(LOAD, {"i": {"programmingKeyId": main}})
    assert loaded["loadProgrammingJobs"]["errors"] == []
    results = [
        {"jobId": j, "outcome": "DONE", "auditEvents": events if i == 0 else []}
        for i, j in enumerate(jobs)
    ]
    reported = site.graphql(REPORT, {"i": {"programmingKeyId": main, "results": results}})
    assert reported["reportProgrammingResults"]["errors"] == []
    return int(reported["reportProgrammingResults"]["auditEventsStored"])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``keywarden migrate``, ``keywarden demo`` and ``keywarden serve``, as ``make run`` does."""
    yield from demo_site(tmp_path_factory)


def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server of its own with a fresh demo tenant, until the generator is closed: a module
    whose stories change much of the demo (dozens of jobs) overrides ``site`` with it, so that
    no story of another module depends on running before it."""
    var = tmp_path_factory.mktemp("e2e-var")
    env = {**os.environ, "VAR_DIR": str(var), "DATABASE_URL": "", "REDIS_URL": "",
           "APP_DATABASE_URL": ""}
    _cli(env, "migrate")
    printed = _cli(env, "demo")
    assert "/sign-in#link=" in printed, printed
    demo = json.loads((var / "demo.json").read_text())
    server = ServerProcess(env, var / "serve.log")
    try:
        server.wait_ready()
        yield Site(server.url, env, demo, var)
    finally:
        server.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless chromium for one module: Playwright's sync API runs an event loop of its own,
    which must be gone before the asyncio tests of other modules run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def _page(chromium: Any, locale: str, width: int, height: int) -> Iterator[Any]:
    """A page in a fresh browser profile (no cookies, no storage)."""
    context = chromium.new_context(locale=locale, viewport={"width": width, "height": height})
    context.set_default_timeout(patience(15) * 1000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """English, laptop-sized."""
    yield from _page(chromium, "en-GB", 1280, 800)


@pytest.fixture
def german_page(chromium: Any) -> Iterator[Any]:
    """German, tablet-sized."""
    yield from _page(chromium, "de-DE", 900, 1100)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a script element: the page's CSP allows no inline script.
        page.evaluate(AXE.read_text() + "\n;undefined")
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    assert violations == [], json.dumps(violations, indent=2)
