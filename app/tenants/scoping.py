"""Automatic tenant and domain scoping of ORM statements (R1, R8).

A session opened for a tenant carries ``session.info["tenant_id"]`` (and, for a
principal limited to some domains, ``session.info["domain_ids"]``). Every ORM
SELECT, UPDATE and DELETE gets the matching criteria added, every new row is
stamped with the tenant, and a row of another tenant cannot be flushed. On
PostgreSQL each transaction also sets ``app.tenant_id``, which the row-level
security policies read, so Core and raw SQL are held to the tenant as well.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.models.base import TenantScoped
from app.models.tenancy import Tenant

SKIP_SCOPE = "skip_tenant_scope"
# Execution option: keep the tenant criteria, leave out the domain criteria (for uniqueness
# checks that span the tenant, e.g. employee numbers, R4).
ALL_DOMAINS = "all_domains"


class TenantScopeError(RuntimeError):
    """An ORM statement ran without a tenant, or a row was written into another tenant."""


class DomainScoped:
    """Marker for elements that belong to one domain (R8): keys, cylinders, employees, devices."""


def _domain_classes() -> tuple[type, ...]:
    from app.models import Bridge, BridgeCommand, Cylinder, Employee, Key, RemoteDevice

    # Bridges serve desk devices (R22) and are seen with their commands in their domain (R8).
    return (Key, Cylinder, Employee, RemoteDevice, Bridge, BridgeCommand)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(SKIP_SCOPE) or state.session.info.get(SKIP_SCOPE):
        return
    if state.is_column_load or state.is_relationship_load:
        # The parent statement already carried the criteria (propagate_to_loaders).
        pass
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None:
        raise TenantScopeError(
            "ORM statement without a tenant: open the session with tenant_session()"
        )
    options: list[Any] = [
        with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        ),
        # The tenant row itself: a session sees only its own tenant.
        with_loader_criteria(Tenant, lambda cls: cls.id == tenant_id, include_aliases=True),
    ]
    domain_ids = state.session.info.get("domain_ids")
    if domain_ids is not None and not state.execution_options.get(ALL_DOMAINS):
        allowed = tuple(domain_ids)
        for cls in _domain_classes():
            options.append(
                with_loader_criteria(cls, lambda c: c.domain_id.in_(allowed), include_aliases=True)
            )
    state.statement = state.statement.options(*options)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context: Any, instances: Any) -> None:
    tenant_id = session.info.get("tenant_id")
    if session.info.get(SKIP_SCOPE):
        return
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantScopeError(f"cannot write {type(obj).__name__} without a tenant")
        current = obj.tenant_id
        if current is None:
            obj.tenant_id = tenant_id
        elif current != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} belongs to another tenant")


@event.listens_for(Session, "after_begin")
def _set_tenant_setting(session: Session, transaction: Any, connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = session.info.get("tenant_id")
    if tenant_id is not None:
        connection.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
        )
