"""The desk simulator's control socket: the person at the desk and on site (issue 5).

Tests and people act on the simulated hardware through a Unix socket that
speaks JSON lines — one request object per line, one answer per line::

    {"cmd": "insert", "slot": "left", "uid": "04A1B2"}
    {"ok": true, "result": {"kind": "USER", "uid": "04A1B2", ...}}
    {"ok": false, "error": {"code": "NO_KEY", "message": "..."}}

Commands (arguments as in the request object):

- ``insert {slot, uid}`` / ``remove {slot}`` — put a key into a slot of the desk /
  take it out (the PC gets KEY_INSERTED / KEY_REMOVED; a user key pulled
  during its firmware update is interrupted, R26);
- ``visit {cylinderUid, keyUid, at?, pullAfter?}`` — carry a programming key to
  a cylinder, which carries out its jobs (R15, R17); the results;
- ``try_open {cylinderUid, keyUid, at?}`` — try a user key in a cylinder
  (R11–R14, R19); ``{"opened", "reason", "detail"}``;
- ``add_user_key {uid, keyType, generation, firmware, validity?, schedule?,
  keyMemory?, ...}``, ``add_programming_key {uid, marking, privateKey (hex), pin}``,
  ``add_cylinder {uid, accessKeys?, accessGroups?, cylinderGroups?, ...}`` —
  new hardware (the fields of the world file, ``hardware.sim.world``);
- ``set_blocking_list {cylinderUid, keyUids}`` (R19), ``unlock {uid}`` (the PUK, R5);
- ``unplug`` — pull the cable: the pty closes, the PC's port fails;
  ``replug`` — a new pty; ``{"pty": path}`` (also printed as ``pty: ...``);
- ``state`` — the world as JSON, with the desk's slots, pty and link counters
  under ``desk``; ``save`` — write the world file now.

``at`` is an RFC 3339 time with offset; the present when omitted.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hardware.link.messages import DeskError
from hardware.sim.cylinder import Cylinder
from hardware.sim.desk import DeskDevice, parse_at
from hardware.sim.programming import ProgrammingKey
from hardware.sim.user_key import SimError, UserKey


class ControlError(Exception):
    """A control command the simulator refused; ``code`` as the simulator's SimError codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _required(request: dict[str, Any], name: str) -> Any:
    if request.get(name) is None:
        raise SimError("BAD_REQUEST", f"{name}: required")
    return request[name]


