"""The job engine (R11, R15, R16): open jobs always equal desired minus programmed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.access.engine import (
    OPEN,
    JobOutcome,
    desired_access,
    open_job_changes,
    project,
    reconcile,
    record_programming,
    subject_of,
)
from app.db import Database
from app.models import (
    AccessChangeOp,
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    Cylinder,
    CylinderStatus,
    DirectAuthorization,
    Key,
    KeyAccessProfile,
    KeyGeneration,
    KeyGroup,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobChange,
    ProgrammingJobStatus,
    Schedule,
)
from tests.conftest import BACKEND, make_tenant


@dataclass
class World:
    tenant_id: str
    cylinders: list[int]
    keys: list[int]
    groups: list[int]
    profile: int


async def build_world(database: Database, cylinders: int = 3, keys: int = 3) -> World:
    t = await make_tenant(database, f"Engine {secrets.token_hex(3)}")
    async with database.tenant_session(t.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id))
        cyls = [
            Cylinder(domain_id=t.default_domain_id, marking=f"C{i}", uid=secrets.token_hex(6),
                     status=CylinderStatus.ACTIVE)
            for i in range(cylinders)
        ]
        key_rows = [
            Key(domain_id=t.default_domain_id, marking=f"K{i}", uid=secrets.token_hex(6),
                type=KeyType.E3, generation=KeyGeneration.GEN2, firmware_version="16.3.7",
                status=KeyStatus.ISSUED, schedule_id=schedule)
            for i in range(keys)
        ]
        groups = [KeyGroup(name=f"G{i}") for i in range(2)]
        profile = AccessProfile(name="P", schedule_id=schedule)
        s.add_all([*cyls, *key_rows, *groups, profile])
        await s.flush()
        s.add_all(AccessProfileCylinder(access_profile_id=profile.id, cylinder_id=c.id)
                  for c in cyls[:2])
        await s.commit()
        return World(t.tenant_id, [c.id for c in cyls], [k.id for k in key_rows],
                     [g.id for g in groups], profile.id)


async def check_invariant(database: Database, world: World) -> None:
    """R11/R15: per cylinder, open job changes == desired - programmed, each exactly once.

    Jobs already on a programming key count as programmed: the editable job is
    planned on what the cylinder holds once they are carried out.
    """
    async with database.tenant_session(world.tenant_id) as s:
        desired = await desired_access(s, world.cylinders)
        entries = list(await s.scalars(select(AccessEntry)))
        open_jobs = list(await s.scalars(
            select(ProgrammingJob).where(ProgrammingJob.status.in_(OPEN))))
        job_changes = list(await s.scalars(select(ProgrammingJobChange).where(
            ProgrammingJobChange.job_id.in_([j.id for j in open_jobs]))))
        flagged = set(await s.scalars(select(Cylinder.id).where(Cylinder.needs_reprogramming)))
    programmed: dict[int, set[tuple[str, int]]] = {c: set() for c in world.cylinders}
    for e in entries:
        subject = subject_of(e.key_id, e.key_group_id)
        assert e.desired == (subject in desired[e.cylinder_id]), "desired flag out of date"
        assert e.desired or e.programmed, "row that is neither desired nor programmed"
        if e.programmed:
            programmed[e.cylinder_id].add(subject)
    by_job: dict[int, dict[tuple[AccessChangeOp, tuple[str, int]], object]] = {
        j.id: {} for j in open_jobs
    }
    for change in job_changes:
        key = (change.op, subject_of(change.key_id, change.key_group_id))
        assert key not in by_job[change.job_id], "the same change twice in one job"
        by_job[change.job_id][key] = change
    for c in world.cylinders:
        on_key = [j for j in open_jobs
                  if j.cylinder_id == c and j.status == ProgrammingJobStatus.ON_KEY]
        editable = [j for j in open_jobs
                    if j.cylinder_id == c and j.status != ProgrammingJobStatus.ON_KEY]
        assert len(editable) <= 1, "two editable jobs on one cylinder"
        projected = project(programmed[c], desired[c], on_key, by_job)  # type: ignore[arg-type]
        expected = {(AccessChangeOp.ADD, s) for s in desired[c] - projected}
        expected |= {(AccessChangeOp.REMOVE, s) for s in projected - desired[c]}
        got = set(by_job[editable[0].id]) if editable else set()
        assert got == expected, f"cylinder {c}: job {got} != desired - programmed {expected}"
        for job in editable:
            assert by_job[job.id] or job.full_reprogram, "an open job with nothing to do"
        if c in flagged:
            assert any(j.full_reprogram for j in on_key + editable), "flagged without full job"


operations = st.lists(
    st.one_of(
        st.tuples(st.just("authorize_key"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("revoke_key"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("authorize_group"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("revoke_group"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("give_profile"), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("take_profile"), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("withdraw"), st.integers(0, 2), st.booleans()),
        st.tuples(st.just("load"), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("report"), st.integers(0, 2),
                  st.sampled_from([JobOutcome.DONE, JobOutcome.ABORTED, JobOutcome.FAILED])),
    ),
    min_size=1,
    max_size=12,
)


async def apply(database: Database, world: World, op: tuple[str, int, object]) -> None:
    name, a, b = op
    async with database.tenant_session(world.tenant_id) as s:
        touched: list[int] = []
        if name in ("authorize_key", "revoke_key", "authorize_group", "revoke_group"):
            cylinder = world.cylinders[int(b)]  # type: ignore[arg-type]
            is_key = name.endswith("key")
            subject = world.keys[a] if is_key else world.groups[a]
            column = DirectAuthorization.key_id if is_key else DirectAuthorization.key_group_id
            await s.execute(delete(DirectAuthorization).where(
                DirectAuthorization.cylinder_id == cylinder, column == subject))
            if name.startswith("authorize"):
                s.add(DirectAuthorization(cylinder_id=cylinder,
                                          key_id=subject if is_key else None,
                                          key_group_id=None if is_key else subject))
            touched = [cylinder]
        elif name in ("give_profile", "take_profile"):
            await s.execute(delete(KeyAccessProfile).where(
                KeyAccessProfile.key_id == world.keys[a]))
            if name == "give_profile":
                s.add(KeyAccessProfile(key_id=world.keys[a], access_profile_id=world.profile))
            touched = world.cylinders
        elif name == "withdraw":
            key = await s.get(Key, world.keys[a])
            assert key is not None
            key.withdrawn = bool(b)
            touched = world.cylinders
        elif name == "load":
            job = await s.scalar(select(ProgrammingJob).where(
                ProgrammingJob.cylinder_id == world.cylinders[a],
                ProgrammingJob.status == ProgrammingJobStatus.PENDING))
            if job is not None:
                job.status = ProgrammingJobStatus.ON_KEY
        elif name == "report":
            job = await s.scalar(select(ProgrammingJob).where(
                ProgrammingJob.cylinder_id == world.cylinders[a],
                ProgrammingJob.status.in_(OPEN)).order_by(ProgrammingJob.id))
            if job is not None:
                await record_programming(s, job, str(b))
        await s.flush()
        if touched:
            await reconcile(s, touched)
        await s.commit()


# Failed once on PostgreSQL (issue 9): a job planned on top of an earlier one still on its
# programming key takes back what the earlier one adds (key 0 added to cylinders 0 and 1 by
# its profile, the add loaded; key 0 withdrawn, so a removal is planned and loaded too). The
# projection depends on the order the two jobs count in, and PostgreSQL returned them in
# heap order, not id order: ``project`` now orders them itself (R15).
PLANNED_ON_A_LOADED_JOB = [
    ("give_profile", 0, 0), ("revoke_group", 0, 2), ("load", 1, 0), ("withdraw", 0, True),
    ("load", 1, 0), ("take_profile", 2, 0), ("take_profile", 0, 0), ("revoke_group", 0, 2),
    ("give_profile", 0, 0), ("authorize_group", 0, 0), ("authorize_key", 1, 2),
    ("revoke_key", 1, 0),
]


async def run_operations(database: Database, ops: list[tuple[str, int, object]]) -> None:
    """Apply ``ops`` to a fresh world, checking R11/R15 after each one."""
    world = await build_world(database)
    for op in ops:
        await apply(database, world, op)
        await check_invariant(database, world)


# No deadline and no "too slow" check: each example runs real transactions, and CI machines
# are sometimes busy; the property is what is tested, not the speed.
PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(PROPERTY, max_examples=60)
@given(ops=operations)
@example(ops=PLANNED_ON_A_LOADED_JOB)
async def test_open_jobs_always_equal_desired_minus_programmed(
    database: Database, ops: list[tuple[str, int, object]]
) -> None:
    await run_operations(database, ops)


# The same property with many more examples, on PostgreSQL, whose row order is not insertion
# order (the run that found the failure above). Not in the default run: `make test-soak`,
# which `make test` runs in CI.
@pytest.mark.soak
@pytest.mark.skipif(BACKEND != "postgres", reason="the soak run is on PostgreSQL")
@settings(PROPERTY, max_examples=2000)
@given(ops=operations)
@example(ops=PLANNED_ON_A_LOADED_JOB)
async def test_open_jobs_always_equal_desired_minus_programmed_over_2000_examples(
    database: Database, ops: list[tuple[str, int, object]]
) -> None:
    await run_operations(database, ops)


async def test_reverting_a_change_before_it_is_programmed_cancels_the_job(
    database: Database,
) -> None:
    world = await build_world(database)
    await apply(database, world, ("authorize_key", 0, 2))
    async with database.tenant_session(world.tenant_id) as s:
        assert await open_job_changes(s, [world.cylinders[2]]) == {
            world.cylinders[2]: {(AccessChangeOp.ADD, ("key", world.keys[0]))}
        }
    await apply(database, world, ("revoke_key", 0, 2))
    async with database.tenant_session(world.tenant_id) as s:
        statuses = list(await s.scalars(select(ProgrammingJob.status)))
    assert statuses == [ProgrammingJobStatus.CANCELLED]


async def test_a_programmed_change_gets_no_new_job_and_reconcile_is_idempotent(
    database: Database,
) -> None:
    world = await build_world(database)
    await apply(database, world, ("authorize_key", 1, 0))
    await apply(database, world, ("report", 0, JobOutcome.DONE))
    async with database.tenant_session(world.tenant_id) as s:
        again = await reconcile(s, world.cylinders)
        await s.commit()
    assert (again.created, again.changed, again.cancelled) == ([], [], [])
    assert sorted(again.unchanged_cylinder_ids) == sorted(world.cylinders)


async def test_a_job_broken_off_leaves_a_full_reprogramming_job(database: Database) -> None:
    # R15: key pulled too early
    world = await build_world(database)
    await apply(database, world, ("authorize_key", 0, 0))
    await apply(database, world, ("report", 0, JobOutcome.ABORTED))
    async with database.tenant_session(world.tenant_id) as s:
        job = await s.scalar(select(ProgrammingJob).where(ProgrammingJob.status.in_(OPEN)))
        cylinder = await s.get(Cylinder, world.cylinders[0])
    assert job is not None and job.full_reprogram
    assert cylinder is not None and cylinder.needs_reprogramming
    await apply(database, world, ("report", 0, JobOutcome.DONE))
    async with database.tenant_session(world.tenant_id) as s:
        cylinder = await s.get(Cylinder, world.cylinders[0])
        entries = list(await s.scalars(select(AccessEntry).where(
            AccessEntry.cylinder_id == world.cylinders[0])))
    assert cylinder is not None and not cylinder.needs_reprogramming
    assert [(e.key_id, e.programmed) for e in entries] == [(world.keys[0], True)]


def test_jobs_on_programming_keys_count_in_the_order_they_were_planned() -> None:
    # R15: key 0's addition was loaded onto a programming key; the key was withdrawn, so its
    # removal was planned on top of that job and loaded too. Whatever order the two jobs are
    # read in (PostgreSQL returns rows in heap order), the cylinder ends up without the key.
    key = ("key", 1)
    added = ProgrammingJob(id=1, status=ProgrammingJobStatus.ON_KEY, full_reprogram=False)
    removed = ProgrammingJob(id=2, status=ProgrammingJobStatus.ON_KEY, full_reprogram=False)
    changes = {
        1: {(AccessChangeOp.ADD, key): ProgrammingJobChange(op=AccessChangeOp.ADD, key_id=1)},
        2: {(AccessChangeOp.REMOVE, key): ProgrammingJobChange(op=AccessChangeOp.REMOVE,
                                                               key_id=1)},
    }
    assert project(set(), set(), [added, removed], changes) == set()
    assert project(set(), set(), [removed, added], changes) == set()
