"""Employees (R4, R13, R30): create, change, delete, import from CSV."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.file_uploads import Upload

from app.employees.service import (
    EmployeeChange,
    ImportResult,
    create_employee,
    delete_employee,
    import_employees,
    update_employee,
)
from app.errors import FORBIDDEN, INVALID, NOT_FOUND, DomainError
from app.models import Domain as DomainRow
from app.models import Employee as EmployeeRow
from app.schema.common import DeletePayload, UserError
from app.schema.context import Info
from app.schema.runner import Run, mutation, run
from app.schema.types import Employee, ProgrammingJob, gid


@strawberry.input
class CreateEmployeeInput:
    employee_number: str | None = None
    first_name: str
    last_name: str
    email: str | None = None
    department: str | None = None
    phone: str | None = None
    domain_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the default domain (or your first domain)."
    )


@strawberry.input
class UpdateEmployeeInput:
    """Only the fields given change; null clears an optional field (R4)."""

    employee_id: strawberry.ID
    employee_number: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    department: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    access_profile_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Exactly these profiles, for every key the employee holds (R13); "
        "needs the right keys.write as well.",
    )

    def changes(self) -> dict[str, str | None]:
        """The fields given, by Employee attribute name."""
        fields = ("employee_number", "first_name", "last_name", "email", "department", "phone")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not strawberry.UNSET}


@strawberry.input
class EmployeeIdInput:
    employee_id: strawberry.ID


@strawberry.input
class ImportFileInput:
    file: Upload
    dry_run: bool | None = None
    domain_id: strawberry.ID | None = strawberry.field(
        default=None, description="Employee import: domain of new employees (R8)."
    )


@strawberry.type
class EmployeePayload:
    employee: Employee | None = None
    programming_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list, description="Jobs the change created or changed (R15)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RowError:
    line: int
    message: str


@strawberry.type
class ImportEmployeesPayload:
    valid_count: int = 0
    invalid_rows: list[RowError] = strawberry.field(default_factory=list)
    created: int = 0
    updated: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


async def target_domain(r: Run, domain_gid: str | None, field: str = "domainId") -> int:
    """The domain a new element goes into, if the principal administers it (R8)."""
    principal = r.caller
    if domain_gid is not None:
        domain_id = r.id(domain_gid, "Domain", field)
        if principal.domain_ids is not None and domain_id not in principal.domain_ids:
            raise DomainError(NOT_FOUND, f"{field}: no Domain with id {domain_gid!r}", field)
        return domain_id
    stmt = select(DomainRow.id).order_by(DomainRow.is_default.desc(), DomainRow.name).limit(1)
    if principal.domain_ids is not None:
        stmt = stmt.where(DomainRow.id.in_(principal.domain_ids))
    domain_id = await r.session.scalar(stmt)
    if domain_id is None:
        raise DomainError(FORBIDDEN, "you administer no domain", field)
    return int(domain_id)


async def read_upload(upload: Upload, field: str = "file") -> bytes:
    try:
        return await upload.read()  # type: ignore[attr-defined,no-any-return]
    except AttributeError as exc:
        raise DomainError(INVALID, f"{field}: expected an uploaded file", field) from exc


@strawberry.type
class EmployeeMutations:
    @mutation(right="employees.write")
    async def create_employee(self, info: Info, input: CreateEmployeeInput) -> EmployeePayload:
        async def action(r: Run) -> EmployeeRow:
            return await create_employee(
                r.session,
                domain_id=await target_domain(r, input.domain_id),
                employee_number=input.employee_number,
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                department=input.department,
                phone=input.phone,
            )

        return await run(
            info, EmployeePayload, action, lambda row: EmployeePayload(employee=Employee(row=row))
        )

    @mutation(
        right="employees.write",
        description="Change an employee's fields and access profiles (R4, R13, R15).",
    )
    async def update_employee(self, info: Info, input: UpdateEmployeeInput) -> EmployeePayload:
        async def action(r: Run) -> EmployeeChange:
            if input.access_profile_ids is not None:
                # The profiles change what every key of the employee opens, as updateKey does.
                r.caller.require("keys.write")
            return await update_employee(
                r.session,
                employee_id=r.id(input.employee_id, "Employee", "employeeId"),
                changes=input.changes(),
                profile_ids=r.optional_ids(
                    input.access_profile_ids, "AccessProfile", "accessProfileIds"
                ),
            )

        return await run(
            info, EmployeePayload, action,
            lambda change: EmployeePayload(
                employee=Employee(row=change.employee),
                programming_jobs=[ProgrammingJob(row=j) for j in change.programming_jobs],
            ),
        )

    @mutation(
        right="employees.write",
        description="CONFLICT while the employee holds keys or programming keys (R4, R5).",
    )
    async def delete_employee(self, info: Info, input: EmployeeIdInput) -> DeletePayload:
        return await run(
            info, DeletePayload,
            lambda r: delete_employee(
                r.session, employee_id=r.id(input.employee_id, "Employee", "employeeId")
            ),
            lambda row: DeletePayload(deleted_id=gid(row)),
        )

    @mutation(
        right="employees.write",
        description="R30: semicolon CSV, UTF-8; imports the valid lines, reports the invalid "
        "ones; dryRun reports the same without writing.",
    )
    async def import_employees(self, info: Info, input: ImportFileInput) -> ImportEmployeesPayload:
        async def action(r: Run) -> ImportResult:
            data = await read_upload(input.file)
            return await import_employees(
                r.session, data, dry_run=bool(input.dry_run),
                domain_id=await target_domain(r, input.domain_id),
            )

        return await run(
            info, ImportEmployeesPayload, action,
            lambda result: ImportEmployeesPayload(
                valid_count=result.valid_count,
                invalid_rows=[
                    RowError(line=row.line, message=row.message) for row in result.invalid_rows
                ],
                created=result.created,
                updated=result.updated,
            ),
        )
