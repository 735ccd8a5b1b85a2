"""Logging (app/logs.py, hardware/logconfig.py): one set-up for serve, worker and bridge.

Plain text or JSON lines; a line per request with its request id (the caller's
X-Request-ID, returned in the answer), tenant and GraphQL operation; uvicorn's
lines through the same handler; no secret in any line (R37).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.db import Database
from app.logs import RequestContextFilter, server_logging_config
from app.tenants.service import NewTenant
from hardware.logconfig import JsonFormatter, TextFormatter, check, logging_config
from tests.conftest import superadmin_token
from tests.harness import patience
from tests.processes import (
    ServerProcess,
    SmtpServer,
    WorkerProcess,
    reachable_redis,
    redis_queue,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEYS = "query Keys { keys(first: 1) { totalCount } }"


def emit(formatter: logging.Formatter, *, exc: bool = False, **fields: Any) -> str:
    """What ``formatter`` writes for one INFO line of ``keywarden.test`` with ``fields``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("keywarden.test.formats")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        if exc:
            try:
                raise RuntimeError("broken")
            except RuntimeError:
                logger.exception("it failed for %s", "key K-1", extra=fields)
        else:
            logger.info("imported %d keys", 3, extra=fields)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


# --- the two formats ----------------------------------------------------------------------


def test_a_text_line_has_time_level_logger_message_and_fields() -> None:
    # when
    line = emit(TextFormatter(), request_id="r-1", tenant=None, operation="Import Keys")

    # then
    assert line.endswith("\n") and line.count("\n") == 1
    assert " INFO keywarden.test.formats: imported 3 keys " in line
    assert line.rstrip().endswith('request_id=r-1 tenant=- operation="Import Keys"')


def test_a_json_line_parses_with_its_fields_and_traceback() -> None:
    # when
    plain = json.loads(emit(JsonFormatter(), request_id="r-2", tenant="t-1"))
    failed = json.loads(emit(JsonFormatter(), exc=True, request_id="r-3"))

    # then
    assert plain["level"] == "INFO"
    assert plain["logger"] == "keywarden.test.formats"
    assert plain["message"] == "imported 3 keys"
    assert (plain["request_id"], plain["tenant"]) == ("r-2", "t-1")
    assert plain["time"].endswith("+00:00")
    assert failed["level"] == "ERROR"
    assert failed["message"] == "it failed for key K-1"
    assert "RuntimeError: broken" in failed["exception"]


def test_level_and_format_are_checked() -> None:
    # then
    assert check(" info ", "JSON") == ("INFO", "json")
    with pytest.raises(ValueError, match="log format must be text or json"):
        check("INFO", "xml")
    with pytest.raises(ValueError, match="log level must be one of"):
        check("LOUD", "text")


def test_uvicorn_and_secret_carrying_libraries_are_configured() -> None:
    # when
    config = logging_config("DEBUG", "json")

    # then: uvicorn's lines reach our handler; frames and headers never print (R37)
    assert config["loggers"]["uvicorn.error"] == {
        "level": "DEBUG", "handlers": [], "propagate": True
    }
    for library in ("websockets", "httpx", "httpcore"):
        assert config["loggers"][library]["level"] == "WARNING"
    assert config["root"] == {"level": "DEBUG", "handlers": ["stderr"]}


def test_the_shared_set_up_needs_nothing_of_the_server() -> None:
    # when: the bridge agent's processes import it alone
    code = (
        "import sys, hardware.logconfig\n"
        "print(sorted(m for m in sys.modules if m == 'app' or m.startswith('app.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=patience(60),
        cwd=ROOT, check=True,
    )

    # then
    assert result.stdout.strip() == "[]"


def test_the_server_configuration_adds_the_request_to_every_line(settings: Settings) -> None:
    # when
    config = server_logging_config(settings.model_copy(update={"log_format": "json"}))

    # then
    assert config["filters"] == {"request": {"()": RequestContextFilter}}
    assert config["handlers"]["stderr"]["filters"] == ["request"]
    assert config["formatters"]["keywarden"]["()"] is JsonFormatter


# --- the line per request -----------------------------------------------------------------


@pytest.fixture
def request_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="keywarden.request"):
        yield caplog


def request_lines(caplog: pytest.LogCaptureFixture) -> list[Any]:
    """The request lines logged so far (``Any``: the fields are set through ``extra``)."""
    return [r for r in caplog.records if r.name == "keywarden.request"]


async def test_a_request_line_names_its_request_id_tenant_and_operation(
    http: httpx.AsyncClient,
    database: Database,
    tenant: NewTenant,
    request_log: pytest.LogCaptureFixture,
) -> None:
    # given
    token = await superadmin_token(database, tenant)

    # when
    response = await http.post(
        "/graphql",
        json={"query": KEYS},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "proxy-4711.a"},
    )

    # then
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "proxy-4711.a"
    [line] = request_lines(request_log)
    assert line.levelname == "INFO"
    assert (line.method, line.path, line.status) == ("POST", "/graphql", 200)
    assert line.request_id == "proxy-4711.a"
    assert line.tenant == tenant.tenant_id
    assert line.operation == "Keys"
    assert token not in str(vars(line))


