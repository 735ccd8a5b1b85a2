"""The simulated desk programming device as a real process on a real pty (issue 5).

``python -m hardware.sim desk --pty`` runs as a subprocess; the tests act as the
person at the desk and on site through its control socket and as the bridge
agent through :class:`DeskClient` on the pty it prints.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from hardware.link.client import DeskClient, DeskError, LinkError, VersionMismatch
from hardware.sim.control import ControlClient, ControlError
from hardware.sim.world import World
from hardware.wire import login_message
from tests.harness import LoggedProcess, patience, wait_until

ALWAYS = [
    {"days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"],
     "start": "00:00", "end": "23:59"}
]


def link_timeout() -> float:
    """The client's retransmission time: 0.5 s, longer on a busy machine."""
    return patience(0.5)


@dataclass
class Sim:
    """A running desk simulator: its process, pty path, control client and world file."""

    process: LoggedProcess
    pty: str
    control: ControlClient
    world: Path
    tmp: Path

    def client(self, **kwargs: Any) -> DeskClient:
        return DeskClient.open(self.pty, timeout=link_timeout(), **kwargs)

    def stop(self) -> int:
        """Stop the simulator as a service manager would (SIGTERM); its exit status."""
        self.control.close()
        try:
            return self.process.signal(signal.SIGTERM)
        finally:
            self.process.close()


def start_sim(tmp: Path, baud: int = 0) -> Sim:
    world, sock = tmp / "world.json", tmp / "desk.sock"
    process = LoggedProcess(
        [sys.executable, "-m", "hardware.sim", "desk", "--pty", "--world", str(world),
         "--control", str(sock), "--baud", str(baud)],
        os.environ, tmp / "desk.log",
    )
    try:
        # "identity:" comes last, once the pty and the control socket are up.
        process.wait_logged("identity: ")
        lines = process.output().splitlines()
        assert lines[0].startswith("pty: /dev/"), lines
        assert lines[1].startswith("control: "), lines
        return Sim(process, lines[0].split(": ", 1)[1].strip(),
                   ControlClient(sock, timeout=patience(30)), world, tmp)
    except BaseException:
        process.close()
        raise


@pytest.fixture(scope="module")
def running_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    # One simulator process for the module (starting one costs seconds on a busy machine);
    # each test gets its own hardware in it (``hw``) and finds the cable plugged, slots empty.
    running = start_sim(tmp_path_factory.mktemp("desk"))
    yield running
    assert running.stop() == 0, running.process.output()


@pytest.fixture
def sim(running_sim: Sim) -> Sim:
    desk = running_sim.control.state()["desk"]
    running_sim.pty = desk["pty"] or running_sim.control.replug()
    for slot, held in desk["slots"].items():
        if held is not None:
            running_sim.control.remove(slot)
    return running_sim


PIN = "4711"
PRIVATE = Ed25519PrivateKey.generate()


@dataclass
class Hardware:
    """One test's keys and cylinders in the shared simulator (UIDs unique per test)."""

    pkey: str
    e1: str
    e2: str
    e3: str
    c1: str
    c2: str


@pytest.fixture
def hw(sim: Sim) -> Hardware:
    n = uuid.uuid4().hex[:6].upper()
    made = Hardware(f"P-{n}", f"E1-{n}", f"E2-{n}", f"E3-{n}", f"C1-{n}", f"C2-{n}")
    raw = PRIVATE.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    sim.control.add_programming_key(made.pkey, "PR-0001", raw, PIN)
    sim.control.add_user_key(uid=made.e1, keyType="E1", generation=2, firmware="12.0.0")
    sim.control.add_user_key(uid=made.e2, keyType="E2", generation=2, firmware="12.0.0")
    sim.control.add_user_key(uid=made.e3, keyType="E3", generation=2, firmware="12.0.0")
    sim.control.add_cylinder(uid=made.c1, marking="Main door")
    sim.control.add_cylinder(uid=made.c2, marking="Server room", accessGroups=[7])
    return made


def job(job_id: str, cylinder: str, key_uid: str) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "cylinderUid": cylinder,
        "fullReprogram": False,
        "changes": [{"op": "ADD", "keyUid": key_uid, "groupId": None}],
        "accessList": None,
    }


def validity(**overrides: Any) -> dict[str, Any]:
    return {
        "alwaysValid": True, "validFrom": None, "validUntil": None,
        "extensionIntervalHours": None, "blocked": False, **overrides,
    }


# --- the device and its slots --------------------------------------------------------------


