"""The ``keywarden`` command as an operator runs it: real processes, real server, real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.harness import patience, wait_until
from tests.processes import REDIS_URL, ServerProcess, SmtpServer

BIN = Path(sys.executable).parent / "keywarden"


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Environment for the CLI: the test database (already migrated), a private var dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYWARDEN_", "DATABASE"))}
    env["VAR_DIR"] = str(tmp_path / "var")
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url.get_secret_value()
    else:
        # The embedded default, in a var dir of its own: migrate it like `make run` does.
        subprocess.run([BIN, "migrate"], env=env, check=True, timeout=patience(120))
    return env


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [BIN, *args], env=env, capture_output=True, text=True, timeout=patience(120),
        check=False,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def smtp(cli_env: dict[str, str]) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; the server process sends its e-mail there (R33)."""
    smtp_server = SmtpServer().start()
    cli_env.update(smtp_server.env)
    yield smtp_server
    smtp_server.stop()


@pytest.fixture
def server(cli_env: dict[str, str], smtp: SmtpServer, tmp_path: Path) -> Iterator[str]:
    """``keywarden serve`` as an operator starts it, on a loopback port of its own."""
    process = ServerProcess(cli_env, tmp_path / "serve.log")
    try:
        process.wait_ready()
        yield process.url
    finally:
        process.close()


def graphql(
    url: str, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=patience(30),
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def test_tenant_create_prints_id_and_a_working_superadmin_token(
    cli_env: dict[str, str], server: str
) -> None:
    out = json.loads(
        run(
            cli_env,
            "tenant",
            "create",
            "--name",
            "Hotel Adler",
            "--hosting",
            "purchased",
            "--approver-function",
        ).stdout
    )
    data = graphql(server, out["token"], "{ tenant { name hostingMode approverFunction } }")
    assert "programming_keys" not in out
    assert data["tenant"] == {
        "name": "Hotel Adler",
        "hostingMode": "PURCHASED",
        "approverFunction": True,
    }


def test_tenant_create_with_demo_lists_the_programming_keys(cli_env: dict[str, str]) -> None:
    out = json.loads(run(cli_env, "tenant", "create", "--name", "Demo Two", "--demo").stdout)
    assert {k["marking"] for k in out["programming_keys"]} == {"PR-0001", "PN-0001", "PN-0002"}
    assert all(k["pin"].isdigit() and k["roles"] for k in out["programming_keys"])


def test_schema_prints_sdl_that_honours_the_queries_of_the_contract(
    cli_env: dict[str, str],
) -> None:
    sdl = run(cli_env, "schema").stdout
    assert "type Query" in sdl and "keys(filter: KeyFilter" in sdl
    check = Path(__file__).resolve().parents[2] / "shared" / "tools" / "contract_check.py"
    if not check.exists():
        pytest.skip("../shared is not beside the checkout")
    result = subprocess.run(
        [sys.executable, check, "-"],
        input=sdl,
        capture_output=True,
        text=True,
        timeout=patience(60),
        check=False,
    )
    gaps = [line for line in result.stdout.splitlines() if line.startswith("missing field Query")]
    assert gaps == []


def test_factory_extension_file_imports_into_a_tenant(
    cli_env: dict[str, str], server: str, tmp_path: Path
) -> None:
    # given: a tenant created by the CLI trusts this installation's development vendor key
    tenant = json.loads(run(cli_env, "tenant", "create", "--name", "Works").stdout)
    path = tmp_path / "order.kwx"
    # when: the factory writes an order with 3 keys and 2 cylinders, and it is uploaded
    summary = json.loads(
        run(
            cli_env,
            "factory",
            "extension",
            "--out",
            str(path),
            "--keys",
            "3",
            "--cylinders",
            "2",
            "--prefix",
            "T1",
        ).stdout
    )
    assert summary["keys"] == 3
    operations = json.dumps(
        {
            "query": "mutation($i: ImportFileInput!) { importExtension(input: $i) "
            "{ extension { id newKeys newCylinders } errors { code message } } }",
            "variables": {"i": {"file": None}},
        }
    )
    response = httpx.post(
        f"{server}/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.i.file"]})},
        files={"0": ("order.kwx", path.read_bytes(), "application/json")},
        headers={"Authorization": f"Bearer {tenant['token']}", "X-Keywarden-CSRF": "1"},
        timeout=patience(30),
    )
    result = response.json()["data"]["importExtension"]
    # then
    assert result["errors"] == []
    assert (result["extension"]["newKeys"], result["extension"]["newCylinders"]) == (3, 2)


