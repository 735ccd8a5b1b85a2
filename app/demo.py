"""The demo locking system: a small office campus of two buildings, ready to log in to.

``keywarden demo`` and ``keywarden tenant create --demo`` fill a freshly created
tenant (R1) with what a real customer would have after a few months of use:
two domains (R8), 25 employees (R4), 60 cylinders (R11), 40 user keys of every
type and both generations (R10), schedules (R12), access profiles (R13, R14), an
E3 key group (R13), two wall programming devices (R22, R24), a certificate
bundle (R25) and three programming keys (R5) whose private keys the simulator
keeps so that ``keywarden login`` can sign the login challenge.

Everything is drawn from one ``random.Random``, so a seed gives the same system
every time (the Ed25519 key pairs of the programming keys aside: the simulator
makes those).
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import NamedTuple, NotRequired, TypedDict

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.pins import hash_pin, validate_new_pin
from app.errors import DomainError
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
    KeyGeneration,
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
from hardware.sim.programming_key import SimulatorState

DEMO_SEED = 20261129
BUILDING_A = "Default"
BUILDING_B = "Building B"
# Access entries left desired but not yet programmed: the demo's open programming jobs (R15).
OPEN_CHANGES = 6

_WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
SCHEDULES: dict[str, list[dict[str, object]]] = {
    "Office hours": [{"days": _WEEKDAYS, "start": "07:00", "end": "19:00"}],
    "Cleaning": [{"days": _WEEKDAYS, "start": "18:00", "end": "22:00"}],
    "Weekend security": [{"days": ["SATURDAY", "SUNDAY"], "start": "00:00", "end": "23:59"}],
}

# (marking code, name, security relevant): the "A-" cylinders are building A (the
# default domain), the "B-" cylinders building B. Security-relevant cylinders are
# cleared first when a key is lost (R19).
CYLINDERS: tuple[tuple[str, str, bool], ...] = (
    ("A-001", "Main entrance", True),
    ("A-002", "Side entrance", False),
    ("A-003", "Delivery entrance", False),
    ("A-004", "Garage gate", False),
    ("A-005", "Garage stairwell", False),
    ("A-006", "Reception", False),
    ("A-007", "Server room", True),
    ("A-008", "Network closet ground floor", False),
    ("A-009", "Network closet 1st floor", False),
    ("A-010", "Archive", True),
    ("A-011", "HR records", True),
    ("A-012", "Finance office", False),
    ("A-013", "Managing director", False),
    ("A-014", "Management assistant", False),
    ("A-015", "Meeting room Rhein", False),
    ("A-016", "Meeting room Main", False),
    ("A-017", "Office 1.01 Human resources", False),
    ("A-018", "Office 1.02 Human resources", False),
    ("A-019", "Office 1.03 Sales", False),
    ("A-020", "Office 1.04 Sales", False),
    ("A-021", "Office 2.01 IT", False),
    ("A-022", "Office 2.02 IT", False),
    ("A-023", "Office 2.03 Facility management", False),
    ("A-024", "Works council", False),
    ("A-025", "Kitchen ground floor", False),
    ("A-026", "Kitchen 1st floor", False),
    ("A-027", "Cleaning storeroom", False),
    ("A-028", "Heating room", False),
    ("A-029", "Electrical room", False),
    ("A-030", "Roof access", False),
    ("A-031", "Post room", False),
    ("A-032", "Print room", False),
    ("A-033", "Bicycle room", False),
    ("A-034", "Waste room", False),
    ("A-035", "First aid room", False),
    ("A-036", "Security lodge", False),
    ("B-001", "Main entrance", True),
    ("B-002", "Side entrance", False),
    ("B-003", "Loading bay", False),
    ("B-004", "Garage gate", False),
    ("B-005", "Server room", True),
    ("B-006", "Network closet", False),
    ("B-007", "Laboratory 1", False),
    ("B-008", "Laboratory 2", False),
    ("B-009", "Chemicals store", True),
    ("B-010", "Workshop", False),
    ("B-011", "Office 0.01 Research", False),
    ("B-012", "Office 0.02 Research", False),
    ("B-013", "Office 0.03 Sales", False),
    ("B-014", "Office 0.04 IT", False),
    ("B-015", "Meeting room Elbe", False),
    ("B-016", "Kitchen", False),
    ("B-017", "Cleaning storeroom", False),
    ("B-018", "Technical room", False),
    ("B-019", "Electrical room", False),
    ("B-020", "Archive", True),
    ("B-021", "Sample storage", False),
    ("B-022", "Changing room", False),
    ("B-023", "Bicycle room", False),
    ("B-024", "Waste room", False),
)


class _ProfileSpec(NamedTuple):
    name: str
    schedule: str
    extension_interval_hours: int | None
    cylinders: tuple[str, ...]


def _codes(prefix: str, first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{n:03d}" for n in range(first, last + 1))


PROFILES: tuple[_ProfileSpec, ...] = (
    _ProfileSpec(
        "All staff", "Always", None,
        ("A-001", "A-002", "A-005", "A-025", "A-026", "A-033", "A-035",
         "B-001", "B-002", "B-016", "B-022", "B-023"),
    ),
    _ProfileSpec(
        "IT", "Always", 24,
        ("A-007", "A-008", "A-009", "A-021", "A-022", "A-029", "B-005", "B-006", "B-014", "B-019"),
    ),
    _ProfileSpec(
        "Cleaning", "Cleaning", None,
        ("A-001", "A-002", "A-006", *_codes("A", 12, 27), "A-031", "A-032", "A-034", "A-035",
         "B-001", "B-002", *_codes("B", 11, 17), "B-022", "B-024"),
    ),
    _ProfileSpec(
        "Security patrol", "Weekend security", None,
        ("A-001", "A-002", "A-003", "A-004", "A-005", "A-006", "A-036",
         "B-001", "B-002", "B-003", "B-004"),
    ),
    _ProfileSpec(
        "Research", "Office hours", None,
        ("B-007", "B-008", "B-009", "B-010", "B-011", "B-012", "B-015", "B-021"),
    ),
)

# (tag, department, building, has e-mail). Cleaning is an external contractor
# whose staff have no company e-mail.
POSITIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("md", "Management", "A", True),
    ("assistant", "Management", "A", True),
    ("finance_head", "Finance", "A", True),
    ("accountant", "Finance", "A", True),
    ("hr_head", "Human resources", "A", True),
    ("hr_officer", "Human resources", "A", True),
    ("works_council", "Works council", "A", True),
    ("it_head", "IT", "A", True),
    ("it_admin", "IT", "A", True),
    ("it_support", "IT", "A", True),
    ("sales_a", "Sales", "A", True),
    ("sales_intern", "Sales", "A", True),
    ("facility_head", "Facility management", "A", True),
    ("caretaker", "Facility management", "A", True),
    ("cleaner_a1", "Cleaning", "A", False),
    ("cleaner_a2", "Cleaning", "A", False),
    ("security", "Security", "A", True),
    ("research_lead", "Research", "B", True),
    ("scientist_1", "Research", "B", True),
    ("scientist_2", "Research", "B", True),
    ("postdoc", "Research", "B", True),
    ("it_b", "IT", "B", True),
    ("technician_b", "Facility management", "B", True),
    ("cleaner_b", "Cleaning", "B", False),
    ("sales_b", "Sales", "B", True),
)

FIRST_NAMES = (
    "Anna", "Lukas", "Sophie", "Jürgen", "Katrin", "Matthias", "Elena", "Tobias", "Sabine",
    "Florian", "Lea", "Stefan", "Miriam", "Andreas", "Johanna", "Klaus", "Petra", "Sebastian",
    "Ines", "Marco", "Claudia", "Henrik", "Nadine", "Sören", "Birgit", "Tomasz", "Giulia",
    "Pieter", "Agnieszka", "Lars", "Hanna", "Dominik", "Zeynep", "Felix", "Marta",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Weiß", "Kowalski", "Rossi",
    "de Vries", "Novak", "Jansen", "Berger", "Lehmann", "Kaya", "Fuchs", "Vogel", "Roth",
    "Dąbrowski",
)
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ą": "a", " ": ""})


class _KeySpec(NamedTuple):
    """One user key of the demo (R10); ``validity`` is (days before today, days after)."""

    holder: str | None
    type: KeyType
    generation: KeyGeneration
    firmware: str
    status: KeyStatus = KeyStatus.ISSUED
    profiles: tuple[str, ...] = ()
    direct: tuple[str, ...] = ()
    schedule: str = "Always"
    validity: tuple[int, int] | None = None
    in_group: bool = False


E1, E2, E3 = KeyType.E1, KeyType.E2, KeyType.E3
G1, G2 = KeyGeneration.GEN1, KeyGeneration.GEN2
STAFF = ("All staff",)

# K-0001 … K-0040 in this order. E1 keys have no clock (R10): "Always", always
# valid, and only profiles whose schedule is "Always".
KEYS: tuple[_KeySpec, ...] = (
    _KeySpec("md", E3, G2, "16.3.7", profiles=STAFF,
             direct=("A-013", "A-014", "A-015", "A-016", "A-010")),
    _KeySpec("assistant", E2, G2, "12.3.0", profiles=STAFF,
             direct=("A-014", "A-015", "A-016", "A-031", "A-032")),
    _KeySpec("finance_head", E2, G1, "6.1.0", profiles=STAFF, direct=("A-012", "A-010")),
    _KeySpec("accountant", E2, G1, "6.1.0", profiles=STAFF, direct=("A-012",)),
    _KeySpec("hr_head", E2, G2, "10.4.2", profiles=STAFF, direct=("A-017", "A-018", "A-011")),
    _KeySpec("hr_officer", E2, G2, "10.4.2", profiles=STAFF, direct=("A-017", "A-018")),
    _KeySpec("works_council", E1, G1, "4.2.1", profiles=STAFF, direct=("A-024",)),
    _KeySpec("it_head", E3, G2, "16.3.7", profiles=(*STAFF, "IT"), direct=("A-021", "A-022")),
    _KeySpec("it_admin", E3, G2, "12.3.0", profiles=(*STAFF, "IT"), direct=("A-021", "A-022")),
    _KeySpec("it_support", E3, G1, "6.1.0", profiles=(*STAFF, "IT"), direct=("A-022", "A-032")),
    _KeySpec("sales_a", E1, G1, "4.2.1", profiles=STAFF, direct=("A-019", "A-020")),
    _KeySpec("sales_intern", E2, G2, "12.3.0", profiles=STAFF, direct=("A-019", "A-020"),
             schedule="Office hours", validity=(14, 76)),
    _KeySpec("facility_head", E3, G2, "16.3.7", profiles=STAFF,
             direct=("A-023", "A-003", "A-027"), in_group=True),
    _KeySpec("caretaker", E3, G2, "16.3.7", profiles=STAFF,
             direct=("A-023", "A-003", "A-033"), in_group=True),
    # The cleaners' keys get the "Cleaning" profile through their holder (R13).
    _KeySpec("cleaner_a1", E2, G1, "6.1.0", schedule="Cleaning", validity=(90, 275)),
    _KeySpec("cleaner_a2", E2, G1, "6.1.0", schedule="Cleaning", validity=(90, 275)),
    _KeySpec("security", E3, G2, "16.3.7", profiles=(*STAFF, "Security patrol"),
             direct=("A-036",), in_group=True),
    _KeySpec("research_lead", E3, G2, "12.3.0", profiles=(*STAFF, "Research"),
             direct=("B-011", "B-012", "B-015", "B-020")),
    _KeySpec("scientist_1", E3, G2, "12.3.0", profiles=(*STAFF, "Research"), direct=("B-011",)),
    _KeySpec("scientist_2", E2, G1, "6.1.0", profiles=(*STAFF, "Research"), direct=("B-012",)),
    _KeySpec("postdoc", E2, G1, "6.1.0", profiles=(*STAFF, "Research"), direct=("B-012",),
             schedule="Office hours", validity=(200, 165)),
    _KeySpec("it_b", E3, G2, "16.3.7", profiles=(*STAFF, "IT"), direct=("B-014",)),
    _KeySpec("technician_b", E3, G2, "16.3.7", profiles=STAFF, direct=("B-010", "B-003"),
             in_group=True),
    _KeySpec("cleaner_b", E2, G2, "10.4.2", schedule="Cleaning", validity=(60, 305)),
    _KeySpec("sales_b", E1, G2, "10.4.2", profiles=STAFF, direct=("B-013",)),
    # Garage keys: a second, simple key for those with a parking space.
    _KeySpec("md", E1, G1, "4.2.1", direct=("A-004",)),
    _KeySpec("it_head", E1, G2, "10.4.2", direct=("A-004",)),
    _KeySpec("finance_head", E1, G1, "4.2.1", direct=("A-004",)),
    _KeySpec("hr_head", E1, G2, "10.4.2", direct=("A-004",)),
    _KeySpec("facility_head", E1, G1, "4.2.1", direct=("A-004", "A-005")),
    _KeySpec("research_lead", E1, G2, "10.4.2", direct=("B-004",)),
    _KeySpec("it_b", E1, G2, "10.4.2", direct=("B-004",)),
    # Spare keys in the facility manager's cabinet.
    _KeySpec(None, E1, G2, "10.4.2", KeyStatus.IN_STOCK),
    _KeySpec(None, E1, G2, "10.4.2", KeyStatus.IN_STOCK),
    _KeySpec(None, E2, G2, "12.3.0", KeyStatus.IN_STOCK),
    _KeySpec(None, E2, G2, "12.3.0", KeyStatus.IN_STOCK),
    _KeySpec(None, E3, G2, "16.3.7", KeyStatus.IN_STOCK),
    _KeySpec(None, E3, G2, "16.3.7", KeyStatus.IN_STOCK),
    # Reported lost by its holder, already taken out of every cylinder (R19).
    _KeySpec("accountant", E2, G1, "6.1.0", KeyStatus.LOST),
    # A generation-1 key pulled out too early during a firmware update (R26).
    _KeySpec(None, E3, G1, "4.2.1", KeyStatus.DEFECTIVE),
)

KEY_GROUP = "Facility E3"
KEY_GROUP_CYLINDERS = ("A-028", "A-029", "A-030", "A-034", "B-018", "B-019", "B-024")
EMPLOYEE_PROFILES = (
    ("cleaner_a1", "Cleaning"), ("cleaner_a2", "Cleaning"), ("cleaner_b", "Cleaning"),
)
E3_EXTENSION_INTERVAL_HOURS = 168


class _ProgrammingKeySpec(NamedTuple):
    marking: str
    kind: ProgrammingKeyKind
    holder: str
    firmware: str
    role: str
    domains: tuple[str, ...]


# R5: one main key; sub keys get only what their roles and domains grant. The
# Approver's holder has an e-mail (R29).
PROGRAMMING_KEYS: tuple[_ProgrammingKeySpec, ...] = (
    _ProgrammingKeySpec("PR-0001", ProgrammingKeyKind.MAIN, "facility_head", "16.3.7",
                        "Superadmin", (BUILDING_A, BUILDING_B)),
    _ProgrammingKeySpec("PN-0001", ProgrammingKeyKind.SUB, "it_b", "12.3.0", "Admin",
                        (BUILDING_B,)),
    _ProgrammingKeySpec("PN-0002", ProgrammingKeyKind.SUB, "works_council", "12.3.0",
                        "Approver", (BUILDING_A, BUILDING_B)),
)


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
    simulator: SimulatorState,
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

    The programming keys' private keys go into ``simulator`` after the rows are
    written. Everything but those key pairs follows from ``rng`` (default seed
    20261129) and ``now`` (validity windows start from its date). A tenant that
    already has keys, cylinders or programming keys is refused with CONFLICT.
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
            "CONFLICT", "the demo system goes into an empty tenant only: this one has elements"
        )
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise DomainError("NOT_FOUND", "no such tenant: create it first")
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
    programming_keys: list[tuple[_ProgrammingKeySpec, ProgrammingKey, str, str | None]] = []
    to_hash: list[str] = []
    for spec in PROGRAMMING_KEYS:
        # R37: PINs come from the system's CSPRNG, never from the layout's seed: no two
        # installations share a PIN, even though their demo buildings look the same.
        pin = _new_pin(_PIN_RNG, 6)
        puk = _new_pin(_PIN_RNG, 8) if spec.kind is ProgrammingKeyKind.MAIN else None
        to_hash.extend([pin] if puk is None else [pin, puk])
        key = ProgrammingKey(
            marking=spec.marking,
            uid=_uid(rng, uids),
            kind=spec.kind,
            firmware_version=spec.firmware,
            holder_id=employees[spec.holder].id,
        )
        programming_keys.append((spec, key, pin, puk))
    simulated = [simulator.new_key(key.marking, key.uid) for _, key, _, _ in programming_keys]
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

    for sim in simulated:
        simulator.add(tenant_id, sim)

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


_PIN_RNG = secrets.SystemRandom()


def _new_pin(rng: random.Random, digits: int) -> str:
    """A random PIN (or PUK) that passes the rules for new PINs: nothing trivial (R37)."""
    while True:
        pin = "".join(rng.choice("0123456789") for _ in range(digits))
        try:
            validate_new_pin(pin, "pin")
        except DomainError:
            continue
        return pin


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
    spec: _KeySpec,
    number: int,
    rng: random.Random,
    uids: set[str],
    employees: dict[str, Employee],
    schedules: dict[str, Schedule],
    domains: dict[str, Domain],
    today: datetime,
    approver_function: bool,
) -> tuple[Key, _KeySpec]:
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


def _desired_access(keys: list[tuple[Key, _KeySpec]]) -> set[tuple[str, int]]:
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
