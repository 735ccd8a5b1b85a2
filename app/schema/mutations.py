"""The root Mutation: each area's mutations composed into one type."""

from __future__ import annotations

import strawberry

from app.schema.auth import AuthMutations
from app.schema.employees import EmployeeMutations
from app.schema.extensions import ExtensionMutations


@strawberry.type
class Mutation(AuthMutations, EmployeeMutations, ExtensionMutations):
    """Every mutation takes one input and answers a payload whose errors are UserErrors."""
