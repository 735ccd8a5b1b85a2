"""Configuration (app/config.py): one ``Settings`` from the environment, checked at start-up.

A bad value stops ``keywarden serve`` and ``keywarden worker`` with exit status 2
and a message naming the variable; secrets never print (R37); the README's
configuration table names exactly the variables ``Settings`` reads.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dramatiq.brokers.redis import DEFAULT_HEARTBEAT_TIMEOUT, DEFAULT_MAINTENANCE_CHANCE

from app.config import ConfigError, Settings, describe_errors, get_settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The process environment without any Keywarden variable, plus ``values``."""
    variables = set(settings_variables())
    env = {k: v for k, v in os.environ.items() if k.upper() not in variables}
    env["VAR_DIR"] = str(tmp_path / "var")
    env.update(values)
    return env


def settings_variables() -> list[str]:
    """The environment variable of every Settings field (its alias, or its name in capitals)."""
    return [(f.alias or name).upper() for name, f in Settings.model_fields.items()]


@pytest.fixture
def no_cached_settings() -> object:
    get_settings.cache_clear()
    yield None
    get_settings.cache_clear()


# --- start-up validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PORT", "eighty", "valid integer"),
        ("SMTP_PORT", "0", "greater than or equal to 1"),
        ("KEYWARDEN_LOG_FORMAT", "xml", "'text' or 'json'"),
        ("KEYWARDEN_LOG_LEVEL", "loud", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS", "500", "greater than or equal to 2000"),
        ("KEYWARDEN_QUEUE_MAINTENANCE_CHANCE", "2000000", "less than or equal to 1000000"),
        ("KEYWARDEN_DATACENTER_URL", "ftp://vendor", "http:// or https://"),
        ("SMTP_STARTTLS", "maybe", "valid boolean"),
        ("KEYWARDEN_VENDOR_PUBLIC_KEYS", "abc", "64 hex digits"),
        ("REDIS_URL", "localhost:6379", "redis://"),
    ],
)
def test_a_bad_value_is_named_with_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, no_cached_settings: None, variable: str, value: str, says: str
) -> None:
    # given
    monkeypatch.setenv(variable, value)

    # when
    with pytest.raises(ConfigError) as raised:
        load_settings()

    # then
    [line] = str(raised.value).splitlines()
    assert line.startswith(f"{variable}: ")
    assert says in line


def test_every_bad_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("PORT", "x")
    monkeypatch.setenv("KEYWARDEN_SESSION_HOURS", "0")

    # when
    with pytest.raises(Exception) as raised:
        Settings()

    # then
    lines = describe_errors(raised.value).splitlines()  # type: ignore[arg-type]
    assert [line.split(":")[0] for line in lines] == ["PORT", "KEYWARDEN_SESSION_HOURS"]


def test_serve_with_a_bad_value_stops_with_status_2_and_no_traceback(tmp_path: Path) -> None:
    # given
    env = clean_env(tmp_path, PORT="eighty")

    # when
    result = subprocess.run(
        [BIN / "keywarden", "serve"], env=env, capture_output=True, text=True, timeout=60
    )

    # then
    assert result.returncode == 2
    assert "PORT: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_with_a_bad_value_stops_with_status_2_and_no_traceback(tmp_path: Path) -> None:
    # given: Redis configured, but a redelivery timeout shorter than a live worker's heartbeat
    env = clean_env(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6379/0",
        KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS="100",
    )

    # when
    result = subprocess.run(
        [BIN / "keywarden", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    module = subprocess.run(
        [sys.executable, "-m", "app.workers.main"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )

    # then
    for run in (result, module):
        assert run.returncode == 2
        assert "KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS: Input should be greater" in run.stderr
        assert "Traceback" not in run.stderr


def test_an_empty_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("SMTP_PORT", "")
    monkeypatch.setenv("KEYWARDEN_DATACENTER_URL", "")

    # when
    settings = Settings()

    # then
    assert settings.smtp_port == 25
    assert settings.datacenter_url == "http://127.0.0.1:8900"


def test_queue_redelivery_defaults_are_dramatiqs(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    for variable in ("KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS", "KEYWARDEN_QUEUE_MAINTENANCE_CHANCE"):
        monkeypatch.delenv(variable, raising=False)

    # when
    settings = Settings()

    # then
    assert settings.queue_heartbeat_timeout_ms == DEFAULT_HEARTBEAT_TIMEOUT
    assert settings.queue_maintenance_chance == DEFAULT_MAINTENANCE_CHANCE


# --- secrets (R37) ------------------------------------------------------------------------


def test_secrets_do_not_show_in_a_repr_or_a_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://owner:db-pass-1@db.example/kw")
    monkeypatch.setenv("APP_DATABASE_URL", "postgresql+asyncpg://app:db-pass-2@db.example/kw")
    monkeypatch.setenv("REDIS_URL", "redis://:redis-pass-3@cache.example:6379/0")
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-pass-4")

    # when
    settings = Settings()
    logging.getLogger("keywarden.test").warning("settings: %s %r", settings, settings)

    # then
    shown = repr(settings) + str(settings) + caplog.text
    for secret in ("db-pass-1", "db-pass-2", "redis-pass-3", "smtp-pass-4"):
        assert secret not in shown
    assert "db-pass-1" in settings.effective_database_url  # the engine still gets it


def test_a_bad_secret_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a URL with a password, for a driver we do not ship
    monkeypatch.setenv("DATABASE_URL", "mysql://owner:db-pass-5@db.example/kw")

    # when
    with pytest.raises(Exception) as raised:
        Settings()
    message = describe_errors(raised.value)  # type: ignore[arg-type]

    # then
    assert message.startswith("DATABASE_URL: the driver must be one of")
    assert "db-pass-5" not in message


# --- the README's configuration table -----------------------------------------------------


def test_the_readme_documents_exactly_the_variables_settings_reads() -> None:
    # given
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]

    # when
    documented = {
        name for line in table for name in re.findall(r"`([A-Z][A-Z0-9_]+)", line.split("|")[1])
    }

    # then
    assert documented == set(settings_variables())


def test_no_module_of_the_server_reads_the_environment_itself() -> None:
    # given
    readers = []

    # when
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name == "config.py":
            continue
        text = path.read_text()
        if re.search(r"os\.environ|os\.getenv|getenv\(", text):
            readers.append(str(path.relative_to(ROOT)))

    # then
    assert readers == []
