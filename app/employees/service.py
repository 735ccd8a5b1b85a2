"""Employees: create, change and delete them, import and export them as CSV (R4, R13, R30).

The import works as the vendor's manager does (FAQ: "Under 'Valid entries' the
desired number of persons to be imported should be displayed. Then go to
'Import'"): the valid lines of a file are imported, in one transaction, and the
invalid ones are reported with line and reason. A dry run checks exactly what
the import would check, against the current data, reports the same counts and
writes nothing. Importing the corrected file again updates the lines already
imported by their employee numbers (no change, no count); a line without an
employee number creates an employee every time it is imported.

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.engine import cylinders_of_key, reconcile
from app.access.service import visible_ids
from app.employees.csv_format import (
    COLUMNS,
    EmployeeRow,
    RowError,
    clean_employee_fields,
    export_employees_csv,
    parse_employees_csv,
)
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.models import (
    AccessProfile,
    AccessProfileCylinder,
    Domain,
    Employee,
    EmployeeAccessProfile,
    Key,
    KeyStatus,
    ProgrammingJob,
    ProgrammingKey,
)
from app.tenants.scoping import ALL_DOMAINS

# Employee numbers per SELECT ... IN (...): far below every driver's bound-parameter limit.
LOOKUP_CHUNK = 1000

__all__ = [
    "EmployeeChange",
    "ImportResult",
    "RowError",
    "create_employee",
    "delete_employee",
    "export_employees",
    "import_employees",
    "update_employee",
]


@dataclass
class EmployeeChange:
    """An employee as changed, and the programming jobs the change created or changed (R15)."""

    employee: Employee
    programming_jobs: list[ProgrammingJob] = field(default_factory=list)


@dataclass
class ImportResult:
    """What an employee import did, or in a dry run would do (R30).

    ``valid_count`` counts the lines that can be imported, ``invalid_rows`` gives
    line and reason for the others. ``created`` and ``updated`` count employees
    created and employees whose fields changed; a line that matches an existing
    employee exactly counts in neither. A dry run reports what the import would
    do now: the same numbers.
    """

    valid_count: int
    invalid_rows: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0


async def create_employee(
    session: AsyncSession,
    *,
    domain_id: int,
    employee_number: str | None,
    first_name: str,
    last_name: str,
    email: str | None,
    department: str | None,
    phone: str | None,
) -> Employee:
    """Create an employee in a domain (R4, R8), checked like a line of the import file.

    Whitespace around the fields is removed, empty optional fields become None.
    Raises DomainError INVALID naming the input field (firstName, lastName, ...),
    NOT_FOUND when the domain is not the tenant's, and CONFLICT on employeeNumber
    when another employee of the tenant has that number, in any domain. The
    caller has checked that the principal may administer ``domain_id`` (R8).
    """
    cleaned = _checked_fields(
        {
            "employee_number": employee_number,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "department": department,
            "phone": phone,
        }
    )
    await _require_domain(session, domain_id)
    await _require_free_number(session, cleaned["employee_number"])
    employee = Employee(domain_id=domain_id, **cleaned)
    session.add(employee)
    await session.flush()
    return employee


async def update_employee(
    session: AsyncSession,
    *,
    employee_id: int,
    changes: Mapping[str, str | None],
    profile_ids: Sequence[int] | None,
) -> EmployeeChange:
    """Change an employee's fields and access profiles (R4, R13, R15).

    ``changes`` holds only the fields to change, by Employee attribute name; they
    are checked like a line of the import file (None or blank clears an optional
    field, first and last name are mandatory) and an employee number taken by
    another employee of the tenant, in any domain, is CONFLICT on employeeNumber.
    ``profile_ids`` (None: leave as they are) become exactly the employee's access
    profiles, which apply to every key the employee holds: the cylinders of the
    profiles added or removed are reconciled by the job engine, and the jobs it
    created or changed are returned (jobEvents subscribers hear of them, and of
    any it cancelled). NOT_FOUND names employeeId for an employee outside the
    session's tenant or domains (R1, R8), and accessProfileIds.N for a profile
    that is not the tenant's.
    """
    employee = await _load_employee(session, employee_id)
    current = {attribute: getattr(employee, attribute) for attribute in _ATTRIBUTES}
    unknown = set(changes) - set(_ATTRIBUTES)
    if unknown:
        raise ValueError(f"not employee fields: {sorted(unknown)}")
    cleaned = _checked_fields({**current, **changes})
    if cleaned["employee_number"] != employee.employee_number:
        await _require_free_number(session, cleaned["employee_number"])
    for attribute, value in cleaned.items():
        setattr(employee, attribute, value)
    await session.flush()
    jobs: list[ProgrammingJob] = []
    if profile_ids is not None:
        jobs = await _set_access_profiles(session, employee, profile_ids)
    return EmployeeChange(employee, jobs)


async def delete_employee(session: AsyncSession, *, employee_id: int) -> Employee:
    """Remove an employee who holds no key and no programming key (R4, R5, R13).

    CONFLICT on employeeId names the issued keys the employee holds (return them
    first; keys in domains the session does not see are counted, not named, R8)
    and the programming keys whose holder they are (give them another holder
    first: job and approval e-mails go to the holder, R17, R29). Lost or defective
    keys that still name the employee lose their holder; the employee's access
    profiles go with the employee, and the cylinders that keys still opened
    through them are reconciled, their jobs announced on jobEvents (R15).
    Returns the deleted employee (its id stays readable).
    """
    employee = await _load_employee(session, employee_id)
    held = (
        await session.execute(
            select(Key.id, Key.marking, Key.status, Key.domain_id)
            .where(Key.holder_id == employee.id)
            .order_by(Key.marking),
            execution_options={ALL_DOMAINS: True},
        )
    ).all()
    holder_of = list(
        await session.scalars(
            select(ProgrammingKey.marking)
            .where(ProgrammingKey.holder_id == employee.id)
            .order_by(ProgrammingKey.marking)
        )
    )
    issued = [key for key in held if key.status == KeyStatus.ISSUED]
    if issued or holder_of:
        raise DomainError(
            CONFLICT,
            _still_in_use(employee, issued, holder_of, session.info.get("domain_ids")),
            field="employeeId",
        )
    cylinders: set[int] = set()
    for key in held:
        cylinders |= await cylinders_of_key(session, key.id)
    await session.execute(
        delete(EmployeeAccessProfile).where(EmployeeAccessProfile.employee_id == employee.id)
    )
    if held:
        await session.execute(
            update(Key)
            .where(Key.holder_id == employee.id)
            .values(holder_id=None)
            .execution_options(synchronize_session="fetch", **{ALL_DOMAINS: True})
        )
    await session.delete(employee)
    await session.flush()
    if cylinders:
        await reconcile(session, cylinders)
    return employee


async def import_employees(
    session: AsyncSession, data: bytes, *, dry_run: bool, domain_id: int
) -> ImportResult:
    """Import an employee CSV file (R30): create or update employees by employee number.

    A line whose employee number belongs to an employee the session can see
    updates that employee's fields (an empty optional field clears it; the
    employee stays in its domain). Other lines create employees in ``domain_id``;
    lines without a number always create one. Numbers are compared exactly, so
    "007" and "7" are two employees (R4). A number taken by an employee outside
    the session's domains (R8) makes its line invalid.

    Whole-file problems (not UTF-8, empty, wrong header) raise DomainError INVALID
    on field "file" and nothing is written. Otherwise the valid lines are
    imported, all flushed into the caller's one transaction, and the invalid
    lines are reported with line and reason; with ``dry_run`` nothing is written
    and the result is the same. Existing employees are looked up with one SELECT
    per 1000 numbers, not one per line.
    """
    parsed = parse_employees_csv(data)
    await _require_domain(session, domain_id)
    await _plan_each_lookup_afresh(session)

    numbers = [row.employee_number for row in parsed.rows if row.employee_number is not None]
    existing = await _visible_employees_by_number(session, numbers)
    hidden = await _numbers_taken_in_tenant(session, [n for n in numbers if n not in existing])

    outside_domains: list[RowError] = []
    to_create: list[EmployeeRow] = []
    to_update: list[tuple[Employee, dict[str, str | None]]] = []
    for row in parsed.rows:
        number = row.employee_number
        if number in hidden:
            message = f"employeeNumber {number!r} belongs to an employee outside your domains"
            outside_domains.append(RowError(row.line, message))
            continue
        employee = existing.get(number) if number is not None else None
        if employee is None:
            to_create.append(row)
            continue
        changes = {
            attribute: value
            for attribute, value in row.values().items()
            if getattr(employee, attribute) != value
        }
        if changes:
            to_update.append((employee, changes))

    valid_count = len(parsed.rows) - len(outside_domains)
    invalid_rows = sorted(parsed.errors + outside_domains, key=lambda error: error.line)
    result = ImportResult(valid_count, invalid_rows, len(to_create), len(to_update))
    if dry_run:
        return result

    for employee, changes in to_update:
        for attribute, value in changes.items():
            setattr(employee, attribute, value)
    session.add_all(Employee(domain_id=domain_id, **row.values()) for row in to_create)
    await session.flush()
    return result


async def export_employees(session: AsyncSession) -> str:
    """Every employee the session can see as the import's CSV (R30), by last name, first name.

    The result is text starting with a UTF-8 byte order mark; encode it as UTF-8.
    """
    rows = await session.execute(
        select(*(getattr(Employee, c.attribute) for c in COLUMNS)).order_by(
            Employee.last_name, Employee.first_name, Employee.id
        )
    )
    return export_employees_csv(rows)


_ATTRIBUTES = tuple(column.attribute for column in COLUMNS)


def _checked_fields(values: Mapping[str, str | None]) -> dict[str, str | None]:
    """The fields, whitespace around them removed, checked like a line of the file (R4);
    INVALID names the first field at fault."""
    cleaned, problems = clean_employee_fields({k: (v or "").strip() for k, v in values.items()})
    if problems:
        raise DomainError(INVALID, problems[0].message, field=problems[0].field)
    return cleaned


async def _require_free_number(session: AsyncSession, number: str | None) -> None:
    """R4: employee numbers are unique per tenant, across every domain."""
    if number is not None and await _numbers_taken_in_tenant(session, [number]):
        raise DomainError(
            CONFLICT,
            f"employee number {number!r} is already taken by another employee",
            field="employeeNumber",
        )


async def _load_employee(session: AsyncSession, employee_id: int) -> Employee:
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise DomainError(NOT_FOUND, "employeeId: no such employee", field="employeeId")
    return employee


async def _set_access_profiles(
    session: AsyncSession, employee: Employee, profile_ids: Sequence[int]
) -> list[ProgrammingJob]:
    """Give the employee exactly these access profiles; reconcile the cylinders concerned (R13).

    Only the cylinders of profiles added or removed can change; those of every
    domain count, since domains partition administration, not access (R8).
    """
    wanted = set(await visible_ids(session, AccessProfile, profile_ids, "accessProfileIds"))
    present = set(
        await session.scalars(
            select(EmployeeAccessProfile.access_profile_id).where(
                EmployeeAccessProfile.employee_id == employee.id
            )
        )
    )
    if wanted == present:
        return []
    if present - wanted:
        await session.execute(
            delete(EmployeeAccessProfile).where(
                EmployeeAccessProfile.employee_id == employee.id,
                EmployeeAccessProfile.access_profile_id.in_(present - wanted),
            )
        )
    session.add_all(
        EmployeeAccessProfile(employee_id=employee.id, access_profile_id=profile_id)
        for profile_id in wanted - present
    )
    await session.flush()
    cylinders = set(
        await session.scalars(
            select(AccessProfileCylinder.cylinder_id).where(
                AccessProfileCylinder.access_profile_id.in_(wanted ^ present)
            )
        )
    )
    if not cylinders:
        return []
    return (await reconcile(session, cylinders)).touched


def _still_in_use(
    employee: Employee,
    issued: Sequence[Any],
    holder_of: Sequence[str],
    domain_ids: Sequence[int] | None,
) -> str:
    """Why an employee cannot be deleted yet, naming what they still hold (R8: keys the
    session does not see are only counted)."""
    name = f"{employee.first_name} {employee.last_name}"
    reasons = []
    if issued:
        shown = [k.marking for k in issued if domain_ids is None or k.domain_id in domain_ids]
        hidden = len(issued) - len(shown)
        listed = ", ".join(shown + ([f"{hidden} outside your domains"] if hidden else []))
        reasons.append(f"holds key(s) {listed} (return them first)")
    if holder_of:
        reasons.append(
            f"is the holder of programming key(s) {', '.join(holder_of)} "
            "(give them another holder first)"
        )
    return f"employeeId: {name} " + " and ".join(reasons)


async def _require_domain(session: AsyncSession, domain_id: int) -> None:
    if await session.get(Domain, domain_id) is None:
        raise DomainError(NOT_FOUND, f"domain {domain_id} not found", field="domainId")


async def _plan_each_lookup_afresh(session: AsyncSession) -> None:
    """On PostgreSQL, plan this transaction's statements for their actual parameters.

    PostgreSQL keeps a generic plan for a prepared statement after five runs on
    a connection. A generic plan for ``employee_number IN (<1000 parameters>)``
    made while the tenant had few employees (say, during the first import)
    compares every employee with every number: measured at 0.5-1 s per chunk,
    6-10 s instead of under 3 s for re-importing 10,000 employees right after
    importing them. A custom plan hashes the list. The setting ends with the
    transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def _visible_employees_by_number(
    session: AsyncSession, numbers: Sequence[str]
) -> dict[str, Employee]:
    """The employees the session can see (tenant and domains) that have one of ``numbers``."""
    found: dict[str, Employee] = {}
    for chunk in _chunks(numbers):
        employees = await session.scalars(
            select(Employee).where(Employee.employee_number.in_(chunk))
        )
        found.update((e.employee_number, e) for e in employees if e.employee_number is not None)
    return found


async def _numbers_taken_in_tenant(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    """Which of ``numbers`` any employee of the session's tenant has, in any domain.

    Employee numbers are unique per tenant (R4), but a session limited to some
    domains (R8) does not see the other domains' employees. This one lookup
    leaves out the automatic domain criteria (the tenant's still apply); it
    returns only the numbers it was given.
    """
    taken: set[str] = set()
    for chunk in _chunks(numbers):
        taken.update(
            await session.scalars(
                select(Employee.employee_number)
                .where(Employee.employee_number.in_(chunk))
                .execution_options(**{ALL_DOMAINS: True})
            )
        )
    return taken


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]
