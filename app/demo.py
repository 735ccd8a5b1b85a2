"""The demo locking system: a small office campus of two buildings, ready to log in to.

``keywarden demo`` and ``keywarden tenant create --demo`` fill a freshly created
tenant (R1) with what a real customer would have after a few months of use:
two domains (R8), 25 employees (R4), 60 cylinders (R11), 40 user keys of every
type and both generations (R10), schedules (R12), access profiles (R13, R14), an
E3 key group (R13), two wall programming devices (R22, R24), a certificate
bundle (R25) and three programming keys (R5) whose private keys go into the
simulator's key file (:mod:`app.demo_keys`) so that ``keywarden login`` can sign
the login challenge. What is built is laid out in :mod:`app.demo_layout`.

It is built the way a customer builds one, through the same service functions
the GraphQL mutations call, never by writing rows: the vendor's factory delivers
keys, cylinders, programming keys and wall devices in a signed extension file,
which is imported and activated (R31); administrators then create the domain,
schedules, profiles and employees, issue the keys, authorise them and configure
programming keys and devices; the job engine plans the programming jobs (R15),
and the programming visits so far are recorded through the engine, so that only
the latest decisions wait as open jobs.

Everything is drawn from one ``random.Random``, so a seed gives the same system
every time (the Ed25519 key pairs and the PINs of the programming keys aside:
they are new every time, as a key's chip makes its own, R37).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.engine import OPEN, JobOutcome, record_programming
from app.access.service import (
    change_authorizations,
    create_access_profile,
    create_key_group,
    create_schedule,
)
from app.auth.pins import hash_pin, random_pin
from app.auth.principal import Principal
from app.auth.programming_keys import update_programming_key
from app.auth.rights import BUILTIN_ROLES
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
)
from app.devices.device_settings import OfflineSettings, update_remote_device
from app.domains.service import create_domain, move_to_domain, update_domain
from app.employees.service import create_employee, update_employee
from app.errors import CONFLICT, NOT_FOUND, DomainError
from app.factory.extension import activate_extension, import_extension
from app.factory.extension_file import make_extension_file
from app.firmware.bundles import create_certificate_bundle
from app.keys.service import (
    ValidityChange,
    issue_key,
    report_key_defective,
    report_key_lost,
    update_key,
)
from app.models import (
    Cylinder,
    Domain,
    Key,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyKind,
    RemoteDevice,
    Role,
    Schedule,
    Tenant,
    utcnow,
)

DEMO_SEED = 20261129
ORDER_NUMBER = "DEMO-0001"
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ą": "a", " ": ""})

# A cylinder's access-list subject in the layout: 0 is the key group, n the n-th key (K-000n).
Pair = tuple[str, int]


@dataclass(frozen=True)
class WallDeviceSpec:
    """One of the demo's wall programming devices (R22) and its settings (R24, R26)."""

    serial: str
    name: str
    building: str
    updater_gen1: bool
    potential_free_output: bool


# WPD-0001 is the one in generation-1 updater mode (R26); WPD-0002 at building B's garage
# has a potential-free output that opens the barrier (it needs E3 key firmware 16.3.7, R22).
WALL_DEVICES = (
    WallDeviceSpec("WPD-0001", "Wall device main entrance A", "A", True, False),
    WallDeviceSpec("WPD-0002", "Wall device garage barrier B", "B", False, True),
)
# R24: 15 offline updates, four weeks since the last online update, a blocking list valid
# ten days, keys extended by a day offline.
WALL_OFFLINE = OfflineSettings(
    max_offline_updates=15,
    max_hours_since_online_update=672,
    blocking_list_validity_hours=240,
    offline_extension_hours=24,
)
WALL_HEARTBEAT_SECONDS = 60


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


