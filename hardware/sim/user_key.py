"""Simulated user keys: E1, E2 and E3 of generation 1 and 2, and what their memory holds (R10).

A user key's memory holds what the server writes into it at a desk
programming device (``WRITE_KEY``) or a remote device (R18), in exactly the
shapes of the server's remote-job payloads (``app/keys/service.py``
``key_remote_jobs``, ``app/access/service.py`` ``key_memory``):

- ``validity`` — ``{"alwaysValid", "validFrom", "validUntil",
  "extensionIntervalHours", "blocked"}`` (R12, R14; times RFC 3339 UTC);
- ``schedule`` — ``{"scheduleId", "windows": [{"days", "start", "end"}]}``
  (R12; days are ``WEEKDAYS`` names, times ``"HH:MM"``, the end minute included);
- ``key_memory`` — ``{"keyGroups": [int], "cylinderGroups": [int], "cylinderValidity":
  [{"cylinderUid", "validUntil"}]}`` (the last: flexible extensions, R14), E3 only,
  one slot per group (R13);
- ``last_revalidated_at`` — when an E3 key was last revalidated (R14);
- ``audit_trail`` — E2/E3 only: ``[{"at", "cylinderUid", "result"}]`` with
  ``result`` one of ``ACCESS_RESULTS``, oldest overwritten first (R28).

E1 keys have no clock (R10): they hold no validity, no schedule and no audit
trail, and are always valid with the "Always" schedule. Writing what an E1 key
already is (always valid, not blocked, the "Always" windows) is accepted as a
no-op so that a server that sends the defaults for every key type still works;
anything else is refused ``UNSUPPORTED``.

Memory limits (``CAPACITY``) are the simulator's own choice — the vendor
publishes none for keys — and this table is their reference (the desk
protocol reports them as ``memory``):

============  ================  ===================  ==================
key           key-memory slots  audit-trail events   firmware image
============  ================  ===================  ==================
E1 gen 1/2    0                 0                    64 KiB / 256 KiB
E2 gen 1/2    0                 1,000 / 2,000        64 KiB / 256 KiB
E3 gen 1/2    16 / 64           1,000 / 2,000        64 KiB / 256 KiB
============  ================  ===================  ==================

Firmware (R26) is written in chunks and can resume from the offset the key
reports (``begin_firmware`` / ``write_firmware_chunk`` / ``finish_firmware``).
A key pulled out mid-update (``interrupt_firmware``): a generation-1 key is
``broken`` — it answers only its identity, the server marks it DEFECTIVE; a
generation-2 key keeps its identity and the bytes it holds but loses its
rights (validity, schedule, key memory) until they are written again.

Decisions never read the clock: every time is passed in as an aware datetime.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hardware.wire import is_version, parse_timestamp, parse_version, rfc3339

KeyType = Literal["E1", "E2", "E3"]
KEY_TYPES: tuple[str, ...] = ("E1", "E2", "E3")
GENERATIONS: tuple[int, ...] = (1, 2)

# The codes the simulated hardware refuses with; the desk protocol passes them on unchanged
# (hardware.link.client.DeskError, docs in hardware/PROTOCOL.md).
ERROR_CODES = frozenset(
    {"MEMORY_FULL", "UNSUPPORTED", "NO_KEY", "WRONG_PIN", "KEY_LOCKED", "BAD_REQUEST"}
)

# R10, R26: the firmware majors a key generation runs (gen 1 up to 6.x, gen 2 10.x and up).
FIRMWARE_MAJORS: dict[int, tuple[int, int | None]] = {1: (0, 6), 2: (10, None)}

# The days a schedule window names, in Python's weekday() order (Monday = 0).
WEEKDAYS: tuple[str, ...] = (
    "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"
)
# R12: "Always", what an E1 key is (it has no clock): every day, 00:00 to 23:59.
ALWAYS_WINDOWS: tuple[dict[str, Any], ...] = (
    {"days": list(WEEKDAYS), "start": "00:00", "end": "23:59"},
)
# R14: the longest extension interval an E3 key's memory takes, 730 days.
MAX_EXTENSION_INTERVAL_HOURS = 730 * 24
# What a cylinder notes for an attempt (R28), the names the audit trails carry.
GRANTED = "GRANTED"
DENIED_NOT_AUTHORIZED = "DENIED_NOT_AUTHORIZED"
DENIED_SCHEDULE = "DENIED_SCHEDULE"
DENIED_EXPIRED = "DENIED_EXPIRED"
DENIED_BLOCKED = "DENIED_BLOCKED"
ACCESS_RESULTS = frozenset(
    {GRANTED, DENIED_NOT_AUTHORIZED, DENIED_SCHEDULE, DENIED_EXPIRED, DENIED_BLOCKED}
)
_HHMM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")


class SimError(Exception):
    """The simulated hardware refuses an operation.

    ``code`` is one of ``ERROR_CODES``; ``details`` carries what a caller can act
    on (``remainingTries`` after a wrong PIN, ``offset`` the key holds during a
    firmware update).
    """

    def __init__(self, code: str, message: str, **details: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown simulator error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details


@dataclass(frozen=True)
class KeyCapacity:
    """What one kind of user key can hold (see the module's table)."""

    key_memory_slots: int  # E3: key groups + cylinder groups, one slot each (R13)
    audit_events: int  # E2/E3: the key's own trail, oldest overwritten (R28)
    firmware_bytes: int  # the largest image the key's update area takes (R26)


_GEN1_IMAGE = 64 * 1024
_GEN2_IMAGE = 256 * 1024
CAPACITY: dict[tuple[str, int], KeyCapacity] = {
    ("E1", 1): KeyCapacity(0, 0, _GEN1_IMAGE),
    ("E1", 2): KeyCapacity(0, 0, _GEN2_IMAGE),
    ("E2", 1): KeyCapacity(0, 1_000, _GEN1_IMAGE),
    ("E2", 2): KeyCapacity(0, 2_000, _GEN2_IMAGE),
    ("E3", 1): KeyCapacity(16, 1_000, _GEN1_IMAGE),
    ("E3", 2): KeyCapacity(64, 2_000, _GEN2_IMAGE),
}


# --- time ---------------------------------------------------------------------------------


def utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive datetime is refused (the simulator never guesses a zone)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise SimError("BAD_REQUEST", "times must carry their UTC offset")
    return at.astimezone(UTC)


def parse_time(value: str | datetime, what: str) -> datetime:
    """An RFC 3339 time with offset (or an aware datetime) in UTC; BAD_REQUEST names ``what``."""
    if isinstance(value, datetime):
        return utc(value)
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    if parsed is None:
        raise SimError("BAD_REQUEST", f"{what}: not an RFC 3339 time with offset: {value!r}")
    return parsed


def in_windows(windows: Sequence[Mapping[str, Any]], at: datetime) -> bool:
    """Whether ``at`` falls in one of the schedule ``windows`` (R12).

    A window holds on each of its ``days`` from ``start`` to ``end`` with the end
    minute included, so "Always" (every day 00:00–23:59) holds around the clock.
    The site clock of the simulator runs on UTC.
    """
    at = utc(at)
    day = WEEKDAYS[at.weekday()]
    minute = f"{at.hour:02d}:{at.minute:02d}"
    return any(day in w["days"] and w["start"] <= minute <= w["end"] for w in windows)


def _is_always(windows: Sequence[Mapping[str, Any]]) -> bool:
    def norm(ws: Sequence[Mapping[str, Any]]) -> list[tuple[frozenset[str], str, str]]:
        return sorted((frozenset(w["days"]), w["start"], w["end"]) for w in ws)

    return norm(windows) == norm(ALWAYS_WINDOWS)


def checked_windows(windows: Any) -> list[dict[str, Any]]:
    """R12: the windows a key's schedule memory takes, as written, or BAD_REQUEST.

    At least one window; each names one or more distinct days of ``WEEKDAYS`` and
    runs from ``start`` to ``end``, both ``"HH:MM"`` (00:00 to 23:59), start
    before end.
    """
    if not isinstance(windows, list) or not windows:
        raise SimError("BAD_REQUEST", "schedule: at least one window is required")
    checked = []
    for i, window in enumerate(windows):
        where = f"schedule: window {i}"
        if not isinstance(window, Mapping):
            raise SimError("BAD_REQUEST", f"{where}: not an object with days, start and end")
        days, start, end = window.get("days"), window.get("start"), window.get("end")
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            raise SimError("BAD_REQUEST", f"{where}: days are some of {list(WEEKDAYS)}")
        if len(set(days)) != len(days):
            raise SimError("BAD_REQUEST", f"{where}: a day is listed twice")
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, str) or not _HHMM.fullmatch(value):
                raise SimError("BAD_REQUEST", f"{where}: {name} must be HH:MM (00:00 to 23:59)")
        assert isinstance(start, str) and isinstance(end, str)
        if start >= end:
            raise SimError("BAD_REQUEST", f"{where}: start must be before end")
        checked.append({"days": list(days), "start": start, "end": end})
    return checked


