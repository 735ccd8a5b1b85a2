"""The generation-1 key firmware follow-up (issue 10 item 13; R26, R33; FAQ "How is a key
firmware update made").

Holders of generation-1 keys that need the applied firmware are told by e-mail to go
to the one updater wall device; once no generation-1 key waits any more, the
administrators (Admins, Superadmins, the main key's holder) are told, once, that the
device may go back to normal mode. Through GraphQL, the signed device endpoint with
the simulated wall device, and the periodic worker, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from app.db import Database
from app.firmware.gen1_followup import RELEASE_KIND, VISIT_KIND
from app.keys.service import report_key_lost
from app.models import (
    Employee,
    Key,
    KeyGeneration,
    KeyType,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from app.workers.maintenance import release_gen1_updaters
from tests.conftest import GraphQLClient
from tests.test_firmware import add_bundle, add_holder, apply
from tests.test_rollout import add_key, imported, wall


async def employee(database: Database, t: NewTenant, last_name: str, email: str | None) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        row = Employee(
            domain_id=t.default_domain_id, first_name="Ann", last_name=last_name, email=email
        )
        s.add(row)
        await s.commit()
        return row.id


async def held_key(
    database: Database,
    t: NewTenant,
    generation: KeyGeneration,
    firmware: str,
    holder_id: int | None,
    key_type: KeyType = KeyType.E3,
) -> tuple[int, str, str]:
    """An issued user key held by ``holder_id``; its id, UID and marking."""
    key_id, uid = await add_key(database, t, generation, firmware)
    async with database.tenant_session(t.tenant_id) as s:
        await s.execute(
            update(Key).where(Key.id == key_id).values(holder_id=holder_id, type=key_type)
        )
        marking = await s.scalar(select(Key.marking).where(Key.id == key_id))
        await s.commit()
    assert marking is not None
    return key_id, uid, marking


async def main_key_holder(database: Database, t: NewTenant, email: str) -> None:
    """The main key (PR), held by an employee with ``email`` and no role of its own."""
    holder_id = await employee(database, t, "Main", email)
    async with database.tenant_session(t.tenant_id) as s:
        s.add(ProgrammingKey(marking="PR", uid="UID-PR", kind=ProgrammingKeyKind.MAIN,
                             firmware_version="12.3.0", holder_id=holder_id, public_key=bytes(32)))
        await s.commit()


async def mails(database: Database, t: NewTenant, kind: str) -> list[OutboxMessage]:
    async with database.tenant_session(t.tenant_id) as s:
        return list(
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.recipient)
            )
        )


async def administrators(database: Database, t: NewTenant) -> None:
    await add_holder(database, t, "Superadmin", "super@gen1.test", "PSM-1")
    await add_holder(database, t, "Admin", "admin@gen1.test", "PN-1")
    await add_holder(database, t, "Operator", "operator@gen1.test", "PN-2")
    await main_key_holder(database, t, "main@gen1.test")


async def one_key_waiting(
    http: Any, client: GraphQLClient, database: Database, t: NewTenant, vendor: Ed25519PrivateKey
) -> tuple[int, int]:
    """Administrators, the updater wall device, and one generation-1 key waiting for applied
    firmware 6.2; the device's id and the key's."""
    await administrators(database, t)
    device_id, _ = await wall(http, database, t, "WPD-G1", updater_gen1=True)
    key_id, _, _ = await held_key(database, t, KeyGeneration.GEN1, "4.0", None)
    bundle_id = await add_bundle(database, t)
    image = await imported(client, vendor, bundle_id, "KEY_GEN1", "6.2", 3000)
    assert (await apply(client, image))["errors"] == []
    return device_id, key_id


async def test_holders_are_sent_to_the_updater_and_the_admins_told_once_all_keys_have_it(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    """R26, R33: applying generation-1 key firmware mails each holder of an E3 key that needs
    it (one mail per holder, naming the updater wall device); the last key updated at the
    device makes the administrators hear, once, that the device may leave updater mode."""
    # given: the updater wall device, administrators, and keys:
    await administrators(database, trusting)
    _, device = await wall(http, database, trusting, "WPD-G1", updater_gen1=True)
    ann = await employee(database, trusting, "Holder", "ann@gen1.test")
    silent = await employee(database, trusting, "Silent", None)
    carl = await employee(database, trusting, "Carl", "carl@gen1.test")
    _, uid_1, marking_1 = await held_key(database, trusting, KeyGeneration.GEN1, "4.0", ann)
    _, uid_2, marking_2 = await held_key(database, trusting, KeyGeneration.GEN1, "5.1", ann)
    _, uid_3, _ = await held_key(database, trusting, KeyGeneration.GEN1, "4.0", silent)
    await held_key(database, trusting, KeyGeneration.GEN1, "6.2", carl)  # up to date
    await held_key(database, trusting, KeyGeneration.GEN2, "12.0", carl)  # another generation
    await held_key(database, trusting, KeyGeneration.GEN1, "4.0", carl, KeyType.E2)  # desk only
    bundle_id = await add_bundle(database, trusting)
    image = await imported(client, vendor, bundle_id, "KEY_GEN1", "6.2", 3000)

    # when: the firmware is applied, twice
    first = await apply(client, image)
    again = await apply(client, image)

    # then: only Ann is told, once, of both her keys and the device to visit
    assert first["errors"] == [] and again["errors"] == []
    [visit] = await mails(database, trusting, VISIT_KIND)
    assert visit.recipient == "ann@gen1.test"
    assert "Wall device WPD-G1" in visit.subject
    assert marking_1 in visit.body and marking_2 in visit.body and "6.2" in visit.body
    assert "pulled out too early" in visit.body
    assert await mails(database, trusting, RELEASE_KIND) == []

    # when: the device receives the image and two of the three keys are updated there
    await device.receive_firmware()
    for uid, firmware in ((uid_1, "4.0"), (uid_2, "5.1")):
        results = await device.complete(await device.insert_key(uid, firmware))
        assert results["jobs"][0]["keyFirmware"]["outcome"] == "UPDATED"
    # then: one key still waits, so nobody is told yet
    assert await mails(database, trusting, RELEASE_KIND) == []

    # when: the last key is updated, and the periodic worker runs afterwards
    await device.complete(await device.insert_key(uid_3, "4.0"))
    assert await release_gen1_updaters(database) == []

    # then: Superadmin, Admin and the main key's holder are told once (not the Operator)
    released = await mails(database, trusting, RELEASE_KIND)
    assert [m.recipient for m in released] == [
        "admin@gen1.test", "main@gen1.test", "super@gen1.test"
    ]
    assert "Wall device WPD-G1" in released[0].subject
    assert "normal mode" in released[0].body


async def test_the_worker_tells_the_admins_when_the_last_waiting_key_was_lost(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    other_tenant: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    """R19, R26: a lost key no longer needs the firmware; no device reports it, so the periodic
    worker finds that no generation-1 key waits and tells the administrators, once, and only
    the tenant concerned (R1)."""
    # given: one generation-1 key waiting for applied firmware
    _, key_id = await one_key_waiting(http, client, database, trusting, vendor)
    await add_holder(database, other_tenant, "Admin", "other@gen1.test", "PN-9")
    # when: the worker runs while the key waits
    assert await release_gen1_updaters(database) == []
    # when: the key is lost (its waiting jobs are cancelled) and the worker runs twice
    async with database.tenant_session(trusting.tenant_id) as s:
        await report_key_lost(s, key_id=key_id, deprogram=False)
        await s.commit()
    told = await release_gen1_updaters(database)
    again = await release_gen1_updaters(database)

    # then: this tenant's administrators were told once; the other tenant heard nothing
    assert told == [trusting.tenant_id] and again == []
    released = await mails(database, trusting, RELEASE_KIND)
    assert [m.recipient for m in released] == [
        "admin@gen1.test", "main@gen1.test", "super@gen1.test"
    ]
    assert await mails(database, other_tenant, RELEASE_KIND) == []


async def test_nobody_is_told_when_no_wall_device_is_in_updater_mode_any_more(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    """R26: the admin who switched the updater off already needs no reminder to do so."""
    device_id, key_id = await one_key_waiting(http, client, database, trusting, vendor)
    async with database.tenant_session(trusting.tenant_id) as s:
        await report_key_lost(s, key_id=key_id, deprogram=False)
        await s.commit()
    switched = await client(
        "mutation($i: UpdateRemoteDeviceInput!) { updateRemoteDevice(input: $i) "
        "{ errors { field } } }",
        {"i": {"deviceId": to_global_id("RemoteDevice", device_id), "updaterGen1": False}},
    )
    assert switched["updateRemoteDevice"]["errors"] == []

    assert await release_gen1_updaters(database) == []
    assert await mails(database, trusting, RELEASE_KIND) == []
