"""The demo system (``keywarden demo``): a realistic small locking system, seeded by a seed."""

from __future__ import annotations

import base64
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select

from app.access.authorizations import authorizations_for_keys
from app.access.blocking_list import blocking_list_message, tenant_public_key
from app.access.engine import Subject, desired_access, open_job_changes, reconcile, subject_of
from app.auth.login import complete_login, create_challenge, login_message
from app.auth.pins import validate_new_pin, verify_pin
from app.cli import create_tenant_with_token
from app.db import Database, SerialSession
from app.demo import DemoSystem, seed_demo, tenant_is_empty
from app.demo_layout import OPEN_CHANGES
from app.errors import DomainError
from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex
from app.models import (
    AccessChangeOp,
    AccessEntry,
    AccessProfile,
    BlockingList,
    Cylinder,
    Domain,
    Employee,
    Extension,
    Key,
    KeyGeneration,
    KeyGroupMember,
    KeyStatus,
    KeyType,
    OutboxMessage,
    ProgrammingJob,
    ProgrammingJobChange,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Role,
    Schedule,
    Tenant,
    TrustedVendorKey,
)
from app.tenants.service import NewTenant
from hardware.sim.programming_key import SimulatorState
from tests.conftest import make_tenant


@dataclass(frozen=True)
class Seeded:
    tenant: NewTenant
    demo: DemoSystem
    simulator: SimulatorState


def _vendor(database: Database) -> Ed25519PrivateKey:
    """The deployment's development vendor key, which signs the demo's factory data (R31)."""
    return load_or_create_dev_vendor_key(database.settings.var_dir)


async def _trusting_tenant(database: Database, **tenant: object) -> NewTenant:
    """A new tenant that trusts the development vendor, as ``keywarden demo`` makes it."""
    trusted = [public_key_hex(_vendor(database))]
    return await make_tenant(database, "Demo AG", vendor_public_keys=trusted, **tenant)


async def _seed(
    database: Database,
    simulator: SimulatorState,
    rng: random.Random | None = None,
    **tenant: object,
) -> Seeded:
    created = await _trusting_tenant(database, **tenant)
    async with database.tenant_session(created.tenant_id) as s:
        demo = await seed_demo(
            s, simulator_keys=simulator.path, vendor_key=_vendor(database), rng=rng
        )
        await s.commit()
    return Seeded(created, demo, simulator)


