"""Every mutation runs through one recipe (app.schema.runner): rights, ids, one transaction.

The list of mutations comes from the served schema, so a new mutation that does not
declare its right through ``@mutation`` (or that declares it and never checks it)
fails here (R7).
"""

from __future__ import annotations

from typing import Any

import graphql
import pytest
import strawberry
from sqlalchemy import select

from app import models as m
from app.auth.rights import RIGHTS
from app.auth.tokens import authenticate
from app.config import Settings
from app.db import Database
from app.errors import CONFLICT, DomainError
from app.events import queue_job_events
from app.events.publish import JOB_EVENTS
from app.events.pubsub import get_pubsub
from app.models import Base, Key
from app.schema import build_schema
from app.schema.common import UserError
from app.schema.context import Context, Info
from app.schema.relay import to_global_id
from app.schema.runner import (
    BRIDGE_ITSELF,
    NO_CREDENTIAL,
    SIGNED_IN,
    Requirement,
    Run,
    mutation,
    run,
)
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.factories import seed_elements

_SCHEMA = build_schema(Settings(), introspection=True)
_SDL = graphql.build_schema(_SCHEMA.as_str())
_MUTATION = _SCHEMA.get_type_by_name("Mutation")
assert _MUTATION is not None

# Mutation name (as served) -> what it declared with @mutation(right=...), None if nothing.
DECLARED: dict[str, object] = {
    _SCHEMA.config.name_converter.get_graphql_name(f): f.metadata.get("right")
    for f in _MUTATION.fields  # type: ignore[union-attr]
}

# The only mutations no right guards, and why (docs/decisions.md).
WITHOUT_A_RIGHT: dict[str, Requirement] = {
    "requestLoginChallenge": NO_CREDENTIAL,  # login step 1: no credential yet (R5)
    "completeLogin": NO_CREDENTIAL,  # login step 2 (R5)
    "enrolBridge": NO_CREDENTIAL,  # the bridge's one-time code is its credential (R22)
    "startBridgeLogin": NO_CREDENTIAL,  # login through a bridge (R5)
    "finishBridgeLogin": NO_CREDENTIAL,  # its secret is the credential (R5)
    "setFirstPin": NO_CREDENTIAL,  # a PIN-less factory key: its signature is the credential (R5)
    "signInWithLink": NO_CREDENTIAL,  # the one-time link is the credential (issue 11)
    "logout": SIGNED_IN,  # anyone ends their own session
    "reportBridgeCommand": BRIDGE_ITSELF,  # the bridge reports its own commands (R8)
    "reportBridgeCommandProgress": BRIDGE_ITSELF,
}

GUARDED = sorted(
    name for name, right in DECLARED.items() if not isinstance(right, Requirement)
)


