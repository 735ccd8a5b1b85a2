"""Hostile uploads through the GraphQL multipart endpoint (issue 14 item 3; R25, R27, R30, R31).

Wrong encodings, megabyte lines, a million rows, spreadsheet formulas, archives
and zip bombs, truncated and malformed factory files: each is refused quickly
with a payload error on ``file`` (a line's problem in ``invalidRows``), never a
500, and nothing is written. The server's peak memory while refusing the worst
of them is measured in a server process of its own.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.employees.csv_format import MAX_LINE_BYTES, MAX_ROWS, parse_employees_csv
from app.errors import DomainError
from app.factory.extension_file import make_extension_file
from app.factory.firmware import build_firmware_file, demo_image, make_firmware_file
from app.firmware.bundles import create_certificate_bundle
from app.models import (
    DeviceTraceLog,
    Employee,
    Extension,
    Firmware,
    RemoteDevice,
    RemoteDeviceKind,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.harness import patience
from tests.processes import ApiProcess

IMPORT_EMPLOYEES = """
mutation($input: ImportFileInput!) {
  importEmployees(input: $input) {
    validCount created invalidRows { line message } errors { field code message }
  }
}
"""
IMPORT_EXTENSION = """
mutation($input: ImportFileInput!) {
  importExtension(input: $input) { extension { id } errors { field code message } }
}
"""
IMPORT_FIRMWARE = """
mutation($input: ImportFirmwareInput!) {
  importFirmware(input: $input) { firmware { id } errors { field code message } }
}
"""
UPLOAD_TRACE_LOG = """
mutation($input: UploadTraceLogInput!) {
  uploadTraceLog(input: $input) { traceLog { log } errors { field code message } }
}
"""
HEADER = "employeeNumber;firstName;lastName;email;department;phone\n"
BUNDLE = "CCB-hostile"
# A server that takes bigger files than the tests' 256 KiB, as an installation may configure.
ROOMY_LIMIT = 64 * 1024 * 1024


# --- the files ------------------------------------------------------------------------


def rows(count: int, newline: str = "\n") -> bytes:
    """An employee file of ``count`` minimal valid lines (8 bytes each)."""
    return (HEADER.replace("\n", newline) + f";A;B;;;{newline}" * count).encode()


def zip_bomb() -> bytes:
    """About 100 KB of ZIP that would unpack to 100 MB of CSV-looking text."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("employees.csv", HEADER.encode() + b"0" * 100_000_000)
    return packed.getvalue()


def gzip_bomb() -> bytes:
    return gzip.compress(b"0" * 100_000_000, compresslevel=9)


def extension_file(vendor: Ed25519PrivateKey) -> bytes:
    key = {"marking": "K-1", "uid": "U-1", "type": "E3", "generation": "GEN2",
           "firmwareVersion": "12.3.0"}
    return make_extension_file(keys=[key], signing_key=vendor, order_number="ORD-1")


def firmware_file(vendor: Ed25519PrivateKey) -> bytes:
    return make_firmware_file(
        target="KEY_GEN2", version="16.3.7", image=demo_image("KEY_GEN2", "16.3.7", 5000),
        certificate_bundle=BUNDLE, signing_key=vendor,
    )


# --- the endpoint ---------------------------------------------------------------------


