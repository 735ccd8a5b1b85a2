"""Validity extensions (app.devices.validity, R14): how long a key stays valid after it met a
device, never past its fixed end, recorded as a revalidation."""

from __future__ import annotations

from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.db import Database
from app.devices.protocol import rfc3339
from app.devices.validity import extend_validity
from app.models import Key, KeyRevalidation, RemoteDevice, Tenant, utcnow
from app.tenants.service import NewTenant
from tests.test_devices import add_device, add_key


async def test_an_extension_stops_at_the_keys_fixed_end_and_is_recorded(
    database: Database, tenant: NewTenant
) -> None:
    # given: a key extended by 72 h per revalidation, but valid only 10 more hours
    device_id = await add_device(database, tenant, Ed25519PrivateKey.generate())
    key_id, _ = await add_key(database, tenant, interval=72)
    now = utcnow()
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(Key, key_id)
        device = await s.get(RemoteDevice, device_id)
        tenant_row = await s.scalar(select(Tenant))
        assert key is not None and device is not None and tenant_row is not None
        key.always_valid = False
        key.valid_until = now + timedelta(hours=10)
        # when
        extended = await extend_validity(s, device, tenant_row, key, now)
        await s.commit()
        recorded = list(await s.scalars(select(KeyRevalidation)))
    # then
    assert extended == {
        "validUntil": rfc3339(now + timedelta(hours=10)),
        "extensionIntervalHours": 72,
        "cylinders": [],
    }
    assert [(r.key_id, r.device_id, r.offline) for r in recorded] == [(key_id, device_id, False)]


async def test_a_key_without_an_interval_or_past_its_end_is_not_extended(
    database: Database, tenant: NewTenant
) -> None:
    device_id = await add_device(database, tenant, Ed25519PrivateKey.generate())
    endless, _ = await add_key(database, tenant, interval=None)
    expired, _ = await add_key(database, tenant, interval=24)
    now = utcnow()
    async with database.tenant_session(tenant.tenant_id) as s:
        device = await s.get(RemoteDevice, device_id)
        tenant_row = await s.scalar(select(Tenant))
        assert device is not None and tenant_row is not None
        past = await s.get(Key, expired)
        assert past is not None
        past.always_valid = False
        past.valid_until = now - timedelta(hours=1)
        for key_id in (endless, expired):
            key = await s.get(Key, key_id)
            assert key is not None
            assert await extend_validity(s, device, tenant_row, key, now) is None
        await s.flush()
        assert await s.scalar(select(KeyRevalidation.id)) is None
