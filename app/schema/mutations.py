"""The root Mutation: each area's mutations composed into one type."""

from __future__ import annotations

import strawberry

from app.schema.access import AccessMutations
from app.schema.approval import ApprovalMutations
from app.schema.auth import AuthMutations
from app.schema.bridges import BridgeMutations
from app.schema.cylinders import CylinderMutations
from app.schema.devices import DeviceMutations
from app.schema.domains import DomainMutations
from app.schema.employees import EmployeeMutations
from app.schema.extensions import ExtensionMutations
from app.schema.firmware import FirmwareMutations
from app.schema.keys import KeyMutations
from app.schema.programming import ProgrammingMutations
from app.schema.settings import SettingsMutations


@strawberry.type
class Mutation(
    AuthMutations,
    EmployeeMutations,
    ExtensionMutations,
    AccessMutations,
    KeyMutations,
    SettingsMutations,
    ApprovalMutations,
    DeviceMutations,
    ProgrammingMutations,
    FirmwareMutations,
    BridgeMutations,
    DomainMutations,
    CylinderMutations,
):
    """Every mutation takes one input and answers a payload whose errors are UserErrors."""
