"""Programming jobs on programming keys (R15, R17): assign, load onto the key, report back."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from app.access.engine import JobOutcome
from app.audit.service import ReadEvent
from app.events.publish import queue_job_events
from app.programming.service import (
    AssignResult,
    LoadResult,
    ProgrammingResult,
    ReportResult,
    assign_programming_jobs,
    load_programming_jobs,
    report_programming_results,
)
from app.programming.visit import AccessWrite
from app.schema.common import AccessChangeOp, AccessResult, UserError, Warning
from app.schema.context import Info
from app.schema.relay import to_global_id
from app.schema.runner import Run, mutation, run
from app.schema.types import Cylinder, ProgrammingJob, ProgrammingKey
from app.workers.outbox import notify_outbox


@strawberry.enum(description="How carrying out a programming job at the cylinder ended (R15).")
class ProgrammingOutcome(enum.Enum):
    DONE = JobOutcome.DONE
    ABORTED = JobOutcome.ABORTED
    FAILED = JobOutcome.FAILED


@strawberry.input
class AssignProgrammingJobsInput:
    programming_key_id: strawberry.ID
    job_ids: list[strawberry.ID]


@strawberry.type
class AssignProgrammingJobsPayload:
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    warnings: list[Warning] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class LoadProgrammingJobsInput:
    programming_key_id: strawberry.ID
    device_id: strawberry.ID | None = strawberry.field(
        default=None, description="The remote device the key is inserted in; none at the desk."
    )
    key_firmware_version: str | None = strawberry.field(
        default=None, description="The key's firmware as the device read it (updates the key)."
    )


@strawberry.type(
    description="One key (by UID), key group or cylinder group membership (R13) to add to or "
    "remove from a cylinder."
)
class CylinderWrite:
    op: AccessChangeOp
    key_uid: str | None
    group_id: strawberry.ID | None
    cylinder_group_id: strawberry.ID | None = None

    @classmethod
    def of(cls, write: AccessWrite) -> CylinderWrite:
        group, cylinder_group = write.key_group_id, write.cylinder_group_id
        return cls(
            op=write.op,
            key_uid=write.key_uid,
            group_id=strawberry.ID(to_global_id("KeyGroup", group)) if group is not None else None,
            cylinder_group_id=(
                strawberry.ID(to_global_id("CylinderGroup", cylinder_group))
                if cylinder_group is not None
                else None
            ),
        )


@strawberry.type(description="A job on the programming key and what it writes into its cylinder.")
class LoadedProgrammingJob:
    programming_job: ProgrammingJob
    cylinder: Cylinder
    full_reprogram: bool
    changes: list[CylinderWrite]
    access_list: list[CylinderWrite] | None = strawberry.field(
        description="Full reprogramming: everything the cylinder must hold afterwards."
    )


@strawberry.type
class LoadProgrammingJobsPayload:
    programming_key: ProgrammingKey | None = None
    jobs: list[LoadedProgrammingJob] = strawberry.field(default_factory=list)
    loaded_count: int = strawberry.field(
        default=0, description="Jobs loaded by this call (the others were on the key already)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="An event of the cylinder's audit trail, read before rewriting it.")
class CylinderAuditEventInput:
    at: datetime
    key_uid: str | None = None
    result: AccessResult


@strawberry.input
class ProgrammingResultInput:
    job_id: strawberry.ID
    outcome: ProgrammingOutcome
    audit_events: list[CylinderAuditEventInput] | None = None


@strawberry.input
class ReportProgrammingResultsInput:
    programming_key_id: strawberry.ID
    results: list[ProgrammingResultInput]


@strawberry.type
class ReportProgrammingResultsPayload:
    programming_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list, description="The reported jobs, now DONE or FAILED."
    )
    returned_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list,
        description="Jobs that were on the key but not reported: cleared, assigned to it again.",
    )
    new_programming_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list,
        description="Jobs the report caused: full reprogramming (R15), failed changes again.",
    )
    open_cylinders: list[Cylinder] = strawberry.field(default_factory=list)
    all_completed: bool = False
    audit_events_stored: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


def _loaded_payload(result: LoadResult) -> LoadProgrammingJobsPayload:
    return LoadProgrammingJobsPayload(
        programming_key=ProgrammingKey(row=result.programming_key),
        jobs=[
            LoadedProgrammingJob(
                programming_job=ProgrammingJob(row=j.job),
                cylinder=Cylinder(row=j.cylinder),
                full_reprogram=j.job.full_reprogram,
                changes=[CylinderWrite.of(w) for w in j.changes],
                access_list=(
                    [CylinderWrite.of(w) for w in j.access_list]
                    if j.access_list is not None
                    else None
                ),
            )
            for j in result.jobs
        ],
        loaded_count=result.newly_loaded,
    )


def _report_payload(report: ReportResult) -> ReportProgrammingResultsPayload:
    return ReportProgrammingResultsPayload(
        programming_jobs=[ProgrammingJob(row=j) for j in report.reported],
        returned_jobs=[ProgrammingJob(row=j) for j in report.returned],
        new_programming_jobs=[ProgrammingJob(row=j) for j in report.created],
        open_cylinders=[Cylinder(row=c) for c in report.open_cylinders],
        all_completed=report.all_completed,
        audit_events_stored=report.audit_events_stored,
    )


@strawberry.type
class ProgrammingMutations:
    @mutation(
        right="jobs.assign", description="R17: give open programming jobs to a programming key."
    )
    async def assign_programming_jobs(
        self, info: Info, input: AssignProgrammingJobsInput
    ) -> AssignProgrammingJobsPayload:
        async def action(r: Run) -> AssignResult:
            r.after_commit(notify_outbox)  # the holder is told programming is available (R33)
            result = await assign_programming_jobs(
                r.session,
                programming_key_id=r.id(
                    input.programming_key_id, "ProgrammingKey", "programmingKeyId"
                ),
                job_ids=r.ids(input.job_ids, "ProgrammingJob", "jobIds"),
            )
            # jobEvents: the jobs are assigned now (R15, R23), as at a site bridge.
            queue_job_events(r.session, job_ids=[j.id for j in result.jobs])
            return result

        return await run(
            info, AssignProgrammingJobsPayload, action,
            lambda result: AssignProgrammingJobsPayload(
                programming_jobs=[ProgrammingJob(row=j) for j in result.jobs],
                warnings=[Warning(code=w.code, message=w.message) for w in result.warnings],
            ),
        )

    @mutation(
        right="cylinders.program",
        description="R17: load the jobs assigned to a programming key onto it (desk or device).",
    )
    async def load_programming_jobs(
        self, info: Info, input: LoadProgrammingJobsInput
    ) -> LoadProgrammingJobsPayload:
        async def action(r: Run) -> LoadResult:
            result = await load_programming_jobs(
                r.session,
                programming_key_id=r.id(
                    input.programming_key_id, "ProgrammingKey", "programmingKeyId"
                ),
                device_id=r.optional_id(input.device_id, "RemoteDevice", "deviceId"),
                key_firmware_version=input.key_firmware_version,
            )
            if result.newly_loaded:
                r.after_commit(notify_outbox)  # the cylinders to visit (R17, R33)
                queue_job_events(r.session, job_ids=result.loaded_ids)  # now on the key
            return result

        return await run(info, LoadProgrammingJobsPayload, action, _loaded_payload)

    @mutation(
        right="cylinders.program",
        description="R15, R17: what a programming key reports after programming its cylinders.",
    )
    async def report_programming_results(
        self, info: Info, input: ReportProgrammingResultsInput
    ) -> ReportProgrammingResultsPayload:
        async def action(r: Run) -> ReportResult:
            key_id = r.id(input.programming_key_id, "ProgrammingKey", "programmingKeyId")
            results = [
                ProgrammingResult(
                    job_id=r.id(result.job_id, "ProgrammingJob", f"results.{i}.jobId"),
                    outcome=result.outcome.value,
                    audit_events=[
                        ReadEvent(at=e.at, result=e.result, key_uid=e.key_uid)
                        for e in result.audit_events or ()
                    ],
                )
                for i, result in enumerate(input.results)
            ]
            r.after_commit(notify_outbox)  # the final e-mail: were all jobs completed (R17, R33)
            report = await report_programming_results(
                r.session, programming_key_id=key_id, results=results
            )
            # jobEvents: done, failed, back to assigned, or made by the report (R15, R23).
            changed = (*report.reported, *report.returned, *report.created)
            queue_job_events(r.session, job_ids=[j.id for j in changed])
            return report

        return await run(info, ReportProgrammingResultsPayload, action, _report_payload)
