"""The simulator's world: every simulated programming key, user key and cylinder, by UID.

This is the hardware a desk programming device (``hardware/sim/desk.py``) and
the person at the desk and on site (``hardware/sim/control.py``) act on, as a
pure Python model with no I/O but its JSON file:

- :class:`UserKey` (``hardware.sim.user_key``) — E1/E2/E3 keys of generation 1
  and 2, their memory and limits, audit trail and firmware update (R10, R12–R14,
  R26, R28);
- :class:`ProgrammingKey` (``hardware.sim.programming``) — Ed25519 private key,
  PIN with lock-out after 3 wrong tries, jobs and results (R5, R15, R17);
- :class:`Cylinder` (``hardware.sim.cylinder``) — access list, blocking list,
  audit trail, access decisions by the server's rules, programming visits
  (R11, R15, R19).

The model itself is not thread-safe: a desk serving its serial line and its
control socket from several threads holds ``World.lock`` (re-entrant) around
each operation and around ``save``.

Every refusal is a :class:`SimError` with ``code`` MEMORY_FULL, UNSUPPORTED,
NO_KEY, WRONG_PIN, KEY_LOCKED or BAD_REQUEST. Times are always passed in
(aware datetimes); nothing here reads the clock.

The file (``World.save``/``World.load``) is JSON, readable by its owner only
(0600, it holds private keys and PINs), replaced atomically::

    {"version": 1, "userKeys": [...], "programmingKeys": [...], "cylinders": [...]}

with each element as its ``to_dict()`` writes it (private keys in hex).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hardware.sim.cylinder import (
    MAX_BLOCKING_LIST,
    MAX_EVENTS,
    MAX_FOREIGN_EVENTS,
    MAX_KEY_GROUPS,
    AccessDecision,
    Cylinder,
)
from hardware.sim.programming import MAX_ENTRIES, MAX_WRONG_PINS, ProgrammingKey, check_job
from hardware.sim.user_key import CAPACITY, KeyCapacity, SimError, UserKey

__all__ = [
    "CAPACITY",
    "MAX_BLOCKING_LIST",
    "MAX_ENTRIES",
    "MAX_EVENTS",
    "MAX_FOREIGN_EVENTS",
    "MAX_KEY_GROUPS",
    "MAX_WRONG_PINS",
    "WORLD_VERSION",
    "AccessDecision",
    "Cylinder",
    "KeyCapacity",
    "ProgrammingKey",
    "SimError",
    "UserKey",
    "World",
    "check_job",
]

WORLD_VERSION = 1


@dataclass
class World:
    """All simulated hardware, by UID. Key UIDs are unique across user and programming keys."""

    user_keys: dict[str, UserKey] = field(default_factory=dict)
    programming_keys: dict[str, ProgrammingKey] = field(default_factory=dict)
    cylinders: dict[str, Cylinder] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # --- adding hardware ----------------------------------------------------------------

    def add_user_key(self, key: UserKey) -> UserKey:
        """Add a user key; BAD_REQUEST when a key with its UID exists."""
        self._refuse_known_key(key.uid)
        self.user_keys[key.uid] = key
        return key

    def add_programming_key(self, key: ProgrammingKey) -> ProgrammingKey:
        """Add a programming key; BAD_REQUEST when a key with its UID exists."""
        self._refuse_known_key(key.uid)
        self.programming_keys[key.uid] = key
        return key

    def add_cylinder(self, cylinder: Cylinder) -> Cylinder:
        """Add a cylinder; BAD_REQUEST when one with its UID exists."""
        if cylinder.uid in self.cylinders:
            raise SimError("BAD_REQUEST", f"a cylinder {cylinder.uid} exists already")
        self.cylinders[cylinder.uid] = cylinder
        return cylinder

    def _refuse_known_key(self, uid: str) -> None:
        if uid in self.user_keys or uid in self.programming_keys:
            raise SimError("BAD_REQUEST", f"a key {uid} exists already")

    # --- finding it ---------------------------------------------------------------------

    def key(self, uid: str) -> UserKey | ProgrammingKey:
        """The user or programming key ``uid``; NO_KEY when there is none."""
        found = self.user_keys.get(uid) or self.programming_keys.get(uid)
        if found is None:
            raise SimError("NO_KEY", f"no key {uid} in the simulator")
        return found

    def user_key(self, uid: str) -> UserKey:
        """The user key ``uid``; NO_KEY when there is none (or it is a programming key)."""
        if uid not in self.user_keys:
            raise SimError("NO_KEY", f"no user key {uid} in the simulator")
        return self.user_keys[uid]

    def programming_key(self, uid: str) -> ProgrammingKey:
        """The programming key ``uid``; NO_KEY when there is none (or it is a user key)."""
        if uid not in self.programming_keys:
            raise SimError("NO_KEY", f"no programming key {uid} in the simulator")
        return self.programming_keys[uid]

    def cylinder(self, uid: str) -> Cylinder:
        """The cylinder ``uid``; BAD_REQUEST when there is none."""
        if uid not in self.cylinders:
            raise SimError("BAD_REQUEST", f"no cylinder {uid} in the simulator")
        return self.cylinders[uid]

    # --- on site ------------------------------------------------------------------------

    def try_open(self, cylinder_uid: str, key_uid: str, at: datetime) -> AccessDecision:
        """User key ``key_uid`` is inserted into cylinder ``cylinder_uid`` at ``at`` (R11–R14)."""
        return self.cylinder(cylinder_uid).try_open(self.user_key(key_uid), at)

    def visit(
        self,
        cylinder_uid: str,
        programming_key_uid: str,
        at: datetime,
        pull_after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Programming key ``programming_key_uid`` is carried to cylinder ``cylinder_uid``
        (R15, R17); returns the job results it added to the key."""
        cylinder = self.cylinder(cylinder_uid)
        return cylinder.visit(self.programming_key(programming_key_uid), at, pull_after)

    def set_blocking_list(self, cylinder_uid: str, key_uids: list[str]) -> None:
        """Give cylinder ``cylinder_uid`` a new key blocking list (R19, at most 3,000 keys)."""
        self.cylinder(cylinder_uid).set_blocking_list(key_uids)

    def unlock(self, uid: str) -> None:
        """The PUK unlocks programming key ``uid`` after three wrong PINs (R5)."""
        self.programming_key(uid).unlock()

    # --- persistence --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything the world holds, JSON-ready (private keys and PINs included)."""
        return {
            "version": WORLD_VERSION,
            "userKeys": [k.to_dict() for k in self.user_keys.values()],
            "programmingKeys": [k.to_dict() for k in self.programming_keys.values()],
            "cylinders": [c.to_dict() for c in self.cylinders.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> World:
        """A world from :meth:`to_dict`; BAD_REQUEST for another file version."""
        if data.get("version") != WORLD_VERSION:
            raise SimError("BAD_REQUEST", f"unsupported world file version {data.get('version')!r}")
        world = cls()
        for key in data.get("userKeys", []):
            world.add_user_key(UserKey.from_dict(key))
        for pkey in data.get("programmingKeys", []):
            world.add_programming_key(ProgrammingKey.from_dict(pkey))
        for cylinder in data.get("cylinders", []):
            world.add_cylinder(Cylinder.from_dict(cylinder))
        return world

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the world to ``path``: JSON, mode 0600, atomically (a reader never sees half
        a file, and a crash leaves the old one)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o600)
                json.dump(self.to_dict(), f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, missing_ok: bool = False) -> World:
        """The world saved at ``path``; an empty world when the file is missing and
        ``missing_ok`` (else FileNotFoundError)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return cls()
            raise
        return cls.from_dict(json.loads(text))
