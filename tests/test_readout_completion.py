"""Readout completion (app.approval.service, R29): reading a key's trail completes the
approved requests its AUDIT_READOUT job carried, wherever it was read (wall device or desk)."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.approval.service import complete_readouts, readout_request_ids
from app.db import Database
from app.models import (
    ProgrammingKey,
    ProgrammingKeyKind,
    ReadoutRequest,
    ReadoutStatus,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
)
from app.tenants.service import NewTenant
from tests.factories import seed_elements


def _job(payload: dict[str, object]) -> RemoteJob:
    return RemoteJob(kind=RemoteJobKind.AUDIT_READOUT, status=RemoteJobStatus.PENDING,
                     payload=payload)


def test_a_readout_job_names_its_requests_in_either_payload_shape() -> None:
    assert readout_request_ids(_job({"readoutRequestId": 4, "readoutRequestIds": [4, 9]})) == [4, 9]
    assert readout_request_ids(_job({"readoutRequestId": 4})) == [4]  # queued before sharing
    assert readout_request_ids(_job({})) == []
    assert readout_request_ids(_job({"readoutRequestIds": [3, "x", None]})) == [3]


async def test_only_approved_requests_the_job_carried_become_done(
    database: Database, tenant: NewTenant
) -> None:
    # given
    seeded = await seed_elements(database, tenant, keys=3, cylinders=1, prefix="R")
    async with database.tenant_session(tenant.tenant_id) as s:
        asker = ProgrammingKey(marking="PN-R", uid=secrets.token_hex(8),
                               kind=ProgrammingKeyKind.SUB, firmware_version="12.3.0",
                               public_key=b"k" * 32)
        s.add(asker)
        await s.flush()
        requests = {
            status: ReadoutRequest(key_id=seeded.key_ids[2], reason="Door forced",
                                   status=status, requested_by_id=asker.id)
            for status in (ReadoutStatus.APPROVED, ReadoutStatus.REJECTED)
        }
        elsewhere = ReadoutRequest(key_id=seeded.key_ids[2], reason="Other",
                                   status=ReadoutStatus.APPROVED, requested_by_id=asker.id)
        s.add_all([*requests.values(), elsewhere])
        await s.flush()
        job = _job({"readoutRequestIds": [r.id for r in requests.values()]})
        # when
        await complete_readouts(s, job)
        await complete_readouts(s, _job({}))  # a job that carries none changes nothing
        await s.commit()
        statuses = dict((await s.execute(select(ReadoutRequest.id, ReadoutRequest.status))).all())
    # then
    assert statuses[requests[ReadoutStatus.APPROVED].id] == ReadoutStatus.DONE
    assert statuses[requests[ReadoutStatus.REJECTED].id] == ReadoutStatus.REJECTED
    assert statuses[elsewhere.id] == ReadoutStatus.APPROVED