@dataclass(frozen=True)
class _Delivered:
    """The factory's elements once imported, by marking code (cylinders), key number
    (``K-0001`` is 1), marking (programming keys) and serial (devices)."""

    cylinders: dict[str, int]
    keys: dict[int, int]
    programming_keys: dict[str, int]
    devices: dict[str, int]


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
    vendor_key: Ed25519PrivateKey,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> DemoSystem:
    """Fill a freshly created tenant with a small, realistic two-building locking system.

    ``session`` is scoped to the tenant, which ``create_tenant`` made in it (the
    "Default" domain, which stands for building A, the built-in roles and the
    "Always" schedule). Every element is made and configured through the public
    service functions an administrator's GraphQL mutations call:

    - the domain "Building B" and building A's description (R8), the schedules
      "Office hours", "Cleaning" and "Weekend security" (R12), the certificate
      bundle "Default CCB" (R25);
    - the factory's delivery — 60 cylinders, 40 keys of every type and both
      generations, the programming keys PR-0001, PN-0001, PN-0002 with the PINs
      (and the main key's PUK) of the factory's letter, two wall programming
      devices — as an extension file signed with ``vendor_key``, imported and
      activated (R31); the tenant must trust ``vendor_key`` (BAD_SIGNATURE
      otherwise). Building B's cylinders, keys and device move there (R8);
    - 25 employees (R4), five access profiles (R13, R14), the keys issued with a
      schedule and a validity (R10, R12), the E3 key group "Facility E3" (R13),
      direct authorizations through the list function (R16), one key reported
      lost (R19) and one defective (R26); spare E3 keys keep an extension interval;
    - PR-0001 Superadmin, PN-0001 Admin of building B, PN-0002 Approver (R5, R7,
      R8, R29) with their holders; the wall devices' offline settings and updater
      flags (R22, R24, R26).

    The job engine plans every programming job (R15); all are then recorded as
    carried out through :func:`~app.access.engine.record_programming`, as a
    programming visit reports them, except the latest decisions: ``OPEN_CHANGES``
    authorizations given afterwards, whose jobs stay open. The services' own
    consequences stay as they are: remote jobs for the keys' memories (R18), the
    blocking list with the lost key (R19, R21), readout enabled by the issue (R29).

    PINs and the PUK come from the system's CSPRNG, never from ``rng`` (R37), and are
    returned once. The programming keys' private keys go into the simulator's key
    file ``simulator_keys`` (:mod:`app.demo_keys`) after everything else. All the
    rest follows from ``rng`` (default seed 20261129) and ``now`` (validity windows
    start from its date). A tenant that already has keys, cylinders or programming
    keys is refused with CONFLICT. One transaction: the caller commits.
    """
    rng = rng or random.Random(DEMO_SEED)
    now = now or utcnow()
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    tenant_id: str = session.info["tenant_id"]

    if (
        not await tenant_is_empty(session)
        or await session.scalar(select(ProgrammingKey.id).limit(1)) is not None
    ):
        raise DomainError(
            CONFLICT, "the demo system goes into an empty tenant only: this one has elements"
        )
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise DomainError(NOT_FOUND, "no such tenant: create it first")

    # Domains, schedules and the certificate bundle.
    default_domain = (await session.scalars(select(Domain).where(Domain.is_default))).one()
    await update_domain(
        session,
        default_domain.id,
        name=None,
        description="Building A: head office, offices, server room and archive",
        administered=None,
    )
    building_b = await create_domain(
        session,
        name=BUILDING_B,
        description="Building B: research labs and workshop",
        administered=None,
    )
    domains = {"A": default_domain.id, "B": building_b.id}
    schedules = {
        "Always": (await session.scalars(select(Schedule.id).where(Schedule.is_default))).one()
    }
    for name, windows in SCHEDULES.items():
        schedules[name] = (await create_schedule(session, name, windows)).id
    await create_certificate_bundle(session, name="Default CCB")

    # The factory's delivery (R31), imported and activated.
    uids: set[str] = set()
    pairs = [DemoKeyPair.generate(spec.marking, _uid(rng, uids)) for spec in PROGRAMMING_KEYS]
    credentials, letters = await _factory_pins()
    order = _factory_order(rng, uids, pairs, letters, vendor_key=vendor_key, now=now)
    imported = await import_extension(session, order)
    assert imported.extension is not None
    await activate_extension(session, imported.extension.id)
    delivered = await _delivered(session)

    # Employees in their buildings; building B's elements move there (R8).
    employees = await _employees(session, rng, domains)
    building_of = {tag: building for tag, _, building, _ in POSITIONS}
    await move_to_domain(
        session,
        domains["B"],
        [
            *(("Cylinder", delivered.cylinders[c]) for c, _, _ in CYLINDERS if c.startswith("B")),
            *(
                ("Key", delivered.keys[number])
                for number, spec in enumerate(KEYS, start=1)
                if spec.holder is not None and building_of[spec.holder] == "B"
            ),
            *(
                ("RemoteDevice", delivered.devices[d.serial])
                for d in WALL_DEVICES
                if d.building == "B"
            ),
        ],
        administered=None,
    )

    # Access profiles, the cleaners' through their person (R13, R14).
    profiles = {
        p.name: (
            await create_access_profile(
                session,
                name=p.name,
                cylinder_ids=[delivered.cylinders[c] for c in p.cylinders],
                schedule_id=schedules[p.schedule],
                extension_interval_hours=p.extension_interval_hours,
            )
        ).id
        for p in PROFILES
    }
    for tag, names in _grouped(EMPLOYEE_PROFILES).items():
        await update_employee(
            session,
            employee_id=employees[tag],
            changes={},
            profile_ids=[profiles[name] for name in names],
        )

    # Keys issued or kept in stock (R10, R12, R14), the key group (R13), authorizations
    # (R16), then the losses and breakages (R19, R26).
    for number, spec in enumerate(KEYS, start=1):
        await _configure_key(
            session,
            spec,
            delivered.keys[number],
            employees=employees,
            schedules=schedules,
            profiles=profiles,
            today=today,
            approver_function=tenant.approver_function,
        )
    group, _ = await create_key_group(
        session,
        name=KEY_GROUP,
        key_ids=[delivered.keys[n] for n, spec in enumerate(KEYS, start=1) if spec.in_group],
    )
    latest = _latest_decisions(rng)
    authorize = _authorizer(session, delivered, group.id)
    await authorize(_authorizations() - set(latest))
    for number, spec in enumerate(KEYS, start=1):
        if spec.status is KeyStatus.LOST:
            await report_key_lost(session, key_id=delivered.keys[number], deprogram=True)
        elif spec.status is KeyStatus.DEFECTIVE:
            await report_key_defective(session, key_id=delivered.keys[number])

    # Programming keys (R5, R7, R8, R29) and wall devices (R22, R24, R26).
    await _configure_programming_keys(session, tenant_id, delivered, employees, domains)
    for device in WALL_DEVICES:
        await update_remote_device(
            session,
            device_id=delivered.devices[device.serial],
            heartbeat_interval_seconds=WALL_HEARTBEAT_SECONDS,
            offline=WALL_OFFLINE,
            updater_gen1=device.updater_gen1,
            updater_gen2=True,
        )

    # The programming visits so far carried out every job (R15); the latest decisions came
    # after them, so their jobs are still open.
    await _record_visits(session)
    await authorize(latest)

    store_key_pairs(simulator_keys, tenant_id, pairs)
    open_jobs = await session.scalar(
        select(func.count(ProgrammingJob.id)).where(ProgrammingJob.status.in_(OPEN))
    )
    return DemoSystem(
        tenant_id=tenant_id,
        programming_keys=credentials,
        counts={
            "domains": len(domains),
            "employees": len(employees),
            "cylinders": len(delivered.cylinders),
            "keys": len(delivered.keys),
            "access_profiles": len(profiles),
            "remote_devices": len(delivered.devices),
            "programming_keys": len(delivered.programming_keys),
            "open_programming_jobs": int(open_jobs or 0),
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


def _key_marking(number: int) -> str:
    return f"K-{number:04d}"


def _device_public_key(rng: random.Random) -> bytes:
    """A device's Ed25519 public key; its private half stays in the (imaginary) device."""
    private = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for tag, name in pairs:
        grouped[tag].append(name)
    return grouped


async def _factory_pins() -> tuple[list[DemoProgrammingKey], list[dict[str, str]]]:
    """The factory's PIN letter for each programming key (R5, R31): the credentials shown
    once, and the argon2id hashes the extension file carries (``pinHash``, ``pukHash``).

    R37: PINs come from the system's CSPRNG, never from the layout's seed: no two
    installations share a PIN, even though their demo buildings look the same.
    """
    credentials: list[DemoProgrammingKey] = []
    plain: list[str] = []
    for spec in PROGRAMMING_KEYS:
        entry = DemoProgrammingKey(marking=spec.marking, pin=random_pin(6), roles=[spec.role])
        plain.append(entry["pin"])
        if spec.kind is ProgrammingKeyKind.MAIN:
            entry["puk"] = random_pin(8)
            plain.append(entry["puk"])
        credentials.append(entry)
    # argon2 is slow on purpose (R5); hashing in threads keeps the event loop free.
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_pin, s) for s in plain))
    hashed = dict(zip(plain, hashes, strict=True))
    letters = []
    for entry in credentials:
        letter = {"pinHash": hashed[entry["pin"]]}
        if "puk" in entry:
            letter["pukHash"] = hashed[entry["puk"]]
        letters.append(letter)
    return credentials, letters


