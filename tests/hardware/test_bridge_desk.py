"""The bridge agent's commands on the desk device (interfaces section 3), against the real
desk simulator serving the real serial protocol on a pty (issue 5; R5, R10, R15, R17, R26, R28).

The simulator runs in this process (its own threads), the agent's :class:`Desk` opens the
pty through a symlink, as a site PC opens /dev/serial/by-id/...; pulling the cable
(``unplug``) really closes the pty, and plugging it back gives a new pty the symlink is
moved to.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hardware.bridge.backoff import Backoff
from hardware.bridge.commands import Command, CommandRunner
from hardware.bridge.desk import Desk
from hardware.bridge.reports import ReportQueue
from hardware.sim.desk import DeskDevice
from hardware.sim.world import Cylinder, ProgrammingKey, UserKey, World
from hardware.wire import login_message
from tests.harness import eventually, patience

PK_UID = "PK-04A1B2C3"
E2_UID = "E2-0001"
E1_UID = "E1-0001"
CYLINDER = "CYL-MAIN-1"
PIN = "246810"


@dataclass
class Site:
    device: DeskDevice
    world: World
    port: Path  # the symlink the agent opens
    programming_key: ProgrammingKey

    def plug_back(self) -> None:
        """Plug the cable back in and point the port symlink at the new pty."""
        path = self.device.plug()
        tmp = self.port.with_name(self.port.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(path)
        os.replace(tmp, self.port)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    world = World()
    pkey = world.add_programming_key(ProgrammingKey(
        uid=PK_UID, marking="PN-7", private_key=Ed25519PrivateKey.generate(), pin=PIN))
    world.add_user_key(UserKey(uid=E2_UID, key_type="E2", generation=2, firmware="16.3.7"))
    world.add_user_key(UserKey(uid=E1_UID, key_type="E1", generation=2, firmware="16.3.7"))
    world.add_cylinder(Cylinder(uid=CYLINDER, access_keys={E2_UID}))
    device = DeskDevice(world, world_path=None, identity=Ed25519PrivateKey.generate(), baud=0)
    port = tmp_path / "ttyDESK"
    port.symlink_to(device.plug())
    try:
        yield Site(device, world, port, pkey)
    finally:
        device.unplug()


@contextlib.asynccontextmanager
async def opened(site: Site, tmp_path: Path) -> AsyncIterator[Desk]:
    """The agent's Desk on the site's port, kept open by its maintenance task."""
    stopping = asyncio.Event()
    desk = Desk(str(site.port), timeout=patience(0.3), known_desks=tmp_path / "known_desks.json",
                backoff=Backoff(base=0.05, cap=0.2))
    task = asyncio.create_task(desk.maintain(stopping))
    try:
        assert await desk.wait_open(patience(10)), desk.last_error
        yield desk
    finally:
        stopping.set()
        await task
        await desk.close()


async def no_image(url: str) -> bytes:
    raise AssertionError("no download expected")


def command(kind: str, payload: dict[str, Any], command_id: str = "cmd-1") -> Command:
    return Command.from_node({"id": command_id, "kind": kind, "payload": json.dumps(payload)})


async def run(runner: CommandRunner, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one command; its report as the server would receive it."""
    outcome = await runner.run(command(kind, payload))
    return json.loads(outcome.report.body())  # type: ignore[no-any-return]


def insert(site: Site, slot: str, uid: str) -> None:
    site.device.insert(slot, uid)


async def test_user_key_commands_read_write_and_audit_the_key_in_the_desk(
    site: Site, tmp_path: Path
) -> None:
    insert(site, "right", E2_UID)
    with site.device.lock:
        site.device.world.try_open(CYLINDER, E2_UID, datetime(2025, 3, 1, 9, tzinfo=UTC))
    async with opened(site, tmp_path) as desk:
        runner = CommandRunner(desk, no_image)
        # READ_KEY without a slot: whichever slot holds a key
        read = await run(runner, "READ_KEY", {"slot": None})
        assert read["ok"] and read["result"]["uid"] == E2_UID
        assert read["result"]["keyType"] == "E2" and read["result"]["generation"] == 2
        # WRITE_KEY: validity and schedule into an E2 key's memory (R10, R18)
        validity = {"alwaysValid": False, "validFrom": "2025-01-01T00:00:00+00:00",
                    "validUntil": "2026-01-01T00:00:00+00:00", "extensionIntervalHours": None,
                    "blocked": False}
        schedule = {"scheduleId": 3, "windows": [
            {"days": ["MONDAY", "TUESDAY"], "start": "07:00", "end": "18:00"}]}
        written = await run(runner, "WRITE_KEY", {
            "slot": "right", "keyUid": E2_UID, "validity": validity, "schedule": schedule,
            "keyMemory": None, "revalidatedAt": None})
        assert written["ok"], written
        assert written["result"]["validity"]["validUntil"].startswith("2026-01-01")
        assert written["result"]["schedule"]["scheduleId"] == 3
        assert site.world.user_key(E2_UID).schedule["scheduleId"] == 3  # type: ignore[index]
        # READ_AUDIT_TRAIL: the key's own events (R28)
        trail = await run(runner, "READ_AUDIT_TRAIL", {"slot": "right", "keyUid": E2_UID})
        assert trail["ok"]
        [event] = trail["result"]["events"]
        assert event["cylinderUid"] == CYLINDER and event["at"].startswith("2025-03-01T09:00")
        assert trail["result"]["events"] == site.world.user_key(E2_UID).read_audit_trail()