@pytest.fixture
async def roomy(
    settings: Settings, database: Database, trusting: NewTenant
) -> AsyncIterator[GraphQLClient]:
    """A Superadmin's client of ``trusting`` on an app that takes uploads up to 64 MiB."""
    from app.web import create_app

    app = create_app(settings.model_copy(update={"max_upload_bytes": ROOMY_LIMIT}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield GraphQLClient(http, await superadmin_token(database, trusting))


@pytest.fixture
async def device_gid(database: Database, trusting: NewTenant) -> str:
    """A wall device of ``trusting`` that trace logs can be uploaded for (R27)."""
    async with database.tenant_session(trusting.tenant_id) as session:
        device = RemoteDevice(
            domain_id=trusting.default_domain_id, name="Wall 1", kind=RemoteDeviceKind.WALL,
            serial="WPD-HOSTILE", firmware_version="5.2.0", bootloader_version="2.1.0",
            public_key=bytes(32),
        )
        session.add(device)
        await session.commit()
        return to_global_id("RemoteDevice", device.id)


@pytest.fixture
async def bundle_gid(database: Database, trusting: NewTenant) -> str:
    async with database.tenant_session(trusting.tenant_id) as session:
        bundle = await create_certificate_bundle(session, name=BUNDLE)
        await session.commit()
        return to_global_id("CertificateBundle", bundle.id)


async def upload(
    client: GraphQLClient, mutation: str, data: bytes, **input: Any
) -> tuple[dict[str, Any], float]:
    """Send ``data`` as the ``file`` of ``mutation``; its payload and the seconds it took."""
    started = time.monotonic()
    response = await client.upload(
        mutation, {"input": {"file": None, **input}}, "variables.input.file", data
    )
    elapsed = time.monotonic() - started
    body = response.json()
    assert response.status_code == 200, body
    assert not body.get("errors"), body["errors"]
    (payload,) = body["data"].values()
    return payload, elapsed


async def count(database: Database, tenant: NewTenant, model: type[Any]) -> int:
    async with database.tenant_session(tenant.tenant_id) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def only_error(payload: dict[str, Any]) -> dict[str, str]:
    (error,) = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID", "file"), error
    return error  # type: ignore[no-any-return]


# --- encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (codecs.BOM_UTF16_LE + (HEADER + "1;Jörg;Müller;;;\n").encode("utf-16-le"),
         "the file is UTF-16 text"),
        (codecs.BOM_UTF16_BE + (HEADER + "1;Jörg;Müller;;;\n").encode("utf-16-be"),
         "the file is UTF-16 text"),
        (codecs.BOM_UTF32_LE + (HEADER + "1;Jörg;Müller;;;\n").encode("utf-32-le"),
         "the file is UTF-32 text"),
        ((HEADER + "1;Jörg;Müller;;;\n").encode("latin-1"),
         "byte 0xF6 at byte offset 60 (line 2) is not valid UTF-8"),
    ],
    ids=["utf-16-le", "utf-16-be", "utf-32", "latin-1"],
)
async def test_employee_file_in_another_encoding_is_refused_naming_it(
    client: GraphQLClient, database: Database, trusting: NewTenant, data: bytes, said: str
) -> None:
    # when
    payload, _ = await upload(client, IMPORT_EMPLOYEES, data)
    # then: R30 wants UTF-8, and the message says what the file is instead
    error = only_error(payload)
    assert said in error["message"] and 'save' in error["message"]
    assert await count(database, trusting, Employee) == 0


# --- long lines and many rows ---------------------------------------------------------


async def test_a_megabyte_line_is_reported_by_number_and_the_other_lines_import(
    roomy: GraphQLClient, database: Database, trusting: NewTenant
) -> None:
    # given: a 1 MB line between two good ones; another that is a megabyte of separators
    data = (
        HEADER + "1;Ada;Lovelace;;;\n" + "2;" + "x" * 1_000_000 + ";B;;;\n"
        + ";" * 1_000_000 + "\n" + "3;Grace;Hopper;;;\n"
    ).encode()
    # when
    payload, _ = await upload(roomy, IMPORT_EMPLOYEES, data)
    # then: R30 imports the valid lines and names the others, without echoing them
    assert payload["errors"] == []
    assert (payload["validCount"], payload["created"]) == (2, 2)
    assert payload["invalidRows"] == [
        {"line": 3, "message": f"the line is 1,000,008 bytes long, more than the "
                               f"{MAX_LINE_BYTES:,} one employee's line can take"},
        {"line": 4, "message": f"the line is 1,000,001 bytes long, more than the "
                               f"{MAX_LINE_BYTES:,} one employee's line can take"},
    ]
    assert await count(database, trusting, Employee) == 2


async def test_a_megabyte_first_line_is_refused_as_a_wrong_header_cut_short(
    roomy: GraphQLClient, database: Database, trusting: NewTenant
) -> None:
    # when
    payload, _ = await upload(roomy, IMPORT_EMPLOYEES, b"x" * 1_000_000 + b"\n1;A;B;;;\n")
    # then
    error = only_error(payload)
    assert error["message"].startswith("the first line must be the header")
    assert len(error["message"]) < 400
    assert await count(database, trusting, Employee) == 0


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
async def test_a_million_rows_are_refused_before_parsing_naming_the_cap(
    roomy: GraphQLClient, database: Database, trusting: NewTenant, newline: str
) -> None:
    # given: 8-9 MB, within the configured limit
    data = rows(1_000_000, newline)
    # when: a real import, not a dry run
    payload, _ = await upload(roomy, IMPORT_EMPLOYEES, data)
    # then: refused on the line count (parsing them took 7 s and 250 MB before the cap; the
    # peak-memory test below holds the refusal to a few copies of the file)
    error = only_error(payload)
    assert error["message"] == (
        f"the file has 1,000,000 lines after the header; one import takes at most "
        f"{MAX_ROWS:,} employees: split the file"
    )
    assert await count(database, trusting, Employee) == 0


async def test_a_million_rows_meet_the_upload_limit_first(
    client: GraphQLClient, settings: Settings, database: Database, trusting: NewTenant
) -> None:
    # given: more bytes than the server takes (256 KiB in the tests)
    data = rows(1_000_000)
    assert len(data) > settings.max_upload_bytes
    # when
    response = await client.upload(
        IMPORT_EMPLOYEES, {"input": {"file": None}}, "variables.input.file", data
    )
    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"
    assert await count(database, trusting, Employee) == 0


