"""The durable report queue: what the bridge did, kept until the server acknowledged it.

Exactly-once effects across crashes and outages (issue 5, R17):

* A command's report is committed here (SQLite, WAL, ``synchronous=FULL``)
  *before* its side effect on the key is finalised — e.g. programming results
  are cleared from the programming key only after their report is committed
  (:meth:`ReportQueue.record` with a :class:`PendingClear`).
* A report leaves the queue only after the server acknowledged it
  (:meth:`ReportQueue.acknowledge`); queued reports are sent oldest first.
  A report re-sent after a crash between "server applied" and "local delete"
  is harmless: ``reportBridgeCommand`` is idempotent on the server.
* Every executed command id is remembered (table ``executed``), so a command
  the server delivers again after a reconnect is answered from the stored
  report instead of being executed a second time on the key.
* SIGN_LOGIN is live only (R5): its report is never queued and its PIN never
  reaches this file; only the fact that the command ran is remembered, so a
  redelivery cannot spend another PIN try on the key.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS executed (
    command_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT,
    executed_at TEXT NOT NULL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS pending_clears (
    command_id TEXT PRIMARY KEY,
    slot TEXT NOT NULL,
    programming_key_uid TEXT NOT NULL,
    job_ids TEXT NOT NULL
);
"""
ACKED = "ACKED"
REJECTED = "REJECTED"
LIVE = "LIVE"  # executed, answered live only, report not kept (SIGN_LOGIN)
KEEP_EXECUTED = timedelta(days=30)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Report:
    """The answer to one bridge command (interfaces section 3): a result, or a desk error."""

    command_id: str
    ok: bool
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def success(cls, command_id: str, result: dict[str, Any]) -> Report:
        return cls(command_id, True, result=result)

    @classmethod
    def failure(cls, command_id: str, code: str, message: str) -> Report:
        return cls(command_id, False, error_code=code, error_message=message)

    def body(self) -> str:
        """The stored form: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ...}``."""
        if self.ok:
            return json.dumps({"ok": True, "result": self.result}, sort_keys=True)
        return json.dumps(
            {"ok": False, "error": {"code": self.error_code, "message": self.error_message}},
            sort_keys=True,
        )

    @classmethod
    def from_body(cls, command_id: str, body: str) -> Report:
        data = json.loads(body)
        if data["ok"]:
            return cls.success(command_id, data["result"])
        return cls.failure(command_id, data["error"]["code"], data["error"]["message"])

    def mutation_input(self) -> dict[str, Any]:
        """The ``reportBridgeCommand`` input: the result as a JSON string."""
        return {
            "commandId": self.command_id,
            "ok": self.ok,
            "result": json.dumps(self.result, sort_keys=True) if self.ok else None,
            "errorCode": self.error_code,
            "errorMessage": self.error_message,
        }


@dataclass(frozen=True)
class QueuedReport:
    """A report waiting for the server's acknowledgement, in queue order ``seq``."""

    seq: int
    kind: str
    report: Report
    attempts: int


@dataclass(frozen=True)
class PendingClear:
    """Job results to clear from a programming key once their report is safely queued (R17)."""

    command_id: str
    slot: str
    programming_key_uid: str
    job_ids: list[str]


@dataclass(frozen=True)
class ExecutedCommand:
    """A command this bridge already executed on the desk device."""

    command_id: str
    kind: str
    report: Report | None  # None: live only (SIGN_LOGIN), not kept
    outcome: str | None  # None while queued; ACKED / REJECTED once answered; LIVE if not kept


