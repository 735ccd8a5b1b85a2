"""R31, R32: the factory's signed extension files, their import, activation and clones."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, func, select

from app.db import Database
from app.errors import DomainError
from app.factory.extension import activate_extension, import_extension
from app.factory.extension_file import build_extension, make_extension_file, verify_extension_file
from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex
from app.models import (
    Cylinder,
    CylinderStatus,
    Domain,
    Employee,
    Extension,
    Key,
    KeyStatus,
    OutboxMessage,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    RemoteDevice,
    Role,
    Schedule,
)
from app.tenants.service import NewTenant
from tests.conftest import BACKEND, make_tenant

PUBLIC_KEY = "ab" * 32


def _key(marking: str, uid: str, **overrides: Any) -> dict[str, Any]:
    return {
        "marking": marking,
        "uid": uid,
        "type": "E3",
        "generation": "GEN2",
        "firmwareVersion": "12.3.0",
        **overrides,
    }


def _cylinder(marking: str, uid: str, security_relevant: bool = False) -> dict[str, Any]:
    return {"marking": marking, "uid": uid, "securityRelevant": security_relevant}


def _programming_key(marking: str, uid: str, kind: str = "SUB") -> dict[str, Any]:
    return {
        "marking": marking,
        "uid": uid,
        "kind": kind,
        "firmwareVersion": "12.3.0",
        "publicKey": PUBLIC_KEY,
    }


def _device(serial: str) -> dict[str, Any]:
    return {
        "serial": serial,
        "kind": "WALL",
        "name": f"Wall device {serial}",
        "firmwareVersion": "5.1.0",
        "bootloaderVersion": "2.0",
        "publicKey": PUBLIC_KEY,
        "potentialFreeOutput": True,
        "systemLinked": False,
    }


def _order(vendor: Ed25519PrivateKey, **elements: Any) -> bytes:
    return make_extension_file(signing_key=vendor, order_number="ORD-1", **elements)


async def _import(database: Database, t: NewTenant, data: bytes, **kwargs: Any) -> Any:
    async with database.tenant_session(t.tenant_id) as s:
        result = await import_extension(s, data, **kwargs)
        await s.commit()
    return result


async def _count(database: Database, t: NewTenant, model: type) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _add_programming_key_holder(
    database: Database, t: NewTenant, role: str, email: str | None, marking: str
) -> None:
    async with database.tenant_session(t.tenant_id) as s:
        employee = Employee(
            domain_id=t.default_domain_id, first_name="Ada", last_name=marking, email=email
        )
        s.add(employee)
        await s.flush()
        pk = ProgrammingKey(
            marking=marking,
            uid=f"UID-{marking}",
            kind=ProgrammingKeyKind.SUB,
            firmware_version="12.3.0",
            holder_id=employee.id,
            public_key=bytes(32),
        )
        s.add(pk)
        await s.flush()
        role_id = await s.scalar(select(Role.id).where(Role.name == role))
        s.add(ProgrammingKeyRole(programming_key_id=pk.id, role_id=role_id))
        await s.commit()


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = database.app_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _expect_error(code: str, data: bytes, trusted: list[str]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        verify_extension_file(data, trusted)
    assert caught.value.code == code, caught.value.message
    assert caught.value.field == "file"
    return caught.value


# --- the signed file --------------------------------------------------------------


def test_a_signed_extension_file_verifies_and_returns_its_payload(
    vendor: Ed25519PrivateKey,
) -> None:
    # given
    data = _order(vendor, keys=[_key("K-1", "U-K1")], cylinders=[_cylinder("C-1", "U-C1")])
    # when
    payload = verify_extension_file(data, [public_key_hex(vendor)])
    # then
    assert payload["orderNumber"] == "ORD-1"
    assert payload["keys"] == [_key("K-1", "U-K1")]
    assert payload["cylinders"] == [_cylinder("C-1", "U-C1")]
    assert json.loads(data)["format"] == "keywarden-extension/1"


def test_a_reformatted_file_still_verifies(vendor: Ed25519PrivateKey) -> None:
    # given: the signature covers the canonical payload, not the file's layout
    document = json.loads(_order(vendor, keys=[_key("K-1", "U-K1")]))
    reformatted = json.dumps(document, separators=(",", ":"), sort_keys=False).encode()
    # when
    payload = verify_extension_file(reformatted, [public_key_hex(vendor).upper()])
    # then
    assert payload == document["payload"]


def test_a_tampered_payload_is_refused_as_bad_signature(vendor: Ed25519PrivateKey) -> None:
    # given: one more key smuggled into a genuine file
    document = json.loads(_order(vendor, keys=[_key("K-1", "U-K1")]))
    document["payload"]["keys"].append(_key("K-2", "U-K2"))
    # when / then
    _expect_error("BAD_SIGNATURE", json.dumps(document).encode(), [public_key_hex(vendor)])


def test_a_file_signed_by_an_untrusted_vendor_is_refused(vendor: Ed25519PrivateKey) -> None:
    # given
    stranger = Ed25519PrivateKey.generate()
    data = _order(stranger, keys=[_key("K-1", "U-K1")])
    # when
    error = _expect_error("BAD_SIGNATURE", data, [public_key_hex(vendor)])
    # then
    assert "does not trust" in error.message


def test_a_signature_copied_from_another_file_is_refused(vendor: Ed25519PrivateKey) -> None:
    # given
    genuine = json.loads(_order(vendor, keys=[_key("K-1", "U-K1")]))
    forged = json.loads(_order(Ed25519PrivateKey.generate(), keys=[_key("K-9", "U-K9")]))
    forged["signer"] = genuine["signer"]
    forged["signature"] = genuine["signature"]
    # when / then
    _expect_error("BAD_SIGNATURE", json.dumps(forged).encode(), [public_key_hex(vendor)])


def test_a_file_that_is_not_json_is_invalid(vendor: Ed25519PrivateKey) -> None:
    # when
    error = _expect_error("INVALID", b"{not json", [public_key_hex(vendor)])
    # then
    assert error.message.startswith("$: the file is not UTF-8 JSON")


def test_a_file_of_another_format_is_invalid(vendor: Ed25519PrivateKey) -> None:
    # given
    document = json.loads(_order(vendor, keys=[_key("K-1", "U-K1")]))
    document["format"] = "keywarden-extension/2"
    # when
    error = _expect_error("INVALID", json.dumps(document).encode(), [public_key_hex(vendor)])
    # then
    assert error.message.startswith("format:")


def test_a_bad_enum_value_is_invalid_and_names_its_path(vendor: Ed25519PrivateKey) -> None:
    # given: correctly signed, but the second key has a type that does not exist
    payload = json.loads(_order(vendor, keys=[_key("K-1", "U-K1")]))["payload"]
    payload["keys"].append(_key("K-2", "U-K2", type="E4"))
    data = build_extension(payload, vendor)
    # when
    error = _expect_error("INVALID", data, [public_key_hex(vendor)])
    # then
    assert error.message == "payload.keys[1].type: must be one of E1, E2, E3, found 'E4'"


def test_a_missing_field_is_invalid_and_names_its_path(vendor: Ed25519PrivateKey) -> None:
    # given
    payload = json.loads(_order(vendor, cylinders=[_cylinder("C-1", "U-C1")]))["payload"]
    del payload["cylinders"][0]["securityRelevant"]
    # when
    error = _expect_error("INVALID", build_extension(payload, vendor), [public_key_hex(vendor)])
    # then
    assert error.message == "payload.cylinders[0].securityRelevant: is missing"


@pytest.mark.parametrize(
    ("generation", "firmware"), [("GEN1", "10.0.1"), ("GEN2", "6.2"), ("GEN1", "8.0")]
)
def test_a_key_whose_firmware_does_not_fit_its_generation_is_invalid(
    vendor: Ed25519PrivateKey, generation: str, firmware: str
) -> None:
    # given: R10, generation 1 runs firmware up to 6.x, generation 2 10.x and up
    payload = json.loads(_order(vendor, keys=[_key("K-1", "U-K1")]))["payload"]
    payload["keys"][0].update(generation=generation, firmwareVersion=firmware)
    # when
    error = _expect_error("INVALID", build_extension(payload, vendor), [public_key_hex(vendor)])
    # then
    assert error.message.startswith("payload.keys[0].firmwareVersion:")
    assert "R10" in error.message


def test_a_marking_twice_in_one_file_is_invalid(vendor: Ed25519PrivateKey) -> None:
    # when
    with pytest.raises(DomainError) as caught:
        _order(vendor, cylinders=[_cylinder("C-1", "U-1"), _cylinder("C-1", "U-2")])
    # then
    assert caught.value.code == "INVALID"
    assert caught.value.message.startswith("payload.cylinders[1].marking: 'C-1' appears twice")


def test_the_dev_vendor_key_is_created_once_and_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    # when
    first = load_or_create_dev_vendor_key(tmp_path / "var")
    second = load_or_create_dev_vendor_key(tmp_path / "var")
    # then
    path = tmp_path / "var" / "vendor-dev.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_hex(first) == public_key_hex(second)
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    assert list((tmp_path / "var").iterdir()) == [path]


# --- import and activation ---------------------------------------------------------


async def test_import_creates_not_activated_elements_in_the_default_domain(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    data = _order(
        vendor,
        keys=[_key("K-1", "U-K1"), _key("K-2", "U-K2", type="E1")],
        cylinders=[_cylinder("C-1", "U-C1", security_relevant=True)],
        programming_keys=[_programming_key("P-1", "U-P1")],
        remote_devices=[_device("WPD-1")],
    )
    # when
    result = await _import(database, trusting, data)
    # then
    assert (result.new_keys, result.new_cylinders, result.clones) == (2, 1, 0)
    async with database.tenant_session(trusting.tenant_id) as s:
        extension = await s.get(Extension, result.extension.id)
        keys = list(await s.scalars(select(Key).order_by(Key.marking)))
        cylinder = await s.scalar(select(Cylinder))
        programming_key = await s.scalar(select(ProgrammingKey))
        device = await s.scalar(select(RemoteDevice))
        default_schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
    assert extension is not None and not extension.activated
    assert (extension.new_keys, extension.new_cylinders, extension.clones) == (2, 1, 0)
    assert extension.content["orderNumber"] == "ORD-1"
    assert [(k.marking, k.status) for k in keys] == [
        ("K-1", KeyStatus.NOT_ACTIVATED),
        ("K-2", KeyStatus.NOT_ACTIVATED),
    ]
    assert {k.domain_id for k in keys} == {trusting.default_domain_id}
    assert all(k.always_valid and k.schedule_id == default_schedule for k in keys)  # R12
    assert cylinder is not None and cylinder.status is CylinderStatus.NOT_ACTIVATED
    assert cylinder.security_relevant
    assert programming_key is not None
    assert programming_key.status is ProgrammingKeyStatus.NOT_ACTIVATED
    assert programming_key.public_key == bytes.fromhex(PUBLIC_KEY)
    assert device is not None and device.extension_id == extension.id
    assert device.potential_free_output and device.domain_id == trusting.default_domain_id


async def test_imported_elements_are_invisible_to_another_tenant(
    database: Database, trusting: NewTenant, other_tenant: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    data = _order(vendor, keys=[_key("K-1", "U-K1")], cylinders=[_cylinder("C-1", "U-C1")])
    # when
    await _import(database, trusting, data)
    # then: R1
    for model in (Extension, Key, Cylinder, OutboxMessage):
        assert await _count(database, other_tenant, model) == 0
    assert await _count(database, trusting, Key) == 1


async def test_a_tenant_that_does_not_trust_the_vendor_refuses_its_file(
    database: Database, other_tenant: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    data = _order(vendor, keys=[_key("K-1", "U-K1")])
    # when
    with pytest.raises(DomainError) as caught:
        await _import(database, other_tenant, data)
    # then
    assert caught.value.code == "BAD_SIGNATURE"
    assert await _count(database, other_tenant, Key) == 0


async def test_activation_puts_keys_in_stock_and_cylinders_and_programming_keys_into_service(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    data = _order(
        vendor,
        keys=[_key("K-1", "U-K1"), _key("K-2", "U-K2")],
        cylinders=[_cylinder("C-1", "U-C1")],
        programming_keys=[_programming_key("P-1", "U-P1")],
    )
    imported = await _import(database, trusting, data)
    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        extension = await activate_extension(s, imported.extension.id)
        await s.commit()
    # then
    assert extension.activated and extension.activated_at is not None
    async with database.tenant_session(trusting.tenant_id) as s:
        assert set(await s.scalars(select(Key.status))) == {KeyStatus.IN_STOCK}
        assert set(await s.scalars(select(Cylinder.status))) == {CylinderStatus.ACTIVE}
        assert set(await s.scalars(select(ProgrammingKey.status))) == {
            ProgrammingKeyStatus.ACTIVE
        }


async def test_activating_an_extension_twice_is_a_conflict(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    imported = await _import(database, trusting, _order(vendor, keys=[_key("K-1", "U-K1")]))
    async with database.tenant_session(trusting.tenant_id) as s:
        await activate_extension(s, imported.extension.id)
        await s.commit()
    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        with pytest.raises(DomainError) as caught:
            await activate_extension(s, imported.extension.id)
    # then
    assert caught.value.code == "CONFLICT"
    assert caught.value.field == "id"


async def test_another_tenants_extension_cannot_be_activated(
    database: Database, trusting: NewTenant, other_tenant: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    imported = await _import(database, trusting, _order(vendor, keys=[_key("K-1", "U-K1")]))
    # when: R1
    async with database.tenant_session(other_tenant.tenant_id) as s:
        with pytest.raises(DomainError) as caught:
            await activate_extension(s, imported.extension.id)
    # then
    assert caught.value.code == "NOT_FOUND"
    async with database.tenant_session(trusting.tenant_id) as s:
        assert await s.scalar(select(Key.status)) is KeyStatus.NOT_ACTIVATED


async def test_importing_the_same_file_twice_is_a_conflict_and_writes_nothing(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    data = _order(vendor, keys=[_key("K-1", "U-K1")], cylinders=[_cylinder("C-1", "U-C1")])
    await _import(database, trusting, data)
    await _add_programming_key_holder(database, trusting, "Admin", "admin@example.com", "P-A")
    # when
    with pytest.raises(DomainError) as caught:
        await _import(database, trusting, data)
    # then
    assert caught.value.code == "CONFLICT"
    assert "imported already" in caught.value.message
    assert await _count(database, trusting, Extension) == 1
    assert await _count(database, trusting, Key) == 1
    assert await _count(database, trusting, ProgrammingJob) == 0
    assert await _count(database, trusting, OutboxMessage) == 0


async def test_a_key_that_exists_already_is_a_conflict_naming_it(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _import(database, trusting, _order(vendor, keys=[_key("K-1", "U-K1")]))
    second = _order(vendor, keys=[_key("K-2", "U-K2"), _key("K-3", "U-K1")])
    # when
    with pytest.raises(DomainError) as caught:
        await _import(database, trusting, second)
    # then
    assert caught.value.code == "CONFLICT"
    assert caught.value.message == "already in this system: key uid U-K1"
    assert await _count(database, trusting, Key) == 1


async def test_a_dry_run_reports_what_an_import_would_do_and_writes_nothing(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-C1")]))
    data = _order(
        vendor,
        keys=[_key("K-1", "U-K1")],
        cylinders=[_cylinder("C-1", "U-C1-NEW"), _cylinder("C-2", "U-C2")],
    )
    # when
    result = await _import(database, trusting, data, dry_run=True)
    # then
    assert result.extension is None
    assert (result.new_keys, result.new_cylinders, result.clones) == (1, 1, 1)
    assert result.clone_markings == ["C-1"]
    assert await _count(database, trusting, Extension) == 1
    assert await _count(database, trusting, Cylinder) == 1
    assert await _count(database, trusting, ProgrammingJob) == 0


async def test_admins_with_an_email_address_are_told_of_a_new_extension(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: R31, R33
    await _add_programming_key_holder(database, trusting, "Superadmin", "boss@example.com", "P-S")
    await _add_programming_key_holder(database, trusting, "Admin", "admin@example.com", "P-A")
    await _add_programming_key_holder(database, trusting, "Admin", None, "P-N")
    await _add_programming_key_holder(database, trusting, "Operator", "op@example.com", "P-O")
    # when
    await _import(database, trusting, _order(vendor, keys=[_key("K-1", "U-K1")]))
    # then
    async with database.tenant_session(trusting.tenant_id) as s:
        messages = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)))
    assert [m.recipient for m in messages] == ["admin@example.com", "boss@example.com"]
    assert {m.kind for m in messages} == {"extension_imported"}
    assert "ORD-1" in messages[0].subject
    assert "New keys: 1" in messages[0].body


async def test_a_session_limited_to_some_domains_cannot_import(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: a second domain the session may not administer (R8)
    async with database.tenant_session(trusting.tenant_id) as s:
        s.add(Domain(name="Plant 2"))
        await s.commit()
    # when
    async with database.tenant_session(trusting.tenant_id, [trusting.default_domain_id]) as s:
        with pytest.raises(DomainError) as caught:
            await import_extension(s, _order(vendor, keys=[_key("K-1", "U-K1")]))
    # then
    assert caught.value.code == "FORBIDDEN"
    assert await _count(database, trusting, Key) == 0


async def test_import_runs_a_constant_number_of_statements_however_long_the_file(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _add_programming_key_holder(database, trusting, "Admin", "admin@example.com", "P-A")

    def order(n: int, prefix: str) -> bytes:
        return _order(
            vendor,
            keys=[_key(f"{prefix}K-{i}", f"{prefix}UK-{i}") for i in range(n)],
            cylinders=[_cylinder(f"{prefix}C-{i}", f"{prefix}UC-{i}") for i in range(n)],
            programming_keys=[
                _programming_key(f"{prefix}P-{i}", f"{prefix}UP-{i}") for i in range(n)
            ],
            remote_devices=[_device(f"{prefix}D-{i}") for i in range(n)],
        )

    small, large = order(2, "a"), order(40, "b")
    # when
    with _statements(database) as for_small:
        await _import(database, trusting, small)
    with _statements(database) as for_large:
        await _import(database, trusting, large)
    # then
    assert await _count(database, trusting, Key) == 42
    checks = [s for s in for_large if not s.lstrip().upper().startswith("INSERT")]
    assert len(checks) == len([s for s in for_small if not s.lstrip().upper().startswith("INSERT")])
    if BACKEND == "postgres":
        # SQLite cannot batch INSERT ... RETURNING of autoincrement ids (SQLAlchemy has
        # no sentinel for it) and inserts row by row; PostgreSQL batches every table.
        assert len(for_large) == len(for_small)


# --- clones (R32) ----------------------------------------------------------------


async def test_a_replacement_cylinder_is_a_clone_that_gets_one_full_reprogramming_job(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: C-1 in service
    first = await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-1")]))
    async with database.tenant_session(trusting.tenant_id) as s:
        await activate_extension(s, first.extension.id)
        await s.commit()
    await _add_programming_key_holder(database, trusting, "Admin", "admin@example.com", "P-A")
    # when: the factory delivers a replacement C-1 with a new chip, and a new key
    replacement = _order(
        vendor, keys=[_key("K-1", "U-K1")], cylinders=[_cylinder("C-1", "U-1-NEW")]
    )
    result = await _import(database, trusting, replacement)
    # then
    assert (result.new_cylinders, result.clones) == (0, 1)
    async with database.tenant_session(trusting.tenant_id) as s:
        cylinders = list(await s.scalars(select(Cylinder)))
        jobs = list(await s.scalars(select(ProgrammingJob)))
        extension = await s.get(Extension, result.extension.id)
        mail = await s.scalar(select(OutboxMessage))
    assert len(cylinders) == 1
    cylinder = cylinders[0]
    assert cylinder.is_clone and cylinder.needs_reprogramming
    assert cylinder.uid == "U-1-NEW"
    assert cylinder.status is CylinderStatus.ACTIVE
    assert [(j.cylinder_id, j.full_reprogram, j.status) for j in jobs] == [
        (cylinder.id, True, ProgrammingJobStatus.PENDING)
    ]
    assert [j.id for j in result.programming_jobs] == [jobs[0].id]
    assert extension is not None and extension.clones == 1 and extension.new_cylinders == 0
    assert mail is not None and "C-1" in mail.body


async def test_a_replacement_for_a_defective_cylinder_puts_it_back_in_service_flagged(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-1")]))
    async with database.tenant_session(trusting.tenant_id) as s:
        cylinder = await s.scalar(select(Cylinder))
        assert cylinder is not None
        cylinder.status = CylinderStatus.DEFECTIVE
        await s.commit()
    # when
    await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-2")]))
    # then: R32, usable again but flagged until the full reprogramming is done
    async with database.tenant_session(trusting.tenant_id) as s:
        cylinder = await s.scalar(select(Cylinder))
    assert cylinder is not None
    assert cylinder.status is CylinderStatus.ACTIVE
    assert cylinder.needs_reprogramming and cylinder.uid == "U-2"


async def test_a_file_of_clones_only_needs_no_activation(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-1")]))
    # when
    result = await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-2")]))
    # then: the FAQ, clones need no activation
    assert result.extension.activated
    async with database.tenant_session(trusting.tenant_id) as s:
        with pytest.raises(DomainError) as caught:
            await activate_extension(s, result.extension.id)
    assert caught.value.code == "CONFLICT"


async def test_a_second_clone_of_a_cylinder_reuses_its_open_full_reprogramming_job(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-1")]))
    await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-2")]))
    # when
    result = await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-3")]))
    # then: R15, no duplicate job
    async with database.tenant_session(trusting.tenant_id) as s:
        jobs = list(await s.scalars(select(ProgrammingJob)))
    assert len(jobs) == 1
    assert [j.id for j in result.programming_jobs] == [jobs[0].id]


async def test_a_clone_with_the_uid_of_another_cylinder_is_a_conflict(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await _import(
        database,
        trusting,
        _order(vendor, cylinders=[_cylinder("C-1", "U-1"), _cylinder("C-2", "U-2")]),
    )
    # when
    with pytest.raises(DomainError) as caught:
        await _import(database, trusting, _order(vendor, cylinders=[_cylinder("C-1", "U-2")]))
    # then
    assert caught.value.code == "CONFLICT"
    assert caught.value.message == "already in this system: cylinder uid U-2 (cylinder C-2)"
    assert await _count(database, trusting, ProgrammingJob) == 0


async def test_a_cylinder_marking_of_another_tenant_is_a_new_cylinder_not_a_clone(
    database: Database, vendor: Ed25519PrivateKey
) -> None:
    # given: two tenants trusting the same vendor; one has C-1 already
    trusted = [public_key_hex(vendor)]
    first = await make_tenant(database, "First", vendor_public_keys=trusted)
    second = await make_tenant(database, "Second", vendor_public_keys=trusted)
    await _import(database, first, _order(vendor, cylinders=[_cylinder("C-1", "U-1")]))
    # when: R1
    result = await _import(database, second, _order(vendor, cylinders=[_cylinder("C-1", "U-1")]))
    # then
    assert (result.new_cylinders, result.clones) == (1, 0)
    async with database.tenant_session(first.tenant_id) as s:
        original = await s.scalar(select(Cylinder))
    assert original is not None and not original.needs_reprogramming
    assert await _count(database, first, ProgrammingJob) == 0


def test_hostile_json_is_invalid_not_a_server_error() -> None:
    # a 5000-digit integer and deeply nested arrays make json raise ValueError / RecursionError
    for data in (b'{"format": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(DomainError) as caught:
            verify_extension_file(data, [])
        assert caught.value.field == "file"
