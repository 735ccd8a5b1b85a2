"""Creating employees and importing and exporting them as CSV (R4, R30).

The import is all or nothing: if any line of the file is invalid, the real
import writes nothing and returns the invalid lines, so a file is never half
imported and fixing it and importing it again gives the intended state. A dry
run checks exactly what the import would check, against the current data, and
writes nothing either way.

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.employees.csv_format import (
    COLUMNS,
    EmployeeRow,
    RowError,
    clean_employee_fields,
    export_employees_csv,
    parse_employees_csv,
)
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.models import Domain, Employee
from app.tenants.scoping import ALL_DOMAINS

# Employee numbers per SELECT ... IN (...): far below every driver's bound-parameter limit.
LOOKUP_CHUNK = 1000

__all__ = [
    "ImportResult",
    "RowError",
    "create_employee",
    "export_employees",
    "import_employees",
]


@dataclass
class ImportResult:
    """What an employee import did, or in a dry run would do (R30).

    ``valid_count`` counts the lines that can be imported, ``invalid_rows`` gives
    line and reason for the others. ``created`` and ``updated`` count employees
    created and employees whose fields changed; a line that matches an existing
    employee exactly counts in neither. In a dry run they are what the import
    would do now; when there are invalid rows the real import does nothing and
    both are 0.
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
    raw = {
        "employee_number": employee_number,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "department": department,
        "phone": phone,
    }
    cleaned, problems = clean_employee_fields({k: (v or "").strip() for k, v in raw.items()})
    if problems:
        raise DomainError(INVALID, problems[0].message, field=problems[0].field)
    await _require_domain(session, domain_id)
    number = cleaned["employee_number"]
    if number is not None and await _numbers_taken_in_tenant(session, [number]):
        raise DomainError(
            CONFLICT,
            f"employee number {number!r} is already taken by another employee",
            field="employeeNumber",
        )
    employee = Employee(domain_id=domain_id, **cleaned)
    session.add(employee)
    await session.flush()
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
    on field "file". With ``dry_run`` nothing is written. Without it, nothing is
    written either if any line is invalid (all or nothing); otherwise all changes
    are flushed into the caller's transaction. Existing employees are looked up
    with one SELECT per 1000 numbers, not one per line.
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
    if invalid_rows and not dry_run:
        return ImportResult(valid_count, invalid_rows)
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