async def test_a_command_for_a_key_that_is_not_in_the_desk_writes_nothing(
    site: Site, tmp_path: Path
) -> None:
    # given: E1 in the left slot, while the command was meant for the E2 key
    insert(site, "left", E1_UID)
    async with opened(site, tmp_path) as desk:
        runner = CommandRunner(desk, no_image)
        report = await run(runner, "WRITE_KEY", {
            "slot": "left", "keyUid": E2_UID, "validity": None, "schedule": None,
            "keyMemory": None, "revalidatedAt": None})
        assert report == {"ok": False, "error": {
            "code": "NO_KEY", "message": f"key {E2_UID} is not in the left slot"}}
        # and: the device's own refusals come back with their code (E1: no audit trail, R10)
        e1 = await run(runner, "READ_AUDIT_TRAIL", {"slot": None, "keyUid": E1_UID})
        assert e1["ok"] is False and e1["error"]["code"] == "UNSUPPORTED"
        # and: a payload the agent cannot read is BAD_REQUEST, not a crash
        outcome = await runner.run(Command.from_node(
            {"id": "x", "kind": "READ_KEY", "payload": "{not json"}))
        assert outcome.report.error_code == "BAD_REQUEST"
        unknown = await run(runner, "OPEN_DOOR", {})
        assert unknown["error"]["code"] == "BAD_REQUEST"


async def test_programming_jobs_are_loaded_and_results_cleared_only_after_they_are_queued(
    site: Site, tmp_path: Path
) -> None:
    insert(site, "left", PK_UID)
    job = {"jobId": "UHJvZ3JhbW1pbmdKb2I6MQ==", "cylinderUid": CYLINDER,
           "fullReprogram": False, "accessList": None,
           "changes": [{"op": "ADD", "keyUid": E1_UID, "groupId": None}]}
    async with opened(site, tmp_path) as desk:
        runner = CommandRunner(desk, no_image)
        # LOAD_PROGRAMMING_JOBS (R17)
        loaded = await run(runner, "LOAD_PROGRAMMING_JOBS", {
            "slot": "left", "programmingKeyUid": PK_UID, "jobs": [job]})
        assert loaded == {"ok": True, "result": {"onKey": 1}}
        # the key is carried to the cylinder and back into the desk
        site.device.remove("left")
        site.device.visit(CYLINDER, PK_UID, None, None)
        insert(site, "right", PK_UID)
        assert E1_UID in site.world.cylinders[CYLINDER].access_keys
        # READ_PROGRAMMING_RESULTS (R15): the results, and what to clear once queued
        outcome = await runner.run(command("READ_PROGRAMMING_RESULTS", {
            "slot": None, "programmingKeyUid": PK_UID}, "read-1"))
        assert outcome.report.ok
        [result] = outcome.report.result["results"]  # type: ignore[index]
        assert (result["jobId"], result["outcome"]) == (job["jobId"], "DONE")
        assert outcome.clear is not None and outcome.clear.job_ids == [job["jobId"]]
        # nothing is cleared by running the command itself ...
        assert len(site.programming_key.results) == 1
        # ... only after the report is committed (what the agent does next)
        with ReportQueue(tmp_path / "q.sqlite3") as queue:
            runner.on_cleared = queue.cleared
            queue.record("READ_PROGRAMMING_RESULTS", outcome.report, clear=outcome.clear)
            assert await runner.clear(outcome.clear)
            assert queue.pending_clears() == []
        assert site.programming_key.results == []


