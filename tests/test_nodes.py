"""``node(id:)`` and ``nodes(ids:)`` answer every node type of the served schema (R1, R7, R8).

The list of types comes from the served schema: a new type implementing Node that the
registry (app.schema.nodes) does not know, or that nobody builds below, fails here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import graphql
from sqlalchemy.ext.asyncio import AsyncSession

from app import models as m
from app.config import Settings
from app.db import Database
from app.schema import build_schema
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient
from tests.factories import seed_elements

_SDL = graphql.build_schema(build_schema(Settings(), introspection=True).as_str())
NODE_TYPES = sorted(
    t.name for t in _SDL.get_possible_types(_SDL.get_type("Node"))  # type: ignore[arg-type]
)

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def _hex(n: int) -> str:
    return secrets.token_hex(n)


async def _one_of_each(
    database: Database, tenant: NewTenant, seeded: Any
) -> dict[str, int]:
    """One row of every node type in ``tenant``, by GraphQL type name."""
    domain = tenant.default_domain_id
    key, cylinder = seeded.key_ids[0], seeded.cylinder_ids[0]
    async with database.tenant_session(tenant.tenant_id) as s:
        rows: dict[str, Callable[[dict[str, Any]], Any]] = {
            "Role": lambda made: s.get(m.Role, tenant.superadmin_role_id),
            "Domain": lambda made: s.get(m.Domain, domain),
            "Employee": lambda made: s.get(m.Employee, seeded.employee_ids[0]),
            "Key": lambda made: s.get(m.Key, key),
            "Cylinder": lambda made: s.get(m.Cylinder, cylinder),
            "AccessProfile": lambda made: s.get(m.AccessProfile, seeded.profile_ids[0]),
            "Schedule": lambda made: _add(s, m.Schedule(name="Night", windows=[])),
            "KeyGroup": lambda made: _add(s, m.KeyGroup(name="Group")),
            "CylinderGroup": lambda made: _add(s, m.CylinderGroup(name="Wing")),
            "ProgrammingKey": lambda made: _add(s, m.ProgrammingKey(
                marking="PN-9", uid=_hex(8), kind=m.ProgrammingKeyKind.SUB,
                firmware_version="1.0", public_key=b"k" * 32,
            )),
            "ProgrammingJob": lambda made: _add(s, m.ProgrammingJob(
                cylinder_id=cylinder, status=m.ProgrammingJobStatus.PENDING
            )),
            "RemoteJob": lambda made: _add(s, m.RemoteJob(
                key_id=key, kind=next(iter(m.RemoteJobKind)),
                status=m.RemoteJobStatus.PENDING,
            )),
            "RemoteDevice": lambda made: _add(s, m.RemoteDevice(
                domain_id=domain, name="Wall", kind=next(iter(m.RemoteDeviceKind)),
                serial=_hex(6), firmware_version="5.0", bootloader_version="1.0",
            )),
            "CertificateBundle": lambda made: _add(s, m.CertificateBundle(name="CCB")),
            "Firmware": lambda made: _add(s, m.Firmware(
                target=next(iter(m.FirmwareTarget)), version="1.0",
                source=next(iter(m.FirmwareSource)),
                certificate_bundle_id=made["CertificateBundle"].id,
                image=b"", sha256="0" * 64,
            )),
            "ReadoutRequest": lambda made: _add(s, m.ReadoutRequest(
                reason="audit", status=next(iter(m.ReadoutStatus)),
                requested_by_id=made["ProgrammingKey"].id, key_id=key,
            )),
            "Extension": lambda made: _add(s, m.Extension(file_id=_hex(8), content={})),
            "Bridge": lambda made: _add(s, m.Bridge(domain_id=domain, name="Desk")),
            "BridgeCommand": lambda made: _add(s, m.BridgeCommand(
                bridge_id=made["Bridge"].id, domain_id=domain,
                kind=next(iter(m.BridgeCommandKind)), status=next(iter(m.BridgeCommandStatus)),
                payload={},
            )),
        }
        made: dict[str, Any] = {}
        for name, make in rows.items():  # in order: later rows refer to earlier ones
            made[name] = await make(made)
        await s.commit()
        return {name: row.id for name, row in made.items()}


async def _add(session: AsyncSession, row: Any) -> Any:
    session.add(row)
    await session.flush()
    return row


async def test_every_node_type_is_read_back_by_its_id_and_never_across_tenants(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: one row of every node type in our tenant and in another one
    ours = await _one_of_each(database, tenant, await seed_elements(database, tenant))
    theirs = await _one_of_each(
        database, other_tenant, await seed_elements(database, other_tenant, prefix="T")
    )
    assert sorted(ours) == NODE_TYPES, "build one of each node type of the schema here"
    ids = {name: to_global_id(name, ident) for name, ident in ours.items()}
    # when: each is asked for by id, one by one and all at once
    one_by_one = {
        name: (await gql(NODE, {"id": gid}))["node"] for name, gid in ids.items()
    }
    together = (await gql(NODES, {"ids": list(ids.values())}))["nodes"]
    # then: each comes back as itself
    expected = [{"__typename": name, "id": gid} for name, gid in ids.items()]
    assert list(one_by_one.values()) == expected
    assert together == expected
    # and another tenant's ids read null, whatever their type (R1)
    foreign = [to_global_id(name, ident) for name, ident in theirs.items()]
    assert (await gql(NODES, {"ids": foreign}))["nodes"] == [None] * len(foreign)
    for gid in foreign:
        assert (await gql(NODE, {"id": gid}))["node"] is None