class ReportQueue:
    """The SQLite file of queued reports and executed command ids (one writer: the agent)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            # Created private before SQLite opens it; the -wal/-shm files copy its mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed report survives a power cut, not only a crashed process.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReportQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- recording what was done ----------------------------------------------------------

    def record(
        self,
        kind: str,
        report: Report,
        *,
        durable: bool = True,
        clear: PendingClear | None = None,
    ) -> None:
        """Remember that the command ran and queue its report, in one committed transaction.

        ``durable=False`` (SIGN_LOGIN) remembers only that it ran. ``clear`` is
        remembered with it so results are cleared from the key after this commit.
        """
        now = _now()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO executed (command_id, kind, body, executed_at, outcome)"
                " VALUES (?, ?, ?, ?, ?)",
                (report.command_id, kind, report.body() if durable else None, now,
                 None if durable else LIVE),
            )
            if durable:
                db.execute(
                    "INSERT INTO reports (command_id, kind, body, queued_at) VALUES (?, ?, ?, ?)",
                    (report.command_id, kind, report.body(), now),
                )
            if clear is not None:
                db.execute(
                    "INSERT INTO pending_clears (command_id, slot, programming_key_uid, job_ids)"
                    " VALUES (?, ?, ?, ?)",
                    (clear.command_id, clear.slot, clear.programming_key_uid,
                     json.dumps(clear.job_ids)),
                )

    def executed(self, command_id: str) -> ExecutedCommand | None:
        """The command if this bridge already executed it."""
        row = self._db.execute(
            "SELECT kind, body, outcome FROM executed WHERE command_id = ?", (command_id,)
        ).fetchone()
        if row is None:
            return None
        kind, body, outcome = row
        report = Report.from_body(command_id, body) if body is not None else None
        return ExecutedCommand(command_id, kind, report, outcome)

    def requeue(self, command_id: str) -> bool:
        """Queue the stored report of an executed command again (the server asked again).

        False if it is still queued or was not kept (live only).
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT kind, body FROM executed WHERE command_id = ?", (command_id,)
            ).fetchone()
            if row is None or row[1] is None:
                return False
            queued = db.execute(
                "SELECT 1 FROM reports WHERE command_id = ?", (command_id,)
            ).fetchone()
            if queued:
                return False
            db.execute(
                "INSERT INTO reports (command_id, kind, body, queued_at) VALUES (?, ?, ?, ?)",
                (command_id, row[0], row[1], _now()),
            )
            db.execute("UPDATE executed SET outcome = NULL WHERE command_id = ?", (command_id,))
        return True

    # --- delivering -----------------------------------------------------------------------

    def pending(self, limit: int | None = None) -> list[QueuedReport]:
        """Queued reports, oldest first."""
        sql = "SELECT seq, command_id, kind, body, attempts FROM reports ORDER BY seq"
        rows = self._db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [
            QueuedReport(seq, kind, Report.from_body(command_id, body), attempts)
            for seq, command_id, kind, body, attempts in rows
        ]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    def attempted(self, seq: int) -> None:
        """One more delivery attempt of ``seq`` (shown in status; no effect on order)."""
        with self._transaction() as db:
            db.execute("UPDATE reports SET attempts = attempts + 1 WHERE seq = ?", (seq,))

    def acknowledge(self, seq: int) -> None:
        """The server acknowledged report ``seq``: it leaves the queue (kept as executed)."""
        self._finish(seq, ACKED)

    def reject(self, seq: int, reason: str) -> None:
        """The server refused report ``seq`` for good (e.g. the command no longer exists).

        It leaves the queue so it cannot block the reports behind it; the reason is kept.
        """
        self._finish(seq, f"{REJECTED}: {reason}"[:500])

    def _finish(self, seq: int, outcome: str) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT command_id FROM reports WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                return
            db.execute("DELETE FROM reports WHERE seq = ?", (seq,))
            db.execute(
                "UPDATE executed SET outcome = ? WHERE command_id = ?", (outcome, row[0])
            )

    def rejected_count(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM executed WHERE outcome LIKE ?", (f"{REJECTED}%",)
        ).fetchone()
        return int(row[0])

    # --- results still to clear from programming keys -------------------------------------

    def pending_clears(self, programming_key_uid: str | None = None) -> list[PendingClear]:
        sql = "SELECT command_id, slot, programming_key_uid, job_ids FROM pending_clears"
        args: tuple[str, ...] = ()
        if programming_key_uid is not None:
            sql += " WHERE programming_key_uid = ?"
            args = (programming_key_uid,)
        return [
            PendingClear(command_id, slot, uid, json.loads(job_ids))
            for command_id, slot, uid, job_ids in self._db.execute(sql, args).fetchall()
        ]

    def cleared(self, command_id: str) -> None:
        """The results of ``command_id`` are gone from the programming key."""
        with self._transaction() as db:
            db.execute("DELETE FROM pending_clears WHERE command_id = ?", (command_id,))

    # --- housekeeping ---------------------------------------------------------------------

    def prune(self, older_than: timedelta = KEEP_EXECUTED) -> int:
        """Forget answered commands older than ``older_than`` (the server redelivers only
        unfinished commands, so an old answered one cannot come back)."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM executed WHERE outcome IS NOT NULL AND executed_at < ? "
                "AND command_id NOT IN (SELECT command_id FROM reports) "
                "AND command_id NOT IN (SELECT command_id FROM pending_clears)",
                (cutoff,),
            )
        return cursor.rowcount
