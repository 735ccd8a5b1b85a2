"""The root Query: each area's query fields composed into one type (mutations: mutations.py)."""

from __future__ import annotations

import strawberry

from app.schema.queries import CoreQuery


@strawberry.type
class Query(CoreQuery):
    """Every read of the API; the tenant comes from the credential (R1)."""
