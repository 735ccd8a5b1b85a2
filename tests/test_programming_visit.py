"""How a programming visit is planned (app.programming.visit; R15, R17, R19).

The same plan serves loading through the API or a remote device and loading at
the desk through a bridge: jobs in visiting order, security-relevant cylinders
first, with what each writes, and one e-mail to the holder when jobs go onto
the key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.db import Database
from app.models import (
    AccessChangeOp,
    AccessEntry,
    Cylinder,
    CylinderStatus,
    Employee,
    Key,
    OutboxMessage,
    ProgrammingJob,
    ProgrammingJobChange,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyKind,
)
from app.programming.visit import AccessWrite, cylinder_lines, load_onto_key, planned_jobs
from app.tenants.service import NewTenant
from tests.factories import seed_elements


def _cylinder(marking: str, security_relevant: bool = False) -> Cylinder:
    return Cylinder(
        id=len(marking), domain_id=1, marking=marking, uid=marking,
        status=CylinderStatus.ACTIVE, security_relevant=security_relevant,
    )


def test_the_holder_reads_security_relevant_cylinders_first_then_by_marking() -> None:
    a, b, c = _cylinder("C-A"), _cylinder("C-BB", True), _cylinder("C-CCC")

    assert cylinder_lines([c, a, b, a]) == "- C-BB (security-relevant)\n- C-A\n- C-CCC"


@dataclass
class Round:
    programming_key_id: int
    plain_job_id: int  # on C-001, one change
    full_job_id: int  # on security-relevant C-002, a full reprogramming
    pending_job_id: int  # on C-003, not assigned
    key_uid: str


async def _round(database: Database, tenant: NewTenant) -> Round:
    seeded = await seed_elements(database, tenant, keys=3, cylinders=4, prefix="V")
    async with database.tenant_session(tenant.tenant_id) as s:
        holder = Employee(domain_id=tenant.default_domain_id, first_name="Pia",
                          last_name="Planner", email="pia@example.com")
        s.add(holder)
        await s.flush()
        pkey = ProgrammingKey(
            marking="PN-1", uid=secrets.token_hex(8), kind=ProgrammingKeyKind.SUB,
            firmware_version="12.3.0", holder_id=holder.id, public_key=b"k" * 32,
        )
        s.add(pkey)
        c1, c2, c3 = seeded.cylinder_ids[1:4]
        relevant = await s.get(Cylinder, c2)
        assert relevant is not None
        relevant.security_relevant = True
        await s.flush()
        plain = ProgrammingJob(cylinder_id=c1, status=ProgrammingJobStatus.ASSIGNED,
                               assignee_id=pkey.id)
        full = ProgrammingJob(cylinder_id=c2, status=ProgrammingJobStatus.ASSIGNED,
                              assignee_id=pkey.id, full_reprogram=True)
        pending = ProgrammingJob(cylinder_id=c3, status=ProgrammingJobStatus.PENDING)
        s.add_all([plain, full, pending])
        await s.flush()
        key_id = seeded.key_ids[1]
        s.add(ProgrammingJobChange(job_id=plain.id, op=AccessChangeOp.ADD, key_id=key_id))
        s.add(AccessEntry(cylinder_id=c2, key_id=key_id, desired=True))
        s.add(AccessEntry(cylinder_id=c2, key_id=seeded.key_ids[2], desired=False))
        await s.commit()
        uid = await s.scalar(select(Key.uid).where(Key.id == key_id))
        assert uid is not None
        return Round(pkey.id, plain.id, full.id, pending.id, uid)


async def test_planned_jobs_come_in_visiting_order_with_what_each_writes(
    database: Database, tenant: NewTenant
) -> None:
    # given
    r = await _round(database, tenant)
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        plan = await planned_jobs(s, r.programming_key_id, (ProgrammingJobStatus.ASSIGNED,))
    # then: the security-relevant cylinder first; its full list holds only desired entries
    assert [p.job.id for p in plan] == [r.full_job_id, r.plain_job_id]
    full, plain = plan
    assert full.access_list == [AccessWrite(AccessChangeOp.ADD, r.key_uid, None, None)]
    assert plain.access_list is None
    assert plain.changes == [AccessWrite(AccessChangeOp.ADD, r.key_uid, None, None)]


async def test_loading_puts_assigned_jobs_on_the_key_and_tells_the_holder_once(
    database: Database, tenant: NewTenant
) -> None:
    r = await _round(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        pkey = await s.get(ProgrammingKey, r.programming_key_id)
        assert pkey is not None
        # when: only the plain job is chosen (as a bridge loads what it wrote)
        first = await load_onto_key(s, pkey, job_ids=[r.plain_job_id, r.pending_job_id])
        # and then everything else assigned
        second = await load_onto_key(s, pkey)
        # and once more, with nothing left to load
        third = await load_onto_key(s, pkey)
        await s.commit()
        statuses = dict((await s.execute(select(ProgrammingJob.id, ProgrammingJob.status))).all())
        mails = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    # then
    assert list(first.loaded) == [r.plain_job_id]
    assert list(second.loaded) == [r.full_job_id]
    assert third.loaded == {} and [j.id for j, _ in third.on_key] == [r.full_job_id,
                                                                      r.plain_job_id]
    assert statuses[r.plain_job_id] == statuses[r.full_job_id] == ProgrammingJobStatus.ON_KEY
    assert statuses[r.pending_job_id] == ProgrammingJobStatus.PENDING
    assert [m.kind for m in mails] == ["programming_jobs_loaded"] * 2
    assert "1 programming job(s) are on your programming key PN-1" in mails[0].body
    assert "2 programming job(s)" in mails[1].body
    assert mails[1].body.index("C-002 (security-relevant)") < mails[1].body.index("C-001")
