"""The plumbing of every object type: fields read off a row, related rows, Relay connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import select

from app.schema.common import (
    PageInfo,
)
from app.schema.context import Info
from app.schema.relay import Page, encode_cursor, fetch_page, page_size, to_global_id


def column(attribute: str, graphql_type: Any, description: str | None = None) -> Any:
    """A field read straight off the wrapped model row (``self.row.<attribute>``)."""

    def resolve(root: Any) -> Any:
        return getattr(root.row, attribute)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description)


T = TypeVar("T")


async def child_connection(
    info: Info,
    model: Any,
    fk_name: str,
    parent_id: int,
    node_type: Any,
    first: int | None,
    after: str | None,
) -> Any:
    """A parent's children as a connection; first pages of many parents load together."""
    if after is not None:  # a later page of one parent: keyset as everywhere
        stmt = select(model).where(getattr(model, fk_name) == parent_id)
        page = await fetch_page(info.context.db.execute, stmt, [model.id], first=first, after=after)
        return Connection[node_type].from_page(page, node_type)
    loaders = info.context.loaders
    rows, has_next = await loaders.child_pages(model, fk_name, page_size(first)).load(parent_id)
    page = Page(rows, [encode_cursor([r.id]) for r in rows], has_next, False, count_stmt=None)
    connection = Connection[node_type].from_page(page, node_type)
    connection.count_loader = lambda: loaders.child_counts(model, fk_name).load(parent_id)
    return connection


async def related(info: Info, model: type, ident: int | None, wrap: Callable[..., T]) -> T | None:
    """The row ``ident`` of ``model`` through the request's loader, wrapped; None when there is
    none or the caller may not see it (R1, R8)."""
    if ident is None:
        return None
    row = await info.context.loaders.by_id(model).load(ident)
    return wrap(row=row) if row is not None else None


def gid(row: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(type(row).__name__, row.id))


# --- connections -------------------------------------------------------------
# Strawberry names the specialisations after the node: Edge[Key] is KeyEdge,
# Connection[Key] is KeyConnection, as the contract spells them.

NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count_stmt: strawberry.Private[Any]
    # Nested connections count through a loader instead: one statement for all parents.
    count_loader: strawberry.Private[Any] = None

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        """Counted only when asked for: one statement, independent of the page."""
        if self.count_loader is not None:
            return int(await self.count_loader())
        return int(await info.context.db.scalar(self.count_stmt))

    @classmethod
    def from_page(cls, page: Page, node_type: Callable[..., NodeT]) -> Connection[NodeT]:
        return cls(
            edges=[
                Edge(node=node_type(row=row), cursor=cursor)
                for row, cursor in zip(page.rows, page.cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            count_stmt=page.count_stmt,
        )
