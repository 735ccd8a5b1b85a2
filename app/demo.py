"""The demo locking system: a small office campus of two buildings, ready to log in to.

``keywarden demo`` and ``keywarden tenant create --demo`` fill a freshly created
tenant (R1) with what a real customer would have after a few months of use:
two domains (R8), 25 employees (R4), 60 cylinders (R11), 40 user keys of every
type and both generations (R10), schedules (R12), access profiles (R13, R14), an
E3 key group (R13), two wall programming devices (R22, R24), a certificate
bundle (R25) and three programming keys (R5) whose private keys go into the
simulator's key file (:mod:`app.demo_keys`) so that ``keywarden login`` can sign
the login challenge. What is built is laid out in :mod:`app.demo_layout`.

Everything is drawn from one ``random.Random``, so a seed gives the same system
every time (the Ed25519 key pairs of the programming keys aside: they are new
every time, as a key's chip makes its own).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import NotRequired, TypedDict

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.pins import hash_pin, random_pin
from app.demo_keys import DemoKeyPair, store_key_pairs
from app.demo_layout import (
    BUILDING_A,
    BUILDING_B,
    CYLINDERS,
    E3_EXTENSION_INTERVAL_HOURS,
    EMPLOYEE_PROFILES,
    FIRST_NAMES,
    KEY_GROUP,
    KEY_GROUP_CYLINDERS,
    KEYS,
    LAST_NAMES,
    OPEN_CHANGES,
    POSITIONS,
    PROFILES,
    PROGRAMMING_KEYS,
    SCHEDULES,
    KeySpec,
    ProgrammingKeySpec,
)
from app.errors import CONFLICT, NOT_FOUND, DomainError
from app.models import (
    AccessChangeOp,
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    CertificateBundle,
    Cylinder,
    CylinderStatus,
    DirectAuthorization,
    Domain,
    Employee,
    EmployeeAccessProfile,
    Key,
    KeyAccessProfile,
    KeyGroup,
    KeyGroupMember,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobChange,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    RemoteDevice,
    RemoteDeviceKind,
    Role,
    Schedule,
    Tenant,
    utcnow,
)

DEMO_SEED = 20261129
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ą": "a", " ": ""})


class DemoProgrammingKey(TypedDict):
    """A programming key's credentials as ``keywarden demo`` prints them (shown once)."""

    marking: str
    pin: str
    roles: list[str]
    puk: NotRequired[str]


@dataclass(frozen=True)
class DemoSystem:
    """What :func:`seed_demo` made: the credentials to log in with and what was counted."""

    tenant_id: str
    programming_keys: list[DemoProgrammingKey]
    counts: dict[str, int]
    domain_ids: dict[str, int]


async def tenant_is_empty(session: AsyncSession) -> bool:
    """Whether the tenant has neither keys nor cylinders yet (``keywarden demo --if-empty``)."""
    for model in (Key, Cylinder):
        if await session.scalar(select(model.id).limit(1)) is not None:
            return False
    return True


