"""The root Query: each area's query fields composed into one type (mutations: mutations.py)."""

from __future__ import annotations

import strawberry

from app.schema.audit import AuditQuery
from app.schema.auth import AuthQuery
from app.schema.blocking import BlockingListQuery
from app.schema.bridges import BridgeQuery
from app.schema.dashboard import DashboardQuery
from app.schema.queries import CoreQuery


@strawberry.type
class Query(
    BlockingListQuery, CoreQuery, AuditQuery, BridgeQuery, AuthQuery, DashboardQuery
):
    """Every read of the API; the tenant comes from the credential (R1)."""
