"""Remote device settings (R22, R24, R26): the ``updateRemoteDevice`` mutation.

The domain operation is app.devices.device_settings.update_remote_device.
"""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from app.devices.device_settings import OfflineSettings, update_remote_device
from app.devices.files import store_trace_log
from app.models import DeviceTraceLog as DeviceTraceLogRow
from app.models import RemoteDevice as RemoteDeviceRow
from app.schema.common import UserError, Warning
from app.schema.context import Info
from app.schema.employees import read_upload
from app.schema.runner import Run, mutation, run
from app.schema.types import DeviceTraceLog, RemoteDevice


@strawberry.input
class OfflineUpdateSettingsInput:
    max_offline_updates: int = strawberry.field(description="0..255, 0 = off")
    max_hours_since_online_update: int | None = strawberry.field(
        default=None, description="null = unlimited"
    )
    blocking_list_validity_hours: int | None = strawberry.field(
        default=None, description="null = unlimited"
    )
    offline_extension_hours: int = strawberry.field(description="at most 730 days")


@strawberry.input
class UpdateRemoteDeviceInput:
    device_id: strawberry.ID
    name: str | None = None
    heartbeat_interval_seconds: int | None = None
    offline_updates: OfflineUpdateSettingsInput | None = None
    updater_gen1: bool | None = None
    updater_gen2: bool | None = None


@strawberry.type
class RemoteDevicePayload:
    remote_device: RemoteDevice | None = None
    warnings: list[Warning] = strawberry.field(
        default_factory=list, description="e.g. the generation-2 updater on many devices (R26)"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UploadTraceLogInput:
    device_id: strawberry.ID
    file: Upload


@strawberry.type
class TraceLogPayload:
    trace_log: DeviceTraceLog | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _offline(offline: OfflineUpdateSettingsInput | None) -> OfflineSettings | None:
    if offline is None:
        return None
    return OfflineSettings(
        max_offline_updates=offline.max_offline_updates,
        max_hours_since_online_update=offline.max_hours_since_online_update,
        blocking_list_validity_hours=offline.blocking_list_validity_hours,
        offline_extension_hours=offline.offline_extension_hours,
    )


@strawberry.type
class DeviceMutations:
    @mutation(
        right="devices.write",
        description="R24, R26: a device's name, heartbeat interval, offline settings and "
        "updater flags; they reach the device with its next heartbeat.",
    )
    async def update_remote_device(
        self, info: Info, input: UpdateRemoteDeviceInput
    ) -> RemoteDevicePayload:
        return await run(
            info, RemoteDevicePayload,
            lambda r: update_remote_device(
                r.session,
                device_id=r.id(input.device_id, "RemoteDevice", "deviceId"),
                name=input.name,
                heartbeat_interval_seconds=input.heartbeat_interval_seconds,
                offline=_offline(input.offline_updates),
                updater_gen1=input.updater_gen1,
                updater_gen2=input.updater_gen2,
            ),
            lambda change: RemoteDevicePayload(
                remote_device=RemoteDevice(row=change.device),
                warnings=[Warning(code=w.code, message=w.message) for w in change.warnings],
            ),
        )

    @mutation(
        right="devices.write",
        description="R27: keep the trace log a device wrote for a request file.",
    )
    async def upload_trace_log(self, info: Info, input: UploadTraceLogInput) -> TraceLogPayload:
        async def action(r: Run) -> DeviceTraceLogRow:
            device = await r.row(RemoteDeviceRow, input.device_id, "RemoteDevice", "deviceId")
            return await store_trace_log(r.session, device, await read_upload(input.file))

        return await run(
            info, TraceLogPayload, action,
            lambda row: TraceLogPayload(trace_log=DeviceTraceLog(row=row)),
        )