async def seed_demo(
    session: AsyncSession,
    *,
    simulator_keys: Path,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> DemoSystem:
    """Fill a freshly created tenant with a small, realistic two-building locking system.

    ``session`` is scoped to the tenant, which ``create_tenant`` made in it (the
    "Default" domain, which stands for building A, the built-in roles and the
    "Always" schedule). Adds the domain "Building B" (R8), 25 employees (R4), 60
    cylinders (R11), the schedules "Office hours", "Cleaning" and "Weekend
    security" (R12), five access profiles (R13, R14), 40 keys of every type and
    both generations, each with a schedule and a validity (R10, R12), the E3 key
    group "Facility E3" (R13), the access lists those decisions give, all
    programmed but for a few entries whose programming jobs are open (R11, R15),
    two wall programming devices (R22, R24), the certificate bundle "Default CCB"
    (R25), and the programming keys PR-0001 (Superadmin), PN-0001 (Admin of
    building B) and PN-0002 (Approver, R29) with random PINs, stored hashed (R5,
    R37). E3 keys have their audit trail read out automatically unless the tenant
    has the approver function (R29).

    The programming keys' private keys go into the simulator's key file
    ``simulator_keys`` (:mod:`app.demo_keys`) after the rows are written.
    Everything but those key pairs follows from ``rng`` (default seed 20261129)
    and ``now`` (validity windows start from its date). A tenant that already
    has keys, cylinders or programming keys is refused with CONFLICT.
    The caller commits.
    """
    rng = rng or random.Random(DEMO_SEED)
    now = now or utcnow()
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    tenant_id: str = session.info["tenant_id"]

    if not await tenant_is_empty(session) or await session.scalar(
        select(ProgrammingKey.id).limit(1)
    ) is not None:
        raise DomainError(
            CONFLICT, "the demo system goes into an empty tenant only: this one has elements"
        )
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise DomainError(NOT_FOUND, "no such tenant: create it first")
    default_domain = (await session.scalars(select(Domain).where(Domain.is_default))).one()
    roles = {r.name: r for r in await session.scalars(select(Role))}
    schedules = {s.name: s for s in await session.scalars(select(Schedule))}

    # Domains, schedules, the certificate bundle and the key group.
    default_domain.description = "Building A: head office, offices, server room and archive"
    building_b = Domain(name=BUILDING_B, description="Building B: research labs and workshop")
    domains = {"A": default_domain, "B": building_b}
    domain_by_name = {BUILDING_A: default_domain, BUILDING_B: building_b}
    new_schedules = {name: Schedule(name=name, windows=w) for name, w in SCHEDULES.items()}
    schedules.update(new_schedules)
    key_group = KeyGroup(name=KEY_GROUP)
    session.add_all([building_b, *new_schedules.values(), key_group])
    session.add(CertificateBundle(name="Default CCB"))
    await session.flush()

    # Employees, cylinders and access profiles.
    employees = _employees(rng, domains)
    uids: set[str] = set()
    cylinders = {
        code: Cylinder(
            domain_id=domains[code[0]].id,
            marking=f"{code} {name}",
            uid=_uid(rng, uids),
            status=CylinderStatus.ACTIVE,
            security_relevant=relevant,
        )
        for code, name, relevant in CYLINDERS
    }
    profiles = {
        p.name: AccessProfile(
            name=p.name,
            schedule_id=schedules[p.schedule].id,
            extension_interval_hours=p.extension_interval_hours,
        )
        for p in PROFILES
    }
    session.add_all([*employees.values(), *cylinders.values(), *profiles.values()])
    await session.flush()

    # Keys, remote devices, programming keys and the open programming jobs.
    keys = [
        _key(spec, i, rng, uids, employees, schedules, domains, today, tenant.approver_function)
        for i, spec in enumerate(KEYS, start=1)
    ]
    desired = _desired_access(keys)
    pending = set(rng.sample(sorted(desired), OPEN_CHANGES))
    jobs = {
        code: ProgrammingJob(cylinder_id=cylinders[code].id, status=ProgrammingJobStatus.PENDING)
        for code in sorted({code for code, _ in pending})
    }
    devices = _wall_devices(rng, domains)
    programming_keys: list[tuple[ProgrammingKeySpec, ProgrammingKey, str, str | None]] = []
    to_hash: list[str] = []
    for spec in PROGRAMMING_KEYS:
        # R37: PINs come from the system's CSPRNG, never from the layout's seed: no two
        # installations share a PIN, even though their demo buildings look the same.
        pin = random_pin(6)
        puk = random_pin(8) if spec.kind is ProgrammingKeyKind.MAIN else None
        to_hash.extend([pin] if puk is None else [pin, puk])
        key = ProgrammingKey(
            marking=spec.marking,
            uid=_uid(rng, uids),
            kind=spec.kind,
            firmware_version=spec.firmware,
            holder_id=employees[spec.holder].id,
        )
        programming_keys.append((spec, key, pin, puk))
    simulated = [DemoKeyPair.generate(key.marking, key.uid) for _, key, _, _ in programming_keys]
    # argon2 is slow on purpose (R5); hashing in threads keeps the event loop free.
    hashes = iter(await asyncio.gather(*(asyncio.to_thread(hash_pin, s) for s in to_hash)))
    for (_, key, _, puk), sim in zip(programming_keys, simulated, strict=True):
        key.public_key = sim.public_key
        key.pin_hash = next(hashes)
        key.puk_hash = next(hashes) if puk is not None else None
    session.add_all([*(k for k, _ in keys), *devices, *jobs.values()])
    session.add_all(key for _, key, _, _ in programming_keys)
    await session.flush()

    # What ties them together: profiles, group, authorizations, access lists, job changes.
    links: list[object] = []
    for p in PROFILES:
        profile_id = profiles[p.name].id
        links += [
            AccessProfileCylinder(access_profile_id=profile_id, cylinder_id=cylinders[c].id)
            for c in p.cylinders
        ]
    links += [
        EmployeeAccessProfile(employee_id=employees[tag].id, access_profile_id=profiles[name].id)
        for tag, name in EMPLOYEE_PROFILES
    ]
    for key, spec in keys:
        links += [
            KeyAccessProfile(key_id=key.id, access_profile_id=profiles[name].id)
            for name in spec.profiles
        ]
        links += [
            DirectAuthorization(cylinder_id=cylinders[c].id, key_id=key.id) for c in spec.direct
        ]
        if spec.in_group:
            links.append(KeyGroupMember(key_group_id=key_group.id, key_id=key.id))
    links += [
        DirectAuthorization(cylinder_id=cylinders[c].id, key_group_id=key_group.id)
        for c in KEY_GROUP_CYLINDERS
    ]
    for code, subject in sorted(desired):
        key_id, group_id = (None, key_group.id) if subject == 0 else (keys[subject - 1][0].id, None)
        links.append(
            AccessEntry(
                cylinder_id=cylinders[code].id,
                key_id=key_id,
                key_group_id=group_id,
                desired=True,
                programmed=(code, subject) not in pending,
            )
        )
        if (code, subject) in pending:
            links.append(
                ProgrammingJobChange(
                    job_id=jobs[code].id,
                    op=AccessChangeOp.ADD,
                    key_id=key_id,
                    key_group_id=group_id,
                )
            )
    for spec, key, _, _ in programming_keys:
        links.append(ProgrammingKeyRole(programming_key_id=key.id, role_id=roles[spec.role].id))
        links += [
            ProgrammingKeyDomain(programming_key_id=key.id, domain_id=domain_by_name[name].id)
            for name in spec.domains
        ]
    session.add_all(links)
    await session.flush()

    store_key_pairs(simulator_keys, tenant_id, simulated)

    credentials: list[DemoProgrammingKey] = []
    for spec, key, pin, puk in programming_keys:
        entry = DemoProgrammingKey(marking=key.marking, pin=pin, roles=[spec.role])
        if puk is not None:
            entry["puk"] = puk
        credentials.append(entry)
    return DemoSystem(
        tenant_id=tenant_id,
        programming_keys=credentials,
        counts={
            "domains": len(domains),
            "employees": len(employees),
            "cylinders": len(cylinders),
            "keys": len(keys),
            "access_profiles": len(profiles),
            "remote_devices": len(devices),
            "programming_keys": len(programming_keys),
            "open_programming_jobs": len(jobs),
        },
        domain_ids={BUILDING_A: default_domain.id, BUILDING_B: building_b.id},
    )


def _uid(rng: random.Random, used: set[str]) -> str:
    """A 7-byte hardware UID in hex, unique within the demo."""
    while True:
        uid = f"{rng.getrandbits(56):014X}"
        if uid not in used:
            used.add(uid)
            return uid


def _employees(rng: random.Random, domains: dict[str, Domain]) -> dict[str, Employee]:
    """The 25 employees by position tag: random names, numbers with leading zeros (R4)."""
    firsts = rng.sample(FIRST_NAMES, len(POSITIONS))
    lasts = rng.sample(LAST_NAMES, len(POSITIONS))
    numbers = sorted(rng.sample(range(1, 1000), len(POSITIONS)))
    employees: dict[str, Employee] = {}
    for (tag, department, building, has_email), first, last, number in zip(
        POSITIONS, firsts, lasts, numbers, strict=True
    ):
        local = f"{first}.{last}".lower().translate(_ASCII)
        employees[tag] = Employee(
            domain_id=domains[building].id,
            employee_number=f"{number:05d}",
            first_name=first,
            last_name=last,
            email=f"{local}@example.com" if has_email else None,
            department=department,
            phone=f"+49 69 4711-{rng.randrange(100, 1000)}" if has_email else None,
        )
    return employees


def _key(
    spec: KeySpec,
    number: int,
    rng: random.Random,
    uids: set[str],
    employees: dict[str, Employee],
    schedules: dict[str, Schedule],
    domains: dict[str, Domain],
    today: datetime,
    approver_function: bool,
) -> tuple[Key, KeySpec]:
    """One user key: in its holder's domain, with a schedule and a validity (R10, R12).

    E3 keys must be revalidated at a remote device every week (R14) and, without
    the approver function, have their audit trail read out there (R29).
    """
    holder = employees[spec.holder] if spec.holder is not None else None
    e3 = spec.type is KeyType.E3
    valid_from = valid_until = None
    if spec.validity is not None:
        valid_from = today - timedelta(days=spec.validity[0])
        valid_until = today + timedelta(days=spec.validity[1])
    key = Key(
        domain_id=holder.domain_id if holder is not None else domains["A"].id,
        marking=f"K-{number:04d}",
        uid=_uid(rng, uids),
        type=spec.type,
        generation=spec.generation,
        firmware_version=spec.firmware,
        status=spec.status,
        holder_id=holder.id if holder is not None else None,
        always_valid=spec.validity is None,
        valid_from=valid_from,
        valid_until=valid_until,
        schedule_id=schedules[spec.schedule].id,
        extension_interval_hours=E3_EXTENSION_INTERVAL_HOURS if e3 else None,
        audit_readout_enabled=e3 and not approver_function,
    )
    return key, spec


def _desired_access(keys: list[tuple[Key, KeySpec]]) -> set[tuple[str, int]]:
    """The desired access lists as (cylinder code, subject): subject 0 is the key group,
    n the n-th key. Issued keys get their profiles', their holder's profiles' and
    their direct cylinders (R13); the key group its cylinders.
    """
    by_profile = {p.name: p.cylinders for p in PROFILES}
    by_holder: dict[str, list[str]] = defaultdict(list)
    for tag, name in EMPLOYEE_PROFILES:
        by_holder[tag].append(name)
    desired = {(code, 0) for code in KEY_GROUP_CYLINDERS}
    for number, (_, spec) in enumerate(keys, start=1):
        if spec.status is not KeyStatus.ISSUED:
            continue
        names = [*spec.profiles, *by_holder.get(spec.holder or "", [])]
        desired.update((code, number) for name in names for code in by_profile[name])
        desired.update((code, number) for code in spec.direct)
    return desired


def _wall_devices(rng: random.Random, domains: dict[str, Domain]) -> list[RemoteDevice]:
    """Two wall programming devices (R22) with offline updates set up (R24).

    WPD-0002 at building B's garage has a potential-free output that opens the
    barrier (it needs E3 key firmware 16.3.7, R22); WPD-0001 is the one in
    generation-1 updater mode (R26).
    """
    return [
        _wall_device(rng, domains["A"], "WPD-0001", "Wall device main entrance A",
                     updater_gen1=True, potential_free_output=False),
        _wall_device(rng, domains["B"], "WPD-0002", "Wall device garage barrier B",
                     updater_gen1=False, potential_free_output=True),
    ]


def _wall_device(
    rng: random.Random,
    domain: Domain,
    serial: str,
    name: str,
    *,
    updater_gen1: bool,
    potential_free_output: bool,
) -> RemoteDevice:
    """A wall device: firmware 5.2.0, heartbeat every minute, 15 offline updates (R24)."""
    return RemoteDevice(
        domain_id=domain.id,
        name=name,
        kind=RemoteDeviceKind.WALL,
        serial=serial,
        public_key=_device_public_key(rng),
        firmware_version="5.2.0",
        bootloader_version="2.1.0",
        heartbeat_interval_seconds=60,
        potential_free_output=potential_free_output,
        updater_gen1=updater_gen1,
        updater_gen2=True,
        offline_max_updates=15,
        offline_max_hours_since_online=672,
        offline_blocking_list_validity_hours=240,
        offline_extension_hours=24,
    )


def _device_public_key(rng: random.Random) -> bytes:
    """A device's Ed25519 public key; its private half stays in the (imaginary) device."""
    private = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