async def test_a_request_without_a_usable_id_gets_a_new_one(
    http: httpx.AsyncClient, request_log: pytest.LogCaptureFixture
) -> None:
    # when: no id, then one that would forge a field of the line
    plain = await http.get("/health")
    forged = await http.get("/health", headers={"X-Request-ID": "x tenant=other"})

    # then
    ids = [plain.headers["x-request-id"], forged.headers["x-request-id"]]
    assert all(len(i) == 32 and i.isalnum() for i in ids)
    assert ids[0] != ids[1]
    lines = request_lines(request_log)
    assert [r.request_id for r in lines] == ids
    assert [r.tenant for r in lines] == [None, None]


async def test_without_the_access_log_requests_keep_their_id_but_write_no_line(
    settings: Settings, database: Database, request_log: pytest.LogCaptureFixture
) -> None:
    # given: KEYWARDEN_ACCESS_LOG=false (a fleet behind a proxy that logs)
    from app.web import create_app

    quiet = create_app(settings.model_copy(update={"access_log": False}), database)

    # when
    transport = httpx.ASGITransport(app=quiet)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/health", headers={"X-Request-ID": "quiet-1"})

    # then
    assert response.headers["x-request-id"] == "quiet-1"
    assert request_lines(request_log) == []


# --- a real `keywarden serve` -------------------------------------------------------------


def serve_and_ask(env: dict[str, str], token: str, log: Path) -> tuple[httpx.Response, str]:
    """Start ``keywarden serve``, send one GraphQL request, stop it; the answer and its output."""
    server = ServerProcess(env, log)
    try:
        server.wait_ready()
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": KEYS, "operationName": "Keys"},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "serve-test-1"},
            timeout=patience(30),
        )
        server.signal(signal.SIGINT)
    finally:
        server.close()
    return response, server.output()


@pytest.fixture
def serve_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """A server process's environment: a database of its own on SQLite, an SMTP password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYWARDEN_", "SMTP_"))}
    env["VAR_DIR"] = str(tmp_path / "var")
    env["SMTP_PASSWORD"] = "smtp-secret-in-env"
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url.get_secret_value()
    else:
        subprocess.run(
            [BIN / "keywarden", "migrate"], env=env, check=True, timeout=patience(120)
        )
    return env


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_serve_prints_our_info_lines_and_uvicorns_in_one_format(
    serve_env: dict[str, str], fmt: str, tmp_path: Path
) -> None:
    # given
    created = subprocess.run(
        [BIN / "keywarden", "tenant", "create", "--name", "Logging Co"],
        env=serve_env, capture_output=True, text=True, timeout=patience(120), check=True,
    )
    tenant_id, token = (json.loads(created.stdout)[k] for k in ("tenant_id", "token"))
    serve_env["KEYWARDEN_LOG_FORMAT"] = fmt

    # when
    response, stderr = serve_and_ask(serve_env, token, tmp_path / "serve.log")

    # then
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "serve-test-1"
    lines = stderr.splitlines()
    assert token not in stderr and "smtp-secret-in-env" not in stderr
    if fmt == "json":
        entries = [json.loads(line) for line in lines]  # every line is one JSON object
        [request] = [
            e for e in entries if e["logger"] == "keywarden.request" and e["path"] == "/graphql"
        ]
        assert request["request_id"] == "serve-test-1"
        assert request["tenant"] == tenant_id
        assert request["operation"] == "Keys"
        assert request["status"] == 200
        assert any(e["logger"] == "keywarden.workers" and e["level"] == "INFO" for e in entries)
        assert any(e["logger"].startswith("uvicorn") for e in entries)
    else:
        [request] = [
            line for line in lines if " INFO keywarden.request: " in line and "/graphql" in line
        ]
        assert "request_id=serve-test-1" in request
        assert f"tenant={tenant_id}" in request
        assert "operation=Keys" in request
        assert any(" INFO keywarden.workers: in-process queue started" in line for line in lines)
        assert any(" INFO uvicorn.error: " in line for line in lines)


async def test_a_worker_writes_json_lines_too(settings: Settings, tmp_path: Path) -> None:
    # given: a worker process on Redis, asked for JSON lines
    smtp = SmtpServer()
    with redis_queue(settings, reachable_redis()) as (with_redis, namespace):
        worker = WorkerProcess(
            with_redis, namespace, smtp, tmp_path / "worker.log", "--no-periodic",
            env={"KEYWARDEN_LOG_FORMAT": "json"},
        )
        try:
            await worker.ready()

            # when
            status = worker.signal(signal.SIGTERM)
        finally:
            worker.close()

    # then
    assert status == 0
    entries = [json.loads(line) for line in worker.output().splitlines()]
    messages = [(e["logger"], e["level"], e["message"]) for e in entries]
    assert any(m[:2] == ("keywarden.workers", "INFO") and " ready: " in m[2] for m in messages)
    assert any(m[:2] == ("keywarden.workers", "INFO") and "stopping" in m[2] for m in messages)


def test_the_bridge_agent_refuses_an_unknown_log_format(tmp_path: Path) -> None:
    # when
    result = subprocess.run(
        [BIN / "keywarden-bridge", "status", "--state-dir", str(tmp_path), "--log-format", "xml"],
        capture_output=True, text=True, timeout=patience(60),
    )

    # then
    assert result.returncode == 2
    assert "log format must be text or json" in result.stderr
