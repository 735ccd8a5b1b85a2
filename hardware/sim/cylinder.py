"""Simulated cylinders: access lists, blocking lists, audit trails, and programming visits (R11).

A cylinder holds its **programmed** access list (keys by UID, key groups by
id) and the cylinder groups it is a member of (R13), a key blocking list, and
an audit trail of the last 1,000 events plus the last 100 refused foreign keys,
oldest overwritten first (R11).

:meth:`Cylinder.try_open` decides by the hardware's rules (its own code, not the
server's), in this order, and notes the attempt in its trail and in an E2/E3
key's trail (R28):

1. a key of another master key system (a foreign key) is refused
   ``DENIED_NOT_AUTHORIZED`` and goes to the foreign-key part of the trail;
   a broken key (R26) is refused ``DENIED_NOT_AUTHORIZED``;
2. blocked — on the cylinder's blocking list or blocked in the key's own
   memory (R18, R19): ``DENIED_BLOCKED``;
3. outside the key's validity (R12): ``DENIED_EXPIRED``;
4. outside the key's schedule windows (R12): ``DENIED_SCHEDULE``;
5. an E3 key past ``last_revalidated_at + extensionIntervalHours``, or past this
   cylinder's own shorter end in its memory (flexible extensions) (R14):
   ``DENIED_EXPIRED``;
6. not on the access list — neither the key's UID, nor one of its key groups,
   nor one of its cylinder groups the cylinder belongs to: ``DENIED_NOT_AUTHORIZED``;
7. else ``GRANTED``.

:meth:`Cylinder.visit` carries out the jobs a programming key brings (R15,
R17): it reads the trail out first, then writes the changes (or, for a full
reprogramming, clears the list and writes the whole ``accessList``), which
erases the trail in the hardware. Each write of one line is one step;
``pull_after=n`` pulls the key after ``n`` steps: the job under way ends
ABORTED with the cylinder half-written, later jobs stay on the key. A job that
would overflow the cylinder (more than 200 key groups) is FAILED before
anything is written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hardware.sim.programming import ProgrammingKey
from hardware.sim.user_key import (
    DENIED_BLOCKED,
    DENIED_EXPIRED,
    DENIED_NOT_AUTHORIZED,
    DENIED_SCHEDULE,
    GRANTED,
    SimError,
    UserKey,
    parse_time,
    utc,
)
from hardware.wire import rfc3339

MAX_KEY_GROUPS = 200  # R11
MAX_BLOCKING_LIST = 3_000  # R11
MAX_EVENTS = 1_000  # R11: the last 1,000 events ...
MAX_FOREIGN_EVENTS = 100  # ... plus the last 100 refused foreign keys


@dataclass(frozen=True)
class AccessDecision:
    """Whether the cylinder opened, and why: ``reason`` is one of ``ACCESS_RESULTS``."""

    opened: bool
    reason: str
    detail: str = ""


@dataclass
class _Lines:
    """What an access list holds: keys by UID, key groups, cylinder-group memberships."""

    keys: set[str]
    groups: set[int]
    cylinder_groups: set[int]

    def write(self, change: Mapping[str, Any] | None) -> None:
        """Write one line of a job; None clears every line (a full reprogramming starts)."""
        if change is None:
            self.keys.clear()
            self.groups.clear()
            self.cylinder_groups.clear()
            return
        if change.get("keyUid") is not None:
            target: set[Any] = self.keys
            value: Any = change["keyUid"]
        elif change.get("groupId") is not None:
            target, value = self.groups, change["groupId"]
        else:
            target, value = self.cylinder_groups, change["cylinderGroupId"]
        if change["op"] == "ADD":
            target.add(value)
        else:
            target.discard(value)


@dataclass
class Cylinder:
    """A cylinder's hardware state (R11); ``system`` is its master key system."""

    uid: str
    access_keys: set[str] = field(default_factory=set)
    access_groups: set[int] = field(default_factory=set)
    cylinder_groups: set[int] = field(default_factory=set)
    blocking_list: set[str] = field(default_factory=set)
    audit_trail: deque[dict[str, Any]] = field(default_factory=deque)
    foreign_trail: deque[dict[str, Any]] = field(default_factory=deque)
    security_relevant: bool = False
    marking: str = ""
    system: str = "main"
    last_visit_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.uid, str) or not self.uid:
            raise SimError("BAD_REQUEST", "a cylinder needs a UID")
        self.access_keys = set(self.access_keys)
        self.access_groups = set(self.access_groups)
        self.cylinder_groups = set(self.cylinder_groups)
        if len(self.access_groups) > MAX_KEY_GROUPS:
            raise SimError("MEMORY_FULL", f"a cylinder holds at most {MAX_KEY_GROUPS} key groups")
        self.set_blocking_list(self.blocking_list)
        self.audit_trail = deque(self.audit_trail, maxlen=MAX_EVENTS)
        self.foreign_trail = deque(self.foreign_trail, maxlen=MAX_FOREIGN_EVENTS)

    # --- opening (R11–R14, R19) ---------------------------------------------------------

    def try_open(self, key: UserKey, at: datetime) -> AccessDecision:
        """Insert ``key`` at time ``at``: the decision, noted in both trails (module doc)."""
        at = utc(at)
        decision = self._decide(key, at)
        event = {"at": rfc3339(at), "keyUid": key.uid, "result": decision.reason}
        if key.system != self.system:
            self.foreign_trail.append(event)
        else:
            self.audit_trail.append(event)
        key.record_event(at, self.uid, decision.reason)
        return decision

    def _decide(self, key: UserKey, at: datetime) -> AccessDecision:
        def refuse(result: str, detail: str) -> AccessDecision:
            return AccessDecision(False, result, detail)

        if key.system != self.system:
            return refuse(DENIED_NOT_AUTHORIZED, "a key of another locking system")
        if key.broken:
            return refuse(DENIED_NOT_AUTHORIZED, "the key is broken (R26)")
        if key.uid in self.blocking_list:
            return refuse(DENIED_BLOCKED, "the key is on the blocking list (R19)")
        if key.blocked:
            return refuse(DENIED_BLOCKED, "the key's memory says blocked (R18)")
        if not key.validity_allows(at):
            return refuse(DENIED_EXPIRED, "outside the key's validity (R12)")
        if not key.schedule_allows(at):
            return refuse(DENIED_SCHEDULE, "outside the key's schedule (R12)")
        if not key.revalidation_allows(at):
            return refuse(DENIED_EXPIRED, "not revalidated within its interval (R14)")
        if not key.cylinder_validity_allows(self.uid, at):
            return refuse(
                DENIED_EXPIRED,
                "past this cylinder's shorter extension interval (R14, flexible extensions)",
            )
        if not self.authorizes(key):
            return refuse(DENIED_NOT_AUTHORIZED, "not on the access list (R11)")
        return AccessDecision(True, GRANTED)

    def authorizes(self, key: UserKey) -> bool:
        """The access list lets ``key`` in: its UID, one of its key groups, or one of its
        cylinder groups this cylinder is a member of (R11, R13)."""
        key_groups, cylinder_groups = key.groups()
        return (
            key.uid in self.access_keys
            or bool(key_groups & self.access_groups)
            or bool(cylinder_groups & self.cylinder_groups)
        )

    def set_blocking_list(self, key_uids: Iterable[str]) -> None:
        """Replace the key blocking list (R19, R21); MEMORY_FULL beyond 3,000 keys (R11)."""
        uids = set(key_uids)
        if len(uids) > MAX_BLOCKING_LIST:
            raise SimError(
                "MEMORY_FULL",
                f"a cylinder's blocking list holds {MAX_BLOCKING_LIST} keys, not {len(uids)} (R11)",
            )
        self.blocking_list = uids

    # --- the audit trail (R11, R15, R28) ------------------------------------------------

    def read_audit_trail(self) -> list[dict[str, Any]]:
        """Every event the cylinder holds, foreign-key refusals included, oldest first."""
        events = [*self.audit_trail, *self.foreign_trail]
        return [dict(e) for e in sorted(events, key=lambda e: parse_time(e["at"], "at"))]

    # --- a programming visit (R15, R17) -------------------------------------------------

    def visit(
        self, pkey: ProgrammingKey, at: datetime, pull_after: int | None = None
    ) -> list[dict[str, Any]]:
        """Carry out the jobs ``pkey`` carries for this cylinder; returns their results, which
        are also added to the key (see the module doc for ``pull_after``)."""
        at = utc(at)
        if pull_after is not None and pull_after < 0:
            raise SimError("BAD_REQUEST", "pullAfter: a number of steps, 0 or more")
        self.last_visit_at = at
        steps_left = pull_after
        results: list[dict[str, Any]] = []
        for job in pkey.jobs_for(self.uid):
            if steps_left is not None and steps_left <= 0 and results:
                break  # the key is gone: later jobs stay on it
            events = self.read_audit_trail()
            steps = self._steps(job)
            planned = self._lines()
            for step in steps:
                planned.write(step)
            if len(planned.groups) > MAX_KEY_GROUPS:
                outcome = "FAILED"  # refused before writing: the cylinder holds what it held
            else:
                done = len(steps) if steps_left is None else min(steps_left, len(steps))
                if done:
                    self._erase_trail()  # reprogramming erases the hardware's trail (R15)
                lines = self._lines()
                for step in steps[:done]:
                    lines.write(step)
                self._store(lines)
                if steps_left is not None:
                    steps_left -= done
                outcome = "DONE" if done == len(steps) else "ABORTED"
            result = {"jobId": job["jobId"], "outcome": outcome, "auditEvents": events}
            pkey.record_result(result)
            results.append(result)
            if outcome == "ABORTED":
                break
        return results

    @staticmethod
    def _steps(job: Mapping[str, Any]) -> list[dict[str, Any] | None]:
        """The writes of a job, one line each; None clears the list (full reprogramming)."""
        if job["fullReprogram"]:
            return [None, *job["accessList"]]
        return list(job["changes"])

    def _lines(self) -> _Lines:
        return _Lines(set(self.access_keys), set(self.access_groups), set(self.cylinder_groups))

    def _store(self, lines: _Lines) -> None:
        self.access_keys = lines.keys
        self.access_groups = lines.groups
        self.cylinder_groups = lines.cylinder_groups

    def _erase_trail(self) -> None:
        self.audit_trail.clear()
        self.foreign_trail.clear()

    # --- persistence ------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """The cylinder's state, JSON-ready (the control socket's view of it)."""
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "marking": self.marking,
            "system": self.system,
            "securityRelevant": self.security_relevant,
            "accessKeys": sorted(self.access_keys),
            "accessGroups": sorted(self.access_groups),
            "cylinderGroups": sorted(self.cylinder_groups),
            "blockingList": sorted(self.blocking_list),
            "auditTrail": list(self.audit_trail),
            "foreignTrail": list(self.foreign_trail),
            "lastVisitAt": rfc3339(self.last_visit_at) if self.last_visit_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cylinder:
        """A cylinder from :meth:`to_dict` or a control command's fields (same names)."""
        visit = data.get("lastVisitAt")
        return cls(
            uid=data["uid"],
            marking=data.get("marking", ""),
            system=data.get("system", "main"),
            security_relevant=bool(data.get("securityRelevant", False)),
            access_keys=_uids(data, "accessKeys"),
            access_groups=_ids(data, "accessGroups"),
            cylinder_groups=_ids(data, "cylinderGroups"),
            blocking_list=_uids(data, "blockingList"),
            audit_trail=deque(dict(e) for e in data.get("auditTrail", [])),
            foreign_trail=deque(dict(e) for e in data.get("foreignTrail", [])),
            last_visit_at=parse_time(visit, "lastVisitAt") if visit else None,
        )


def _uids(data: Mapping[str, Any], name: str) -> set[str]:
    values = data.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise SimError("BAD_REQUEST", f"{name}: a list of key UIDs")
    return set(values)


def _ids(data: Mapping[str, Any], name: str) -> set[int]:
    values = data.get(name, [])
    if not isinstance(values, list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in values
    ):
        raise SimError("BAD_REQUEST", f"{name}: a list of group ids")
    return set(values)