def test_factory_extension_signs_a_simulated_device_record_and_refuses_a_broken_one(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    from app.factory.extension_file import verify_extension_file

    # given: a simulated wall device made with its own command line: its factory record
    record = tmp_path / "wpd-device.json"
    made = subprocess.run(
        [sys.executable, "-m", "hardware.sim", "wall", "--state", str(tmp_path / "sim.json"),
         "new", "--serial", "WPD-9001", "--tenant", "t", "--out", str(record)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stderr
    # when: the vendor signs it into an extension file (R31)
    out = tmp_path / "wpd.kwx"
    run(cli_env, "factory", "extension", "--device", str(record), "--out", str(out))
    # then: the signed file lists the device with the public key the simulator holds
    vendor = run(cli_env, "factory", "vendor-key").stdout.strip()
    payload = verify_extension_file(out.read_bytes(), [vendor])
    devices = payload["remoteDevices"]
    assert [d["serial"] for d in devices] == ["WPD-9001"]
    assert devices[0]["publicKey"] == json.loads(made.stdout)["publicKey"]
    # and: a record that is not JSON is refused naming the option, without a traceback
    record.write_text("{not json", encoding="utf-8")
    refused = run(cli_env, "factory", "extension", "--device", str(record), "--out", str(out),
                  ok=False)
    assert refused.returncode != 0 and "--device" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_embedded_queue_mails_admins_about_a_new_extension(
    cli_env: dict[str, str], server: str, smtp: SmtpServer, tmp_path: Path
) -> None:
    # given: the demo tenant, whose Superadmin key holder has an e-mail address
    run(cli_env, "demo", "--if-empty")
    saved = json.loads((Path(cli_env["VAR_DIR"]) / "demo.json").read_text())
    path = tmp_path / "order.kwx"
    run(cli_env, "factory", "extension", "--out", str(path), "--cylinders", "1", "--prefix", "M")
    # when: an extension is imported through the running server (no REDIS_URL: in-process queue)
    operations = json.dumps(
        {
            "query": "mutation($i: ImportFileInput!) "
            "{ importExtension(input: $i) { errors { code } } }",
            "variables": {"i": {"file": None}},
        }
    )
    response = httpx.post(
        f"{server}/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.i.file"]})},
        files={"0": ("order.kwx", path.read_bytes(), "application/json")},
        headers={"Authorization": f"Bearer {saved['token']}", "X-Keywarden-CSRF": "1"},
        timeout=patience(30),
    )
    assert response.json()["data"]["importExtension"]["errors"] == []
    # then: the outbox e-mail reaches the SMTP server (R31, R33); on PostgreSQL the server
    # shares the database with the other tests, whose due e-mails its sweep sends here too
    def extension_mails() -> list[Any]:
        return [m for m in smtp.sink.accepted if "extension" in m["Subject"].lower()]

    wait_until(
        lambda: bool(extension_mails()), "the extension e-mail to arrive",
        details=lambda: f"arrived: {smtp.sink.accepted}",
    )


def test_worker_without_redis_explains_the_embedded_default(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "REDIS_URL"}
    result = run(env, "worker", ok=False)
    assert result.returncode == 2
    assert "REDIS_URL" in result.stderr + result.stdout