def test_the_desk_reports_itself_and_the_keys_put_into_its_slots(sim: Sim, hw: Hardware) -> None:
    with sim.client() as desk:
        info = desk.info()
        assert info["protocolVersion"] == 1
        assert info["slots"] == ["left", "right"]
        assert info["serial"] == "DPD-SIM-0001"
        assert desk.slots() == {"left": None, "right": None}
        # when: the person at the desk puts in a programming key and a user key, then pulls one
        sim.control.insert("left", hw.pkey)
        sim.control.insert("right", hw.e2)
        sim.control.remove("right")
        # then
        events = [desk.next_event(2) for _ in range(3)]
        assert [(e["event"], e["slot"], e["uid"], e["kind"]) for e in events if e] == [
            ("KEY_INSERTED", "left", hw.pkey, "PROGRAMMING"),
            ("KEY_INSERTED", "right", hw.e2, "USER"),
            ("KEY_REMOVED", "right", hw.e2, "USER"),
        ]
        assert desk.slots()["left"] == {"kind": "PROGRAMMING", "uid": hw.pkey, "marking": "PR-0001"}
        key = desk.read_key("left")
        assert (key["kind"], key["marking"], key["jobs"]) == ("PROGRAMMING", "PR-0001", 0)
        with pytest.raises(DeskError) as empty:
            desk.read_key("right")
        assert empty.value.code == "NO_KEY"


def test_a_client_speaking_another_protocol_version_is_refused(sim: Sim) -> None:
    with pytest.raises(VersionMismatch) as refused:
        sim.client(versions=(2, 2))
    assert refused.value.code == "UNSUPPORTED"
    with sim.client() as desk:  # and the device still serves a client that fits
        assert desk.info()["protocolVersion"] == 1


# --- login with the programming key (R5) ------------------------------------------------------


def test_the_programming_key_signs_a_login_only_with_its_pin_and_locks_after_three_wrong(
    sim: Sim, hw: Hardware
) -> None:
    sim.control.insert("left", hw.pkey)
    message = login_message("tenant-1", "nonce-1")
    with sim.client() as desk:
        signature = desk.sign_login("left", PIN, message)
        Ed25519PublicKey.verify(PRIVATE.public_key(), signature, message)
        tries = []
        for _ in range(2):
            with pytest.raises(DeskError) as wrong:
                desk.sign_login("left", "0000", message)
            tries.append((wrong.value.code, wrong.value.details["remainingTries"]))
        assert tries == [("WRONG_PIN", 2), ("WRONG_PIN", 1)]
        with pytest.raises(DeskError) as locked:
            desk.sign_login("left", "0000", message)
        assert locked.value.code == "KEY_LOCKED"
        with pytest.raises(DeskError) as still_locked:
            desk.sign_login("left", PIN, message)
        assert still_locked.value.code == "KEY_LOCKED"
        # the PUK (the simulator's unlock) frees it
        sim.control.unlock(hw.pkey)
        assert len(desk.sign_login("left", PIN, message)) == 64
        sim.control.insert("right", hw.e2)
        with pytest.raises(DeskError) as not_programming:
            desk.sign_login("right", PIN, message)
        assert not_programming.value.code == "NO_KEY"


# --- programming jobs (R15, R17) ---------------------------------------------------------------


def test_jobs_loaded_at_the_desk_are_carried_out_on_site_and_their_results_read_back(
    sim: Sim, hw: Hardware
) -> None:
    sim.control.insert("left", hw.pkey)
    with sim.client() as desk:
        # given: two jobs loaded onto the programming key (a load replaces what the key held)
        assert desk.write_jobs("left", [job("J-1", hw.c1, hw.e2)]) == 1
        assert desk.write_jobs("left", [job("J-1", hw.c1, hw.e2), job("J-2", hw.c2, hw.e2)]) == 2
        # when: the key is carried to the first cylinder only
        sim.control.remove("left")
        results = sim.control.visit(hw.c1, hw.pkey)
        sim.control.insert("left", hw.pkey)
        # then: one result on the key, one job still to do
        assert [(r["jobId"], r["outcome"]) for r in results] == [("J-1", "DONE")]
        read = desk.read_results("left")
        assert [(r["jobId"], r["outcome"]) for r in read] == [("J-1", "DONE")]
        assert desk.read_key("left")["jobs"] == 1
        desk.clear_results("left", ["J-1"])
        assert desk.read_results("left") == []
    state = sim.control.state()
    cylinder = next(c for c in state["cylinders"] if c["uid"] == hw.c1)
    assert cylinder["accessKeys"] == [hw.e2]