def interval_fits(hours: int) -> bool:
    """R14: whether an E3 key's memory takes an extension interval of ``hours``: 1 hour to
    730 days."""
    return 1 <= hours <= MAX_EXTENSION_INTERVAL_HOURS


# --- firmware -----------------------------------------------------------------------------


@dataclass
class FirmwareUpdate:
    """A firmware image being written into a key (R26): the bytes it holds so far."""

    version: str
    size: int
    received: bytearray = field(default_factory=bytearray)
    sha256: str | None = None

    @property
    def offset(self) -> int:
        """Where the next chunk starts: what the key reports to resume."""
        return len(self.received)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "size": self.size,
            "received": base64.b64encode(bytes(self.received)).decode("ascii"),
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FirmwareUpdate:
        return cls(
            data["version"],
            data["size"],
            bytearray(base64.b64decode(data["received"])),
            data.get("sha256"),
        )


def firmware_fits_generation(version: str, generation: int) -> bool:
    """R10: generation 1 runs firmware up to 6.x, generation 2 10.x and up."""
    if not is_version(version):
        return False
    low, high = FIRMWARE_MAJORS[generation]
    major = parse_version(version)[0]
    return major >= low and (high is None or major <= high)


# --- the key ------------------------------------------------------------------------------


@dataclass
class UserKey:
    """A user key (R10) as the hardware holds it: identity, memory, trail, firmware state.

    ``system`` names the master key system the key belongs to; a cylinder of
    another system treats it as a foreign key (R11). Build keys with their
    memory already written by passing ``validity``/``schedule``/``key_memory``
    (checked as by :meth:`write`).
    """

    uid: str
    key_type: str
    generation: int
    firmware: str
    validity: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    key_memory: dict[str, Any] | None = None
    last_revalidated_at: datetime | None = None
    audit_trail: deque[dict[str, Any]] = field(default_factory=deque)
    broken: bool = False
    firmware_update: FirmwareUpdate | None = None
    system: str = "main"

    def __post_init__(self) -> None:
        if not isinstance(self.uid, str) or not self.uid:
            raise SimError("BAD_REQUEST", "a key needs a UID")
        if self.key_type not in KEY_TYPES:
            raise SimError("BAD_REQUEST", f"key type must be one of {KEY_TYPES}")
        if self.generation not in GENERATIONS:
            raise SimError("BAD_REQUEST", "generation must be 1 or 2")
        if not firmware_fits_generation(self.firmware, self.generation):
            raise SimError(
                "BAD_REQUEST",
                f"generation-{self.generation} keys do not run firmware {self.firmware!r} (R10)",
            )
        self.audit_trail = deque(self.audit_trail, maxlen=max(self.capacity.audit_events, 1))
        if self.capacity.audit_events == 0:
            self.audit_trail.clear()
        if self.broken:
            return  # a broken key's memory is what it was; nothing can be written (R26)
        validity, schedule, key_memory = self.validity, self.schedule, self.key_memory
        self.validity = self.schedule = self.key_memory = None
        self.write(
            validity=validity,
            schedule=schedule,
            key_memory=key_memory,
            revalidated_at=self.last_revalidated_at,
        )

    # --- what it is -----------------------------------------------------------------------

    @property
    def capacity(self) -> KeyCapacity:
        return CAPACITY[(self.key_type, self.generation)]

    @property
    def has_clock(self) -> bool:
        """E2 and E3 keys have a clock; E1 keys do not (R10)."""
        return self.key_type != "E1"

    @property
    def firmware_update_offset(self) -> int | None:
        """The bytes of an unfinished firmware update the key holds; None when none runs."""
        return self.firmware_update.offset if self.firmware_update is not None else None

    def memory_usage(self) -> dict[str, int]:
        """Key-memory slots (E3 groups, R13) and audit-trail events, used and available."""
        memory = self.key_memory or {"keyGroups": [], "cylinderGroups": []}
        return {
            "used": len(memory["keyGroups"]) + len(memory["cylinderGroups"]),
            "capacity": self.capacity.key_memory_slots,
            "auditUsed": len(self.audit_trail),
            "auditCapacity": self.capacity.audit_events,
        }

    def describe(self) -> dict[str, Any]:
        """What reading the key at a desk device returns (the desk's ``read_key`` for a user
        key). A broken key answers its identity only."""
        identity: dict[str, Any] = {
            "kind": "USER",
            "uid": self.uid,
            "keyType": self.key_type,
            "generation": self.generation,
            "firmwareVersion": self.firmware,
            "broken": self.broken,
            "firmwareUpdate": (
                {
                    "version": self.firmware_update.version,
                    "size": self.firmware_update.size,
                    "offset": self.firmware_update.offset,
                }
                if self.firmware_update is not None
                else None
            ),
        }
        if self.broken:
            return {
                **identity,
                "validity": None,
                "schedule": None,
                "keyMemory": None,
                "revalidatedAt": None,
                "memory": None,
            }
        return {
            **identity,
            "validity": dict(self.validity) if self.validity is not None else None,
            "schedule": _copy_schedule(self.schedule),
            "keyMemory": _copy_memory(self.key_memory),
            "revalidatedAt": (
                rfc3339(self.last_revalidated_at) if self.last_revalidated_at else None
            ),
            "memory": self.memory_usage(),
        }

    # --- the server's rules, as the key's memory states them (R12, R14) -----------------

    @property
    def blocked(self) -> bool:
        """The key's own memory says it is blocked (VALIDITY ``blocked``, R18, R19)."""
        return bool(self.validity and self.validity["blocked"])

    def validity_allows(self, at: datetime) -> bool:
        """R12: always valid, or ``validFrom <= at < validUntil`` (the end is the first
        instant the key no longer works, as the server caps extensions). An E2/E3 key
        without a validity opens nothing; E1 keys have no clock and are always valid."""
        if not self.has_clock:
            return True
        if self.validity is None:
            return False
        if self.validity["alwaysValid"]:
            return True
        at = utc(at)
        start, end = self.validity["validFrom"], self.validity["validUntil"]
        if start is not None and at < parse_time(start, "validFrom"):
            return False
        return not (end is not None and at >= parse_time(end, "validUntil"))

    def schedule_allows(self, at: datetime) -> bool:
        """R12: ``at`` is in one of the schedule's windows; no schedule, no access (E1 keys
        keep "Always")."""
        if not self.has_clock:
            return True
        if self.schedule is None:
            return False
        return in_windows(self.schedule["windows"], at)

    def revalidation_allows(self, at: datetime) -> bool:
        """R14: an E3 key with an extension interval opens only until
        ``last_revalidated_at + extensionIntervalHours`` (inclusive); never revalidated
        means expired. Keys without an interval, and E1/E2 keys, are not revalidated."""
        if self.key_type != "E3" or self.validity is None:
            return True
        hours = self.validity["extensionIntervalHours"]
        if hours is None:
            return True
        if self.last_revalidated_at is None:
            return False
        return utc(at) <= self.last_revalidated_at + timedelta(hours=hours)

    def cylinder_validity_allows(self, cylinder_uid: str, at: datetime) -> bool:
        """R14 with flexible extensions: a cylinder reached only through profiles with a
        shorter interval than the key's has its own end in the key's memory, written at the
        last revalidation; past it, that cylinder refuses the key (the others do not)."""
        if self.key_type != "E3" or self.key_memory is None:
            return True
        for limit in self.key_memory.get("cylinderValidity", []):
            if limit["cylinderUid"] == cylinder_uid:
                return utc(at) < parse_time(limit["validUntil"], "validUntil")
        return True

    def groups(self) -> tuple[set[int], set[int]]:
        """The key groups and cylinder groups in an E3 key's memory (R13); none for E1/E2."""
        if self.key_type != "E3" or self.key_memory is None:
            return set(), set()
        return set(self.key_memory["keyGroups"]), set(self.key_memory["cylinderGroups"])

    # --- writing the key (desk WRITE_KEY, R18, R20) -------------------------------------

    def write(
        self,
        *,
        validity: Mapping[str, Any] | None = None,
        schedule: Mapping[str, Any] | None = None,
        key_memory: Mapping[str, Any] | None = None,
        revalidated_at: str | datetime | None = None,
    ) -> None:
        """Write what is given (None leaves a part as it is), all or nothing.

        Refusals: ``UNSUPPORTED`` for what the key type cannot hold (E1: a validity
        other than always, a schedule other than "Always", a blocked flag or an
        interval, a revalidation time; E1/E2: key memory; E2: an extension interval)
        and for a broken key; ``MEMORY_FULL`` when the groups exceed the key's slots;
        ``BAD_REQUEST`` for a malformed part.
        """
        self._refuse_if_broken()
        new_validity = self._checked_validity(validity) if validity is not None else None
        new_schedule = self._checked_schedule(schedule) if schedule is not None else None
        new_memory = self._checked_memory(key_memory) if key_memory is not None else None
        new_revalidated = None
        if revalidated_at is not None:
            if not self.has_clock:
                raise SimError("UNSUPPORTED", "E1 keys have no clock and are not revalidated")
            new_revalidated = parse_time(revalidated_at, "revalidatedAt")
        if not self.has_clock:
            return  # E1: what was accepted is what the key always is
        if new_validity is not None:
            self.validity = new_validity
        if new_schedule is not None:
            self.schedule = new_schedule
        if new_memory is not None:
            self.key_memory = new_memory
        if new_revalidated is not None:
            self.last_revalidated_at = new_revalidated

    def _checked_validity(self, validity: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(validity, Mapping) or not isinstance(
            validity.get("alwaysValid"), bool
        ):
            raise SimError("BAD_REQUEST", "validity: alwaysValid (true or false) is required")
        always = validity["alwaysValid"]
        start, end = validity.get("validFrom"), validity.get("validUntil")
        hours = validity.get("extensionIntervalHours")
        blocked = validity.get("blocked", False)
        if not isinstance(blocked, bool):
            raise SimError("BAD_REQUEST", "validity: blocked must be true or false")
        if not self.has_clock:
            if not always or start or end or hours is not None or blocked:
                raise SimError(
                    "UNSUPPORTED",
                    "E1 keys have no clock: always valid, no interval, no blocking in the key",
                )
        if always and (start or end):
            raise SimError("BAD_REQUEST", "validity: dates only when not always valid")
        if not always and start is None and end is None:
            raise SimError("BAD_REQUEST", "validity: validFrom or validUntil is required")
        start_at = parse_time(start, "validFrom") if start is not None else None
        end_at = parse_time(end, "validUntil") if end is not None else None
        if start_at and end_at and start_at >= end_at:
            raise SimError("BAD_REQUEST", "validity: validFrom must be before validUntil")
        if hours is not None:
            if self.key_type != "E3":
                raise SimError(
                    "UNSUPPORTED", "only E3 keys are revalidated at remote devices (R14)"
                )
            if isinstance(hours, bool) or not isinstance(hours, int):
                raise SimError("BAD_REQUEST", "validity: extensionIntervalHours is hours")
            if not interval_fits(hours):
                raise SimError(
                    "BAD_REQUEST",
                    f"validity: extensionIntervalHours between 1 and "
                    f"{MAX_EXTENSION_INTERVAL_HOURS} (R14)",
                )
        return {
            "alwaysValid": always,
            "validFrom": rfc3339(start_at) if start_at else None,
            "validUntil": rfc3339(end_at) if end_at else None,
            "extensionIntervalHours": hours,
            "blocked": blocked,
        }

    def _checked_schedule(self, schedule: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(schedule, Mapping) or not isinstance(schedule.get("windows"), list):
            raise SimError("BAD_REQUEST", "schedule: windows are required")
        schedule_id = schedule.get("scheduleId")
        if schedule_id is not None and (
            isinstance(schedule_id, bool) or not isinstance(schedule_id, int)
        ):
            raise SimError("BAD_REQUEST", "schedule: scheduleId is a number")
        windows = checked_windows(schedule["windows"])
        if not self.has_clock and not _is_always(windows):
            raise SimError("UNSUPPORTED", "E1 keys have no clock: they keep 'Always' (R12)")
        return {"scheduleId": schedule_id, "windows": windows}

    def _checked_memory(self, key_memory: Mapping[str, Any]) -> dict[str, Any]:
        if self.key_type != "E3":
            raise SimError("UNSUPPORTED", "only E3 keys hold key groups and cylinder groups")
        checked: dict[str, Any] = {}
        limits = key_memory.get("cylinderValidity", [])
        if not isinstance(limits, list) or any(
            not isinstance(e, Mapping) or not isinstance(e.get("cylinderUid"), str)
            for e in limits
        ):
            raise SimError(
                "BAD_REQUEST", "keyMemory: cylinderValidity is a list of {cylinderUid, validUntil}"
            )
        if limits:  # only keys with shorter per-cylinder ends carry the part
            checked["cylinderValidity"] = sorted(
                (
                    {"cylinderUid": e["cylinderUid"],
                     "validUntil": rfc3339(parse_time(e.get("validUntil"), "validUntil"))}
                    for e in limits
                ),
                key=lambda e: e["cylinderUid"],
            )
        for part in ("keyGroups", "cylinderGroups"):
            ids = key_memory.get(part, [])
            if not isinstance(ids, list) or any(
                isinstance(i, bool) or not isinstance(i, int) for i in ids
            ):
                raise SimError("BAD_REQUEST", f"keyMemory: {part} is a list of numbers")
            checked[part] = sorted(set(ids))
        used = len(checked["keyGroups"]) + len(checked["cylinderGroups"])
        if used > self.capacity.key_memory_slots:
            raise SimError(
                "MEMORY_FULL",
                f"the key has {self.capacity.key_memory_slots} slots for groups, "
                f"{used} were written (R13)",
            )
        return checked

    # --- its audit trail (R28) ----------------------------------------------------------

    def record_event(self, at: datetime, cylinder_uid: str, result: str) -> None:
        """An E2/E3 key notes each attempt at a cylinder (``result`` one of
        ``ACCESS_RESULTS``); E1 and broken keys note nothing."""
        if result not in ACCESS_RESULTS:
            raise ValueError(f"unknown access result {result!r}")
        if self.has_clock and not self.broken:
            self.audit_trail.append(
                {"at": rfc3339(utc(at)), "cylinderUid": cylinder_uid, "result": result}
            )

    def read_audit_trail(self) -> list[dict[str, Any]]:
        """The key's trail, oldest first (reading does not erase it; R28, R29)."""
        self._refuse_if_broken()
        if not self.has_clock:
            raise SimError("UNSUPPORTED", "E1 keys have no audit trail (R10)")
        return [dict(e) for e in self.audit_trail]

    # --- firmware (R26) ---------------------------------------------------------------

    def begin_firmware(self, version: str, size: int, sha256: str | None = None) -> int:
        """Start (or resume) writing firmware ``version`` of ``size`` bytes; returns the offset
        the key holds: 0 for a new image, the bytes already there for the same image (same
        version, size and, when given, SHA-256 hex digest, which the key checks at the end)."""
        self._refuse_if_broken()
        if not firmware_fits_generation(version, self.generation):
            raise SimError(
                "UNSUPPORTED",
                f"generation-{self.generation} keys do not run firmware {version!r} (R10, R26)",
            )
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise SimError("BAD_REQUEST", "firmware: size must be a positive number of bytes")
        if size > self.capacity.firmware_bytes:
            raise SimError(
                "MEMORY_FULL",
                f"firmware of {size} bytes does not fit the key's "
                f"{self.capacity.firmware_bytes} bytes",
            )
        if sha256 is not None and (
            not isinstance(sha256, str)
            or len(sha256) != 64
            or any(c not in "0123456789abcdef" for c in sha256)
        ):
            raise SimError("BAD_REQUEST", "firmware: sha256 is 64 lowercase hex digits")
        update = self.firmware_update
        if update is None or (update.version, update.size, update.sha256) != (
            version,
            size,
            sha256,
        ):
            self.firmware_update = update = FirmwareUpdate(version, size, sha256=sha256)
        return update.offset

    def write_firmware_chunk(self, offset: int, data: bytes) -> int:
        """Write ``data`` at ``offset``, which must be the offset the key holds; returns the
        new offset. A wrong offset is refused with the key's offset in ``details``."""
        self._refuse_if_broken()
        update = self._update_in_progress()
        if offset != update.offset:
            raise SimError(
                "BAD_REQUEST",
                f"firmware: the key holds {update.offset} bytes, chunk starts at {offset}",
                offset=update.offset,
            )
        if update.offset + len(data) > update.size:
            raise SimError(
                "BAD_REQUEST", f"firmware: the image is {update.size} bytes", offset=update.offset
            )
        update.received.extend(data)
        return update.offset

    def finish_firmware(self) -> str:
        """Install the complete image; returns the key's new firmware version. An image whose
        SHA-256 differs from the one announced is thrown away (the old firmware stays) and
        refused BAD_REQUEST."""
        self._refuse_if_broken()
        update = self._update_in_progress()
        if update.offset != update.size:
            raise SimError(
                "BAD_REQUEST",
                f"firmware: {update.offset} of {update.size} bytes written",
                offset=update.offset,
            )
        if update.sha256 is not None and hashlib.sha256(update.received).hexdigest() != (
            update.sha256
        ):
            self.firmware_update = None
            raise SimError(
                "BAD_REQUEST", "firmware: the image does not match its SHA-256", offset=0
            )
        self.firmware = update.version
        self.firmware_update = None
        return self.firmware

    def interrupt_firmware(self) -> bool:
        """The key is pulled out during its update (R26); False when no update was running.

        Generation 1: the key is broken (identity only). Generation 2: it keeps its
        identity and the bytes written so far (the update resumes) but loses its
        rights until validity, schedule and key memory are written again.
        """
        if self.firmware_update is None or self.broken:
            return False
        if self.generation == 1:
            self.broken = True
            self.firmware_update = None
            self.audit_trail.clear()
        else:
            self.validity = None
            self.schedule = None
            self.key_memory = None
            self.last_revalidated_at = None
        return True

    def _update_in_progress(self) -> FirmwareUpdate:
        if self.firmware_update is None:
            raise SimError("BAD_REQUEST", "firmware: no update was begun")
        return self.firmware_update

    def _refuse_if_broken(self) -> None:
        if self.broken:
            raise SimError(
                "UNSUPPORTED",
                f"key {self.uid} is broken (firmware update interrupted, R26): "
                "it answers its identity only",
            )

    # --- persistence ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "keyType": self.key_type,
            "generation": self.generation,
            "firmware": self.firmware,
            "system": self.system,
            "validity": self.validity,
            "schedule": self.schedule,
            "keyMemory": self.key_memory,
            "lastRevalidatedAt": (
                rfc3339(self.last_revalidated_at) if self.last_revalidated_at else None
            ),
            "auditTrail": list(self.audit_trail),
            "broken": self.broken,
            "firmwareUpdate": (
                self.firmware_update.to_dict() if self.firmware_update is not None else None
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserKey:
        """A key from :meth:`to_dict` or from a control command's fields (same names;
        ``firmwareVersion`` is taken for ``firmware``)."""
        revalidated = data.get("lastRevalidatedAt")
        broken = bool(data.get("broken", False))
        # A broken key's memory is restored as stored; any other key's is written (checked).
        memory = {
            "validity": data.get("validity"),
            "schedule": data.get("schedule"),
            "key_memory": data.get("keyMemory"),
            "last_revalidated_at": (
                parse_time(revalidated, "lastRevalidatedAt") if revalidated else None
            ),
        }
        key = cls(
            uid=data["uid"],
            key_type=data["keyType"],
            generation=data["generation"],
            firmware=data.get("firmware") or data["firmwareVersion"],
            system=data.get("system", "main"),
            **({} if broken else memory),
        )
        if broken:
            key.broken = True
            for name, value in memory.items():
                setattr(key, name, value)
        key.audit_trail.extend(_events(data.get("auditTrail", []), key.capacity.audit_events))
        update = data.get("firmwareUpdate")
        key.firmware_update = FirmwareUpdate.from_dict(update) if update else None
        return key


def _events(events: Iterable[Mapping[str, Any]], capacity: int) -> list[dict[str, Any]]:
    return [dict(e) for e in events][-capacity:] if capacity else []


def _copy_schedule(schedule: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if schedule is None:
        return None
    return {
        "scheduleId": schedule["scheduleId"],
        "windows": [
            {"days": list(w["days"]), "start": w["start"], "end": w["end"]}
            for w in schedule["windows"]
        ],
    }


def _copy_memory(memory: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    return {
        "keyGroups": list(memory["keyGroups"]),
        "cylinderGroups": list(memory["cylinderGroups"]),
    } | (
        {"cylinderValidity": [dict(e) for e in memory["cylinderValidity"]]}
        if memory.get("cylinderValidity")
        else {}
    )
