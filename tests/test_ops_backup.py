"""``keywarden backup`` / ``restore`` of the embedded SQLite default, as an operator runs them
(issue 13 item 6; R3)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.models import utcnow
from tests.conftest import BACKEND
from tests.harness import patience, wait_until
from tests.processes import ServerProcess

BIN = Path(sys.executable).parent / "keywarden"

sqlite_only = pytest.mark.skipif(BACKEND == "postgres", reason="backup/restore are SQLite's")


def keywarden(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN, *args], env=env, capture_output=True, text=True, timeout=patience(120), check=False
    )


def environment(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYWARDEN_", "DATABASE"))}
    env.update(VAR_DIR=str(var_dir), **extra)
    return env


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    """The embedded default in a var dir of its own, migrated, with one tenant."""
    env = environment(tmp_path / "var")
    for args in (("migrate",), ("tenant", "create", "--name", "Hotel Adler")):
        result = keywarden(env, *args)
        assert result.returncode == 0, result.stderr
    return env


@pytest.fixture
def backup_file(embedded: dict[str, str], tmp_path: Path) -> Path:
    """A backup of the embedded database, taken with ``keywarden backup``."""
    path = tmp_path / "backup.db"
    result = keywarden(embedded, "backup", str(path))
    assert result.returncode == 0, result.stderr
    return path


def database_of(env: dict[str, str]) -> Path:
    return Path(env["VAR_DIR"]) / "keywarden.db"


def dump(path: Path) -> list[str]:
    """Every schema statement and row of the database, in SQL."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


