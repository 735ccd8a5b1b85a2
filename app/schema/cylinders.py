"""Cylinder mutations (R10, R11, R19): updateCylinder, reportCylinderDefective.

The domain operations are app.cylinders.service.update_cylinder and
report_cylinder_defective; the job engine announces the jobs they touch on jobEvents.
"""

from __future__ import annotations

import strawberry

from app.cylinders import service
from app.schema.common import UserError, Warning
from app.schema.context import Info
from app.schema.runner import mutation, run
from app.schema.types import Cylinder, ProgrammingJob


@strawberry.input
class UpdateCylinderInput:
    cylinder_id: strawberry.ID
    security_relevant: bool | None = strawberry.field(
        default=None, description="R19: visited first; keeps no lost key"
    )


@strawberry.input
class CylinderIdInput:
    cylinder_id: strawberry.ID


@strawberry.type
class CylinderPayload:
    cylinder: Cylinder | None = None
    programming_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list, description="The jobs the change created, changed or cancelled."
    )
    warnings: list[Warning] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def cylinder_payload(change: service.CylinderChange) -> CylinderPayload:
    return CylinderPayload(
        cylinder=Cylinder(row=change.cylinder),
        programming_jobs=[ProgrammingJob(row=j) for j in change.programming_jobs],
        warnings=[Warning(code=w.code, message=w.message) for w in change.warnings],
    )


@strawberry.type
class CylinderMutations:
    @mutation(
        right="cylinders.write",
        description="R11, R19: mark a cylinder security-relevant (lost keys leave it) or not.",
    )
    async def update_cylinder(self, info: Info, input: UpdateCylinderInput) -> CylinderPayload:
        return await run(info, CylinderPayload, lambda r: service.update_cylinder(
            r.session,
            cylinder_id=r.id(input.cylinder_id, "Cylinder", "cylinderId"),
            security_relevant=input.security_relevant,
        ), cylinder_payload)

    @mutation(
        right="cylinders.write",
        description="R10, R11: a broken cylinder; hidden from normal search, its jobs cancelled.",
    )
    async def report_cylinder_defective(
        self, info: Info, input: CylinderIdInput
    ) -> CylinderPayload:
        return await run(info, CylinderPayload, lambda r: service.report_cylinder_defective(
            r.session, cylinder_id=r.id(input.cylinder_id, "Cylinder", "cylinderId")
        ), cylinder_payload)
