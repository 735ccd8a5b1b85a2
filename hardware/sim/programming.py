"""Simulated programming keys as hardware: the chip that signs logins and carries jobs (R5, R17).

A programming key holds its Ed25519 private key (it never leaves the chip),
checks its PIN before signing a login challenge — three wrong PINs in a row lock
it until the simulator's control command ``unlock`` (standing in for the PUK)
frees it — and carries programming jobs to cylinders and their results back
(R15, R17).

Jobs are exactly the items of the bridge's ``LOAD_PROGRAMMING_JOBS`` payload::

    {"jobId": "<global id>", "cylinderUid": "...", "fullReprogram": false,
     "changes": [{"op": "ADD"|"REMOVE", "keyUid": "..."|None, "groupId": 7|None}],
     "accessList": [<same items>] | None}

A change names exactly one of ``keyUid`` (a key), ``groupId`` (a key group)
or — beyond the bridge payload, for cylinder-group memberships (R13) —
``cylinderGroupId``. Results are ``{"jobId", "outcome": "DONE"|"ABORTED"|"FAILED",
"auditEvents": [{"at", "keyUid", "result"}]}`` (R15: the cylinder's trail read
out before it was rewritten).

The key's memory holds at most ``MAX_ENTRIES`` jobs and results together (the
simulator's choice; R17 warns from 30 jobs on), beyond which loading is refused
``MEMORY_FULL``. This module is the chip; ``hardware/sim/programming_key.py``
is the older state file that demos and ``keywarden login`` use.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from hardware.sim.user_key import SimError
from hardware.wire import is_version

MAX_WRONG_PINS = 3  # R5: the third wrong PIN in a row locks the key
MAX_ENTRIES = 250  # jobs + results the key's memory holds
OPS = ("ADD", "REMOVE")
OUTCOMES = ("DONE", "ABORTED", "FAILED")
SUBJECTS = ("keyUid", "groupId", "cylinderGroupId")


def check_change(item: Any, where: str, *, full: bool = False) -> dict[str, Any]:
    """One access-list change of a job, checked: an op and exactly one subject.

    ``full``: an item of a full reprogramming's ``accessList``, which only adds.
    """
    if not isinstance(item, Mapping):
        raise SimError("BAD_REQUEST", f"{where}: a change is an object")
    op = item.get("op")
    if op not in OPS or (full and op != "ADD"):
        raise SimError("BAD_REQUEST", f"{where}.op: must be {'ADD' if full else 'ADD or REMOVE'}")
    named = [s for s in SUBJECTS if item.get(s) is not None]
    if len(named) != 1:
        raise SimError(
            "BAD_REQUEST", f"{where}: name exactly one of keyUid, groupId, cylinderGroupId"
        )
    subject = named[0]
    value = item[subject]
    if subject == "keyUid" and (not isinstance(value, str) or not value):
        raise SimError("BAD_REQUEST", f"{where}.keyUid: a key UID")
    if subject != "keyUid" and (isinstance(value, bool) or not isinstance(value, int)):
        raise SimError("BAD_REQUEST", f"{where}.{subject}: a number")
    change: dict[str, Any] = {"op": op, "keyUid": None, "groupId": None}
    change[subject] = value
    return change


def check_job(job: Any, where: str = "job") -> dict[str, Any]:
    """A ``LOAD_PROGRAMMING_JOBS`` item, checked and copied (BAD_REQUEST names the part)."""
    if not isinstance(job, Mapping):
        raise SimError("BAD_REQUEST", f"{where}: a job is an object")
    for name in ("jobId", "cylinderUid"):
        if not isinstance(job.get(name), str) or not job[name]:
            raise SimError("BAD_REQUEST", f"{where}.{name}: required")
    full = job.get("fullReprogram", False)
    if not isinstance(full, bool):
        raise SimError("BAD_REQUEST", f"{where}.fullReprogram: true or false")
    changes = job.get("changes") or []
    if not isinstance(changes, list):
        raise SimError("BAD_REQUEST", f"{where}.changes: a list")
    access_list = job.get("accessList")
    if full and not isinstance(access_list, list):
        raise SimError("BAD_REQUEST", f"{where}.accessList: required for a full reprogramming")
    if not full and access_list is not None:
        raise SimError("BAD_REQUEST", f"{where}.accessList: only for a full reprogramming")
    return {
        "jobId": job["jobId"],
        "cylinderUid": job["cylinderUid"],
        "fullReprogram": full,
        "changes": [check_change(c, f"{where}.changes.{i}") for i, c in enumerate(changes)],
        "accessList": (
            [
                check_change(c, f"{where}.accessList.{i}", full=True)
                for i, c in enumerate(access_list)
            ]
            if full and access_list is not None
            else None
        ),
    }


@dataclass
class ProgrammingKey:
    """A programming key's chip (R5, R17): identity, private key, PIN counter, jobs, results."""

    uid: str
    marking: str
    private_key: Ed25519PrivateKey
    pin: str
    wrong_pins: int = 0
    locked: bool = False
    jobs: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    firmware: str = "12.4.0"

    def __post_init__(self) -> None:
        if not isinstance(self.uid, str) or not self.uid:
            raise SimError("BAD_REQUEST", "a programming key needs a UID")
        if not isinstance(self.pin, str) or not self.pin:
            raise SimError("BAD_REQUEST", "a programming key needs a PIN")
        if not is_version(self.firmware):
            raise SimError("BAD_REQUEST", f"not a firmware version: {self.firmware!r}")

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key the server stores as ``ProgrammingKey.public_key``."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def private_key_hex(self) -> str:
        return self.private_key.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        ).hex()

    # --- login (R5) -----------------------------------------------------------------------

    def sign(self, message: bytes, pin: str) -> bytes:
        """Sign ``message`` (``app.auth.login.login_message``) after checking ``pin``.

        A wrong PIN raises WRONG_PIN with ``remainingTries``; the third in a row
        locks the key and raises KEY_LOCKED, as does any attempt on a locked key.
        A right PIN resets the count.
        """
        if self.locked:
            raise SimError("KEY_LOCKED", f"programming key {self.marking} is locked (PUK needed)")
        if not hmac.compare_digest(pin.encode(), self.pin.encode()):
            self.wrong_pins += 1
            remaining = MAX_WRONG_PINS - self.wrong_pins
            if remaining <= 0:
                self.locked = True
                raise SimError(
                    "KEY_LOCKED",
                    f"wrong PIN {MAX_WRONG_PINS} times: programming key {self.marking} is locked",
                    remainingTries=0,
                )
            raise SimError(
                "WRONG_PIN", f"wrong PIN, {remaining} tries left", remainingTries=remaining
            )
        self.wrong_pins = 0
        return self.private_key.sign(message)

    def unlock(self) -> None:
        """The PUK's work: the key signs again and its wrong-PIN count starts over."""
        self.locked = False
        self.wrong_pins = 0

    # --- jobs and results (R15, R17) --------------------------------------------------

    def load_jobs(self, jobs: Sequence[Mapping[str, Any]]) -> int:
        """Put exactly ``jobs`` on the key, all or nothing; returns how many it carries.

        The server sends every job that is on the key by its records (ON_KEY) with
        each load, so the list replaces what the key held: a job the server took
        back (R17) leaves the key. A job whose result waits on the key to be
        reported is not put back (it was carried out). MEMORY_FULL when jobs and
        results would exceed ``MAX_ENTRIES``.
        """
        checked = [check_job(job, f"jobs.{i}") for i, job in enumerate(jobs)]
        ids = [job["jobId"] for job in checked]
        if len(set(ids)) != len(ids):
            raise SimError("BAD_REQUEST", "jobs: a jobId is given twice")
        reported = {r["jobId"] for r in self.results}
        carried = [job for job in checked if job["jobId"] not in reported]
        if len(carried) + len(self.results) > MAX_ENTRIES:
            raise SimError(
                "MEMORY_FULL",
                f"the programming key holds {MAX_ENTRIES} jobs and results, "
                f"{len(carried)} jobs and {len(self.results)} results would not fit",
            )
        self.jobs = carried
        return len(self.jobs)

    def jobs_for(self, cylinder_uid: str) -> list[dict[str, Any]]:
        """The jobs the key carries for cylinder ``cylinder_uid``, in loading order."""
        return [job for job in self.jobs if job["cylinderUid"] == cylinder_uid]

    def record_result(self, result: Mapping[str, Any]) -> None:
        """The job was carried out at its cylinder: it leaves the key, its result stays."""
        if result.get("outcome") not in OUTCOMES:
            raise SimError("BAD_REQUEST", f"unknown outcome {result.get('outcome')!r}")
        self.jobs = [job for job in self.jobs if job["jobId"] != result["jobId"]]
        self.results.append(dict(result))

    def read_results(self) -> list[dict[str, Any]]:
        """The results waiting to be reported, in the order the cylinders were visited."""
        return [
            {**r, "auditEvents": [dict(e) for e in r["auditEvents"]]} for r in self.results
        ]

    def clear_results(self, job_ids: Iterable[str]) -> None:
        """Forget the results of ``job_ids`` (reported safely); unknown ids are ignored."""
        cleared = set(job_ids)
        self.results = [r for r in self.results if r["jobId"] not in cleared]

    def describe(self) -> dict[str, Any]:
        """What reading the key at a desk device returns (the desk's ``read_key``)."""
        return {
            "kind": "PROGRAMMING",
            "uid": self.uid,
            "marking": self.marking,
            "firmwareVersion": self.firmware,
            "locked": self.locked,
            "jobs": len(self.jobs),
            "results": len(self.results),
            "memory": {"used": len(self.jobs) + len(self.results), "capacity": MAX_ENTRIES},
        }

    # --- persistence ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "marking": self.marking,
            "privateKey": self.private_key_hex(),
            "pin": self.pin,
            "wrongPins": self.wrong_pins,
            "locked": self.locked,
            "firmware": self.firmware,
            "jobs": [dict(job) for job in self.jobs],
            "results": self.read_results(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProgrammingKey:
        """A key from :meth:`to_dict` or a control command (``privateKey`` hex; a new key pair
        when it is missing)."""
        private = data.get("privateKey")
        try:
            key = (
                Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private))
                if private
                else Ed25519PrivateKey.generate()
            )
        except ValueError:
            raise SimError("BAD_REQUEST", "privateKey: 32 bytes in hex") from None
        pkey = cls(
            uid=data["uid"],
            marking=data.get("marking", data["uid"]),
            private_key=key,
            pin=data["pin"],
            wrong_pins=int(data.get("wrongPins", 0)),
            locked=bool(data.get("locked", False)),
            firmware=data.get("firmware") or data.get("firmwareVersion") or "12.4.0",
        )
        pkey.load_jobs(data.get("jobs", []))
        pkey.results = [dict(r) for r in data.get("results", [])]
        return pkey