def _factory_order(
    rng: random.Random,
    uids: set[str],
    pairs: Sequence[DemoKeyPair],
    letters: Sequence[Mapping[str, str]],
    *,
    vendor_key: Ed25519PrivateKey,
    now: datetime,
) -> bytes:
    """The vendor's signed extension file for the demo's whole order (R31): the cylinders,
    the keys ``K-0001``…, the programming keys with their public keys and PIN letters (R5),
    and the wall devices (R22). Its file id, like the UIDs, follows from ``rng``."""
    return make_extension_file(
        cylinders=[
            {"marking": f"{code} {name}", "uid": _uid(rng, uids), "securityRelevant": relevant}
            for code, name, relevant in CYLINDERS
        ],
        keys=[
            {
                "marking": _key_marking(number),
                "uid": _uid(rng, uids),
                "type": spec.type.name,
                "generation": spec.generation.name,
                "firmwareVersion": spec.firmware,
            }
            for number, spec in enumerate(KEYS, start=1)
        ],
        programming_keys=[
            {
                "marking": spec.marking,
                "uid": pair.uid,
                "kind": spec.kind.name,
                "firmwareVersion": spec.firmware,
                "publicKey": pair.public_key.hex(),
                **letter,
            }
            for spec, pair, letter in zip(PROGRAMMING_KEYS, pairs, letters, strict=True)
        ],
        remote_devices=[
            {
                "serial": device.serial,
                "kind": "WALL",
                "name": device.name,
                "firmwareVersion": "5.2.0",
                "bootloaderVersion": "2.1.0",
                "publicKey": _device_public_key(rng).hex(),
                "potentialFreeOutput": device.potential_free_output,
                "systemLinked": False,
            }
            for device in WALL_DEVICES
        ],
        signing_key=vendor_key,
        order_number=ORDER_NUMBER,
        file_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        created_at=now,
    )