def test_unknown_command_arguments_fail_cleanly(cli_env: dict[str, str]) -> None:
    result = run(
        cli_env,
        "login",
        "--tenant",
        "00000000-0000-0000-0000-000000000000",
        "--key",
        "PR-0001",
        "--pin",
        "1",
        ok=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_serve_on_a_descriptor_that_is_no_socket_names_the_option(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "serve", "--fd", "2", ok=False)
    assert result.returncode == 1
    assert "--fd 2: not an open socket" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_several_workers_refuses_what_the_processes_could_not_share(
    cli_env: dict[str, str],
) -> None:
    # given: no Redis; then Redis but the embedded SQLite database (issue 13 item 4)
    without_redis = {k: v for k, v in cli_env.items() if k != "REDIS_URL"}
    on_sqlite = {k: v for k, v in cli_env.items() if k != "DATABASE_URL"}
    on_sqlite["REDIS_URL"] = REDIS_URL

    # when
    no_queue = run(without_redis, "serve", "--workers", "2", ok=False)
    no_postgres = run(on_sqlite, "serve", "--workers", "2", ok=False)

    # then
    assert no_queue.returncode == 2
    assert "--workers 2 needs REDIS_URL" in no_queue.stderr
    assert no_postgres.returncode == 2
    assert "a PostgreSQL DATABASE_URL" in no_postgres.stderr
    assert "REDIS_URL" not in no_postgres.stderr
    assert "Traceback" not in no_queue.stderr + no_postgres.stderr


def test_demo_then_a_partner_pages_through_keys_and_cylinders_and_a_key_holder_logs_in(
    cli_env: dict[str, str], server: str
) -> None:
    # given: `make run` seeds the demo tenant once and prints how to get in
    out = run(cli_env, "demo", "--if-empty").stdout
    saved = json.loads((Path(cli_env["VAR_DIR"]) / "demo.json").read_text())
    assert saved["token"] in out
    assert saved["tenant_id"] in out
    again = run(cli_env, "demo", "--if-empty").stdout  # the second start seeds nothing new
    assert "created earlier" in again
    # when: a partner pages through keys and cylinders with the printed token
    for field, total in (("keys", 38), ("cylinders", 60)):
        seen, after = 0, None
        while True:
            page = graphql(
                server,
                saved["token"],
                f"query($a: String) {{ {field}(first: 25, after: $a) {{ totalCount "
                "pageInfo { hasNextPage endCursor } edges { node { id marking } } } }",
                {"a": after},
            )[field]
            assert page["totalCount"] == total  # lost and defective keys only in advanced search
            seen += len(page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == total
    # and: the main programming key's holder logs in with the printed PIN, through the server
    main_key = next(k for k in saved["programming_keys"] if "Superadmin" in k["roles"])
    token = run(
        cli_env,
        "login",
        "--tenant",
        saved["tenant_id"],
        "--key",
        main_key["marking"],
        "--pin",
        main_key["pin"],
        "--url",
        server,
    ).stdout.strip()
    me = graphql(server, token, "{ me { marking kind roles { name } } }")["me"]
    assert me == {"marking": main_key["marking"], "kind": "MAIN", "roles": [{"name": "Superadmin"}]}
    # and: in-process login works the same, and a wrong PIN is refused without a traceback
    assert run(
        cli_env,
        "login",
        "--tenant",
        saved["tenant_id"],
        "--key",
        main_key["marking"],
        "--pin",
        main_key["pin"],
    ).stdout.startswith("kw_s_")
    wrong = run(
        cli_env,
        "login",
        "--tenant",
        saved["tenant_id"],
        "--key",
        main_key["marking"],
        "--pin",
        "000001",
        ok=False,
    )
    assert wrong.returncode == 1 and "WRONG_PIN" in wrong.stderr


def test_factory_firmware_writes_a_file_the_vendor_key_verifies(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    from app.factory.firmware import verify_firmware_file

    path = tmp_path / "key.kwf"
    run(
        cli_env,
        "factory",
        "firmware",
        "--out",
        str(path),
        "--target",
        "KEY_GEN2",
        "--version",
        "16.3.7",
        "--size",
        "4096",
    )
    vendor = run(cli_env, "factory", "vendor-key").stdout.strip()
    verified = verify_firmware_file(path.read_bytes(), [vendor])
    assert (verified.version, len(verified.image)) == ("16.3.7", 4096)
    refused = run(
        cli_env,
        "factory",
        "firmware",
        "--out",
        str(path),
        "--target",
        "KEY_GEN1",
        "--version",
        "10.1",
        ok=False,
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


def test_behind_a_trusted_proxy_each_client_address_has_its_own_allowance(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # given: the server trusts the proxy on loopback, two failed tokens an address a minute
    cli_env.update(
        KEYWARDEN_TRUSTED_PROXIES="127.0.0.1", KEYWARDEN_RATE_TOKEN_FAILURES_PER_ADDRESS="2/minute"
    )
    process = ServerProcess(cli_env, tmp_path / "serve.log")
    try:
        process.wait_ready()

        def guess(client: str) -> int:
            response = httpx.post(
                f"{process.url}/graphql",
                json={"query": "{ myRights }"},
                headers={"Authorization": "Bearer kw_guess", "X-Forwarded-For": client},
                timeout=patience(30),
            )
            return response.status_code

        # when: one client behind the proxy keeps guessing, then another one comes
        first = [guess("203.0.113.7") for _ in range(3)]
        second = guess("203.0.113.8")
    finally:
        process.close()

    # then: the first waits, the second is not held up by it (rate limits, R37)
    assert first == [401, 401, 429]
    assert second == 401