def test_the_row_cap_counts_the_lines_after_the_header() -> None:
    # given / when: exactly the cap, blank lines included
    parsed = parse_employees_csv(rows(MAX_ROWS - 1) + b"\n")
    # then
    assert (len(parsed.rows), parsed.errors) == (MAX_ROWS - 1, [])
    # when / then: one line more
    with pytest.raises(DomainError) as refused:
        parse_employees_csv(rows(MAX_ROWS + 1, "\r\n"))
    assert (refused.value.code, refused.value.field) == ("INVALID", "file")
    assert f"{MAX_ROWS + 1:,} lines" in refused.value.message


# --- formulas -------------------------------------------------------------------------


async def test_formula_cells_are_stored_as_text_and_exported_neutralised(
    client: GraphQLClient, database: Database, trusting: NewTenant
) -> None:
    # given: cells a spreadsheet would run (OWASP's list: = + - @, tab, CR)
    data = (
        HEADER
        + "1;=cmd|' /C calc'!A0;+Plus;;-Sales;+49 30 1234567\n"
        + '2;@SUM(A1);"\t=HYPERLINK(""x"")";;;\n'
        + '3;"\r=1";Cr;;;\n'
    ).encode()
    # when
    payload, _ = await upload(client, IMPORT_EMPLOYEES, data)
    # then: stored as text (phone numbers start with +, departments with -); a CR is a
    # line break inside a field, refused like any other
    assert (payload["errors"], payload["created"]) == ([], 2)
    assert payload["invalidRows"] == [{
        "line": 4,
        "message": "a quoted field contains a line break (firstName) "
                   "(each employee must be one line)",
    }]
    stored = await client(
        "{ employees { edges { node { firstName lastName department phone } } } }"
    )
    nodes = [edge["node"] for edge in stored["employees"]["edges"]]
    assert {"firstName": "=cmd|' /C calc'!A0", "lastName": "+Plus", "department": "-Sales",
            "phone": "+49 30 1234567"} in nodes
    assert {"firstName": "@SUM(A1)", "lastName": '=HYPERLINK("x")', "department": None,
            "phone": None} in nodes
    # when: exported (R30)
    response = await client.http.get("/export/employees.csv", headers=client.headers())
    # then: every such cell leads with a quote, so a spreadsheet shows it as text
    exported = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    cells = [cell for row in exported[1:] for cell in row if cell]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
    assert "'=cmd|' /C calc'!A0" in cells and "'+49 30 1234567" in cells


# --- archives -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {"zip": zip_bomb(), "gzip": gzip_bomb()}


@pytest.mark.parametrize("kind", ["zip", "gzip"])
async def test_archives_are_refused_unopened_by_every_upload(
    client: GraphQLClient, database: Database, trusting: NewTenant, bundle_gid: str,
    device_gid: str, bombs: dict[str, bytes], kind: str,
) -> None:
    # given: 100 KB that would unpack to 100 MB; no format Keywarden reads is packed
    data = bombs[kind]
    for mutation, extra in (
        (IMPORT_EMPLOYEES, {}),
        (IMPORT_EXTENSION, {}),
        (IMPORT_FIRMWARE, {"certificateBundleId": bundle_gid}),
        (UPLOAD_TRACE_LOG, {"deviceId": device_gid}),
    ):
        # when
        payload, _ = await upload(client, mutation, data, **extra)
        # then
        error = only_error(payload)
        assert f"a {kind.upper() if kind == 'zip' else kind} archive" in error["message"]
        assert "never unpacked" in error["message"]
    assert await count(database, trusting, Employee) == 0
    assert await count(database, trusting, Extension) == 0
    assert await count(database, trusting, Firmware) == 0
    assert await count(database, trusting, DeviceTraceLog) == 0


# --- truncated and malformed factory files --------------------------------------------


