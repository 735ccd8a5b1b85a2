"""E-mail: the one owner of building outbox messages and choosing their recipients (R33).

Every e-mail the domain sends is an ``OutboxMessage`` added here, in the same
transaction as the change that causes it; ``app.workers.outbox`` delivers it
after the commit. Recipients are chosen here too, in one way: an address is an
employee's e-mail, trimmed, and never blank; holders are found whatever domain
the employee is in (a notice is about the tenant, not about what the caller
sees, R8).

- :func:`queue_mail` — one message per recipient.
- :func:`holder_email` / :func:`mail_holder` — the holder of a programming key.
- :func:`role_holders` / :func:`builtin_role_emails` — the holders of active
  programming keys with given roles (Superadmins of new firmware, R25;
  Superadmins and Admins of an extension, R31; Approvers, R29).
- :func:`main_key_holder_emails` — the holder of the main key, the system's owner
  (told of a new extension, R31: "You as the PR owner ... will receive an e-mail").

The caller owns the transaction: these functions add and flush, never commit,
and the caller calls ``notify_outbox()`` after its commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Employee,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    Role,
)
from app.tenants.scoping import ALL_DOMAINS

_EVERY_DOMAIN = {ALL_DOMAINS: True}


def _address(email: str | None) -> str | None:
    """The address to write to, or None for a missing or blank e-mail."""
    return email.strip() if email and email.strip() else None


def queue_mail(
    session: AsyncSession, *, kind: str, recipients: Iterable[str], subject: str, body: str
) -> list[OutboxMessage]:
    """One outbox message of ``kind`` per recipient, in the caller's transaction (R33)."""
    messages = [
        OutboxMessage(kind=kind, recipient=recipient, subject=subject, body=body)
        for recipient in recipients
    ]
    session.add_all(messages)
    return messages


async def holder_email(session: AsyncSession, key: ProgrammingKey) -> str | None:
    """The e-mail of a programming key's holder, whatever domain the employee is in."""
    if key.holder_id is None:
        return None
    email = await session.scalar(
        select(Employee.email)
        .where(Employee.id == key.holder_id)
        .execution_options(**_EVERY_DOMAIN)
    )
    return _address(email)


async def mail_holder(
    session: AsyncSession, key: ProgrammingKey, *, kind: str, subject: str, body: str
) -> OutboxMessage | None:
    """An e-mail to the programming key's holder, greeted by name (R33); none without an
    address."""
    if key.holder_id is None:
        return None
    holder = await session.scalar(
        select(Employee).where(Employee.id == key.holder_id).execution_options(**_EVERY_DOMAIN)
    )
    address = _address(holder.email) if holder is not None else None
    if holder is None or address is None:
        return None
    [message] = queue_mail(
        session,
        kind=kind,
        recipients=[address],
        subject=subject,
        body=f"Hello {holder.first_name} {holder.last_name},\n\n{body}",
    )
    await session.flush()
    return message


@dataclass(frozen=True)
class RoleHolder:
    """An active programming key holding one of the asked roles, and its holder's address."""

    programming_key_id: int
    kind: ProgrammingKeyKind
    email: str


async def role_holders(
    session: AsyncSession, role_ids: Collection[int], *, exclude_key_id: int | None = None
) -> list[RoleHolder]:
    """Active programming keys with one of ``role_ids`` whose holder has an e-mail, with that
    address (``exclude_key_id`` left out). A key with two of the roles is listed once."""
    if not role_ids:
        return []
    stmt = (
        select(ProgrammingKey.id, ProgrammingKey.kind, Employee.email)
        .join(Employee, Employee.id == ProgrammingKey.holder_id)
        .join(ProgrammingKeyRole, ProgrammingKeyRole.programming_key_id == ProgrammingKey.id)
        .where(
            ProgrammingKeyRole.role_id.in_(role_ids),
            ProgrammingKey.status == ProgrammingKeyStatus.ACTIVE,
            Employee.email.is_not(None),
        )
        .distinct()
        .order_by(ProgrammingKey.id)
        .execution_options(**_EVERY_DOMAIN)
    )
    if exclude_key_id is not None:
        stmt = stmt.where(ProgrammingKey.id != exclude_key_id)
    holders = []
    for key_id, kind, email in (await session.execute(stmt)).all():
        address = _address(email)
        if address is not None:
            holders.append(RoleHolder(key_id, kind, address))
    return holders


async def builtin_role_emails(session: AsyncSession, role_names: Collection[str]) -> list[str]:
    """The addresses of the holders of the built-in roles ``role_names``, sorted, each once."""
    role_ids = list(
        await session.scalars(
            select(Role.id).where(Role.builtin.is_(True), Role.name.in_(role_names))
        )
    )
    return sorted({holder.email for holder in await role_holders(session, role_ids)})


async def main_key_holder_emails(session: AsyncSession) -> list[str]:
    """The address of the active main key's (PR) holder, if it has one (R5, R31)."""
    emails = await session.scalars(
        select(Employee.email)
        .join(ProgrammingKey, ProgrammingKey.holder_id == Employee.id)
        .where(
            ProgrammingKey.kind == ProgrammingKeyKind.MAIN,
            ProgrammingKey.status == ProgrammingKeyStatus.ACTIVE,
        )
        .execution_options(**_EVERY_DOMAIN)
    )
    return sorted({a for a in map(_address, emails) if a is not None})