async def test_login_is_signed_by_the_programming_key_after_its_pin(
    site: Site, tmp_path: Path
) -> None:
    # R5: the key checks the PIN itself and signs the server's login message
    insert(site, "left", E2_UID)
    insert(site, "right", PK_UID)
    message = login_message("tenant-1", "ab" * 32)
    async with opened(site, tmp_path) as desk:
        runner = CommandRunner(desk, no_image)
        wrong = command("SIGN_LOGIN", {"loginId": "L1", "slot": None, "pin": "0000",
                                       "message": base64.b64encode(message).decode()})
        outcome = await runner.run(wrong)
        assert outcome.durable is False  # live only: never written to the queue
        assert outcome.report.error_code == "WRONG_PIN"
        assert "pin" not in wrong.payload  # the PIN is dropped as soon as it was used
        right = command("SIGN_LOGIN", {"loginId": "L1", "slot": None, "pin": PIN,
                                       "message": base64.b64encode(message).decode()})
        answer = (await runner.run(right)).report.result
        assert answer is not None
        assert (answer["marking"], answer["uid"]) == ("PN-7", PK_UID)
        Ed25519PublicKey.from_public_bytes(site.programming_key.public_key).verify(
            base64.b64decode(answer["signature"]), message)
        # a login redelivered without its PIN (the server never stores it) is not signed
        again = await run(runner, "SIGN_LOGIN", {"loginId": "L1", "slot": None,
                                                 "message": base64.b64encode(message).decode()})
        assert again["error"]["code"] == "EXPIRED"


async def test_a_pulled_cable_mid_firmware_update_resumes_where_the_key_stopped(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # R26: a generation-2 key's firmware, 192 KiB in 512-byte chunks, with the cable pulled
    # a quarter of the way and plugged back in (a new pty) a moment later
    insert(site, "right", E2_UID)
    image = os.urandom(192 * 1024)
    seen: list[int] = []
    pulled = asyncio.Event()

    def progress(command_id: str, done: int, total: int) -> None:
        seen.append(done)
        if done >= total // 4 and not pulled.is_set():
            pulled.set()

    async with opened(site, tmp_path) as desk:
        runner = CommandRunner(desk, no_image, link_retry_seconds=20, progress=progress)

        async def pull_and_replug() -> None:
            await pulled.wait()
            await asyncio.to_thread(site.device.unplug)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(site.plug_back)

        cable = asyncio.create_task(pull_and_replug())
        report = await run(runner, "UPDATE_KEY_FIRMWARE", {
            "slot": "right", "keyUid": E2_UID, "version": "16.4.0", "imageUrl": None,
            "image": base64.b64encode(image).decode()})
        await cable
    # then: the update finished on the same key ...
    assert report == {"ok": True, "result": {"firmwareVersion": "16.4.0"}}, report
    assert site.world.user_key(E2_UID).firmware == "16.4.0"
    assert "UPDATE_KEY_FIRMWARE cmd-1 interrupted" in caplog.text
    # ... and the transfer resumed where the key stopped instead of starting over: the only
    # start at 0 is the first, and after the interruption the key reported its offset again
    assert seen[0] == 0 and seen.count(0) == 1 and seen[-1] == len(image)
    assert seen == sorted(seen)


async def test_a_write_while_the_cable_is_out_waits_for_it_and_lands_once(
    site: Site, tmp_path: Path
) -> None:
    insert(site, "left", E2_UID)
    async with opened(site, tmp_path) as desk:
        runner = CommandRunner(desk, no_image, link_retry_seconds=20)
        # given: the cable is pulled (the agent notices while polling for key events)
        await asyncio.to_thread(site.device.unplug)

        async def noticed() -> bool:
            return not desk.is_open

        await eventually(noticed, "the agent to notice the pulled cable", 4)
        assert desk.state == "error"
        # when: a write arrives, and the cable comes back a moment later
        until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
        validity = {"alwaysValid": False, "validFrom": None, "validUntil": until,
                    "extensionIntervalHours": None, "blocked": False}
        write = asyncio.create_task(run(runner, "WRITE_KEY", {
            "slot": None, "keyUid": E2_UID, "validity": validity, "schedule": None,
            "keyMemory": None, "revalidatedAt": None}))
        await asyncio.sleep(0.4)
        assert not write.done()
        await asyncio.to_thread(site.plug_back)
        report = await asyncio.wait_for(write, patience(20))
    # then: the write landed on the key
    assert report["ok"], report
    assert site.world.user_key(E2_UID).validity["validUntil"].startswith(until[:19])  # type: ignore[index]
    # and: the desk's identity was pinned on first use in the agent's state (PROTOCOL.md)
    assert list(json.loads((tmp_path / "known_desks.json").read_text())["desks"])
