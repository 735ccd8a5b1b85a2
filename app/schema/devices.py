"""Remote device settings (R22, R24, R26): the ``updateRemoteDevice`` mutation.

The domain operation is app.devices.service.update_remote_device.
"""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from app.devices.files import store_trace_log
from app.devices.service import OfflineSettings, update_remote_device
from app.errors import DomainError
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.employees import read_upload
from app.schema.relay import decode_id
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
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UploadTraceLogInput:
    device_id: strawberry.ID
    file: Upload


@strawberry.type
class TraceLogPayload:
    trace_log: DeviceTraceLog | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(
        description="R24, R26: a device's name, heartbeat interval, offline settings and "
        "updater flags; they reach the device with its next heartbeat."
    )
    async def update_remote_device(
        self, info: Info, input: UpdateRemoteDeviceInput
    ) -> RemoteDevicePayload:
        try:
            info.context.require("devices.write")
            _, device_id = decode_id(input.device_id, "RemoteDevice", "deviceId")
            offline = input.offline_updates
            async with info.context.write() as session:
                row = await update_remote_device(
                    session,
                    device_id=device_id,
                    name=input.name,
                    heartbeat_interval_seconds=input.heartbeat_interval_seconds,
                    offline=(
                        OfflineSettings(
                            max_offline_updates=offline.max_offline_updates,
                            max_hours_since_online_update=offline.max_hours_since_online_update,
                            blocking_list_validity_hours=offline.blocking_list_validity_hours,
                            offline_extension_hours=offline.offline_extension_hours,
                        )
                        if offline is not None
                        else None
                    ),
                    updater_gen1=input.updater_gen1,
                    updater_gen2=input.updater_gen2,
                )
        except DomainError as exc:
            return RemoteDevicePayload(errors=[UserError.from_domain(exc)])
        return RemoteDevicePayload(remote_device=RemoteDevice(row=row))

    @strawberry.mutation(description="R27: keep the trace log a device wrote for a request file.")
    async def upload_trace_log(self, info: Info, input: UploadTraceLogInput) -> TraceLogPayload:
        from app.models import RemoteDevice as RemoteDeviceRow

        info.context.require("devices.write")
        try:
            _, device_id = decode_id(input.device_id, "RemoteDevice", "deviceId")
            data = await read_upload(input.file)
            async with info.context.write() as session:
                device = await session.get(RemoteDeviceRow, device_id)
                if device is None:
                    raise DomainError("NOT_FOUND", "deviceId: no such device", "deviceId")
                row = await store_trace_log(session, device, data)
        except DomainError as exc:
            return TraceLogPayload(errors=[UserError.from_domain(exc)])
        return TraceLogPayload(trace_log=DeviceTraceLog(row=row))
