"""The devices that update keys (app.firmware.key_updaters, R26): which devices they are,
and the key image each gets."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.db import Database
from app.errors import DomainError
from app.firmware.key_updaters import deploy_key_image, require_updater, updater_devices
from app.models import (
    CertificateBundle,
    Firmware,
    FirmwareDeployment,
    FirmwareSource,
    FirmwareTarget,
    KeyGeneration,
    RemoteDevice,
    RemoteDeviceKind,
)
from app.tenants.service import NewTenant
from tests.test_devices import add_device


async def test_generation_1_needs_exactly_one_wall_device_in_updater_mode(
    database: Database, tenant: NewTenant
) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as none:
            await require_updater(s, KeyGeneration.GEN1)
    await add_device(database, tenant, Ed25519PrivateKey.generate(), "W-1", updater_gen1=True)
    async with database.tenant_session(tenant.tenant_id) as s:
        await require_updater(s, KeyGeneration.GEN1)
    await add_device(database, tenant, Ed25519PrivateKey.generate(), "W-2", updater_gen1=True)
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as two:
            await require_updater(s, KeyGeneration.GEN1)
    assert none.value.code == two.value.code == "CONFLICT"
    assert "2 wall devices" in two.value.message


async def test_generation_2_updaters_are_wall_and_system_linked_mobile_devices_with_the_flag(
    database: Database, tenant: NewTenant
) -> None:
    # given
    key = Ed25519PrivateKey.generate
    await add_device(database, tenant, key(), "A-WALL", updater_gen2=True)
    await add_device(database, tenant, key(), "B-MOBILE", kind=RemoteDeviceKind.MOBILE,
                     system_linked=True, updater_gen2=True)
    await add_device(database, tenant, key(), "C-LOOSE", kind=RemoteDeviceKind.MOBILE,
                     system_linked=False, updater_gen2=True)
    await add_device(database, tenant, key(), "D-OFF", updater_gen2=False)
    async with database.tenant_session(tenant.tenant_id) as s:
        # when
        await require_updater(s, KeyGeneration.GEN2)
        found = await updater_devices(s, KeyGeneration.GEN2)
    # then
    assert [d.serial for d in found] == ["A-WALL", "B-MOBILE"]


async def test_a_key_image_deployment_is_kept_once_and_replaces_an_older_unfinished_one(
    database: Database, tenant: NewTenant
) -> None:
    # given: a device part-way through an older key image
    device_id = await add_device(database, tenant, Ed25519PrivateKey.generate(), updater_gen2=True)
    async with database.tenant_session(tenant.tenant_id) as s:
        bundle = CertificateBundle(name="CCB")
        s.add(bundle)
        await s.flush()
        images = [
            Firmware(target=FirmwareTarget.KEY_GEN2, version=version, source=FirmwareSource.MANUAL,
                     certificate_bundle_id=bundle.id, image=b"x" * 10, sha256="0" * 64)
            for version in ("12.0", "13.0")
        ]
        s.add_all(images)
        await s.flush()
        s.add(FirmwareDeployment(device_id=device_id, firmware_id=images[0].id, offset=4,
                                 done=False))
        await s.commit()
        old_id, new_id = images[0].id, images[1].id
    async with database.tenant_session(tenant.tenant_id) as s:
        device = await s.get(RemoteDevice, device_id)
        assert device is not None
        # when: the newer image is deployed, twice
        first = await deploy_key_image(s, new_id, FirmwareTarget.KEY_GEN2, "13.0", [device])
        again = await deploy_key_image(s, new_id, FirmwareTarget.KEY_GEN2, "13.0", [device])
        await s.commit()
        held = list(await s.scalars(select(FirmwareDeployment.firmware_id)))
    # then
    assert [d.id for d in first] == [d.id for d in again]
    assert held == [new_id] and old_id not in held
