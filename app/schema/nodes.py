"""The one registry of Relay node types: which GraphQL type shows which row, and who sees it.

``node(id:)`` and ``nodes(ids:)`` (app.schema.queries) answer any id of a type listed
here, for a caller holding the right named with it (R7), through the request's
tenant- and domain-scoped loaders (R1, R8); anything else reads null. A new node
type is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app import models as m
from app.schema import types as t
from app.schema.bridges import Bridge, BridgeCommand


@dataclass(frozen=True)
class NodeKind:
    """A node type of the API: its GraphQL type, the row it shows, the right to see it (R7)."""

    graphql_type: Any
    model: Any
    right: str


NODES: dict[str, NodeKind] = {
    kind.graphql_type.__name__: kind
    for kind in (
        NodeKind(t.Role, m.Role, "roles.read"),
        NodeKind(t.Domain, m.Domain, "domains.read"),
        NodeKind(t.Employee, m.Employee, "employees.read"),
        NodeKind(t.Schedule, m.Schedule, "keys.read"),
        NodeKind(t.AccessProfile, m.AccessProfile, "keys.read"),
        NodeKind(t.KeyGroup, m.KeyGroup, "keys.read"),
        NodeKind(t.CylinderGroup, m.CylinderGroup, "cylinders.read"),
        NodeKind(t.Key, m.Key, "keys.read"),
        NodeKind(t.Cylinder, m.Cylinder, "cylinders.read"),
        NodeKind(t.ProgrammingKey, m.ProgrammingKey, "programming_keys.read"),
        NodeKind(t.ProgrammingJob, m.ProgrammingJob, "jobs.read"),
        NodeKind(t.RemoteJob, m.RemoteJob, "jobs.read"),
        NodeKind(t.RemoteDevice, m.RemoteDevice, "devices.read"),
        NodeKind(t.CertificateBundle, m.CertificateBundle, "firmware.read"),
        NodeKind(t.Firmware, m.Firmware, "firmware.read"),
        NodeKind(t.ReadoutRequest, m.ReadoutRequest, "readout.read"),
        NodeKind(t.Extension, m.Extension, "extensions.read"),
        # Bridges and their commands are seen with devices.read, in the caller's domains
        # (R8, through the automatic domain scope of both tables).
        NodeKind(Bridge, m.Bridge, "devices.read"),
        NodeKind(BridgeCommand, m.BridgeCommand, "devices.read"),
    )
}
