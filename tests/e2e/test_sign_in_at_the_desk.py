"""Signing in to the web manager with a programming key in a site bridge's desk (issue 11
item 1a, R5): the desk simulator on a pseudo-terminal, the bridge agent enrolled and
running, the demo's main key in the desk, and the PIN typed into the browser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from playwright.sync_api import expect

from app.demo_keys import load_key_pair
from hardware.bridge.state import StateDir
from hardware.sim.control import ControlClient
from tests.e2e.conftest import Site, assert_accessible, screenshot
from tests.harness import ROOT, LoggedProcess, patience, wait_until

BRIDGE_ONLINE = "query($id: ID!) { node(id: $id) { ... on Bridge { online } } }"


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


@pytest.fixture(scope="module")
def desk(site: Site) -> Iterator[tuple[str, ControlClient]]:
    """A desk device (simulated) on the front-desk PC, its bridge agent enrolled and online:
    the bridge's id, and the hands of the person at the desk."""
    tmp = site.var / "desk"
    tmp.mkdir()
    link, sock = tmp / "ttyDESK", tmp / "desk.sock"
    processes: list[LoggedProcess] = []
    try:
        device = LoggedProcess(
            _python("-m", "hardware.sim", "desk", "--pty", "--world", str(tmp / "world.json"),
                    "--control", str(sock), "--link", str(link)),
            os.environ, tmp / "desk.log",
        )
        processes.append(device)
        device.wait_logged("identity: ")
        code, bridge_id = site.enrolment_code("Front desk")
        state = tmp / "bridge-state"
        enrol = subprocess.run(
            _python("-m", "hardware.bridge", "enrol", "--server", site.url, "--tenant",
                    site.tenant_id, "--code", code, "--state-dir", str(state),
                    "--name", "Front desk"),
            cwd=ROOT, capture_output=True, text=True, timeout=patience(60),
        )
        assert enrol.returncode == 0, enrol.stderr
        enrolment = StateDir(state).load_enrolment()
        assert enrolment is not None and enrolment.bridge_id == bridge_id
        agent = LoggedProcess(
            _python("-m", "hardware.bridge", "run", "--server", site.url, "--state-dir",
                    str(state), "--port", str(link), "--max-backoff", "1"),
            os.environ, tmp / "agent.log",
        )
        processes.append(agent)
        agent.wait_logged("subscribed to bridgeCommands")
        wait_until(
            lambda: site.graphql(BRIDGE_ONLINE, {"id": bridge_id})["node"]["online"],
            "the bridge to be online", details=agent.output,
        )
        control = ControlClient(sock, timeout=patience(10))
        try:
            yield bridge_id, control
        finally:
            control.close()
    finally:
        for process in reversed(processes):
            process.close()


def test_the_main_key_in_the_desk_and_its_pin_sign_the_browser_in(
    site: Site, desk: tuple[str, ControlClient], page: Any
) -> None:
    bridge_id, control = desk
    # given: the demo's main key (its private half is the simulator's) in the desk
    key = load_key_pair(site.var / "simulator.json", site.tenant_id, "PR-0001")
    private = key.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pin = next(k["pin"] for k in site.demo["programming_keys"] if k["marking"] == "PR-0001")
    control.add_programming_key(key.uid, "PR-0001", private.hex(), pin)
    control.insert("left", key.uid)
    # when: the desk PC's bookmark opens the sign-in page with both ids filled in
    page.goto(f"{site.url}/sign-in?tenant={site.tenant_id}&bridge={bridge_id}")
    expect(page.get_by_label("Site bridge ID")).to_have_value(bridge_id)
    page.get_by_label("PIN").fill(pin)
    assert_accessible(page)
    screenshot(page, "sign-in-desk")
    page.get_by_role("button", name="Sign in").click()
    # then: the key signed the challenge after checking the PIN; the browser is in, as its holder
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    expect(page.get_by_role("banner")).to_contain_text("SUPERADMIN", ignore_case=True)
    assert "kw_s_" not in page.evaluate("document.cookie + JSON.stringify(localStorage)")
    control.remove("left")
