"""Factory data (R31, R32): import a signed extension file, then activate it."""

from __future__ import annotations

import strawberry

from app.errors import DomainError
from app.factory.extension import activate_extension, import_extension
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.employees import ImportFileInput, read_upload
from app.schema.relay import decode_id
from app.schema.types import Extension, ProgrammingJob
from app.workers.outbox import notify_outbox


@strawberry.type
class ExtensionPayload:
    extension: Extension | None = None
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExtensionMutations:
    @strawberry.mutation(description="R31: verify the vendor's signature and record the file.")
    async def import_extension(self, info: Info, input: ImportFileInput) -> ExtensionPayload:
        info.context.require("extensions.import")
        try:
            data = await read_upload(input.file)
            async with info.context.write() as session:
                result = await import_extension(session, data, dry_run=bool(input.dry_run))
        except DomainError as exc:
            return ExtensionPayload(errors=[UserError.from_domain(exc)])
        notify_outbox()  # admins are told a new extension is available (R31, R33)
        return ExtensionPayload(
            extension=Extension(row=result.extension) if result.extension else None,
            programming_jobs=[ProgrammingJob(row=j) for j in result.programming_jobs],
        )

    @strawberry.mutation(description="R31: make the extension's elements usable.")
    async def activate_extension(self, info: Info, id: strawberry.ID) -> ExtensionPayload:
        info.context.require("extensions.activate")
        try:
            _, extension_id = decode_id(id, "Extension", "id")
            async with info.context.write() as session:
                row = await activate_extension(session, extension_id)
        except DomainError as exc:
            return ExtensionPayload(errors=[UserError.from_domain(exc)])
        return ExtensionPayload(extension=Extension(row=row))