class ControlServer:
    """Serves control commands for one desk device on a Unix socket, a thread per client."""

    def __init__(self, path: str | os.PathLike[str], device: DeskDevice) -> None:
        self.path = Path(path)
        self.device = device
        self._sock: socket.socket | None = None
        self._stopping = False
        self._commands: dict[str, Callable[[dict[str, Any]], Any]] = {
            "insert": lambda r: device.insert(_required(r, "slot"), _required(r, "uid")),
            "remove": lambda r: device.remove(_required(r, "slot")),
            "visit": lambda r: device.visit(
                _required(r, "cylinderUid"),
                _required(r, "keyUid"),
                parse_at(r.get("at")),
                r.get("pullAfter"),
            ),
            "try_open": lambda r: device.try_open(
                _required(r, "cylinderUid"), _required(r, "keyUid"), parse_at(r.get("at"))
            ),
            "add_user_key": self._add_user_key,
            "add_programming_key": self._add_programming_key,
            "add_cylinder": self._add_cylinder,
            "set_blocking_list": self._set_blocking_list,
            "unlock": self._unlock,
            "unplug": self._unplug,
            "replug": lambda r: {"pty": device.replug()},
            "state": lambda r: device.state(),
            "save": self._save,
        }

    # --- commands that change the world --------------------------------------------------

    def _changed(self, fn: Callable[[], Any]) -> Any:
        with self.device.lock:
            result = fn()
            self.device.save()
            return result

    def _add_user_key(self, r: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in r.items() if k != "cmd"}
        _required(r, "uid")
        try:
            key = UserKey.from_dict(fields)
        except KeyError as exc:
            raise SimError("BAD_REQUEST", f"{exc.args[0]}: required") from None
        return self._changed(lambda: self.device.world.add_user_key(key).describe())  # type: ignore[no-any-return]

    def _add_programming_key(self, r: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in r.items() if k != "cmd"}
        _required(r, "uid")
        _required(r, "pin")
        pkey = ProgrammingKey.from_dict(fields)
        self._changed(lambda: self.device.world.add_programming_key(pkey))
        return {**pkey.describe(), "publicKey": pkey.public_key.hex()}

    def _add_cylinder(self, r: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in r.items() if k != "cmd"}
        _required(r, "uid")
        cylinder = Cylinder.from_dict(fields)
        return self._changed(lambda: self.device.world.add_cylinder(cylinder).describe())  # type: ignore[no-any-return]

    def _set_blocking_list(self, r: dict[str, Any]) -> dict[str, Any]:
        uids = _required(r, "keyUids")
        if not isinstance(uids, list):
            raise SimError("BAD_REQUEST", "keyUids: a list")
        cylinder_uid = _required(r, "cylinderUid")
        self._changed(lambda: self.device.world.set_blocking_list(cylinder_uid, uids))
        return {"cylinderUid": cylinder_uid, "blocked": len(set(uids))}

    def _unlock(self, r: dict[str, Any]) -> dict[str, Any]:
        uid = _required(r, "uid")
        self._changed(lambda: self.device.world.unlock(uid))
        return self.device.world.programming_key(uid).describe()

    def _unplug(self, r: dict[str, Any]) -> dict[str, Any]:
        self.device.unplug()
        return {"pty": None}

    def _save(self, r: dict[str, Any]) -> dict[str, Any]:
        self.device.save()
        return {"path": str(self.device.world_path) if self.device.world_path else None}

    # --- the socket -----------------------------------------------------------------------

    def execute(self, request: Any) -> dict[str, Any]:
        """Run one command; the answer object (never raises for a refused command)."""
        try:
            if not isinstance(request, dict):
                raise SimError("BAD_REQUEST", "a command is a JSON object")
            command = self._commands.get(request.get("cmd"))  # type: ignore[arg-type]
            if command is None:
                raise SimError(
                    "BAD_REQUEST",
                    f"unknown command {request.get('cmd')!r}; one of {sorted(self._commands)}",
                )
            return {"ok": True, "result": command(request)}
        except (SimError, DeskError) as exc:
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        except (KeyError, TypeError, ValueError) as exc:
            return {"ok": False, "error": {"code": "BAD_REQUEST", "message": repr(exc)}}

    def start(self) -> None:
        """Listen (the socket file is the owner's only: it can read private keys)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        sock.listen(8)
        self._sock = sock
        threading.Thread(target=self._accept, name="desk-control", daemon=True).start()

    def stop(self) -> None:
        self._stopping = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stopping:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                if not line.strip():
                    continue
                try:
                    request = json.loads(line)
                except ValueError as exc:
                    answer = {"ok": False, "error": {"code": "BAD_REQUEST", "message": str(exc)}}
                else:
                    answer = self.execute(request)
                stream.write(json.dumps(answer).encode() + b"\n")
                stream.flush()


class ControlClient:
    """Acts on a running desk simulator through its control socket (module doc for commands)."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.path = str(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(self.path)
        self._stream = self._sock.makefile("rwb")
        self._lock = threading.Lock()

    def call(self, cmd: str, **args: Any) -> Any:
        """Run command ``cmd``; its result, or ControlError with the simulator's refusal."""
        with self._lock:
            self._stream.write(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            self._stream.flush()
            line = self._stream.readline()
        if not line:
            raise ControlError("LINK", "the simulator closed the control socket")
        answer = json.loads(line)
        if not answer.get("ok"):
            error = answer.get("error", {})
            raise ControlError(error.get("code", "BAD_REQUEST"), error.get("message", ""))
        return answer.get("result")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()
            self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the commands, spelled out --------------------------------------------------------

    def insert(self, slot: str, uid: str) -> dict[str, Any]:
        return self.call("insert", slot=slot, uid=uid)  # type: ignore[no-any-return]

    def remove(self, slot: str) -> dict[str, Any] | None:
        return self.call("remove", slot=slot)  # type: ignore[no-any-return]

    def visit(
        self, cylinder_uid: str, key_uid: str, at: str | None = None, pull_after: int | None = None
    ) -> list[dict[str, Any]]:
        return self.call(  # type: ignore[no-any-return]
            "visit", cylinderUid=cylinder_uid, keyUid=key_uid, at=at, pullAfter=pull_after
        )

    def try_open(self, cylinder_uid: str, key_uid: str, at: str | None = None) -> dict[str, Any]:
        return self.call(  # type: ignore[no-any-return]
            "try_open", cylinderUid=cylinder_uid, keyUid=key_uid, at=at
        )

    def add_user_key(self, **fields: Any) -> dict[str, Any]:
        return self.call("add_user_key", **fields)  # type: ignore[no-any-return]

    def add_programming_key(
        self, uid: str, marking: str, private_key_hex: str | None, pin: str
    ) -> dict[str, Any]:
        return self.call(  # type: ignore[no-any-return]
            "add_programming_key", uid=uid, marking=marking, privateKey=private_key_hex, pin=pin
        )

    def add_cylinder(self, **fields: Any) -> dict[str, Any]:
        return self.call("add_cylinder", **fields)  # type: ignore[no-any-return]

    def set_blocking_list(self, cylinder_uid: str, key_uids: list[str]) -> dict[str, Any]:
        return self.call(  # type: ignore[no-any-return]
            "set_blocking_list", cylinderUid=cylinder_uid, keyUids=key_uids
        )

    def unlock(self, uid: str) -> dict[str, Any]:
        return self.call("unlock", uid=uid)  # type: ignore[no-any-return]

    def unplug(self) -> None:
        self.call("unplug")

    def replug(self) -> str:
        """Plug the cable back in; the new pty path."""
        return str(self.call("replug")["pty"])

    def state(self) -> dict[str, Any]:
        return self.call("state")  # type: ignore[no-any-return]

    def save(self) -> None:
        self.call("save")
