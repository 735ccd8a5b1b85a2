"""The key blocking list (R21) as the API serves it, and the key that verifies it."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from app.access.blocking_list import ensure_blocking_list, tenant_public_key
from app.models import BlockingList as BlockingListRow
from app.models import Tenant
from app.schema.context import Info
from app.schema.types import BlockingList


def _served(row: BlockingListRow) -> BlockingList:
    return BlockingList(
        version=row.version,
        issued_at=row.issued_at,
        valid_until=row.valid_until,
        key_uids=list(row.key_uids),
        signature=row.signature,
    )


@strawberry.type
class BlockingListQuery:
    @strawberry.field(
        description="The current signed key blocking list (R21); the first one is issued on "
        "first use."
    )
    async def blocking_list(self, info: Info) -> BlockingList:
        principal = info.context.require("blocking_list.read")
        row = await info.context.db.scalar(
            select(BlockingListRow).order_by(BlockingListRow.version.desc()).limit(1)
        )
        if row is None:
            # A read must not write in the request's transaction: version 1 is issued
            # and committed in a short transaction of its own (which re-checks under
            # the tenant's lock, so concurrent first reads issue it once).
            async with info.context.database.tenant_session(principal.tenant_id) as session:
                row = await ensure_blocking_list(session)
                await session.commit()
        return _served(row)

    @strawberry.field(
        description="Hex of the tenant's Ed25519 public key, which verifies blockingList's "
        "signature (R21)."
    )
    async def tenant_public_key(self, info: Info) -> str:
        info.context.require_any()
        tenant = await info.context.db.scalar(select(Tenant))
        return tenant_public_key(tenant).hex()
