"""Tenants, their domains and the vendor keys they trust (R1, R2, R8, R31)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Id, TenantScoped, UTCDateTime, enum_column, utcnow
from app.models.enums import HostingMode


def new_tenant_id() -> str:
    return str(uuid.uuid4())


class Tenant(Base):
    """One customer installation (R1): everything a customer owns hangs off it.

    ``approver_function`` is chosen at creation and never changes (R29).
    ``signing_key`` is the tenant's Ed25519 private key (raw 32 bytes) that signs
    its key blocking lists (R21).
    """

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_tenant_id)
    name: Mapped[str] = mapped_column(String(200))
    hosting_mode: Mapped[HostingMode] = mapped_column(enum_column(HostingMode))
    data_center_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    approver_function: Mapped[bool] = mapped_column(Boolean, default=False)
    flexible_extensions: Mapped[bool] = mapped_column(Boolean, default=False)
    signing_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedVendorKey(TenantScoped, Base):
    """A vendor public key (Ed25519) whose signatures on factory data the tenant accepts (R31)."""

    __tablename__ = "trusted_vendor_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "public_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64))  # hex of the raw 32-byte key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Domain(TenantScoped, Base):
    """A partition of the locking system for delegated administration (R8)."""

    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Role(TenantScoped, Base):
    """A named bundle of rights (R7). Built-in roles cannot be edited."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    rights: Mapped[list[str]] = mapped_column(JSON, default=list)


class OutboxMessage(TenantScoped, Base):
    """An e-mail written in the same transaction as the change that causes it (R33)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ProgrammingKeyRole(TenantScoped, Base):
    __tablename__ = "programming_key_roles"

    programming_key_id: Mapped[int] = mapped_column(
        ForeignKey("programming_keys.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class ProgrammingKeyDomain(TenantScoped, Base):
    __tablename__ = "programming_key_domains"

    programming_key_id: Mapped[int] = mapped_column(
        ForeignKey("programming_keys.id", ondelete="CASCADE"), primary_key=True
    )
    domain_id: Mapped[int] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True
    )
