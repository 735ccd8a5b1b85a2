"""Factory data (R31, R32): import a signed extension file, then activate it."""

from __future__ import annotations

import strawberry

from app.factory.extension import ImportedExtension, activate_extension, import_extension
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.employees import ImportFileInput, read_upload
from app.schema.runner import Run, mutation, run
from app.schema.types import Extension, ProgrammingJob
from app.workers.outbox import notify_outbox


@strawberry.type
class ExtensionPayload:
    extension: Extension | None = None
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExtensionMutations:
    @mutation(
        right="extensions.import",
        description="R31: verify the vendor's signature and record the file.",
    )
    async def import_extension(self, info: Info, input: ImportFileInput) -> ExtensionPayload:
        async def action(r: Run) -> ImportedExtension:
            r.after_commit(notify_outbox)  # admins are told a new extension is available (R31, R33)
            return await import_extension(
                r.session, await read_upload(input.file), dry_run=bool(input.dry_run)
            )

        return await run(
            info, ExtensionPayload, action,
            lambda result: ExtensionPayload(
                extension=Extension(row=result.extension) if result.extension else None,
                programming_jobs=[ProgrammingJob(row=j) for j in result.programming_jobs],
            ),
        )

    @mutation(right="extensions.activate", description="R31: make the extension's elements usable.")
    async def activate_extension(self, info: Info, id: strawberry.ID) -> ExtensionPayload:
        return await run(
            info, ExtensionPayload,
            lambda r: activate_extension(r.session, r.id(id, "Extension", "id")),
            lambda row: ExtensionPayload(extension=Extension(row=row)),
        )
