"""Benchmark: the web manager in headless chromium against a real ``keywarden serve`` (issue 11).

Measures, with the built frontend (``make frontend``) and Debian's chromium:

- initial JS of the sign-in route and of the keys route: every script the page loads
  until the network is idle, gzip-compressed here (level 6) and summed (goal: 250 KB);
- time from navigation to the first keys page rendered (the app's
  ``keywarden:keys-page`` performance mark, relative to the navigation's start) with
  N keys in the tenant, signed in, median and p90 of R loads (goal: 300 ms); the baseline,
  measured in the same run against the same server, is a tenant of 50 keys, so the ratio
  says what the tenant's size costs.

    .venv/bin/python -m bench.web_manager [--keys 20000] [--loads 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.auth.sign_in_links import create_sign_in_link
from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.models import ProgrammingKey, ProgrammingKeyKind, ProgrammingKeyRole, new_tenant_id
from app.tenants.service import create_tenant
from tests.e2e.conftest import CHROMIUM, FLAGS
from tests.factories import seed_elements
from tests.processes import ServerProcess

BASELINE_KEYS = 50


async def seed(settings: Settings, keys: int) -> str:
    """A tenant with ``keys`` keys and a Superadmin programming key; a sign-in link's code."""
    database = Database(settings)
    tenant_id = new_tenant_id()
    async with database.tenant_session(tenant_id) as s:
        tenant = await create_tenant(s, name=f"Bench {keys}")
        key = ProgrammingKey(marking="PR-0001", uid=f"BENCH{keys:07d}",
                             kind=ProgrammingKeyKind.MAIN, firmware_version="12.3",
                             public_key=b"\0" * 32)
        s.add(key)
        await s.flush()
        s.add(ProgrammingKeyRole(programming_key_id=key.id, role_id=tenant.superadmin_role_id))
        await s.commit()
    t0 = time.perf_counter()
    await seed_elements(database, tenant, keys=keys, cylinders=20)
    print(f"seeded {keys} keys in {time.perf_counter() - t0:.1f}s")
    async with database.tenant_session(tenant_id) as s:
        code = await create_sign_in_link(s, "PR-0001")
        await s.commit()
    await database.dispose()
    return code


# Waits in the page (the CSP forbids Playwright's eval-based wait_for_function) for the
# app's mark of the first keys page, and answers its time since the navigation started.
FIRST_PAGE_MARK = """() => new Promise(resolve => {
  const check = () => {
    const marks = performance.getEntriesByName('keywarden:keys-page');
    if (marks.length) resolve(marks[0].startTime); else setTimeout(check, 5);
  };
  check();
})"""


def initial_js(page: Any, url: str) -> int:
    """Bytes of JS (gzip) the page at ``url`` loads before the network is idle."""
    scripts: list[Any] = []
    page.on("response", lambda r: scripts.append(r) if r.request.resource_type == "script"
            else None)
    page.goto(url, wait_until="networkidle")
    return sum(len(gzip.compress(r.body(), 6)) for r in scripts)


def signed_in(browser: Any, url: str, code: str) -> Any:
    """A page of a new browser context (its own session cookie) signed in with the link
    ``code``."""
    page = browser.new_context().new_page()
    page.goto(f"{url}/sign-in#link={code}")
    page.wait_for_url("**/dashboard")  # where sign-in lands
    return page


def first_page_time(page: Any, url: str) -> float:
    """Milliseconds from navigating to the keys screen to its first page rendered."""
    page.goto(f"{url}/keys")
    return float(page.evaluate(FIRST_PAGE_MARK))


def summary(times: list[float]) -> str:
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    return (f"median {statistics.median(times):.0f} ms, p90 {p90:.0f} ms, "
            f"min {min(times):.0f} ms")


def main(keys: int, loads: int) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        env = {**os.environ, "VAR_DIR": tmp, "DATABASE_URL": "", "REDIS_URL": "",
               "KEYWARDEN_ACCESS_LOG": "false"}
        settings = Settings(var_dir=var)
        upgrade(settings)
        code = asyncio.run(seed(settings, keys))
        baseline_code = asyncio.run(seed(settings, BASELINE_KEYS))
        server = ServerProcess(env, var / "serve.log")
        try:
            server.wait_ready()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
                context = browser.new_context()
                page = context.new_page()
                sign_in_js = initial_js(page, f"{server.url}/sign-in")
                page.goto(f"{server.url}/keys")  # leaves the sign-in page for a fresh load
                big = signed_in(browser, server.url, code)
                keys_js = initial_js(big.context.new_page(), f"{server.url}/keys")
                small = signed_in(browser, server.url, baseline_code)
                # Loads alternate between the tenants, so both see the same machine.
                times: list[float] = []
                baseline: list[float] = []
                for _ in range(loads):
                    times.append(first_page_time(big, server.url))
                    baseline.append(first_page_time(small, server.url))
                browser.close()
        finally:
            server.close()
    print(f"initial JS (gzip): sign-in route {sign_in_js / 1024:.1f} KB, "
          f"keys route {keys_js / 1024:.1f} KB (goal 250 KB)")
    print(f"navigation to first keys page, {keys} keys, {loads} loads: {summary(times)} "
          "(goal 300 ms)")
    print(f"baseline, {BASELINE_KEYS} keys, {loads} loads: {summary(baseline)}")
    print(f"ratio {keys} / {BASELINE_KEYS} keys (medians): "
          f"{statistics.median(times) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20000)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    main(args.keys, args.loads)
