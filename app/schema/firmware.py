"""Firmware (R25, R26): certificate bundles, import of a signed image, and applying it."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from app.errors import INVALID, DomainError
from app.firmware import bundles, imports, rollout
from app.schema.common import UserError, Warning
from app.schema.context import Info
from app.schema.employees import read_upload
from app.schema.runner import Run, mutation, run
from app.schema.types import CertificateBundle, Firmware, RemoteDevice, RemoteJob
from app.workers.outbox import notify_outbox

# Input lists are capped: more devices than this are chosen in several calls.
MAX_DEVICE_IDS = 10_000


@strawberry.input
class ImportFirmwareInput:
    file: Upload
    certificate_bundle_id: strawberry.ID


@strawberry.input
class ApplyFirmwareInput:
    firmware_id: strawberry.ID
    device_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="For REMOTE_BOOTLOADER and REMOTE_DEVICE firmware (R25)."
    )


@strawberry.input
class CreateCertificateBundleInput:
    name: str


@strawberry.type
class FirmwarePayload:
    firmware: Firmware | None = None
    remote_jobs: list[RemoteJob] = strawberry.field(default_factory=list)
    remote_devices: list[RemoteDevice] = strawberry.field(
        default_factory=list,
        description="Devices that now receive the image with their heartbeats (R25).",
    )
    warnings: list[Warning] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CertificateBundlePayload:
    certificate_bundle: CertificateBundle | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _device_ids(r: Run, values: list[strawberry.ID] | None) -> list[int] | None:
    if values is not None and len(values) > MAX_DEVICE_IDS:
        raise DomainError(
            INVALID, f"deviceIds: at most {MAX_DEVICE_IDS} devices at once", "deviceIds"
        )
    return r.optional_ids(values, "RemoteDevice", "deviceIds")


@strawberry.type
class FirmwareMutations:
    @mutation(
        right="firmware.write",
        description="R25: a certificate bundle (CCB) firmware is built for.",
    )
    async def create_certificate_bundle(
        self, info: Info, input: CreateCertificateBundleInput
    ) -> CertificateBundlePayload:
        return await run(
            info, CertificateBundlePayload,
            lambda r: bundles.create_certificate_bundle(r.session, name=input.name),
            lambda row: CertificateBundlePayload(certificate_bundle=CertificateBundle(row=row)),
        )

    @mutation(
        right="firmware.write",
        description="R25: check the vendor's signature and store the image in the chosen bundle.",
    )
    async def import_firmware(self, info: Info, input: ImportFirmwareInput) -> FirmwarePayload:
        async def action(r: Run) -> imports.ImportedFirmware:
            bundle_id = r.id(
                input.certificate_bundle_id, "CertificateBundle", "certificateBundleId"
            )
            r.after_commit(notify_outbox)  # Superadmins are told new firmware is ready (R25, R33)
            return await imports.import_firmware(
                r.session, await read_upload(input.file), certificate_bundle_id=bundle_id,
                max_size=r.settings.max_upload_bytes,
            )

        return await run(
            info, FirmwarePayload, action,
            lambda result: FirmwarePayload(firmware=Firmware(row=result.firmware)),
        )

    @mutation(
        right="firmware.write",
        description="R25: bootloader, then firmware, to chosen devices; R26: key firmware to "
        "every key of its generation with lower firmware.",
    )
    async def apply_firmware(self, info: Info, input: ApplyFirmwareInput) -> FirmwarePayload:
        async def action(r: Run) -> rollout.AppliedFirmware:
            r.after_commit(notify_outbox)  # generation-1 key holders: visit the updater (R26)
            return await rollout.apply_firmware(
                r.session,
                firmware_id=r.id(input.firmware_id, "Firmware", "firmwareId"),
                device_ids=_device_ids(r, input.device_ids),
            )

        return await run(
            info, FirmwarePayload, action,
            lambda result: FirmwarePayload(
                firmware=Firmware(row=result.firmware),
                remote_jobs=[RemoteJob(row=j) for j in result.remote_jobs],
                remote_devices=[RemoteDevice(row=d) for d in result.devices],
                warnings=[Warning(code=w.code, message=w.message) for w in result.warnings],
            ),
        )
