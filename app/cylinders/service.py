"""Changing a cylinder itself (R11, R19): marking it security-relevant, reporting it defective.

Neither changes what the cylinder should open, so neither plans access of its own: the job
engine (``app.access.engine``) draws the consequences. A cylinder that becomes
security-relevant is visited first (R19) and keeps no lost key; a defective one is hidden
from normal search (R10) and no job waits for it until its replacement arrives (R32).

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.engine import reconcile
from app.access.service import Notice
from app.errors import CONFLICT, NOT_FOUND, DomainError
from app.keys.service import withdraw_lost_keys_from
from app.models import Cylinder, CylinderStatus, ProgrammingJob, ProgrammingJobStatus


@dataclass
class CylinderChange:
    """A cylinder after a change, the programming jobs it created, changed or cancelled, and
    what the administrator should know."""

    cylinder: Cylinder
    programming_jobs: list[ProgrammingJob] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)


async def load_cylinder(session: AsyncSession, cylinder_id: int) -> Cylinder:
    """The cylinder in the caller's tenant and domains (R1, R8); NOT_FOUND names cylinderId."""
    cylinder = await session.scalar(select(Cylinder).where(Cylinder.id == cylinder_id))
    if cylinder is None:
        raise DomainError(NOT_FOUND, "cylinderId: no such cylinder", "cylinderId")
    return cylinder


async def update_cylinder(
    session: AsyncSession, *, cylinder_id: int, security_relevant: bool | None
) -> CylinderChange:
    """Mark a cylinder security-relevant or not (R11, R19); None leaves it as it is.

    Its access list does not change, so the change itself needs no programming (R15):
    open jobs only move in the visiting order (security-relevant first, R19). But a
    security-relevant cylinder keeps no lost key (FAQ: "a lost key should be deprogrammed
    of security-relevant areas"): lost keys still in it, reported when it was not
    security-relevant, are withdrawn from it, and the removal jobs are returned. Marking
    it ordinary again brings no lost key back.
    """
    cylinder = await load_cylinder(session, cylinder_id)
    if security_relevant is None or security_relevant == cylinder.security_relevant:
        return CylinderChange(cylinder)
    cylinder.security_relevant = security_relevant
    await session.flush()
    if not security_relevant:
        return CylinderChange(cylinder)
    lost = await withdraw_lost_keys_from(session, cylinder.id)
    if not lost:
        return CylinderChange(cylinder)
    result = await reconcile(session, [cylinder.id])
    notice = Notice(
        "LOST_KEYS_WITHDRAWN",
        f"lost key(s) {', '.join(k.marking for k in lost)} are deprogrammed from this "
        "cylinder now that it is security-relevant (R19)",
    )
    return CylinderChange(cylinder, result.touched, [notice])


async def report_cylinder_defective(session: AsyncSession, *, cylinder_id: int) -> CylinderChange:
    """A broken cylinder (R10, R11): DEFECTIVE, hidden from normal search, shown by
    advanced search; its open jobs are cancelled (the job engine plans none for it, and
    jobEvents subscribers hear of each) and returned.

    Jobs already on a programming key stay there, as the key holds them: they end when
    the key reports, with no job after them (a warning names how many). A replacement
    ordered for it (a clone, R32) puts it back in service with a full reprogramming.
    """
    cylinder = await load_cylinder(session, cylinder_id)
    if cylinder.status is not CylinderStatus.ACTIVE:
        raise DomainError(
            CONFLICT, f"cylinderId: the cylinder is {cylinder.status.name}", "cylinderId"
        )
    cylinder.status = CylinderStatus.DEFECTIVE
    await session.flush()
    result = await reconcile(session, [cylinder.id])
    cancelled = (
        list(
            await session.scalars(
                select(ProgrammingJob)
                .where(ProgrammingJob.id.in_(result.cancelled))
                .order_by(ProgrammingJob.id)
            )
        )
        if result.cancelled
        else []
    )
    on_key = len(
        list(
            await session.scalars(
                select(ProgrammingJob.id).where(
                    ProgrammingJob.cylinder_id == cylinder.id,
                    ProgrammingJob.status == ProgrammingJobStatus.ON_KEY,
                )
            )
        )
    )
    warnings = (
        [
            Notice(
                "JOBS_ON_KEY",
                f"{on_key} job(s) for {cylinder.marking} are on a programming key already; "
                "they end when the key reports, and no job follows them",
            )
        ]
        if on_key
        else []
    )
    return CylinderChange(cylinder, cancelled, warnings)