def test_a_visit_needs_the_key_out_of_the_desk(sim: Sim, hw: Hardware) -> None:
    sim.control.insert("left", hw.pkey)
    with pytest.raises(ControlError) as refused:
        sim.control.visit(hw.c1, hw.pkey)
    assert "remove it first" in refused.value.message


# --- user keys: memory, audit trail (R10, R12–R14, R18, R28) -------------------------------------


def test_an_e3_key_written_at_the_desk_opens_by_its_group_and_an_e1_key_refuses_a_clock(
    sim: Sim, hw: Hardware
) -> None:
    sim.control.insert("left", hw.e3)
    sim.control.insert("right", hw.e1)
    now = datetime.now(UTC).replace(microsecond=0)
    until = (now + timedelta(days=30)).isoformat()
    with sim.client() as desk:
        written = desk.write_key(
            "left",
            validity=validity(alwaysValid=False, validUntil=until, extensionIntervalHours=48),
            schedule={"scheduleId": 3, "windows": ALWAYS},
            key_memory={"keyGroups": [7], "cylinderGroups": []},
            revalidated_at=now.isoformat(),
        )
        assert written["validity"]["extensionIntervalHours"] == 48
        assert written["schedule"]["scheduleId"] == 3
        assert written["keyMemory"] == {"keyGroups": [7], "cylinderGroups": []}
        assert desk.read_key("left") == written
        with pytest.raises(DeskError) as e1:
            desk.write_key(
                "right", validity=validity(alwaysValid=False, validUntil=until), schedule=None,
                key_memory=None, revalidated_at=None,
            )
        assert e1.value.code == "UNSUPPORTED"
        with pytest.raises(DeskError) as e1_trail:
            desk.read_audit_trail("right")
        assert e1_trail.value.code == "UNSUPPORTED"
        with pytest.raises(DeskError) as too_many:
            desk.write_key(
                "left", validity=None, schedule=None,
                key_memory={"keyGroups": list(range(100)), "cylinderGroups": []},
                revalidated_at=None,
            )
        assert too_many.value.code == "MEMORY_FULL"
        assert desk.read_key("left")["keyMemory"] == {"keyGroups": [7], "cylinderGroups": []}
    sim.control.remove("left")
    assert sim.control.try_open(hw.c2, hw.e3)["reason"] == "GRANTED"
    assert sim.control.try_open(hw.c1, hw.e3)["reason"] == "DENIED_NOT_AUTHORIZED"


def test_an_e2_keys_audit_trail_is_read_at_the_desk(sim: Sim, hw: Hardware) -> None:
    door = f"C3-{hw.e2}"
    sim.control.add_cylinder(uid=door, accessKeys=[hw.e2])
    sim.control.insert("left", hw.e2)
    with sim.client() as desk:
        desk.write_key("left", validity=validity(), schedule={"scheduleId": 1, "windows": ALWAYS},
                       key_memory=None, revalidated_at=None)
        sim.control.remove("left")
        at = "2030-01-07T10:00:00Z"
        assert sim.control.try_open(door, hw.e2, at=at)["opened"] is True
        assert sim.control.try_open(hw.c1, hw.e2, at=at)["opened"] is False
        sim.control.insert("left", hw.e2)
        trail = desk.read_audit_trail("left")
    assert [(e["cylinderUid"], e["result"]) for e in trail] == [
        (door, "GRANTED"), (hw.c1, "DENIED_NOT_AUTHORIZED")
    ]


# --- the cable pulled (R26, issue 5 story "cable unplugged mid-write") -------------------------


def test_firmware_update_resumes_after_the_cable_is_pulled_mid_transfer(
    sim: Sim, hw: Hardware
) -> None:
    sim.control.insert("left", hw.e2)
    image = bytes(range(256)) * 64  # 16 KiB: 32 chunks
    seen: list[int] = []

    def pull_cable_at_forty_percent(offset: int, size: int) -> None:
        seen.append(offset)
        if offset >= size * 0.4:
            sim.control.unplug()

    desk = sim.client()
    with pytest.raises(LinkError):
        desk.update_firmware("left", "12.1.0", image, pull_cable_at_forty_percent)
    desk.close()
    reached = max(seen)
    assert 0 < reached < len(image)
    # plugged back in (a new port path): the key held on to what it had received
    pty = sim.control.replug()
    resumed: list[int] = []
    with DeskClient.open(pty, timeout=link_timeout()) as desk:
        version = desk.update_firmware("left", "12.1.0", image, lambda o, s: resumed.append(o))
        assert version == "12.1.0"
        assert desk.read_key("left")["firmwareVersion"] == "12.1.0"
    assert resumed[0] == reached  # resumed, not started over
    assert resumed[-1] == len(image)