@pytest.fixture(scope="module")
async def seeded(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """One demo tenant, seeded with the default seed, for the tests that only read it."""
    return await _seed(database, SimulatorState(tmp_path_factory.mktemp("sim") / "keys.json"))


@pytest.fixture
def simulator(tmp_path: Path) -> SimulatorState:
    return SimulatorState(tmp_path / "simulator.json")


async def test_demo_seeds_two_buildings_of_keys_cylinders_employees_and_wall_devices(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        domains = {d.name: d.id for d in await s.scalars(select(Domain))}
        keys = list(await s.scalars(select(Key)))
        cylinders = list(await s.scalars(select(Cylinder)))
        employees = list(await s.scalars(select(Employee)))
        devices = list(await s.scalars(select(RemoteDevice)))
        schedules = {sc.name: sc.windows for sc in await s.scalars(select(Schedule))}
        profiles = list(await s.scalars(select(AccessProfile.name)))
    # then
    assert set(domains) == {"Default", "Building B"}
    assert seeded.demo.domain_ids == domains
    assert len(keys) == seeded.demo.counts["keys"] == 40
    assert {k.type for k in keys} == set(KeyType)
    assert {k.generation for k in keys} == set(KeyGeneration)
    every_kind = {(t, g) for t in KeyType for g in KeyGeneration}
    assert {(k.type, k.generation) for k in keys} == every_kind
    statuses = Counter(k.status for k in keys)
    assert statuses[KeyStatus.LOST] == 1 and statuses[KeyStatus.DEFECTIVE] == 1
    assert statuses[KeyStatus.IN_STOCK] > 0 and statuses[KeyStatus.ISSUED] > 30
    assert all(k.holder_id is not None for k in keys if k.status is KeyStatus.ISSUED)
    assert all(k.holder_id is None for k in keys if k.status is KeyStatus.IN_STOCK)
    assert len({k.marking for k in keys}) == len({k.uid for k in keys}) == 40
    # R10: generation 1 runs firmware up to 6.x, generation 2 from 10.x.
    for k in keys:
        major = int(k.firmware_version.split(".")[0])
        assert major <= 6 if k.generation is KeyGeneration.GEN1 else major >= 10

    assert len(cylinders) == seeded.demo.counts["cylinders"] == 60
    assert all(c.status.value == "ACTIVE" for c in cylinders)
    assert len({c.uid for c in cylinders}) == 60
    assert any(c.marking == "A-001 Main entrance" and c.security_relevant for c in cylinders)
    assert any(c.marking == "A-007 Server room" and c.security_relevant for c in cylinders)
    assert 3 <= sum(c.security_relevant for c in cylinders) <= 10

    assert len(employees) == seeded.demo.counts["employees"] == 25
    assert all(e.employee_number and len(e.employee_number) == 5 for e in employees)
    assert all(e.employee_number.startswith("0") for e in employees if e.employee_number)
    emails = [e.email for e in employees if e.email]
    assert len(emails) >= 20
    assert all(m.endswith("@example.com") and m.isascii() for m in emails)

    # Both buildings hold keys, cylinders, employees and a wall device (R8).
    for elements in (keys, cylinders, employees, devices):
        assert {e.domain_id for e in elements} == set(domains.values())

    assert sorted(d.serial for d in devices) == ["WPD-0001", "WPD-0002"]
    assert all(d.kind is RemoteDeviceKind.WALL for d in devices)
    assert all(d.public_key is not None and len(d.public_key) == 32 for d in devices)
    assert all(d.offline_max_updates == 15 and d.offline_extension_hours == 24 for d in devices)
    assert sum(d.potential_free_output for d in devices) == 1
    # R22: the potential-free output needs E3 keys on firmware 16.3.7.
    assert any(k.type is KeyType.E3 and k.firmware_version == "16.3.7" for k in keys)

    assert schedules["Office hours"] == [
        {
            "days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
            "start": "07:00",
            "end": "19:00",
        }
    ]
    assert schedules["Weekend security"] == [
        {"days": ["SATURDAY", "SUNDAY"], "start": "00:00", "end": "23:59"}
    ]
    assert {"Always", "Cleaning"} <= set(schedules)
    assert 3 <= len(profiles) <= 5


async def test_demo_programming_keys_have_the_named_roles_domains_and_holders(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        keys = {k.marking: k for k in await s.scalars(select(ProgrammingKey))}
        key_of_role = ProgrammingKeyRole.programming_key_id == ProgrammingKey.id
        roles = dict(
            (
                await s.execute(
                    select(ProgrammingKey.marking, Role.name)
                    .join(ProgrammingKeyRole, key_of_role)
                    .join(Role, Role.id == ProgrammingKeyRole.role_id)
                )
            ).all()
        )
        domains: dict[str, set[str]] = {}
        key_of_domain = ProgrammingKeyDomain.programming_key_id == ProgrammingKey.id
        for marking, domain in await s.execute(
            select(ProgrammingKey.marking, Domain.name)
            .join(ProgrammingKeyDomain, key_of_domain)
            .join(Domain, Domain.id == ProgrammingKeyDomain.domain_id)
        ):
            domains.setdefault(marking, set()).add(domain)
        holders = {e.id: e for e in await s.scalars(select(Employee))}
    # then
    assert roles == {"PR-0001": "Superadmin", "PN-0001": "Admin", "PN-0002": "Approver"}
    assert keys["PR-0001"].kind is ProgrammingKeyKind.MAIN
    assert keys["PN-0001"].kind is keys["PN-0002"].kind is ProgrammingKeyKind.SUB
    # R5, R8: the main key administers every domain by its kind, so it takes none
    assert "PR-0001" not in domains
    assert domains["PN-0001"] == {"Building B"}
    assert domains["PN-0002"] == {"Default", "Building B"}
    # R29: an Approver's holder has an e-mail.
    approver_holder = holders[keys["PN-0002"].holder_id]  # type: ignore[index]
    assert approver_holder.email
    assert all(k.holder_id in holders for k in keys.values())
    # R17: jobs can be loaded onto keys with firmware 12.3 and up.
    assert all(tuple(map(int, k.firmware_version.split("."))) >= (12, 3) for k in keys.values())
    assert [p["roles"] for p in seeded.demo.programming_keys] == [
        ["Superadmin"],
        ["Admin"],
        ["Approver"],
    ]
    assert ["puk" in p for p in seeded.demo.programming_keys] == [True, False, False]
    assert keys["PR-0001"].puk_hash and not keys["PN-0001"].puk_hash


async def test_every_demo_key_has_a_schedule_and_a_validity(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        keys = list(await s.scalars(select(Key)))
        always = (await s.scalars(select(Schedule.id).where(Schedule.name == "Always"))).one()
    # then: R12
    assert all(k.schedule_id is not None for k in keys)
    for k in keys:
        if k.always_valid:
            assert k.valid_from is None and k.valid_until is None
        else:
            assert k.valid_from is not None and k.valid_until is not None
            assert k.valid_from < k.valid_until
    assert any(not k.always_valid for k in keys)
    assert any(k.schedule_id != always for k in keys)
    # R10: E1 keys have no clock: always valid, "Always", no extension interval.
    e1 = [k for k in keys if k.type is KeyType.E1]
    assert e1 and all(k.always_valid and k.schedule_id == always for k in e1)
    assert all(k.extension_interval_hours is None and not k.audit_readout_enabled for k in e1)
    # R14: every E3 key must be revalidated within its interval.
    assert all(k.extension_interval_hours for k in keys if k.type is KeyType.E3)


async def test_e3_keys_are_read_out_automatically_only_without_the_approver_function(
    database: Database, seeded: Seeded, simulator: SimulatorState
) -> None:
    # given: the seeded tenant has no approver function; another one has it
    with_approver = await _seed(database, simulator, approver_function=True)
    # when
    readout: dict[str, set[bool]] = {}
    for name, t in (("off", seeded.tenant), ("on", with_approver.tenant)):
        async with database.tenant_session(t.tenant_id) as s:
            readout[name] = set(
                await s.scalars(select(Key.audit_readout_enabled).where(Key.type == KeyType.E3))
            )
    # then: R29
    assert readout == {"off": {True}, "on": {False}}


async def test_demo_pins_are_stored_hashed_and_verify(database: Database, seeded: Seeded) -> None:
    # given: the credentials the CLI prints
    credentials = {p["marking"]: p for p in seeded.demo.programming_keys}
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        keys = {k.marking: k for k in await s.scalars(select(ProgrammingKey))}
    # then: R5 slow hashes, R37 no default or trivial PINs
    assert set(credentials) == set(keys)
    for marking, cred in credentials.items():
        key = keys[marking]
        assert key.pin_hash is not None and cred["pin"] not in key.pin_hash
        assert key.pin_hash.startswith("$argon2")
        assert verify_pin(key.pin_hash, cred["pin"])
        assert len(cred["pin"]) == 6
        validate_new_pin(cred["pin"], "pin")
    puk = credentials["PR-0001"]["puk"]
    assert keys["PR-0001"].puk_hash is not None and puk not in keys["PR-0001"].puk_hash
    assert len(puk) == 8 and verify_pin(keys["PR-0001"].puk_hash, puk)
    assert len({c["pin"] for c in credentials.values()}) == 3


async def test_demo_programming_keys_log_in_with_the_simulator_signature_and_their_pin(
    database: Database, seeded: Seeded
) -> None:
    # given
    tenant_id = seeded.tenant.tenant_id
    assert seeded.simulator.markings(tenant_id) == ["PN-0001", "PN-0002", "PR-0001"]
    for cred in seeded.demo.programming_keys:
        sim = seeded.simulator.get(tenant_id, cred["marking"])
        async with database.tenant_session(tenant_id) as s:
            stored = await s.scalar(
                select(ProgrammingKey).where(ProgrammingKey.marking == cred["marking"])
            )
            assert stored is not None and stored.uid == sim.uid
            challenge = await create_challenge(s, cred["marking"])
            await s.commit()
        # when: the simulator signs the challenge as the key's chip would (R5)
        signature = sim.sign_login(tenant_id, challenge.nonce)
        async with database.tenant_session(tenant_id) as s:
            login, token = await complete_login(
                s, challenge_nonce=challenge.nonce, signature=signature, pin=cred["pin"]
            )
            await s.commit()
        # then
        Ed25519PublicKey.from_public_bytes(stored.public_key).verify(
            signature, login_message(tenant_id, challenge.nonce)
        )
        assert login.programming_key_id == stored.id and token


async def test_open_programming_jobs_are_exactly_the_desired_unprogrammed_access_entries(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        entries = (
            await s.execute(
                select(
                    AccessEntry.cylinder_id,
                    AccessEntry.key_id,
                    AccessEntry.key_group_id,
                    AccessEntry.desired,
                    AccessEntry.programmed,
                )
            )
        ).all()
        changes = (
            await s.execute(
                select(
                    ProgrammingJob.cylinder_id,
                    ProgrammingJobChange.key_id,
                    ProgrammingJobChange.key_group_id,
                    ProgrammingJobChange.op,
                )
                .join(ProgrammingJob, ProgrammingJob.id == ProgrammingJobChange.job_id)
                .where(ProgrammingJob.status == ProgrammingJobStatus.PENDING)
            )
        ).all()
        open_jobs = list(
            await s.scalars(
                select(ProgrammingJob.cylinder_id).where(
                    ProgrammingJob.status == ProgrammingJobStatus.PENDING
                )
            )
        )
        statuses = set(await s.scalars(select(ProgrammingJob.status)))
    # then: R11/R15 jobs = desired − programmed, no duplicates
    missing = {(c, k, g) for c, k, g, desired, programmed in entries if desired and not programmed}
    assert missing
    assert all(desired for *_, desired, _ in entries)
    assert {op for *_, op in changes} == {AccessChangeOp.ADD}
    assert sorted((c, k, g) for c, k, g, _ in changes) == sorted(missing)
    assert len(open_jobs) == len(set(open_jobs)) == seeded.demo.counts["open_programming_jobs"]
    assert len(changes) == OPEN_CHANGES
    # every other job was carried out by a programming visit (R15)
    assert statuses == {ProgrammingJobStatus.PENDING, ProgrammingJobStatus.DONE}
    assert set(open_jobs) == {c for c, _, _ in missing}
    assert any(g is not None for *_, g, _, _ in entries)  # the key group's entries


async def test_demo_access_lists_hold_exactly_each_keys_effective_authorizations(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        keys = list(await s.scalars(select(Key).order_by(Key.marking)))
        authorizations = await authorizations_for_keys(SerialSession(s), [k.id for k in keys])
        entries = (
            await s.execute(
                select(
                    AccessEntry.cylinder_id,
                    AccessEntry.key_id,
                    AccessEntry.key_group_id,
                    AccessEntry.programmed,
                )
            )
        ).all()
        groups_of: dict[int, set[int]] = {}
        for key_id, group_id in await s.execute(
            select(KeyGroupMember.key_id, KeyGroupMember.key_group_id)
        ):
            groups_of.setdefault(key_id, set()).add(group_id)
    # then: R13 access comes directly, through profiles (the key's or its holder's) or groups
    for key, effective in zip(keys, authorizations, strict=True):
        listed = {
            (c, programmed)
            for c, k, g, programmed in entries
            if k == key.id or g in groups_of.get(key.id, set())
        }
        assert {(a.cylinder_id, a.programmed) for a in effective} == listed, key.marking
        if key.status is KeyStatus.ISSUED:
            assert listed, key.marking
        else:
            assert not listed, key.marking


async def test_seeding_is_deterministic_given_the_rng(
    database: Database, seeded: Seeded, simulator: SimulatorState
) -> None:
    # given
    first = await _seed(database, simulator, random.Random(7))
    # when
    second = await _seed(database, simulator, random.Random(7))

    # then
    async def picture(t: NewTenant) -> list[list[object]]:
        queries = [
            select(Employee.employee_number, Employee.first_name, Employee.last_name)
            .add_columns(Employee.email)
            .order_by(Employee.employee_number),
            select(Key.marking, Key.uid, Key.status, Key.always_valid).order_by(Key.marking),
            select(Cylinder.marking, Cylinder.uid).order_by(Cylinder.marking),
            select(RemoteDevice.serial, RemoteDevice.public_key).order_by(RemoteDevice.serial),
            select(Cylinder.marking, AccessEntry.programmed)
            .join(Cylinder, Cylinder.id == AccessEntry.cylinder_id)
            .order_by(Cylinder.marking, AccessEntry.programmed),
        ]
        async with database.tenant_session(t.tenant_id) as s:
            return [[tuple(row) for row in await s.execute(q)] for q in queries]

    assert await picture(first.tenant) == await picture(second.tenant)
    assert await picture(first.tenant) != await picture(seeded.tenant)

    # R37: the layout follows the seed, the PINs never do
    def roles(demo: DemoSystem) -> list[tuple[str, list[str]]]:
        return [(k["marking"], k["roles"]) for k in demo.programming_keys]

    assert roles(first.demo) == roles(second.demo)
    assert [k["pin"] for k in first.demo.programming_keys] != [
        k["pin"] for k in second.demo.programming_keys
    ]


async def test_a_second_demo_tenant_does_not_collide_and_sees_none_of_the_first(
    database: Database, seeded: Seeded, simulator: SimulatorState
) -> None:
    # given: the seeded tenant, and a second one seeded from the same default seed
    # when
    second = await _seed(database, simulator)
    # then: the same markings and UIDs exist in both (unique per tenant only) ...
    seen: dict[str, dict[str, set[object]]] = {}
    for t in (seeded.tenant, second.tenant):
        async with database.tenant_session(t.tenant_id) as s:
            seen[t.tenant_id] = {
                "keys": set(await s.scalars(select(Key.marking))),
                "key ids": set(await s.scalars(select(Key.id))),
                "cylinder ids": set(await s.scalars(select(Cylinder.id))),
                "entry ids": set(await s.scalars(select(AccessEntry.id))),
                "tenants": set(await s.scalars(select(Key.tenant_id)))
                | set(await s.scalars(select(AccessEntry.tenant_id)))
                | set(await s.scalars(select(ProgrammingKey.tenant_id))),
                "programming keys": set(await s.scalars(select(ProgrammingKey.marking))),
            }
    a, b = seen[seeded.tenant.tenant_id], seen[second.tenant.tenant_id]
    assert a["keys"] == b["keys"] and len(a["keys"]) == 40
    assert a["programming keys"] == b["programming keys"] == {"PR-0001", "PN-0001", "PN-0002"}
    # ... and R1: neither sees a row of the other.
    assert a["tenants"] == {seeded.tenant.tenant_id}
    assert b["tenants"] == {second.tenant.tenant_id}
    for kind in ("key ids", "cylinder ids", "entry ids"):
        assert a[kind].isdisjoint(b[kind]) and len(b[kind]) > 0
    # The simulator keeps the two tenants' private keys apart.
    first_key = seeded.simulator.get(seeded.tenant.tenant_id, "PR-0001")
    second_key = simulator.get(second.tenant.tenant_id, "PR-0001")
    assert first_key.public_key != second_key.public_key


async def test_tenant_is_empty_until_the_demo_is_seeded_in_one_transaction(
    database: Database, simulator: SimulatorState
) -> None:
    # given: a freshly created tenant
    tenant = await _trusting_tenant(database)
    async with database.tenant_session(tenant.tenant_id) as s:
        before = await tenant_is_empty(s)
        # when: the seed runs, through every service it calls, and the caller rolls back
        await seed_demo(s, simulator_keys=simulator.path, vendor_key=_vendor(database))
        after = await tenant_is_empty(s)
        await s.rollback()
    # then
    assert before is True and after is False
    # and: no service committed a part of it; the caller's commit is the only one
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await tenant_is_empty(s)
        for model in (Extension, Employee, ProgrammingKey, ProgrammingJob, RemoteJob, BlockingList):
            assert await s.scalar(select(func.count()).select_from(model)) == 0, model
        assert list(await s.scalars(select(Domain.name))) == ["Default"]


async def test_seeding_a_tenant_that_already_has_elements_is_refused(
    database: Database, seeded: Seeded, simulator: SimulatorState
) -> None:
    # given: the demo is already there
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await seed_demo(s, simulator_keys=simulator.path, vendor_key=_vendor(database))
    # then: nothing was added, and the simulator got no keys
    assert refused.value.code == "CONFLICT"
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        assert await s.scalar(select(func.count(Key.id))) == 40
    assert simulator.markings(seeded.tenant.tenant_id) == []


async def test_access_lists_are_what_the_job_engine_plans_and_programming_visits_carried_out(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        cylinder_ids = list(await s.scalars(select(Cylinder.id)))
        computed = await desired_access(s, cylinder_ids)
        desired: dict[int, set[Subject]] = defaultdict(set)
        programmed: dict[int, set[Subject]] = defaultdict(set)
        for entry in await s.scalars(select(AccessEntry)):
            subject = subject_of(entry.key_id, entry.key_group_id, entry.cylinder_group_id)
            if entry.desired:
                desired[entry.cylinder_id].add(subject)
            if entry.programmed:
                programmed[entry.cylinder_id].add(subject)
        carried_in: dict[int, set[Subject]] = defaultdict(set)
        for cylinder_id, change in await s.execute(
            select(ProgrammingJob.cylinder_id, ProgrammingJobChange)
            .join(ProgrammingJobChange, ProgrammingJobChange.job_id == ProgrammingJob.id)
            .where(ProgrammingJob.status == ProgrammingJobStatus.DONE)
            .order_by(ProgrammingJob.id)
        ):
            subject = subject_of(change.key_id, change.key_group_id, change.cylinder_group_id)
            if change.op is AccessChangeOp.ADD:
                carried_in[cylinder_id].add(subject)
            else:
                carried_in[cylinder_id].discard(subject)
        open_changes = await open_job_changes(s)
        # when: the job engine looks at every cylinder once more
        again = await reconcile(s, cylinder_ids)
        await s.rollback()
    # then: R13 every desired list is what its sources (profiles, authorizations, groups) give
    assert sum(len(subjects) for subjects in computed.values()) > 300
    for c in cylinder_ids:
        assert desired[c] == computed[c]
        # R15: every programmed line was carried in by a job a programming visit reported done
        assert programmed[c] == carried_in[c]
        # R11, R15: the open jobs are exactly desired − programmed
        wanted = {(AccessChangeOp.ADD, x) for x in desired[c] - programmed[c]}
        wanted |= {(AccessChangeOp.REMOVE, x) for x in programmed[c] - desired[c]}
        assert open_changes.get(c, set()) == wanted
    assert sum(len(changes) for changes in open_changes.values()) == OPEN_CHANGES
    # nothing was left for the engine to plan
    assert (again.created, again.changed, again.cancelled) == ([], [], [])


async def test_the_factory_delivered_every_element_in_one_signed_extension_that_was_activated(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        extensions = list(await s.scalars(select(Extension)))
        delivered_by = {
            model.__name__: set(await s.scalars(select(model.extension_id)))
            for model in (Key, Cylinder, ProgrammingKey, RemoteDevice)
        }
        public_keys = {
            k.marking: k.public_key.hex() for k in await s.scalars(select(ProgrammingKey))
        }
        statuses = set(await s.scalars(select(ProgrammingKey.status)))
    # then: R31 one order, imported and activated, holds every element
    assert len(extensions) == 1
    extension = extensions[0]
    assert extension.activated and extension.activated_at is not None
    assert (extension.new_keys, extension.new_cylinders, extension.clones) == (40, 60, 0)
    assert delivered_by == {name: {extension.id} for name in delivered_by}
    assert statuses == {ProgrammingKeyStatus.ACTIVE}
    # the factory's letter carried the PIN hashes; the file kept on record does not (R37)
    letters = extension.content["programmingKeys"]
    assert {p["marking"]: p["publicKey"] for p in letters} == public_keys
    assert not any({"pinHash", "pukHash"} & set(p) for p in letters)
    assert len(extension.content["remoteDevices"]) == 2


async def test_issued_keys_wait_for_their_remote_jobs_and_the_lost_key_is_blocked(
    database: Database, seeded: Seeded
) -> None:
    # given: the seeded demo tenant
    # when
    async with database.tenant_session(seeded.tenant.tenant_id) as s:
        keys = list(await s.scalars(select(Key).order_by(Key.marking)))
        jobs: dict[int, list[RemoteJob]] = defaultdict(list)
        for job in await s.scalars(select(RemoteJob).order_by(RemoteJob.id)):
            jobs[job.key_id].append(job)
        groups = dict(
            (await s.execute(select(KeyGroupMember.key_id, KeyGroupMember.key_group_id))).all()
        )
        blocking = (
            await s.scalars(select(BlockingList).order_by(BlockingList.version.desc()))
        ).first()
        tenant = await s.scalar(select(Tenant))
        mail = await s.scalar(select(func.count()).select_from(OutboxMessage))
    # then: R18 every issued E2/E3 key's memory waits for what it was given, E1 keys have none
    assert tenant is not None
    for key in keys:
        pending = {j.kind: j.payload for j in jobs[key.id] if j.status is RemoteJobStatus.PENDING}
        if key.type is KeyType.E1 or key.status in (KeyStatus.IN_STOCK, KeyStatus.DEFECTIVE):
            assert pending == {}, key.marking
            continue
        if key.status is KeyStatus.LOST:
            # R19: its waiting changes were cancelled and its own memory is to be blocked
            assert set(pending) == {RemoteJobKind.BLOCK}, key.marking
            assert {j.status for j in jobs[key.id]} == {
                RemoteJobStatus.PENDING,
                RemoteJobStatus.CANCELLED,
            }
            continue
        via = "remote" if key.type is KeyType.E3 else "desk"
        validity = pending[RemoteJobKind.VALIDITY]
        assert validity["deliverAt"] == via and validity["blocked"] is False, key.marking
        assert validity["alwaysValid"] is key.always_valid
        assert validity["extensionIntervalHours"] == key.extension_interval_hours
        if not key.always_valid:
            assert datetime.fromisoformat(validity["validUntil"]) == key.valid_until
        assert pending[RemoteJobKind.SCHEDULE]["scheduleId"] == key.schedule_id
        if key.type is KeyType.E3:
            memory = pending[RemoteJobKind.AUTHORIZATIONS]
            assert memory["keyGroups"] == ([groups[key.id]] if key.id in groups else [])
    # R19, R21: the lost key is on the signed blocking list
    lost = [k.uid for k in keys if k.status is KeyStatus.LOST]
    assert blocking is not None and blocking.key_uids == lost
    Ed25519PublicKey.from_public_bytes(tenant_public_key(tenant)).verify(
        base64.b64decode(blocking.signature), blocking_list_message(tenant.id, blocking)
    )
    # R31, R33: the factory's e-mail goes to Superadmins, Admins and the main key's holder;
    # the delivery came before anyone held those, so nobody was written to
    assert mail == 0


async def test_a_demo_tenant_trusts_the_development_vendor_besides_the_configured_ones(
    database: Database, tmp_path: Path
) -> None:
    # given: a deployment that trusts its real vendor's key (KEYWARDEN_VENDOR_PUBLIC_KEYS)
    configured = public_key_hex(Ed25519PrivateKey.generate())
    settings = database.settings.model_copy(
        update={"vendor_public_keys": configured, "simulator_state": tmp_path / "sim.json"}
    )
    # when: `keywarden tenant create --demo`
    created = await create_tenant_with_token(
        settings,
        name="Configured",
        hosting="hosted",
        approver_function=False,
        data_center=False,
        demo=True,
    )
    # then: R31 the demo's factory data, signed by the development vendor, was accepted,
    # and the tenant trusts both keys
    async with database.tenant_session(created["tenant_id"]) as s:
        trusted = set(await s.scalars(select(TrustedVendorKey.public_key)))
        keys = await s.scalar(select(func.count(Key.id)))
    assert trusted == {configured, public_key_hex(_vendor(database))}
    assert keys == 40
    assert [k["marking"] for k in created["programming_keys"]] == ["PR-0001", "PN-0001", "PN-0002"]
