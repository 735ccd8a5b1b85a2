"""Mutations over HTTP: employees and their CSV (R4, R30), factory data (R31, R32), login (R5),
API tokens (R9); every failure a UserError naming the field, nothing half-written."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

from app.db import Database
from app.factory.extension_file import make_extension_file
from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, make_tenant, superadmin_token

IMPORT_EMPLOYEES = """
mutation($input: ImportFileInput!) {
  importEmployees(input: $input) {
    validCount created updated invalidRows { line message } errors { field code message }
  }
}
"""

CREATE_EMPLOYEE = """
mutation($input: CreateEmployeeInput!) {
  createEmployee(input: $input) {
    employee { id employeeNumber firstName lastName }
    errors { field code message }
  }
}
"""

HEADER = "employeeNumber;firstName;lastName;email;department;phone\n"


async def _import(gql: GraphQLClient, data: bytes, dry_run: bool) -> dict[str, Any]:
    response = await gql.upload(
        IMPORT_EMPLOYEES, {"input": {"file": None, "dryRun": dry_run}}, "variables.input.file", data
    )
    body = response.json()
    assert response.status_code == 200, body
    return body["data"]["importEmployees"]  # type: ignore[no-any-return]


async def test_employee_import_dry_run_then_import_then_update_by_number(
    gql: GraphQLClient,
) -> None:
    # given: one good line, one without a last name (R4: mandatory)
    data = (HEADER + "007;Ada;Lovelace;ada@example.com;R&D;\n008;Bob;;;;\n").encode()
    # when: a dry run
    result = await _import(gql, data, dry_run=True)
    # then: it reports and writes nothing
    assert result["validCount"] == 1
    assert [r["line"] for r in result["invalidRows"]] == [3]
    assert (await gql("{ employees { totalCount } }"))["employees"]["totalCount"] == 0
    # when: the real import of the corrected file, then a changed file
    fixed = (HEADER + "007;Ada;Lovelace;ada@example.com;R&D;\n008;Bob;Builder;;;\n").encode()
    assert (await _import(gql, fixed, dry_run=False))["created"] == 2
    changed = (HEADER + "007;Ada;King;ada@example.com;R&D;\n").encode()
    result = await _import(gql, changed, dry_run=False)
    # then: updated by employee number, leading zeros kept
    assert (result["created"], result["updated"]) == (0, 1)
    data2 = await gql('{ employees(search: "007") { edges { node { employeeNumber lastName } } } }')
    assert data2["employees"]["edges"] == [{"node": {"employeeNumber": "007", "lastName": "King"}}]


async def test_employee_import_imports_the_valid_lines_its_dry_run_counted(
    gql: GraphQLClient,
) -> None:
    # given: two valid lines and one without a last name (FAQ: "Valid entries", then "Import")
    data = (HEADER + "1;Ada;Lovelace;;;\n2;Bob;;;;\n3;Grace;Hopper;;;\n").encode()
    dry_run = await _import(gql, data, dry_run=True)
    assert (await gql("{ employees { totalCount } }"))["employees"]["totalCount"] == 0
    # when
    result = await _import(gql, data, dry_run=False)
    # then: the same answer, and the valid lines are there (R30)
    assert result == dry_run == {
        "validCount": 2,
        "created": 2,
        "updated": 0,
        "invalidRows": [{"line": 3, "message": "lastName is mandatory"}],
        "errors": [],
    }
    assert (await gql("{ employees { totalCount } }"))["employees"]["totalCount"] == 2


async def test_employee_import_with_invalid_encoding_names_the_file_field(
    gql: GraphQLClient,
) -> None:
    latin1 = (HEADER + "1;Jörg;Müller;;;\n").encode("latin-1")
    result = await _import(gql, latin1, dry_run=False)
    assert result["errors"][0]["field"] == "file"
    assert result["errors"][0]["code"] == "INVALID"
    assert (await gql("{ employees { totalCount } }"))["employees"]["totalCount"] == 0


async def test_uploads_need_the_csrf_header_and_respect_the_size_limit(
    gql: GraphQLClient, settings: Any
) -> None:
    small = (HEADER + "1;A;B;;;\n").encode()
    response = await gql.upload(
        IMPORT_EMPLOYEES, {"input": {"file": None}}, "variables.input.file", small, csrf=False
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF"
    huge = HEADER.encode() + b"1;A;B;;;\n" * (settings.max_upload_bytes // 8)
    response = await gql.upload(
        IMPORT_EMPLOYEES, {"input": {"file": None}}, "variables.input.file", huge
    )
    assert response.status_code == 413
    assert (await gql("{ employees { totalCount } }"))["employees"]["totalCount"] == 0


async def test_csv_export_round_trips_and_is_safe_against_formulas(
    gql: GraphQLClient, http: Any
) -> None:
    # given
    await gql(
        CREATE_EMPLOYEE,
        {
            "input": {
                "employeeNumber": "00042",
                "firstName": "=cmd|' /C calc'!A0",
                "lastName": "Tables",
            }
        },
    )
    # when
    response = await http.get("/export/employees.csv", headers=gql.headers())
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["employeeNumber", "firstName", "lastName", "email", "department", "phone"]
    assert rows[1][0] == "00042"
    assert rows[1][1].startswith("'=")
    # and importing the export changes nothing (same columns, R30)
    result = await _import(gql, response.content, dry_run=False)
    assert (result["created"], result["updated"], result["errors"]) == (0, 0, [])


async def test_csv_export_needs_a_token_and_shows_only_the_own_tenant(
    gql: GraphQLClient, http: Any, database: Database
) -> None:
    await gql(CREATE_EMPLOYEE, {"input": {"firstName": "Mine", "lastName": "Only"}})
    other = await make_tenant(database, "Elsewhere")
    other_token = await superadmin_token(database, other)
    assert (await http.get("/export/employees.csv")).status_code == 401
    response = await http.get("/export/employees.csv", headers=gql.headers(other_token))
    assert "Only" not in response.text


async def test_create_employee_errors_name_the_field(gql: GraphQLClient) -> None:
    result = await gql(CREATE_EMPLOYEE, {"input": {"firstName": "", "lastName": "X"}})
    assert result["createEmployee"]["errors"][0]["field"] == "firstName"
    await gql(
        CREATE_EMPLOYEE, {"input": {"employeeNumber": "1", "firstName": "A", "lastName": "B"}}
    )
    again = await gql(
        CREATE_EMPLOYEE, {"input": {"employeeNumber": "1", "firstName": "C", "lastName": "D"}}
    )
    assert again["createEmployee"]["errors"][0] == {
        "field": "employeeNumber",
        "code": "CONFLICT",
        "message": again["createEmployee"]["errors"][0]["message"],
    }
    response = await gql.raw(CREATE_EMPLOYEE, {"input": {"firstName": 5, "lastName": "B"}})
    assert "String cannot represent" in response.json()["errors"][0]["message"]


IMPORT_EXTENSION = """
mutation($input: ImportFileInput!) {
  importExtension(input: $input) {
    extension { id activated newKeys newCylinders clones }
    programmingJobs { id status cylinder { marking needsReprogramming isClone } }
    errors { field code message }
  }
}
"""


async def test_extension_import_activation_and_clone_through_graphql(
    database: Database, http: Any, settings: Any
) -> None:
    # given: a tenant that trusts the development vendor key (R31)
    vendor = load_or_create_dev_vendor_key(Path(settings.var_dir))
    tenant = await make_tenant(database, "Factory", vendor_public_keys=[public_key_hex(vendor)])
    gql = GraphQLClient(http, await superadmin_token(database, tenant))
    file1 = make_extension_file(
        keys=[
            {
                "marking": "N-1",
                "uid": "AA01",
                "type": "E3",
                "generation": "GEN2",
                "firmwareVersion": "16.3.7",
            }
        ],
        cylinders=[{"marking": "Door 1", "uid": "CC01", "securityRelevant": True}],
        signing_key=vendor,
        order_number="ORD-1",
    )
    # when: imported
    response = await gql.upload(
        IMPORT_EXTENSION, {"input": {"file": None}}, "variables.input.file", file1
    )
    result = response.json()["data"]["importExtension"]
    # then: recorded, not yet usable
    assert result["errors"] == []
    ext = result["extension"]
    assert (ext["activated"], ext["newKeys"], ext["newCylinders"]) == (False, 1, 1)
    status = await gql("{ keys(filter: {advanced: true}) { edges { node { status } } } }")
    assert status["keys"]["edges"] == [{"node": {"status": "NOT_ACTIVATED"}}]
    # when: activated
    activated = await gql(
        "mutation($id: ID!) { activateExtension(id: $id) "
        "{ extension { activated } errors { code } } }",
        {"id": ext["id"]},
    )
    assert activated["activateExtension"] == {"extension": {"activated": True}, "errors": []}
    again = await gql(
        "mutation($id: ID!) { activateExtension(id: $id) { errors { code field } } }",
        {"id": ext["id"]},
    )
    assert again["activateExtension"]["errors"][0]["code"] == "CONFLICT"
    # when: a replacement cylinder with the same marking arrives (R32)
    clone = make_extension_file(
        cylinders=[{"marking": "Door 1", "uid": "CC99", "securityRelevant": True}],
        signing_key=vendor,
        order_number="ORD-2",
    )
    response = await gql.upload(
        IMPORT_EXTENSION, {"input": {"file": None}}, "variables.input.file", clone
    )
    result = response.json()["data"]["importExtension"]
    # then: no new cylinder, the existing one flagged, one full reprogramming job
    assert result["extension"]["clones"] == 1
    assert [j["cylinder"] for j in result["programmingJobs"]] == [
        {"marking": "Door 1", "needsReprogramming": True, "isClone": True}
    ]
    cylinders = await gql("{ cylinders { totalCount } }")
    assert cylinders["cylinders"]["totalCount"] == 1


async def test_a_tampered_extension_is_refused_with_bad_signature(
    database: Database, http: Any, settings: Any
) -> None:
    vendor = load_or_create_dev_vendor_key(Path(settings.var_dir))
    tenant = await make_tenant(database, "Factory2", vendor_public_keys=[public_key_hex(vendor)])
    gql = GraphQLClient(http, await superadmin_token(database, tenant))
    good = make_extension_file(
        cylinders=[{"marking": "Gate", "uid": "CC02", "securityRelevant": False}],
        signing_key=vendor,
        order_number="ORD-3",
    )
    tampered = good.replace(b"Gate", b"Gale")
    response = await gql.upload(
        IMPORT_EXTENSION, {"input": {"file": None}}, "variables.input.file", tampered
    )
    errors = response.json()["data"]["importExtension"]["errors"]
    assert errors[0]["code"] == "BAD_SIGNATURE"
    assert errors[0]["field"] == "file"
    assert (await gql("{ extensions { id } }"))["extensions"] == []


async def test_programming_key_login_over_graphql_gives_a_session_with_its_roles(
    database: Database, http: Any, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from app.auth.pins import hash_pin
    from app.models import ProgrammingKey, ProgrammingKeyKind, ProgrammingKeyRole, Role
    from hardware.sim.programming_key import SimulatorState

    # given: a sub key with the Operator role
    tenant = await make_tenant(database, "Login Corp")
    sim = SimulatorState(tmp_path / "sim.json")
    key = sim.new_key("PN-7", "UID7")
    sim.add(tenant.tenant_id, key)
    async with database.tenant_session(tenant.tenant_id) as s:
        row = ProgrammingKey(
            marking="PN-7",
            uid="UID7",
            kind=ProgrammingKeyKind.SUB,
            firmware_version="12.3.0",
            public_key=key.public_key,
            pin_hash=hash_pin("583920"),
        )
        s.add(row)
        await s.flush()
        operator = await s.scalar(select(Role.id).where(Role.name == "Operator"))
        s.add(ProgrammingKeyRole(programming_key_id=row.id, role_id=operator))
        await s.commit()
    anonymous = GraphQLClient(http, None)
    # when: challenge, signature by the key, PIN
    step1 = (
        await anonymous(
            "mutation($i: RequestLoginChallengeInput!) { requestLoginChallenge(input: $i) "
            "{ challenge message errors { code } } }",
            {"i": {"tenantId": tenant.tenant_id, "marking": "PN-7"}},
        )
    )["requestLoginChallenge"]
    nonce = step1["challenge"]
    signature = base64.b64encode(key.sign_login(tenant.tenant_id, nonce)).decode()
    login = (
        await anonymous(
            "mutation($i: CompleteLoginInput!) { completeLogin(input: $i) "
            "{ token errors { code } } }",
            {
                "i": {
                    "tenantId": tenant.tenant_id,
                    "challenge": nonce,
                    "signature": signature,
                    "pin": "583920",
                }
            },
        )
    )["completeLogin"]
    # then: the session acts with the Operator's rights only (R7)
    session = GraphQLClient(http, login["token"])
    me = await session("{ me { marking roles { name } } keys { totalCount } }")
    assert me["me"] == {"marking": "PN-7", "roles": [{"name": "Operator"}]}
    denied = await session.raw("{ programmingKeys { marking } }")
    assert denied.json()["errors"][0]["message"] == "missing right: programming_keys.read"
    # and a replayed challenge, or a wrong PIN, is refused
    replay = (
        await anonymous(
            "mutation($i: CompleteLoginInput!) { completeLogin(input: $i) "
            "{ token errors { code field } } }",
            {
                "i": {
                    "tenantId": tenant.tenant_id,
                    "challenge": nonce,
                    "signature": signature,
                    "pin": "583920",
                }
            },
        )
    )["completeLogin"]
    assert replay == {"token": None, "errors": [{"code": "INVALID", "field": "challenge"}]}


async def test_api_token_is_shown_once_scoped_and_refuses_unknown_rights(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    create = """mutation($i: CreateApiTokenInput!) { createApiToken(input: $i)
                { token errors { field code message } } }"""
    bad = await gql(create, {"i": {"name": "x", "rights": ["keys.read", "keys.fly"]}})
    assert bad["createApiToken"]["errors"][0]["field"] == "rights"
    assert "keys.fly" in bad["createApiToken"]["errors"][0]["message"]
    made = await gql(create, {"i": {"name": "partner", "rights": ["keys.read"]}})
    token = made["createApiToken"]["token"]
    partner = GraphQLClient(gql.http, token)
    assert (await partner("{ keys { totalCount } }"))["keys"]["totalCount"] == 0
    denied = await partner.raw("{ employees { totalCount } }")
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
