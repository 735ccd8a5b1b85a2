"""Remote devices and what reaches them: firmware (R25, R26), trace logs (R27), extensions
(R31) and the blocking list (R21)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import select

from app import models as m
from app.schema.common import (
    FirmwareSource,
    FirmwareTarget,
    Node,
    RemoteDeviceKind,
)
from app.schema.context import Info
from app.schema.types.base import column, gid
from app.schema.types.organisation import Domain


@strawberry.type
class OfflineUpdateSettings:
    max_offline_updates: int
    max_hours_since_online_update: int | None
    blocking_list_validity_hours: int | None
    offline_extension_hours: int


@strawberry.type
class CertificateBundle(Node):
    row: strawberry.Private[m.CertificateBundle]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    name = column("name", str)

    created_at = column("created_at", datetime)


@strawberry.type
class Firmware(Node):
    row: strawberry.Private[m.Firmware]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    target = column("target", FirmwareTarget)

    version = column("version", str)

    source = column("source", FirmwareSource)

    @strawberry.field
    async def certificate_bundle(self, info: Info) -> CertificateBundle:
        loader = info.context.loaders.by_id(m.CertificateBundle)
        return CertificateBundle(row=await loader.load(self.row.certificate_bundle_id))

    imported_at = column("imported_at", datetime)

    applied = column("applied", bool)


@strawberry.type
class FirmwareProgress:
    deployment: strawberry.Private[m.FirmwareDeployment]
    firmware_row: strawberry.Private[m.Firmware]

    @strawberry.field
    def firmware(self) -> Firmware:
        return Firmware(row=self.firmware_row)

    @strawberry.field
    def stage(self) -> str:
        if self.firmware_row.target == m.FirmwareTarget.REMOTE_BOOTLOADER:
            return "bootloader"
        return "firmware"

    @strawberry.field
    def percent(self) -> int:
        size = max(len(self.firmware_row.image), 1)
        return min(100, self.deployment.offset * 100 // size)

    @strawberry.field
    def done(self) -> bool:
        return self.deployment.done


@strawberry.type
class DeviceTraceLog:
    """A trace log a device wrote for a request file, uploaded to be read (R27)."""

    row: strawberry.Private[m.DeviceTraceLog]
    written_at = column("written_at", datetime)
    uploaded_at = column("uploaded_at", datetime)
    log = column("log", str)
    sha256 = column("sha256", str)


@strawberry.type
class RemoteDevice(Node):
    row: strawberry.Private[m.RemoteDevice]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    name = column("name", str)

    kind = column("kind", RemoteDeviceKind)

    serial = column("serial", str)

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    firmware_version = column("firmware_version", str)

    bootloader_version = column("bootloader_version", str)

    heartbeat_interval_seconds = column("heartbeat_interval_seconds", int)

    last_heartbeat_at = column("last_heartbeat_at", datetime | None)

    online = column("online", bool)

    system_linked = column("system_linked", bool)

    potential_free_output = column("potential_free_output", bool)

    updater_gen1 = column("updater_gen1", bool)

    updater_gen2 = column("updater_gen2", bool)

    @strawberry.field
    def offline_updates(self) -> OfflineUpdateSettings | None:
        r = self.row
        if r.offline_max_updates is None or r.offline_extension_hours is None:
            return None
        return OfflineUpdateSettings(
            max_offline_updates=r.offline_max_updates,
            max_hours_since_online_update=r.offline_max_hours_since_online,
            blocking_list_validity_hours=r.offline_blocking_list_validity_hours,
            offline_extension_hours=r.offline_extension_hours,
        )

    @strawberry.field(description="Uploaded trace logs, newest first (R27).")
    async def trace_logs(self, info: Info) -> list[DeviceTraceLog]:
        rows = await info.context.db.scalars(
            select(m.DeviceTraceLog)
            .where(m.DeviceTraceLog.device_id == self.row.id)
            .order_by(m.DeviceTraceLog.uploaded_at.desc(), m.DeviceTraceLog.id.desc())
        )
        return [DeviceTraceLog(row=r) for r in rows]

    @strawberry.field
    async def firmware_progress(self, info: Info) -> FirmwareProgress | None:
        progress = await info.context.loaders.firmware_progress_of_device.load(self.row.id)
        if progress is None:
            return None
        deployment, firmware = progress
        return FirmwareProgress(deployment=deployment, firmware_row=firmware)


@strawberry.type
class BlockingList:
    version: int
    issued_at: datetime
    valid_until: datetime | None
    key_uids: list[str]
    signature: str


@strawberry.type
class Extension(Node):
    row: strawberry.Private[m.Extension]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    imported_at = column("imported_at", datetime)

    activated = column("activated", bool)

    new_keys = column("new_keys", int)

    new_cylinders = column("new_cylinders", int)

    clones = column("clones", int)
