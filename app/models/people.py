"""Employees and the credentials of administrators: programming keys and API tokens (R4–R9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Id, TenantScoped, UTCDateTime, enum_column, utcnow
from app.models.enums import ProgrammingKeyKind, ProgrammingKeyStatus
from app.models.tenancy import Domain, Role


class Employee(TenantScoped, Base):
    """A person who holds keys (R4). The employee number is the identity imports use."""

    __tablename__ = "employees"
    __table_args__ = (UniqueConstraint("tenant_id", "employee_number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    employee_number: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    department: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProgrammingKey(TenantScoped, Base):
    """An administrator's credential (R5): main (PR), submaster (PSM) or sub (PN) key.

    ``public_key`` is the raw Ed25519 public key whose private half lives in the
    key's chip; login is a challenge it signs plus the PIN (stored as argon2).
    The main key's PUK (argon2 too) sets a new PIN when the PIN is lost or locked.
    """

    __tablename__ = "programming_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "marking"),
        UniqueConstraint("tenant_id", "uid"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    marking: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ProgrammingKeyKind] = mapped_column(enum_column(ProgrammingKeyKind))
    status: Mapped[ProgrammingKeyStatus] = mapped_column(
        enum_column(ProgrammingKeyStatus), default=ProgrammingKeyStatus.ACTIVE
    )
    firmware_version: Mapped[str] = mapped_column(String(32))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    puk_hash: Mapped[str | None] = mapped_column(String(200))
    failed_pin_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The PUK's own count and lock (R5): a PIN lock-out is what the PUK is for.
    failed_puk_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    puk_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"), index=True)
    # R17: the last time a wall or mobile device refused to load or take back its jobs
    # ({code, message, at, deviceName, deviceSerial}); cleared by the next success there.
    remote_refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[Role]] = relationship(secondary="programming_key_roles", lazy="raise")
    domains: Mapped[list[Domain]] = relationship(secondary="programming_key_domains", lazy="raise")


class ApiToken(TenantScoped, Base):
    """A partner's or script's credential (R9): rights and domains, shown once, stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rights: Mapped[list[str]] = mapped_column(JSON, default=list)
    # None: every domain of the tenant.
    domain_ids: Mapped[list[int] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("programming_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginChallenge(TenantScoped, Base):
    """A one-time nonce a programming key must sign to log in (R5)."""

    __tablename__ = "login_challenges"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    programming_key_id: Mapped[int] = mapped_column(ForeignKey("programming_keys.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInLink(TenantScoped, Base):
    """A one-time link that signs a browser in as a programming key without the key itself:
    for development and self-hosters (``keywarden demo`` prints one for the demo Superadmin).

    Single use, valid minutes, stored as the SHA-256 of its secret.
    """

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    programming_key_id: Mapped[int] = mapped_column(ForeignKey("programming_keys.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(TenantScoped, Base):
    """A session a programming key opened by logging in (R5); its token is stored hashed."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_key", "programming_key_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    programming_key_id: Mapped[int] = mapped_column(ForeignKey("programming_keys.id"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