async def _delivered(session: AsyncSession) -> _Delivered:
    """The imported elements' ids (the tenant had none before the delivery)."""

    async def ids(column: Any, model: Any) -> dict[str, int]:
        return {name: ident for name, ident in await session.execute(select(column, model.id))}

    cylinders = await ids(Cylinder.marking, Cylinder)
    keys = await ids(Key.marking, Key)
    return _Delivered(
        cylinders={marking.split(" ", 1)[0]: ident for marking, ident in cylinders.items()},
        keys={n: keys[_key_marking(n)] for n in range(1, len(KEYS) + 1)},
        programming_keys=await ids(ProgrammingKey.marking, ProgrammingKey),
        devices=await ids(RemoteDevice.serial, RemoteDevice),
    )


async def _employees(
    session: AsyncSession, rng: random.Random, domains: Mapping[str, int]
) -> dict[str, int]:
    """The 25 employees' ids by position tag: random names, numbers with leading zeros (R4)."""
    firsts = rng.sample(FIRST_NAMES, len(POSITIONS))
    lasts = rng.sample(LAST_NAMES, len(POSITIONS))
    numbers = sorted(rng.sample(range(1, 1000), len(POSITIONS)))
    employees: dict[str, int] = {}
    for (tag, department, building, has_email), first, last, number in zip(
        POSITIONS, firsts, lasts, numbers, strict=True
    ):
        local = f"{first}.{last}".lower().translate(_ASCII)
        employee = await create_employee(
            session,
            domain_id=domains[building],
            employee_number=f"{number:05d}",
            first_name=first,
            last_name=last,
            email=f"{local}@example.com" if has_email else None,
            department=department,
            phone=f"+49 69 4711-{rng.randrange(100, 1000)}" if has_email else None,
        )
        employees[tag] = employee.id
    return employees


async def _configure_key(
    session: AsyncSession,
    spec: KeySpec,
    key_id: int,
    *,
    employees: Mapping[str, int],
    schedules: Mapping[str, int],
    profiles: Mapping[str, int],
    today: datetime,
    approver_function: bool,
) -> None:
    """Issue a key to its holder with its schedule, validity and profiles (R10, R12, R13).

    E3 keys must be revalidated at a remote device every week (R14); issuing one enables
    its audit readout unless the tenant has the approver function (R29), and the spare E3
    keys in stock are set up the same way.
    """
    interval = E3_EXTENSION_INTERVAL_HOURS if spec.type is KeyType.E3 else None
    if spec.holder is None:
        if interval is not None:
            await update_key(
                session,
                key_id=key_id,
                validity=None,
                schedule_id=None,
                profile_ids=None,
                extension_interval_hours=interval,
                audit_readout_enabled=not approver_function,
            )
        return
    validity = ValidityChange(always_valid=True)
    if spec.validity is not None:
        validity = ValidityChange(
            always_valid=False,
            valid_from=today - timedelta(days=spec.validity[0]),
            valid_until=today + timedelta(days=spec.validity[1]),
        )
    await issue_key(
        session,
        key_id=key_id,
        employee_id=employees[spec.holder],
        validity=validity,
        schedule_id=schedules[spec.schedule],
        profile_ids=[profiles[name] for name in spec.profiles],
        extension_interval_hours=interval,
    )