def test_a_write_cut_off_by_the_cable_leaves_the_key_as_it_was_and_is_applied_once_resent(
    tmp_path: Path,
) -> None:
    # The one paced test: at 115200 baud a 240-job write (36 kB; a programming key holds 250)
    # is on the wire for about three seconds, long enough to pull the cable once under way.
    sim = start_sim(tmp_path, baud=115200)
    try:
        raw = PRIVATE.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
        sim.control.add_programming_key("P-1", "PR-0001", raw, PIN)
        sim.control.insert("left", "P-1")
        jobs = [job(f"J-{i:03d}", f"C-{i % 2 + 1}", f"KEY-{i:04d}") for i in range(240)]
        assert len(json.dumps({"args": {"slot": "left", "jobs": jobs}})) > 30 * 1024
        failure: list[BaseException] = []
        desk = sim.client()
        before = sim.control.state()["desk"]["link"]["frames_received"]

        def write() -> None:
            try:
                desk.write_jobs("left", jobs)
            except BaseException as exc:
                failure.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        # once a few of its frames have arrived, the cable is pulled
        wait_until(
            lambda: sim.control.state()["desk"]["link"]["frames_received"] >= before + 3,
            "the write to be on the wire", details=sim.process.output,
        )
        sim.control.unplug()
        writer.join(timeout=patience(10))
        desk.close()
        assert not writer.is_alive(), "the write did not notice the pulled cable"
        assert failure and isinstance(failure[0], LinkError), failure
        # nothing of the write reached the key, in the device or in its world file
        assert World.load(sim.world).programming_keys["P-1"].jobs == []
        pty = sim.control.replug()
        with DeskClient.open(pty, timeout=link_timeout()) as desk:
            assert desk.read_key("left")["jobs"] == 0
            # sent again in full, it is applied once
            assert desk.write_jobs("left", jobs) == len(jobs)
        assert len(World.load(sim.world).programming_keys["P-1"].jobs) == len(jobs)
    finally:
        assert sim.stop() == 0, sim.process.output()


def test_a_request_sent_again_with_its_id_gets_the_first_answer_and_no_second_effect(
    sim: Sim, hw: Hardware
) -> None:
    sim.control.insert("left", hw.pkey)
    message = base64.b64encode(b"challenge").decode()
    request = {"slot": "left", "pin": "9999", "message": message}
    request_id = f"login-{hw.pkey}"
    with sim.client() as desk, pytest.raises(DeskError) as first:
        desk.call("SIGN_LOGIN", request, request_id=request_id)
    # the cable is pulled before the PC is sure the request got through; it sends it again
    pty = sim.control.replug()
    with DeskClient.open(pty, timeout=link_timeout()) as desk:
        with pytest.raises(DeskError) as again:
            desk.call("SIGN_LOGIN", request, request_id=request_id)
        assert (again.value.code, again.value.details) == (first.value.code, first.value.details)
        assert again.value.details == {"remainingTries": 2}
        with pytest.raises(DeskError) as new_request:
            desk.call("SIGN_LOGIN", request)
        assert new_request.value.details == {"remainingTries": 1}


def test_pulling_the_cable_fails_the_port_and_plugging_it_back_gives_a_working_one(
    sim: Sim, hw: Hardware
) -> None:
    desk = sim.client()
    try:
        sim.control.unplug()
        assert sim.control.state()["desk"]["pty"] is None
        with pytest.raises(LinkError):
            desk.info()
        with pytest.raises(LinkError):
            desk.next_event(0.5)
    finally:
        desk.close()
    pty = sim.control.replug()
    with DeskClient.open(pty, timeout=link_timeout()) as desk:
        sim.control.insert("right", hw.e3)
        event = desk.next_event(patience(2))
        assert event is not None and (event["event"], event["uid"]) == ("KEY_INSERTED", hw.e3)
    assert sim.control.state()["desk"]["pty"] == pty


def test_a_generation_1_key_pulled_out_mid_firmware_update_is_broken(
    sim: Sim, hw: Hardware
) -> None:
    old = f"G1-{hw.e2}"
    sim.control.add_user_key(uid=old, keyType="E2", generation=1, firmware="5.0.0")
    sim.control.insert("left", old)
    with sim.client() as desk:

        def pull_the_key(offset: int, size: int) -> None:
            if offset >= 1024:
                sim.control.remove("left")

        with pytest.raises(DeskError) as gone:
            desk.update_firmware("left", "6.0.0", bytes(4096), pull_the_key)
        assert gone.value.code == "NO_KEY"
        sim.control.insert("left", old)
        key = desk.read_key("left")
        assert key["broken"] is True and key["validity"] is None