class OutboxWriter:
    """Commits one outbox row after another into the database until stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.committed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=patience(10))
        tenant_id = connection.execute("SELECT id FROM tenants").fetchone()[0]
        while not self._stop.is_set():
            connection.execute(
                "INSERT INTO outbox (tenant_id, kind, recipient, subject, body, created_at, "
                "attempts) VALUES (?, 'test', 'a@example.org', 's', 'b', ?, 0)",
                (tenant_id, utcnow().isoformat()),
            )
            connection.commit()
            self.committed += 1
        connection.close()

    def __enter__(self) -> OutboxWriter:
        self._thread.start()
        wait_until(lambda: self.committed >= 20, "the writer to be writing")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@sqlite_only
def test_a_backup_taken_while_the_database_is_written_is_one_consistent_moment(
    embedded: dict[str, str], tmp_path: Path
) -> None:
    # given: a writer committing outbox rows one by one
    with OutboxWriter(database_of(embedded)) as writer:
        before = writer.committed
        # when
        result = keywarden(embedded, "backup", str(tmp_path / "during.db"))
        after_backup = writer.committed
        wait_until(lambda: writer.committed > after_backup, "writes to go on after the backup")

    # then: it says what it did, and the copy holds exactly the first N rows (a snapshot)
    assert result.returncode == 0, result.stderr
    assert "backed up" in result.stdout and "1 tenant(s)" in result.stdout
    copy = sqlite3.connect(tmp_path / "during.db")
    ids = [row[0] for row in copy.execute("SELECT id FROM outbox ORDER BY id")]
    check = copy.execute("PRAGMA quick_check").fetchone()[0]
    copy.close()
    assert check == "ok"
    assert before <= len(ids) <= after_backup + 1
    assert ids == list(range(ids[0], ids[0] + len(ids)))


@sqlite_only
def test_a_backup_restored_into_a_fresh_place_holds_the_same_data(
    embedded: dict[str, str], tmp_path: Path
) -> None:
    # given: a database with rows written, and its backup
    with OutboxWriter(database_of(embedded)):
        pass
    backup_file = tmp_path / "keywarden-backup.db"
    assert keywarden(embedded, "backup", str(backup_file)).returncode == 0
    fresh = environment(tmp_path / "elsewhere")

    # when
    result = keywarden(fresh, "restore", str(backup_file))

    # then
    assert result.returncode == 0, result.stderr
    assert f"restored {database_of(fresh)} from {backup_file}" in result.stdout
    assert dump(database_of(fresh)) == dump(database_of(embedded))


@sqlite_only
def test_a_backup_never_overwrites_a_file(embedded: dict[str, str], tmp_path: Path) -> None:
    # given
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")

    # when
    result = keywarden(embedded, "backup", str(existing))

    # then
    assert result.returncode == 1
    assert "exists: remove it or choose another name" in result.stderr
    assert existing.read_bytes() == b"keep me"


@pytest.fixture
def not_keywarden(tmp_path: Path) -> Path:
    path = tmp_path / "photos.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    connection.commit()
    connection.close()
    return path


@sqlite_only
def test_restore_refuses_a_damaged_file_and_a_database_that_is_not_keywardens(
    embedded: dict[str, str], backup_file: Path, tmp_path: Path, not_keywarden: Path
) -> None:
    # given: a backup with its pages overwritten past the header, a text file, another
    # application's SQLite database; and the database they would replace
    damaged = tmp_path / "damaged.db"
    data = bytearray(backup_file.read_bytes())
    data[4096:16384] = os.urandom(12288)
    damaged.write_bytes(bytes(data))
    text = tmp_path / "notes.db"
    text.write_text("not a database at all\n" * 100)
    before = dump(database_of(embedded))

    # when
    refused = {
        path.name: keywarden(embedded, "restore", str(path))
        for path in (damaged, text, not_keywarden)
    }

    # then: each refused with a clear message, and the database untouched
    assert all(result.returncode == 1 for result in refused.values())
    damaged_said = refused["damaged.db"].stderr
    assert "the SQLite file is damaged" in damaged_said or "malformed" in damaged_said
    assert "notes.db: not a readable SQLite database" in refused["notes.db"].stderr
    assert "photos.db: an SQLite database, but not a Keywarden one" in \
        refused["photos.db"].stderr
    assert dump(database_of(embedded)) == before


@sqlite_only
def test_restore_refuses_a_database_at_a_revision_it_does_not_know(
    backup_file: Path, tmp_path: Path
) -> None:
    # given: a backup claiming a migration from a newer version
    connection = sqlite3.connect(backup_file)
    connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.commit()
    connection.close()

    # when
    result = keywarden(environment(tmp_path / "fresh"), "restore", str(backup_file))

    # then
    assert result.returncode == 1
    assert "9999_from_the_future, which this version of Keywarden does not know" in result.stderr


@pytest.fixture
def serving(embedded: dict[str, str], tmp_path: Path) -> Iterator[ServerProcess]:
    """``keywarden serve`` on the database, having answered /ready (its connections pooled)."""
    server = ServerProcess(embedded, tmp_path / "serve.log")
    try:
        server.wait_ready()
        with urllib.request.urlopen(f"{server.url}/ready", timeout=patience(10)) as response:
            assert response.status == 200
        yield server
    finally:
        server.close()


@sqlite_only
def test_restore_refuses_a_database_a_running_server_holds_unless_forced(
    embedded: dict[str, str], backup_file: Path, serving: ServerProcess
) -> None:
    # given: a backup, and the server still running on the database

    # when
    refused = keywarden(embedded, "restore", str(backup_file))
    forced = keywarden(embedded, "restore", "--force", str(backup_file))

    # then
    assert refused.returncode == 1
    assert "is open in another process" in refused.stderr and "--force" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert "restart it" in forced.stdout
    # and the server goes on answering, on the restored file
    with urllib.request.urlopen(f"{serving.url}/ready", timeout=patience(10)) as response:
        assert response.status == 200


@pytest.mark.skipif(BACKEND != "postgres", reason="needs the PostgreSQL test database")
def test_on_postgresql_both_commands_point_to_pg_dump_and_pg_restore(
    settings: Settings, tmp_path: Path
) -> None:
    # given: the test database's URL
    env = environment(tmp_path / "var", DATABASE_URL=settings.database_url.get_secret_value())

    # when
    results = [
        keywarden(env, "backup", str(tmp_path / "b.db")),
        keywarden(env, "restore", str(tmp_path / "b.db")),
    ]

    # then
    for result in results:
        assert result.returncode == 1
        assert "pg_dump" in result.stderr and "pg_restore" in result.stderr
    assert not (tmp_path / "b.db").exists()
