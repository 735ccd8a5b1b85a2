"""Turning the generation-2 updater on at many devices of a large system warns the admin
through RemoteDevicePayload.warnings (issue 10 item 8; R26, FAQ: "For large systems, it
would make sense to activate only one unit at a time as an updater")."""

from __future__ import annotations

import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.db import Database
from app.firmware.key_updaters import LARGE_SYSTEM_GEN2_KEYS
from app.models import Domain, Key, KeyGeneration, KeyStatus, KeyType, RemoteDeviceKind, Schedule
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient
from tests.test_devices import add_device

UPDATE = """
mutation($i: UpdateRemoteDeviceInput!) { updateRemoteDevice(input: $i) {
  remoteDevice { updaterGen2 } warnings { code message } errors { code field message } } }
"""


async def _gen2_keys(
    database: Database, tenant: NewTenant, count: int, *, domain_id: int | None = None,
    status: KeyStatus = KeyStatus.ISSUED,
) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        assert schedule is not None
        s.add_all(
            Key(
                domain_id=domain_id or tenant.default_domain_id,
                marking=f"G2-{secrets.token_hex(5)}",
                uid=secrets.token_hex(8),
                type=KeyType.E3,
                generation=KeyGeneration.GEN2,
                firmware_version="16.3.7",
                status=status,
                schedule_id=schedule,
            )
            for _ in range(count)
        )
        await s.commit()


async def _walls(database: Database, tenant: NewTenant, count: int) -> list[int]:
    return [
        await add_device(
            database, tenant, Ed25519PrivateKey.generate(), f"WPD-{secrets.token_hex(3)}",
            updater_gen2=False,
        )
        for _ in range(count)
    ]


async def _turn_on(gql: GraphQLClient, device_id: int, on: bool = True) -> dict[str, Any]:
    data = await gql(
        UPDATE, {"i": {"deviceId": to_global_id("RemoteDevice", device_id), "updaterGen2": on}}
    )
    result: dict[str, Any] = data["updateRemoteDevice"]
    assert result["errors"] == []
    return result


async def test_a_second_generation_2_updater_in_a_large_system_warns(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a large system (half its generation-2 keys in another domain: keys of every
    # domain meet every updater) and three wall devices
    async with database.tenant_session(tenant.tenant_id) as s:
        second = Domain(name="Plant 2")
        s.add(second)
        await s.flush()
        second_id = second.id
        await s.commit()
    await _gen2_keys(database, tenant, LARGE_SYSTEM_GEN2_KEYS // 2)
    await _gen2_keys(database, tenant, LARGE_SYSTEM_GEN2_KEYS // 2, domain_id=second_id)
    first, other, third = await _walls(database, tenant, 3)
    # when: the updater goes on at the first device: no warning
    assert (await _turn_on(gql, first))["warnings"] == []
    # and: at a second one: the warning names how many devices and keys
    warned = await _turn_on(gql, other)
    assert warned["remoteDevice"]["updaterGen2"] is True
    assert [w["code"] for w in warned["warnings"]] == ["MANY_GEN2_UPDATERS"]
    assert "2 devices" in warned["warnings"][0]["message"]
    assert f"{LARGE_SYSTEM_GEN2_KEYS} generation-2 keys" in warned["warnings"][0]["message"]
    # and: turning one off again warns of nothing; a third on warns with three devices
    assert (await _turn_on(gql, other, on=False))["warnings"] == []
    assert "2 devices" in (await _turn_on(gql, other))["warnings"][0]["message"]
    assert "3 devices" in (await _turn_on(gql, third))["warnings"][0]["message"]


async def test_many_generation_2_updaters_in_a_small_system_do_not_warn(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: one key short of a large system once lost and defective keys are left out
    await _gen2_keys(database, tenant, LARGE_SYSTEM_GEN2_KEYS - 1)
    await _gen2_keys(database, tenant, 5, status=KeyStatus.LOST)
    await _gen2_keys(database, tenant, 5, status=KeyStatus.DEFECTIVE)
    devices = await _walls(database, tenant, 3)
    # when / then
    for device in devices:
        assert (await _turn_on(gql, device))["warnings"] == []


async def test_a_system_linked_mobile_device_counts_as_an_updater(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    await _gen2_keys(database, tenant, LARGE_SYSTEM_GEN2_KEYS)
    (wall,) = await _walls(database, tenant, 1)
    mobile = await add_device(
        database, tenant, Ed25519PrivateKey.generate(), "MPD-1",
        kind=RemoteDeviceKind.MOBILE, system_linked=True, updater_gen2=False,
    )
    assert (await _turn_on(gql, wall))["warnings"] == []
    assert [w["code"] for w in (await _turn_on(gql, mobile))["warnings"]] == [
        "MANY_GEN2_UPDATERS"
    ]
