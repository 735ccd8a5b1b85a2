"""The simulator's world model: keys, programming keys and cylinders as hardware (issue 5).

Pure tests: no database, no I/O but the world file in a temporary directory.
"""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hardware.sim.user_key import ALWAYS_WINDOWS
from hardware.sim.world import (
    MAX_ENTRIES,
    Cylinder,
    ProgrammingKey,
    SimError,
    UserKey,
    World,
)
from hardware.wire import login_message

# A Monday, 10:00 UTC.
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALWAYS = {"scheduleId": 1, "windows": [dict(w) for w in ALWAYS_WINDOWS]}
OFFICE_HOURS = {
    "scheduleId": 2,
    "windows": [{"days": ["MONDAY", "TUESDAY"], "start": "08:00", "end": "17:00"}],
}
ALWAYS_VALID = {"alwaysValid": True, "validFrom": None, "validUntil": None,
                "extensionIntervalHours": None, "blocked": False}


def _key(uid: str = "K-1", key_type: str = "E2", generation: int = 2, **memory: Any) -> UserKey:
    firmware = "6.2" if generation == 1 else "16.3.7"
    if key_type != "E1":
        memory.setdefault("validity", ALWAYS_VALID)
        memory.setdefault("schedule", ALWAYS)
    return UserKey(uid, key_type, generation, firmware, **memory)


def _pkey(uid: str = "P-1", pin: str = "2468") -> ProgrammingKey:
    return ProgrammingKey(uid, "PN-1", Ed25519PrivateKey.generate(), pin)


def _job(job_id: str, cylinder_uid: str, changes: list[dict[str, Any]],
         access_list: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "cylinderUid": cylinder_uid,
        "fullReprogram": access_list is not None,
        "changes": changes,
        "accessList": access_list,
    }


def _add(uid: str | None = None, group: int | None = None) -> dict[str, Any]:
    return {"op": "ADD", "keyUid": uid, "groupId": group}


def _remove(uid: str | None = None, group: int | None = None) -> dict[str, Any]:
    return {"op": "REMOVE", "keyUid": uid, "groupId": group}


