"""Names of schedules, access profiles, key groups and cylinder groups (R12, R13): unique in
the tenant whatever their case, and a name another transaction took meanwhile is CONFLICT on
``name``, never a server error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service
from app.db import Database
from app.errors import CONFLICT
from app.models import AccessProfile, CylinderGroup, KeyGroup, Schedule
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient
from tests.factories import refused_second_writer

WEEKDAYS = {"days": ["MONDAY"], "start": "08:00", "end": "17:00"}

# kind: (create mutation, its input type, its payload field, update mutation, input type, id field)
KINDS: dict[str, tuple[str, str, str, str, str, str, dict[str, Any]]] = {
    "schedule": ("createSchedule", "CreateScheduleInput", "schedule", "updateSchedule",
                 "UpdateScheduleInput", "scheduleId", {"windows": [WEEKDAYS]}),
    "access profile": ("createAccessProfile", "CreateAccessProfileInput", "accessProfile",
                       "updateAccessProfile", "UpdateAccessProfileInput", "accessProfileId",
                       {"cylinderIds": []}),
    "key group": ("createKeyGroup", "CreateKeyGroupInput", "keyGroup", "updateKeyGroup",
                  "UpdateKeyGroupInput", "keyGroupId", {"keyIds": []}),
    "cylinder group": ("createCylinderGroup", "CreateCylinderGroupInput", "cylinderGroup",
                       "updateCylinderGroup", "UpdateCylinderGroupInput", "cylinderGroupId",
                       {"cylinderIds": []}),
}


async def _create(gql: GraphQLClient, kind: str, name: str) -> dict[str, Any]:
    mutation, input_type, field, *_, extra = KINDS[kind]
    answer = await gql(
        f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ {field} {{ id name }} "
        "errors { field code message } } }", {"i": {"name": name, **extra}})
    return answer[mutation]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_name_is_taken_whatever_its_case(gql: GraphQLClient, kind: str) -> None:
    # given: "Basement" and "Garage"
    await _create(gql, kind, "Basement")
    garage = await _create(gql, kind, "Garage")
    _, _, field, update, input_type, id_field, _ = KINDS[kind]
    # when: another is made as "BASEMENT ", and "Garage" is renamed "basement"
    made = await _create(gql, kind, "BASEMENT ")
    renamed = (await gql(
        f"mutation($i: {input_type}!) {{ {update}(input: $i) {{ errors {{ field code message }} "
        "} }", {"i": {id_field: garage[field]["id"], "name": "basement"}}))[update]
    # then: CONFLICT on name, naming the one that holds it
    for refused in (made, renamed):
        assert refused["errors"] == [{
            "field": "name", "code": "CONFLICT",
            "message": f"name: there is already a {kind} named 'Basement'"}]
    # and: a group may keep its own name in another case
    own = (await gql(
        f"mutation($i: {input_type}!) {{ {update}(input: $i) {{ errors {{ code }} }} }}",
        {"i": {id_field: garage[field]["id"], "name": "GARAGE"}}))[update]
    assert own["errors"] == []


Create = Callable[[AsyncSession], Awaitable[Any]]
CREATE: dict[str, tuple[Any, Create]] = {
    "schedule": (Schedule, lambda s: service.create_schedule(s, "Night", [WEEKDAYS])),
    "access profile": (AccessProfile, lambda s: service.create_access_profile(
        s, name="Night", cylinder_ids=[], schedule_id=None, extension_interval_hours=None)),
    "key group": (KeyGroup, lambda s: service.create_key_group(s, name="Night", key_ids=[])),
    "cylinder group": (CylinderGroup,
                       lambda s: service.create_cylinder_group(s, name="Night", cylinder_ids=[])),
}


@pytest.mark.parametrize("kind", CREATE)
async def test_a_name_taken_meanwhile_by_another_transaction_is_a_conflict(
    database: Database, tenant: NewTenant, kind: str
) -> None:
    model, create = CREATE[kind]
    # given: "Night" created in a transaction not yet committed
    # when: another transaction creates one of the same name meanwhile
    refused = await refused_second_writer(database, tenant, create)
    # then: CONFLICT naming the field, not a server error (R12, R13)
    assert (refused.code, refused.field) == (CONFLICT, "name")
    async with database.tenant_session(tenant.tenant_id) as s:
        assert list(await s.scalars(select(model.name).where(model.name == "Night"))) == ["Night"]
