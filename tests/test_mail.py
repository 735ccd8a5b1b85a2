"""E-mail (app.mail, R33): outbox messages and who receives them, chosen in one place."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.db import Database
from app.mail import builtin_role_emails, holder_email, mail_holder, queue_mail, role_holders
from app.models import (
    Domain,
    Employee,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    Role,
)
from app.tenants.service import NewTenant


async def _key(
    database: Database,
    tenant: NewTenant,
    *,
    email: str | None,
    roles: tuple[str, ...] = (),
    status: ProgrammingKeyStatus = ProgrammingKeyStatus.ACTIVE,
    domain_id: int | None = None,
    holder: bool = True,
) -> int:
    """A programming key (of a holder with ``email`` in ``domain_id``) with built-in roles."""
    async with database.tenant_session(tenant.tenant_id) as s:
        employee = None
        if holder:
            employee = Employee(
                domain_id=domain_id or tenant.default_domain_id,
                first_name="Hanna",
                last_name=f"Holder-{secrets.token_hex(2)}",
                email=email,
            )
            s.add(employee)
            await s.flush()
        key = ProgrammingKey(
            marking=f"PK-{secrets.token_hex(3)}",
            uid=secrets.token_hex(8),
            kind=ProgrammingKeyKind.SUB,
            status=status,
            firmware_version="12.3.0",
            holder_id=employee.id if employee else None,
            public_key=b"k" * 32,
        )
        s.add(key)
        await s.flush()
        for name in roles:
            role_id = await s.scalar(select(Role.id).where(Role.name == name))
            s.add(ProgrammingKeyRole(programming_key_id=key.id, role_id=role_id))
        await s.commit()
        return key.id


async def test_queue_mail_writes_one_outbox_message_per_recipient(
    database: Database, tenant: NewTenant
) -> None:
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        queue_mail(s, kind="test", recipients=["a@example.com", "b@example.com"],
                   subject="Hi", body="Body")
        await s.commit()
    # then
    async with database.tenant_session(tenant.tenant_id) as s:
        rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)))
    assert [(m.kind, m.recipient, m.subject, m.body, m.sent_at) for m in rows] == [
        ("test", "a@example.com", "Hi", "Body", None),
        ("test", "b@example.com", "Hi", "Body", None),
    ]


async def test_the_holder_is_greeted_by_name_and_found_in_any_domain(
    database: Database, tenant: NewTenant
) -> None:
    # given: the holder is in a domain the caller's session does not see (R8)
    async with database.tenant_session(tenant.tenant_id) as s:
        other = Domain(name="Elsewhere")
        s.add(other)
        await s.commit()
        other_id = other.id
    key_id = await _key(database, tenant, email=" hanna@example.com ", domain_id=other_id)
    # when
    async with database.tenant_session(tenant.tenant_id, [tenant.default_domain_id]) as s:
        key = await s.get(ProgrammingKey, key_id)
        assert key is not None
        address = await holder_email(s, key)
        message = await mail_holder(s, key, kind="test", subject="Jobs", body="Visit C-1.\n")
        await s.commit()
    # then
    assert address == "hanna@example.com"
    assert message is not None and message.recipient == "hanna@example.com"
    assert message.body.startswith("Hello Hanna Holder-")
    assert message.body.endswith(",\n\nVisit C-1.\n")


async def test_no_mail_for_a_key_without_holder_or_with_a_blank_address(
    database: Database, tenant: NewTenant
) -> None:
    blank = await _key(database, tenant, email="  ")
    nobody = await _key(database, tenant, email=None, holder=False)
    async with database.tenant_session(tenant.tenant_id) as s:
        for key_id in (blank, nobody):
            key = await s.get(ProgrammingKey, key_id)
            assert key is not None
            assert await holder_email(s, key) is None
            assert await mail_holder(s, key, kind="test", subject="S", body="B") is None
        assert await s.scalar(select(OutboxMessage.id)) is None


async def test_role_recipients_are_active_keys_holders_with_an_address_each_once(
    database: Database, tenant: NewTenant
) -> None:
    # given
    both = await _key(database, tenant, email="both@example.com", roles=("Superadmin", "Admin"))
    await _key(database, tenant, email="admin@example.com", roles=("Admin",))
    await _key(database, tenant, email="lost@example.com", roles=("Superadmin",),
               status=ProgrammingKeyStatus.LOST)
    await _key(database, tenant, email=None, roles=("Superadmin",))
    await _key(database, tenant, email="approver@example.com", roles=("Approver",))
    async with database.tenant_session(tenant.tenant_id) as s:
        # when
        superadmins = await builtin_role_emails(s, ["Superadmin"])
        admins = await builtin_role_emails(s, ["Superadmin", "Admin"])
        named = Role.name.in_(["Superadmin", "Admin"])
        role_ids = list(await s.scalars(select(Role.id).where(named)))
        holders = await role_holders(s, role_ids)
        others = await role_holders(s, role_ids, exclude_key_id=both)
        none = await role_holders(s, [])
    # then
    assert superadmins == ["both@example.com"]
    assert admins == ["admin@example.com", "both@example.com"]
    assert sorted(h.email for h in holders) == ["admin@example.com", "both@example.com"]
    assert [h.email for h in others] == ["admin@example.com"]
    assert none == []
