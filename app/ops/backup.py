"""``keywarden backup`` and ``keywarden restore`` for the embedded SQLite default (issue 13 item 6).

A backup is an online, consistent copy made with SQLite's backup API in one
step: it reads one snapshot of the database (in WAL mode a reader never holds
up the server's writers, nor they it), and the copy is written next to its
destination and renamed into place, so a half-written backup never carries the
name. The copy is a single file (rollback journal, not WAL), checked like any
file ``restore`` accepts.

``restore`` accepts a file only when it is a sound SQLite database (``PRAGMA
quick_check``) holding Keywarden's tables at a migration revision this version
knows. It refuses to write over a database another process holds open — a
running ``keywarden serve`` keeps its connections pooled — unless forced, and
then copies through SQLite's backup API as well, so that a process still
holding the database sees the new content whole (it should be restarted
anyway). On PostgreSQL both commands refuse: ``pg_dump`` and ``pg_restore``
are the tools there.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from app.config import Settings
from app.migrate import migration_scripts

POSTGRES_ADVICE = (
    "the database is PostgreSQL: back it up with pg_dump (e.g. `pg_dump -Fc -f FILE "
    "DATABASE`) and restore it with pg_restore (`pg_restore --clean -d DATABASE FILE`)"
)
# The tables every Keywarden database has had since its first migration.
KEYWARDEN_TABLES = frozenset({"alembic_version", "tenants", "domains", "keys", "cylinders"})


class BackupError(Exception):
    """Why a backup or a restore was refused; the message says what to do."""


@dataclass(frozen=True)
class DatabaseFile:
    """A checked Keywarden SQLite file: where, its migration revision, and whether at head."""

    path: Path
    revision: str
    head: str
    tenants: int
    size: int

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


def database_path(settings: Settings) -> Path:
    """The SQLite file of the configured database; BackupError on PostgreSQL."""
    if not settings.is_sqlite:
        raise BackupError(POSTGRES_ADVICE)
    database = make_url(settings.effective_database_url).database
    if not database or database == ":memory:":
        raise BackupError("the configured SQLite database is in memory: nothing to back up")
    return Path(database)


def inspect_file(path: Path) -> DatabaseFile:
    """``path`` checked to be a sound Keywarden database at a known revision (else BackupError)."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        # immutable: only read, never create a -wal or -shm beside a file under inspection.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if check != "ok":
                raise BackupError(f"{path}: the SQLite file is damaged ({check})")
            if not KEYWARDEN_TABLES <= tables:
                raise BackupError(f"{path}: an SQLite database, but not a Keywarden one")
            revisions = [row[0] for row in connection.execute(
                "SELECT version_num FROM alembic_version"
            )]
            tenants = connection.execute("SELECT count(*) FROM tenants").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a readable SQLite database ({exc})") from None
    scripts = migration_scripts()
    head = scripts.get_current_head()
    assert head is not None
    if len(revisions) != 1:
        raise BackupError(f"{path}: a Keywarden database without one migration revision")
    try:
        known = scripts.get_revision(revisions[0])
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"{path}: at migration revision {revisions[0]}, which this version of Keywarden does "
            "not know (made by a newer one?)"
        )
    return DatabaseFile(path, revisions[0], head, tenants, path.stat().st_size)


def held_open(path: Path) -> bool:
    """Whether another process has the SQLite database at ``path`` open (in WAL mode).

    Every connection to a WAL database holds a shared lock on its ``-shm`` file
    for as long as it is open; a lock test (never taking one) sees it. Call it from
    a process that does not itself hold the database open (closing a file drops
    all of a process's POSIX locks on it, SQLite's included).
    """
    shm = Path(f"{path}-shm")
    try:
        descriptor = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(descriptor, fcntl.F_GETLK, query)
        return struct.unpack("hhqqi", answer)[0] != fcntl.F_UNLCK
    finally:
        os.close(descriptor)


def backup(settings: Settings, target: Path) -> DatabaseFile:
    """Copy the configured SQLite database to ``target`` while it may be in use; the copy."""
    source = database_path(settings)
    if not source.is_file():
        raise BackupError(f"{source}: no database here yet (run `keywarden migrate`)")
    if target.exists():
        raise BackupError(f"{target} exists: remove it or choose another name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        copy = sqlite3.connect(partial)
        try:
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
        checked = inspect_file(partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return DatabaseFile(target, checked.revision, checked.head, checked.tenants, checked.size)


def restore(settings: Settings, source: Path, *, force: bool = False) -> tuple[DatabaseFile, bool]:
    """Put the backup ``source`` in place of the configured SQLite database.

    Returns the checked backup and whether another process held the database (only
    possible with ``force``).
    """
    target = database_path(settings)
    checked = inspect_file(source)
    held = held_open(target)
    if held and not force:
        raise BackupError(
            f"{target} is open in another process (a running `keywarden serve` or worker?): "
            "stop it first, or restore with --force and restart it afterwards"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)
    return checked, held


def _copy(source: Path, target: Path) -> None:
    """SQLite's backup API, all pages in one step (one consistent snapshot of ``source``)."""
    reader = sqlite3.connect(source)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
        finally:
            writer.close()
    finally:
        reader.close()