def _authorizations() -> set[Pair]:
    """Every direct authorization of the layout: the issued keys' and the key group's (R13)."""
    pairs = {(code, 0) for code in KEY_GROUP_CYLINDERS}
    for number, spec in enumerate(KEYS, start=1):
        if spec.status is KeyStatus.ISSUED:
            pairs.update((code, number) for code in spec.direct)
    return pairs


def _latest_decisions(rng: random.Random) -> list[Pair]:
    """The ``OPEN_CHANGES`` authorizations given after the last programming visit (R15).

    Drawn from those that are the only source of their line in the cylinder, so that
    each leaves exactly one line desired but not yet programmed: not also given
    through the key's or its holder's profiles, nor through the key group.
    """
    by_profile = {p.name: set(p.cylinders) for p in PROFILES}
    of_holder = _grouped(EMPLOYEE_PROFILES)
    sole: list[Pair] = []
    for code, subject in sorted(_authorizations()):
        if subject:
            spec = KEYS[subject - 1]
            through = {
                c
                for name in (*spec.profiles, *of_holder.get(spec.holder or "", []))
                for c in by_profile[name]
            }
            if spec.in_group:
                through |= set(KEY_GROUP_CYLINDERS)
            if code in through:
                continue
        sole.append((code, subject))
    return rng.sample(sole, OPEN_CHANGES)


def _authorizer(
    session: AsyncSession, delivered: _Delivered, group_id: int
) -> Callable[[Iterable[Pair]], Awaitable[None]]:
    """A function that gives these authorizations with the list function (R16): one call
    for the keys and key groups that get the same cylinders; the job engine plans their
    programming jobs (R15)."""

    async def authorize(pairs: Iterable[Pair]) -> None:
        cylinders_of: dict[int, list[int]] = defaultdict(list)
        for code, subject in sorted(pairs):
            cylinders_of[subject].append(delivered.cylinders[code])
        subjects_of: dict[tuple[int, ...], list[tuple[str, int]]] = defaultdict(list)
        for subject, cylinder_ids in cylinders_of.items():
            who = ("group", group_id) if subject == 0 else ("key", delivered.keys[subject])
            subjects_of[tuple(cylinder_ids)].append(who)
        for cylinder_ids, add in subjects_of.items():
            await change_authorizations(
                session, cylinder_ids=list(cylinder_ids), add=add, remove=[]
            )

    return authorize


def _system_superadmin(tenant_id: str) -> Principal:
    """Who configures the demo's programming keys: the system with a Superadmin's rights,
    as the Superadmin API token ``keywarden`` makes with the tenant (R7, R9)."""
    return Principal(
        tenant_id=tenant_id,
        kind="api_token",
        name="keywarden demo",
        rights=frozenset(BUILTIN_ROLES["Superadmin"]),
        domain_ids=None,
    )


async def _configure_programming_keys(
    session: AsyncSession,
    tenant_id: str,
    delivered: _Delivered,
    employees: Mapping[str, int],
    domains: Mapping[str, int],
) -> None:
    """Give each programming key its holder, role and domains (R5, R7, R8, R29).

    Main and submaster keys administer every domain by their kind and take none.
    """
    caller = _system_superadmin(tenant_id)
    roles = {name: ident for name, ident in await session.execute(select(Role.name, Role.id))}
    by_name = {BUILDING_A: domains["A"], BUILDING_B: domains["B"]}
    for spec in PROGRAMMING_KEYS:
        await update_programming_key(
            session,
            delivered.programming_keys[spec.marking],
            caller=caller,
            holder_id=employees[spec.holder],
            role_ids=[roles[spec.role]],
            domain_ids=(
                [by_name[name] for name in spec.domains]
                if spec.kind is ProgrammingKeyKind.SUB
                else None
            ),
        )


async def _record_visits(session: AsyncSession) -> None:
    """Every open programming job carried out, as a programming key reports it (R15)."""
    jobs = await session.scalars(
        select(ProgrammingJob)
        .where(ProgrammingJob.status == ProgrammingJobStatus.PENDING)
        .order_by(ProgrammingJob.id)
    )
    for job in list(jobs):
        await record_programming(session, job, JobOutcome.DONE)