def _value(type_: graphql.GraphQLInputType, files: list[str], path: str) -> Any:
    """A well-typed value for a required input: the rights check comes before any meaning."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return _value(type_.of_type, files, path)
    if isinstance(type_, graphql.GraphQLList):
        return []
    if isinstance(type_, graphql.GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        return {
            name: _value(field.type, files, f"{path}.{name}")
            for name, field in type_.fields.items()
            if graphql.is_required_input_field(field)
        }
    scalars: dict[str, Any] = {
        "ID": to_global_id("Nothing", 1), "String": "x", "Int": 1, "Float": 1.0,
        "Boolean": False, "DateTime": "2026-01-01T00:00:00+00:00",
    }
    if type_.name == "Upload":
        files.append(path)
        return None
    return scalars[type_.name]  # type: ignore[union-attr]


def _call(name: str) -> tuple[str, dict[str, Any], list[str]]:
    """The mutation with every required argument, its variables and the upload paths."""
    field = _SDL.mutation_type.fields[name]  # type: ignore[union-attr]
    files: list[str] = []
    variables = {
        arg: _value(a.type, files, f"variables.{arg}")
        for arg, a in field.args.items()
        if graphql.is_required_argument(a)
    }
    declared = ", ".join(f"${arg}: {field.args[arg].type}" for arg in variables)
    passed = ", ".join(f"{arg}: ${arg}" for arg in variables)
    query = (
        f"mutation{f'({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''} {{ errors {{ code field message }} }} }}"
    )
    return query, variables, files


async def _snapshot(database: Database) -> dict[str, list[str]]:
    """Every row of every table, as text (token last-use times aside: reading them is a use)."""
    out: dict[str, list[str]] = {}
    async with database.system_session() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name != "last_used_at"]
            rows = (await session.execute(select(*columns))).all()
            out[table.name] = sorted(repr(tuple(row)) for row in rows)
    return out


def test_every_mutation_declares_what_it_needs() -> None:
    # given: the served schema's mutations
    # then: each declares a right that exists, or is one of the known exceptions
    undeclared = sorted(name for name, right in DECLARED.items() if right is None)
    assert undeclared == [], "declare the right with app.schema.runner.mutation"
    unknown = sorted(r for r in map(DECLARED.get, GUARDED) if r not in RIGHTS)
    assert unknown == []
    exceptions = {n: r for n, r in DECLARED.items() if isinstance(r, Requirement)}
    assert exceptions == WITHOUT_A_RIGHT
    assert len(GUARDED) + len(WITHOUT_A_RIGHT) == len(DECLARED)


@pytest.mark.parametrize("name", GUARDED)
async def test_a_mutation_without_its_right_is_forbidden_in_the_payload_and_writes_nothing(
    name: str, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: a token holding every right but the one the mutation needs (R7)
    right = str(DECLARED[name])
    client = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=[r for r in RIGHTS if r != right])
    )
    await seed_elements(database, tenant, keys=2, cylinders=2)
    query, variables, files = _call(name)
    before = await _snapshot(database)
    # when
    if files:
        (path,) = files
        response = await client.upload(query, variables, path, b"any file")
    else:
        response = await client.raw(query, variables)
    # then: FORBIDDEN travels in the payload and names the right; nothing was written
    body = response.json()
    assert "errors" not in body, body
    assert body["data"][name]["errors"] == [
        {"code": "FORBIDDEN", "field": None, "message": f"missing right: {right}"}
    ]
    assert await _snapshot(database) == before


@pytest.mark.parametrize(
    "name", sorted(n for n, r in WITHOUT_A_RIGHT.items() if r is BRIDGE_ITSELF)
)
async def test_only_a_bridge_reports_its_commands(
    name: str, gql: GraphQLClient, database: Database
) -> None:
    # given: a Superadmin, who holds every right but is not a bridge (R8)
    query, variables, _ = _call(name)
    before = await _snapshot(database)
    # when
    body = (await gql.raw(query, variables)).json()
    # then
    assert body["data"][name]["errors"] == [
        {"code": "FORBIDDEN", "field": None, "message": "only a bridge reports its commands"}
    ]
    assert await _snapshot(database) == before


RETURN_KEY = """
mutation($i: KeyIdInput!) { returnKey(input: $i) { key { id } errors { code field message } } }
"""


async def test_another_tenants_id_is_not_found_like_a_missing_or_malformed_one(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a key of another tenant and an id no key has (R1)
    theirs = await seed_elements(database, other_tenant, keys=1, cylinders=0)
    async with database.system_session() as session:
        highest = await session.scalar(select(Key.id).order_by(Key.id.desc()).limit(1))
    foreign = to_global_id("Key", theirs.key_ids[0])
    missing = to_global_id("Key", highest + 1000)
    before = await _snapshot(database)
    # when
    answers = {
        gid: (await gql(RETURN_KEY, {"i": {"keyId": gid}}))["returnKey"]
        for gid in (foreign, missing, to_global_id("Cylinder", 1), "not-an-id")
    }
    # then: the other tenant's key answers exactly like one that does not exist
    assert answers[foreign] == answers[missing]
    # and every one is NOT_FOUND naming the field; nothing was written
    for answer in answers.values():
        assert answer["key"] is None
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("NOT_FOUND", "keyId")]
    assert await _snapshot(database) == before


# --- the runner itself, on a tiny schema of its own ---------------------------------------


@strawberry.type
class _ProbePayload:
    employee_id: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class _ProbeQuery:
    @strawberry.field
    def ok(self) -> bool:
        return True


def _probe_schema(steps: list[str]) -> strawberry.Schema:
    @strawberry.type
    class ProbeMutation:
        @mutation(right="employees.write")
        async def runner_probe(self, info: Info, domain_id: int, fail: bool) -> _ProbePayload:
            async def action(r: Run) -> _ProbePayload:
                row = m.Employee(domain_id=domain_id, first_name="Ada", last_name="Probe")
                r.session.add(row)
                await r.session.flush()  # written inside the transaction
                queue_job_events(r.session, job_ids=[row.id])
                r.after_commit(lambda: steps.append("after commit"))
                if fail:
                    raise DomainError(CONFLICT, "fail: refused after writing", "fail")
                return _ProbePayload(employee_id=row.id)

            return await run(info, _ProbePayload, action)

    return strawberry.Schema(query=_ProbeQuery, mutation=ProbeMutation)


PROBE = """mutation($d: Int!, $f: Boolean!) { runnerProbe(domainId: $d, fail: $f)
           { employeeId errors { code field message } } }"""


async def _probe(
    database: Database, settings: Settings, tenant: NewTenant, token: str, *, fail: bool
) -> tuple[dict[str, Any], list[str], list[Any]]:
    """Run the probe with ``token``; its answer, the steps after commit, the events sent."""
    steps: list[str] = []
    session = database.session(tenant.tenant_id)
    try:
        principal = await authenticate(session, token)
        await session.commit()
        context = Context(database=database, settings=settings, principal=principal,
                          session=session)
        async with get_pubsub(settings).subscribe(tenant.tenant_id, JOB_EVENTS) as mailbox:
            result = await _probe_schema(steps).execute(
                PROBE, {"d": tenant.default_domain_id, "f": fail}, context_value=context
            )
            sent = await mailbox.next_batch(wait_seconds=0.2)
    finally:
        await session.close()
    assert result.errors is None, result.errors
    return result.data["runnerProbe"], steps, sent  # type: ignore[index]


async def test_a_failing_mutation_rolls_back_what_it_wrote_and_announces_nothing(
    database: Database, settings: Settings, tenant: NewTenant
) -> None:
    # given: a Superadmin and the tenant as it is
    token = await superadmin_token(database, tenant)
    before = await _snapshot(database)
    # when: a mutation writes a row, queues an event, then fails
    answer, steps, sent = await _probe(database, settings, tenant, token, fail=True)
    # then: the failure is in the payload, nothing was written, nothing announced (R23)
    assert answer == {
        "employeeId": None,
        "errors": [{"code": "CONFLICT", "field": "fail", "message": "fail: refused after writing"}],
    }
    assert await _snapshot(database) == before
    assert steps == [] and sent == []


async def test_a_mutation_that_succeeds_commits_once_then_announces(
    database: Database, settings: Settings, tenant: NewTenant
) -> None:
    # when
    token = await superadmin_token(database, tenant)
    answer, steps, sent = await _probe(database, settings, tenant, token, fail=False)
    # then: the row is there, the event went out after the commit, then the after-commit step
    assert answer["errors"] == []
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await s.get(m.Employee, answer["employeeId"]) is not None
    assert [message["programming_job_ids"] for message in sent] == [[answer["employeeId"]]]
    assert steps == ["after commit"]