async def test_truncated_and_malformed_extension_files_name_the_file(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    good = extension_file(vendor)
    for data, said in (
        (good[: len(good) // 2], "$: the file is not UTF-8 JSON"),
        (good[:-1] + b"\xff", "$: the file is not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "$: the file is not UTF-8 JSON"),
        (codecs.BOM_UTF16_LE + good.decode().encode("utf-16-le"), "$: the file is UTF-16 text"),
        (json.dumps({"format": "x" * 200_000}).encode(), "format: must be"),
        (b"", "$: the file is not UTF-8 JSON"),
    ):
        # when
        payload, _ = await upload(client, IMPORT_EXTENSION, data)
        # then: said briefly, whatever the file holds
        error = only_error(payload)
        assert error["message"].startswith(said), error
        assert len(error["message"]) < 300
    assert await count(database, trusting, Extension) == 0


async def test_truncated_and_malformed_firmware_files_name_the_file(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey,
    bundle_gid: str,
) -> None:
    good = firmware_file(vendor)
    header = json.loads(good)["header"]
    for data, said in (
        (good[: len(good) // 2], "$: the file is not a firmware file: not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "$: the file is not a firmware file: not UTF-8 JSON"),
        (json.dumps({"format": "y" * 200_000}).encode(), "format: must be"),
        (json.dumps({"z" * 100_000: 1, "format": "keywarden-firmware/1"}).encode(),
         "z" * 64 + "…: is not a field"),
        (build_firmware_file({**header, "size": list(range(20_000))}, b"x", vendor),
         "header.size: must be a whole number"),
    ):
        # when
        payload, _ = await upload(
            client, IMPORT_FIRMWARE, data, certificateBundleId=bundle_gid
        )
        # then
        error = only_error(payload)
        assert error["message"].startswith(said), error
        assert len(error["message"]) < 300
    assert await count(database, trusting, Firmware) == 0


# --- peak memory of the server --------------------------------------------------------

MIB = 1024 * 1024
# What serving one request may add on top of the file itself: the interpreter, GraphQL.
MEMORY_BASE = 48 * MIB


def memory(pid: int) -> dict[str, int]:
    """The process's resident and peak resident memory (VmRSS, VmHWM) in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines())
    return {name: int(fields[name].split()[0]) * 1024 for name in ("VmRSS", "VmHWM")}


async def refused_by_a_fresh_server(
    settings: Settings, token: str, log: Path, mutation: str, data: bytes
) -> tuple[dict[str, str], float, int]:
    """Upload ``data`` to a `keywarden serve` of its own that takes uploads up to 64 MiB.

    Returns the payload's one error, the seconds to the answer, and how far the
    server's peak resident memory rose above what it held once warmed up: a fresh
    process, so no memory an earlier upload freed can hide this one's.
    """
    api = ApiProcess(
        settings, f"keywarden-test-uploads-{log.stem}", log,
        KEYWARDEN_MAX_UPLOAD_BYTES=str(ROOMY_LIMIT), KEYWARDEN_ACCESS_LOG="false",
    )
    try:
        await api.ready()
        async with httpx.AsyncClient(base_url=api.url, timeout=patience(60)) as http:
            client = GraphQLClient(http, token)
            await upload(client, IMPORT_EMPLOYEES, rows(1), dryRun=True)  # warmed up
            settled = memory(api.process.pid)["VmRSS"]
            payload, elapsed = await upload(client, mutation, data)
            peak = memory(api.process.pid)["VmHWM"] - settled
    finally:
        api.close()
    return only_error(payload), elapsed, peak


async def test_refusing_the_worst_files_keeps_the_servers_memory_near_their_size(
    settings: Settings, database: Database, trusting: NewTenant, tmp_path: Path,
) -> None:
    # given: the worst files for each path, each for a server that takes up to 64 MiB
    one_wide_character = HEADER + "1;\U0001f600;B;;;\n"  # a decoded copy: 4 bytes a character
    worst = [
        ("employees: 1,000,000 rows", IMPORT_EMPLOYEES, rows(1_000_000), "lines after"),
        ("employees: 4,000,000 rows, one emoji", IMPORT_EMPLOYEES,
         (one_wide_character + ";A;B;;;\n" * 4_000_000).encode(), "lines after"),
        ("employees: one 30 MB line", IMPORT_EMPLOYEES, b"x" * 30_000_000, "first line"),
        ("employees: 100 MB zip bomb", IMPORT_EMPLOYEES, zip_bomb(), "never unpacked"),
        ("extension: 30 MB string", IMPORT_EXTENSION,
         b'{"format": "' + b"a" * 30_000_000 + b'"}', "format: must be"),
        ("extension: 20 MB truncated", IMPORT_EXTENSION,
         b'{"format": "keywarden-extension/1", "payload": {"keys": ["' + b"k" * 20_000_000,
         "not UTF-8 JSON"),
    ]
    token = await superadmin_token(database, trusting)
    measured: list[str] = []
    try:
        for number, (name, mutation, data, said) in enumerate(worst):
            # when
            error, elapsed, peak = await refused_by_a_fresh_server(
                settings, token, tmp_path / f"api-{number}.log", mutation, data
            )
            # then: refused with at most a few copies of the file in memory (the time is
            # printed, not asserted: speed is measured, not timed in tests)
            measured.append(
                f"{name}: {len(data) / MIB:.1f} MiB, refused in {elapsed:.2f} s, "
                f"peak +{peak / MIB:.0f} MiB"
            )
            assert said in error["message"], (name, error)
            assert peak < 3 * len(data) + MEMORY_BASE, measured
    finally:
        print("\n".join(["", *measured]))
    assert await count(database, trusting, Employee) == 0
    assert await count(database, trusting, Extension) == 0