def _refused(code: str, call: Any, *args: Any, **kwargs: Any) -> SimError:
    with pytest.raises(SimError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


# --- access decisions (R11–R14, R19) ------------------------------------------------------


def test_key_on_access_list_opens_and_both_trails_note_it() -> None:
    key = _key()
    cylinder = Cylinder("C-1", access_keys={"K-1"})

    decision = cylinder.try_open(key, MONDAY)

    assert decision.opened and decision.reason == "GRANTED"
    assert cylinder.read_audit_trail() == [
        {"at": "2026-03-02T10:00:00Z", "keyUid": "K-1", "result": "GRANTED"}
    ]
    assert key.read_audit_trail() == [
        {"at": "2026-03-02T10:00:00Z", "cylinderUid": "C-1", "result": "GRANTED"}
    ]


def test_key_not_on_access_list_is_refused_not_authorized() -> None:
    decision = Cylinder("C-1", access_keys={"OTHER"}).try_open(_key(), MONDAY)
    assert (decision.opened, decision.reason) == (False, "DENIED_NOT_AUTHORIZED")


def test_e3_key_opens_through_key_group_or_cylinder_group_in_its_memory() -> None:
    # R13: a key group authorised on the cylinder, or a cylinder group the cylinder is in.
    key = _key(key_type="E3", key_memory={"keyGroups": [7], "cylinderGroups": [40]})
    assert Cylinder("C-1", access_groups={7}).try_open(key, MONDAY).opened
    assert Cylinder("C-2", cylinder_groups={40}).try_open(key, MONDAY).opened
    refused = Cylinder("C-3", access_groups={8}, cylinder_groups={41}).try_open(key, MONDAY)
    assert refused.reason == "DENIED_NOT_AUTHORIZED"


def test_blocking_list_refuses_an_authorized_key() -> None:
    # R19: a lost key on the cylinder's blocking list opens nothing, access list or not.
    cylinder = Cylinder("C-1", access_keys={"K-1"}, blocking_list={"K-1"})
    assert cylinder.try_open(_key(), MONDAY).reason == "DENIED_BLOCKED"


def test_key_blocked_in_its_own_memory_is_refused() -> None:
    # R18: a VALIDITY job with blocked=true blocks the key itself.
    key = _key(validity={**ALWAYS_VALID, "blocked": True})
    assert Cylinder("C-1", access_keys={"K-1"}).try_open(key, MONDAY).reason == "DENIED_BLOCKED"


def test_validity_starts_at_valid_from_and_ends_at_valid_until() -> None:
    # R12: validFrom <= at < validUntil (the server caps extensions the same way).
    key = _key(validity={"alwaysValid": False, "validFrom": "2026-03-02T08:00:00Z",
                         "validUntil": "2026-03-02T12:00:00+00:00",
                         "extensionIntervalHours": None, "blocked": False})
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    end = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    assert cylinder.try_open(key, start - timedelta(seconds=1)).reason == "DENIED_EXPIRED"
    assert cylinder.try_open(key, start).opened
    assert cylinder.try_open(key, end - timedelta(seconds=1)).opened
    assert cylinder.try_open(key, end).reason == "DENIED_EXPIRED"
    assert key.validity is not None and key.validity["validUntil"] == "2026-03-02T12:00:00Z"


def test_schedule_window_includes_its_end_minute() -> None:
    # R12: 08:00–17:00 on Monday and Tuesday; 17:00:59 is still in, 17:01 is out.
    key = _key(schedule=OFFICE_HOURS)
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    monday = datetime(2026, 3, 2, tzinfo=UTC)

    assert cylinder.try_open(key, monday.replace(hour=7, minute=59, second=59)).reason == (
        "DENIED_SCHEDULE"
    )
    assert cylinder.try_open(key, monday.replace(hour=8)).opened
    assert cylinder.try_open(key, monday.replace(hour=17, second=59)).opened
    assert cylinder.try_open(key, monday.replace(hour=17, minute=1)).reason == "DENIED_SCHEDULE"
    wednesday = monday + timedelta(days=2, hours=10)
    assert cylinder.try_open(key, wednesday).reason == "DENIED_SCHEDULE"


def test_always_schedule_opens_around_the_clock_all_week() -> None:
    # R12: "Always" is Sunday 00:00 to Saturday 23:59, the last minute included.
    key = _key()
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    saturday_night = datetime(2026, 3, 7, 23, 59, 59, tzinfo=UTC)
    sunday_midnight = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    assert cylinder.try_open(key, saturday_night).opened
    assert cylinder.try_open(key, sunday_midnight).opened


def test_e3_key_stops_opening_when_its_revalidation_interval_has_run_out() -> None:
    # R14: last revalidation + extensionIntervalHours, inclusive; never revalidated: expired.
    validity = {**ALWAYS_VALID, "extensionIntervalHours": 24}
    never = _key("K-2", key_type="E3", validity=validity)
    key = _key(key_type="E3", validity=validity, last_revalidated_at=MONDAY)
    cylinder = Cylinder("C-1", access_keys={"K-1", "K-2"})

    assert cylinder.try_open(never, MONDAY).reason == "DENIED_EXPIRED"
    assert cylinder.try_open(key, MONDAY + timedelta(hours=24)).opened
    late = MONDAY + timedelta(hours=24, seconds=1)
    assert cylinder.try_open(key, late).reason == "DENIED_EXPIRED"

    key.write(revalidated_at="2026-03-03T10:00:00Z")
    assert cylinder.try_open(key, late).opened


def test_with_flexible_extensions_a_cylinder_with_its_own_shorter_end_refuses_after_it() -> None:
    # R14: the key is revalidated for 72 h, but C-LAB, reached through a profile of 8 h,
    # carries its own end in the key's memory; other cylinders keep the key's 72 h.
    validity = {**ALWAYS_VALID, "extensionIntervalHours": 72}
    key = _key(key_type="E3", validity=validity, last_revalidated_at=MONDAY)
    key.write(key_memory={
        "keyGroups": [], "cylinderGroups": [],
        "cylinderValidity": [{"cylinderUid": "C-LAB", "validUntil": "2026-03-02T18:00:00Z"}],
    })
    lab, hall = Cylinder("C-LAB", access_keys={"K-1"}), Cylinder("C-HALL", access_keys={"K-1"})

    assert lab.try_open(key, MONDAY + timedelta(hours=7)).opened
    assert lab.try_open(key, MONDAY + timedelta(hours=9)).reason == "DENIED_EXPIRED"
    assert hall.try_open(key, MONDAY + timedelta(hours=9)).opened
    assert key.describe()["keyMemory"]["cylinderValidity"] == [
        {"cylinderUid": "C-LAB", "validUntil": "2026-03-02T18:00:00Z"}
    ]
    _refused("BAD_REQUEST", key.write, key_memory={"cylinderValidity": [{"cylinderUid": 7}]})


def test_blocked_comes_before_expired_and_schedule_before_access_list() -> None:
    # The order the server's rules are checked in decides which refusal is noted.
    key = _key(validity={"alwaysValid": False, "validFrom": None,
                         "validUntil": "2026-01-01T00:00:00Z",
                         "extensionIntervalHours": None, "blocked": False},
               schedule=OFFICE_HOURS)
    assert Cylinder("C-1", blocking_list={"K-1"}).try_open(key, MONDAY).reason == (
        "DENIED_BLOCKED"
    )
    assert Cylinder("C-2").try_open(key, MONDAY).reason == "DENIED_EXPIRED"
    sunday = datetime(2026, 3, 8, 10, tzinfo=UTC)
    key.write(validity=ALWAYS_VALID)
    assert Cylinder("C-3").try_open(key, sunday).reason == "DENIED_SCHEDULE"


def test_e2_key_without_validity_or_schedule_opens_nothing() -> None:
    # R12: a key works only with both a validity and a schedule.
    cylinder = Cylinder("C-1", access_keys={"K-1", "K-2"})
    no_validity = UserKey("K-1", "E2", 2, "16.0", schedule=ALWAYS)
    no_schedule = UserKey("K-2", "E2", 2, "16.0", validity=ALWAYS_VALID)
    assert cylinder.try_open(no_validity, MONDAY).reason == "DENIED_EXPIRED"
    assert cylinder.try_open(no_schedule, MONDAY).reason == "DENIED_SCHEDULE"


def test_e1_key_has_no_clock_validity_schedule_or_trail() -> None:
    # R10: E1 keys are always valid with "Always"; what they cannot hold is refused.
    key = _key(key_type="E1", generation=1)
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    assert cylinder.try_open(key, datetime(2026, 3, 8, 3, 0, tzinfo=UTC)).opened

    key.write(validity=ALWAYS_VALID, schedule=ALWAYS)  # what it is anyway: accepted
    dated = {**ALWAYS_VALID, "alwaysValid": False, "validUntil": "2027-01-01T00:00:00Z"}
    _refused("UNSUPPORTED", key.write, validity=dated)
    _refused("UNSUPPORTED", key.write, schedule=OFFICE_HOURS)
    _refused("UNSUPPORTED", key.write, key_memory={"keyGroups": [1], "cylinderGroups": []})
    _refused("UNSUPPORTED", key.write, revalidated_at="2026-03-02T10:00:00Z")
    _refused("UNSUPPORTED", key.read_audit_trail)
    assert key.validity is None and key.schedule is None and not key.audit_trail
    assert cylinder.read_audit_trail()[0]["keyUid"] == "K-1"  # the cylinder still notes it


def test_e2_key_refuses_key_groups_and_an_extension_interval() -> None:
    # R10, R13, R14: key groups and revalidation are E3 functions.
    key = _key()
    _refused("UNSUPPORTED", key.write, key_memory={"keyGroups": [1], "cylinderGroups": []})
    _refused("UNSUPPORTED", key.write, validity={**ALWAYS_VALID, "extensionIntervalHours": 24})


def test_writing_a_key_is_all_or_nothing() -> None:
    key = _key()
    bad_schedule = {"scheduleId": 3, "windows": [{"days": ["MONDAY"], "start": "18:00",
                                                   "end": "08:00"}]}
    new_validity = {**ALWAYS_VALID, "alwaysValid": False, "validUntil": "2027-01-01T00:00:00Z"}
    error = _refused("BAD_REQUEST", key.write, validity=new_validity, schedule=bad_schedule)
    assert "start must be before end" in error.message
    assert key.validity == ALWAYS_VALID and key.schedule == ALWAYS


def test_naive_times_are_refused() -> None:
    _refused("BAD_REQUEST", Cylinder("C-1").try_open, _key(), datetime(2026, 3, 2, 10, 0))


# --- audit trails (R11, R28) --------------------------------------------------------------


def test_cylinder_trail_keeps_the_last_1000_events_oldest_overwritten() -> None:
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    key = _key()
    for i in range(1005):
        cylinder.try_open(key, MONDAY + timedelta(seconds=i))
    trail = cylinder.read_audit_trail()
    assert len(trail) == 1000
    assert trail[0]["at"] == "2026-03-02T10:00:05Z"
    assert trail[-1]["at"] == "2026-03-02T10:16:44Z"


def test_refused_foreign_keys_are_kept_apart_the_last_100() -> None:
    # R11: 1,000 events plus the last 100 refused foreign keys.
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    own = _key()
    foreign = UserKey("F-1", "E1", 2, "11.0", system="neighbours")
    for i in range(150):
        decision = cylinder.try_open(foreign, MONDAY + timedelta(seconds=i))
        assert decision.reason == "DENIED_NOT_AUTHORIZED"
    cylinder.try_open(own, MONDAY + timedelta(minutes=10))

    assert len(cylinder.foreign_trail) == 100
    assert cylinder.foreign_trail[0]["at"] == "2026-03-02T10:00:50Z"
    assert [e["keyUid"] for e in cylinder.audit_trail] == ["K-1"]
    assert len(cylinder.read_audit_trail()) == 101


def test_key_trail_overwrites_its_oldest_event_when_full() -> None:
    # A generation-1 E2 key holds 1,000 events (the simulator's documented capacity).
    key = _key(generation=1)
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    for i in range(1001):
        cylinder.try_open(key, MONDAY + timedelta(seconds=i))
    trail = key.read_audit_trail()
    assert len(trail) == key.capacity.audit_events == 1000
    assert trail[0]["at"] == "2026-03-02T10:00:01Z"


# --- programming visits (R15, R17) --------------------------------------------------------


def test_visit_reads_the_trail_out_then_adds_and_removes() -> None:
    world = World()
    old = world.add_user_key(_key("K-OLD"))
    new = world.add_user_key(_key("K-NEW", key_type="E3"))
    cylinder = world.add_cylinder(Cylinder("C-1", access_keys={"K-OLD"}))
    pkey = world.add_programming_key(_pkey())
    world.try_open("C-1", "K-OLD", MONDAY)
    pkey.load_jobs([
        _job("J-1", "C-1", [_add("K-NEW"), _remove("K-OLD"), _add(group=7)]),
        _job("J-2", "C-9", [_add("K-NEW")]),
    ])

    results = world.visit("C-1", "P-1", MONDAY + timedelta(hours=1))

    assert results == [{
        "jobId": "J-1",
        "outcome": "DONE",
        "auditEvents": [{"at": "2026-03-02T10:00:00Z", "keyUid": "K-OLD", "result": "GRANTED"}],
    }]
    assert pkey.read_results() == results
    assert [j["jobId"] for j in pkey.jobs] == ["J-2"]  # the other cylinder's job stays
    assert cylinder.access_keys == {"K-NEW"} and cylinder.access_groups == {7}
    assert cylinder.read_audit_trail() == []  # R15: reprogramming erased it, after the readout
    assert not cylinder.try_open(old, MONDAY).opened
    assert cylinder.try_open(new, MONDAY).opened


def test_visit_with_full_reprogramming_replaces_the_access_list() -> None:
    # R15, R32: a full reprogramming writes the whole desired list.
    world = World()
    cylinder = world.add_cylinder(
        Cylinder("C-1", access_keys={"K-A", "K-B"}, access_groups={1, 2})
    )
    pkey = world.add_programming_key(_pkey())
    pkey.load_jobs([_job("J-1", "C-1", [], access_list=[_add("K-B"), _add("K-C"),
                                                        _add(group=3)])])

    [result] = world.visit("C-1", "P-1", MONDAY)

    assert result["outcome"] == "DONE"
    assert cylinder.access_keys == {"K-B", "K-C"} and cylinder.access_groups == {3}


def test_key_pulled_too_early_aborts_the_job_with_a_half_written_cylinder() -> None:
    # R15: the job under way is ABORTED; the cylinder holds only what was written.
    world = World()
    cylinder = world.add_cylinder(Cylinder("C-1", access_keys={"K-A"}))
    world.add_user_key(_key("K-A"))
    pkey = world.add_programming_key(_pkey())
    world.try_open("C-1", "K-A", MONDAY)
    pkey.load_jobs([
        _job("J-1", "C-1", [_add("K-B"), _remove("K-A"), _add("K-C")]),
        _job("J-2", "C-1", [_add("K-D")]),
    ])

    results = world.visit("C-1", "P-1", MONDAY, pull_after=1)

    assert [(r["jobId"], r["outcome"]) for r in results] == [("J-1", "ABORTED")]
    assert results[0]["auditEvents"][0]["keyUid"] == "K-A"  # read out before writing
    assert cylinder.access_keys == {"K-A", "K-B"}
    assert [j["jobId"] for j in pkey.jobs] == ["J-2"]  # never started: still on the key


def test_full_reprogramming_pulled_early_leaves_a_partly_filled_list() -> None:
    world = World()
    cylinder = world.add_cylinder(Cylinder("C-1", access_keys={"K-A", "K-B"}))
    world.add_programming_key(_pkey()).load_jobs(
        [_job("J-1", "C-1", [], access_list=[_add("K-A"), _add("K-B"), _add("K-C")])]
    )
    [result] = world.visit("C-1", "P-1", MONDAY, pull_after=2)  # cleared, then one line
    assert result["outcome"] == "ABORTED"
    assert cylinder.access_keys == {"K-A"}


def test_key_pulled_right_after_a_job_leaves_the_next_one_on_the_key() -> None:
    world = World()
    cylinder = world.add_cylinder(Cylinder("C-1"))
    pkey = world.add_programming_key(_pkey())
    pkey.load_jobs([_job("J-1", "C-1", [_add("K-A")]), _job("J-2", "C-1", [_add("K-B")])])
    results = world.visit("C-1", "P-1", MONDAY, pull_after=1)
    assert [(r["jobId"], r["outcome"]) for r in results] == [("J-1", "DONE")]
    assert cylinder.access_keys == {"K-A"} and [j["jobId"] for j in pkey.jobs] == ["J-2"]


def test_job_that_would_exceed_200_key_groups_fails_without_writing() -> None:
    # R11: at most 200 key groups per cylinder; the cylinder refuses the whole job.
    world = World()
    cylinder = world.add_cylinder(Cylinder("C-1", access_groups=set(range(199))))
    world.add_user_key(_key("K-A"))
    world.try_open("C-1", "K-A", MONDAY)
    world.add_programming_key(_pkey()).load_jobs(
        [_job("J-1", "C-1", [_add("K-NEW"), _add(group=500), _add(group=501)])]
    )
    [result] = world.visit("C-1", "P-1", MONDAY)
    assert result["outcome"] == "FAILED"
    assert len(result["auditEvents"]) == 1
    assert cylinder.access_groups == set(range(199)) and cylinder.access_keys == set()
    assert len(cylinder.read_audit_trail()) == 1  # nothing was reprogrammed, nothing erased


def test_loading_jobs_puts_exactly_those_on_the_key_but_not_jobs_carried_out() -> None:
    world = World()
    world.add_cylinder(Cylinder("C-1"))
    pkey = world.add_programming_key(_pkey())
    assert pkey.load_jobs([_job("J-1", "C-1", [_add("K-A")])]) == 1
    world.visit("C-1", "P-1", MONDAY)
    # The server sends every job still ON_KEY again: J-1 waits as a result, not as a job.
    on_key = pkey.load_jobs([_job("J-1", "C-1", [_add("K-A")]), _job("J-2", "C-2", [])])
    assert on_key == 1
    assert pkey.load_jobs([_job("J-3", "C-3", [_remove("K-A")])]) == 1
    assert [(j["jobId"], j["changes"]) for j in pkey.jobs] == [("J-3", [_remove("K-A")])]

    pkey.clear_results(["J-1", "J-unknown"])
    assert pkey.read_results() == []


def test_malformed_jobs_are_refused_whole_naming_the_part() -> None:
    pkey = _pkey()
    error = _refused("BAD_REQUEST", pkey.load_jobs, [
        _job("J-1", "C-1", [_add("K-A")]),
        _job("J-2", "C-1", [{"op": "ADD", "keyUid": "K-A", "groupId": 4}]),
    ])
    assert "jobs.1.changes.0" in error.message
    _refused("BAD_REQUEST", pkey.load_jobs, [{**_job("J-3", "C-1", []), "fullReprogram": True}])
    assert pkey.jobs == []


def test_programming_key_memory_refuses_more_jobs_and_results_than_it_holds() -> None:
    world = World()
    world.add_cylinder(Cylinder("C-0"))
    pkey = world.add_programming_key(_pkey())
    jobs = [_job(f"J-{i}", f"C-{i}", []) for i in range(MAX_ENTRIES)]
    assert pkey.load_jobs(jobs) == MAX_ENTRIES
    _refused("MEMORY_FULL", pkey.load_jobs, [*jobs, _job("J-extra", "C-1", [])])
    assert len(pkey.jobs) == MAX_ENTRIES

    world.visit("C-0", "P-1", MONDAY)  # one job became a result waiting to be reported
    _refused("MEMORY_FULL", pkey.load_jobs, [*jobs[1:], _job("J-extra", "C-1", [])])
    assert pkey.load_jobs(jobs[1:]) == MAX_ENTRIES - 1
    assert pkey.describe()["memory"] == {"used": MAX_ENTRIES, "capacity": MAX_ENTRIES}


# --- programming key PIN and login (R5) ---------------------------------------------------


def test_programming_key_signs_a_login_challenge_verifiable_with_its_public_key() -> None:
    pkey = _pkey()
    message = login_message("tenant-1", "nonce-abc")
    signature = pkey.sign(message, "2468")
    Ed25519PublicKey.from_public_bytes(pkey.public_key).verify(signature, message)


def test_three_wrong_pins_lock_the_programming_key_until_unlocked() -> None:
    pkey = _pkey()
    message = login_message("tenant-1", "nonce")
    assert _refused("WRONG_PIN", pkey.sign, message, "0000").details == {"remainingTries": 2}
    assert _refused("WRONG_PIN", pkey.sign, message, "1111").details == {"remainingTries": 1}
    _refused("KEY_LOCKED", pkey.sign, message, "2222")
    _refused("KEY_LOCKED", pkey.sign, message, "2468")  # even the right PIN now

    pkey.unlock()
    assert pkey.sign(message, "2468")
    assert pkey.wrong_pins == 0


def test_a_right_pin_resets_the_wrong_pin_count() -> None:
    pkey = _pkey()
    message = login_message("tenant-1", "nonce")
    for _ in range(2):
        _refused("WRONG_PIN", pkey.sign, message, "0000")
    pkey.sign(message, "2468")
    assert _refused("WRONG_PIN", pkey.sign, message, "0000").details == {"remainingTries": 2}


# --- memory limits ------------------------------------------------------------------------


def test_e3_key_memory_holds_a_limited_number_of_group_slots() -> None:
    # R13: each key group and cylinder group takes one slot (16 on a generation-1 E3 key).
    key = _key(key_type="E3", generation=1)
    key.write(key_memory={"keyGroups": list(range(10)), "cylinderGroups": list(range(6))})
    assert key.memory_usage()["used"] == 16
    error = _refused("MEMORY_FULL", key.write,
                     key_memory={"keyGroups": list(range(10)), "cylinderGroups": list(range(7))})
    assert "16 slots" in error.message
    assert key.groups() == (set(range(10)), set(range(6)))


def test_cylinder_blocking_list_holds_at_most_3000_keys() -> None:
    # R11.
    cylinder = Cylinder("C-1")
    cylinder.set_blocking_list(f"K-{i}" for i in range(3000))
    _refused("MEMORY_FULL", cylinder.set_blocking_list, [f"K-{i}" for i in range(3001)])
    assert len(cylinder.blocking_list) == 3000


# --- firmware (R26) -----------------------------------------------------------------------


def test_generation_1_key_interrupted_during_firmware_update_is_broken() -> None:
    key = _key(key_type="E2", generation=1)
    cylinder = Cylinder("C-1", access_keys={"K-1"})
    cylinder.try_open(key, MONDAY)
    assert key.begin_firmware("6.3", 1000) == 0
    key.write_firmware_chunk(0, b"x" * 400)

    assert key.interrupt_firmware()

    described = key.describe()
    assert described["broken"] and described["uid"] == "K-1"
    assert described["validity"] is None and described["schedule"] is None
    _refused("UNSUPPORTED", key.write, validity=ALWAYS_VALID)
    _refused("UNSUPPORTED", key.read_audit_trail)
    _refused("UNSUPPORTED", key.begin_firmware, "6.3", 1000)
    assert cylinder.try_open(key, MONDAY).reason == "DENIED_NOT_AUTHORIZED"


def test_generation_2_key_interrupted_keeps_identity_loses_rights_and_resumes() -> None:
    key = _key(key_type="E3", key_memory={"keyGroups": [1], "cylinderGroups": []})
    cylinder = Cylinder("C-1", access_groups={1})
    image = bytes(range(256)) * 4
    digest = hashlib.sha256(image).hexdigest()
    assert key.begin_firmware("17.0.1", len(image), digest) == 0
    assert key.write_firmware_chunk(0, image[:300]) == 300

    assert key.interrupt_firmware()

    assert not key.broken and key.describe()["uid"] == "K-1"
    assert cylinder.try_open(key, MONDAY).reason == "DENIED_EXPIRED"  # rights lost
    assert key.begin_firmware("17.0.1", len(image), digest) == 300  # the key reports its offset
    error = _refused("BAD_REQUEST", key.write_firmware_chunk, 0, image[:300])
    assert error.details == {"offset": 300}
    key.write_firmware_chunk(300, image[300:])
    assert key.finish_firmware() == "17.0.1"
    assert key.firmware == "17.0.1" and key.firmware_update_offset is None

    # R26: the same insertion writes time and rights back.
    key.write(validity=ALWAYS_VALID, schedule=ALWAYS,
              key_memory={"keyGroups": [1], "cylinderGroups": []})
    assert cylinder.try_open(key, MONDAY).opened


def test_firmware_of_the_other_generation_or_too_large_is_refused() -> None:
    # R10: generation 1 runs up to 6.x, generation 2 10.x and up.
    gen1 = _key(generation=1)
    gen2 = _key("K-2")
    _refused("UNSUPPORTED", gen1.begin_firmware, "12.0", 100)
    _refused("UNSUPPORTED", gen2.begin_firmware, "6.5", 100)
    _refused("MEMORY_FULL", gen1.begin_firmware, "6.5", gen1.capacity.firmware_bytes + 1)
    gen2.begin_firmware("17.0", 10)
    _refused("BAD_REQUEST", gen2.finish_firmware)  # not all bytes yet
    assert not _key("K-3").interrupt_firmware()  # no update running: nothing happens


def test_an_image_that_does_not_match_its_digest_is_thrown_away() -> None:
    key = _key()
    image = b"firmware" * 10
    key.begin_firmware("17.1", len(image), hashlib.sha256(b"other").hexdigest())
    key.write_firmware_chunk(0, image)
    assert _refused("BAD_REQUEST", key.finish_firmware).details == {"offset": 0}
    assert key.firmware == "16.3.7" and key.firmware_update_offset is None
    # Another image of the same version and size starts from scratch.
    assert key.begin_firmware("17.1", len(image), hashlib.sha256(image).hexdigest()) == 0


# --- persistence --------------------------------------------------------------------------


def test_world_round_trips_through_its_file_private_to_its_owner(tmp_path: Path) -> None:
    world = World()
    world.add_user_key(_key("K-1", key_type="E3", validity={**ALWAYS_VALID,
                                                           "extensionIntervalHours": 48},
                            last_revalidated_at=MONDAY,
                            key_memory={"keyGroups": [3], "cylinderGroups": [9]}))
    world.add_user_key(_key("K-E1", key_type="E1"))
    broken = world.add_user_key(_key("K-BROKEN", generation=1))
    broken.begin_firmware("6.1", 10)
    broken.interrupt_firmware()
    resuming = world.add_user_key(_key("K-RESUME"))
    resuming.begin_firmware("17.2", 10)
    resuming.write_firmware_chunk(0, b"\x00\xff\x10")
    world.add_cylinder(Cylinder("C-1", access_keys={"K-1"}, access_groups={3},
                                cylinder_groups={9}, blocking_list={"K-LOST"},
                                security_relevant=True, marking="Server room"))
    pkey = world.add_programming_key(_pkey())
    pkey.load_jobs([_job("J-1", "C-1", [_add("K-E1")]), _job("J-2", "C-2", [_remove("K-1")])])
    world.try_open("C-1", "K-1", MONDAY)
    world.add_user_key(UserKey("F-1", "E2", 2, "11.0", system="elsewhere"))
    world.try_open("C-1", "F-1", MONDAY)
    world.visit("C-1", "P-1", MONDAY)
    world.try_open("C-1", "K-E1", MONDAY)
    _refused("WRONG_PIN", pkey.sign, b"x", "0")
    path = tmp_path / "sim" / "world.json"

    world.save(path)
    loaded = World.load(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["world.json"]  # no temporary left
    assert loaded.to_dict() == world.to_dict()
    assert json.loads(path.read_text())["version"] == 1
    copy = loaded.programming_key("P-1")
    assert copy.public_key == pkey.public_key and copy.wrong_pins == 1
    assert loaded.user_key("K-RESUME").begin_firmware("17.2", 10) == 3
    assert loaded.user_key("K-BROKEN").broken
    assert loaded.try_open("C-1", "K-1", MONDAY + timedelta(hours=48)).opened
    loaded.save(path)  # replaced in place
    assert World.load(path).to_dict() == loaded.to_dict()


def test_loading_a_missing_world_file_is_an_error_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        World.load(tmp_path / "none.json")
    assert World.load(tmp_path / "none.json", missing_ok=True).to_dict()["userKeys"] == []


def test_world_finds_elements_by_uid_and_refuses_duplicates_and_unknowns() -> None:
    world = World()
    world.add_user_key(_key("K-1"))
    world.add_programming_key(_pkey("P-1"))
    _refused("BAD_REQUEST", world.add_programming_key, _pkey("K-1"))
    _refused("NO_KEY", world.user_key, "P-1")
    _refused("NO_KEY", world.key, "nobody")
    _refused("BAD_REQUEST", world.try_open, "C-none", "K-1", MONDAY)
    assert isinstance(world.key("P-1"), ProgrammingKey)
