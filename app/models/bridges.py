"""Site bridges: the agent on a customer's PC that reaches a desk programming device (R5, R22).

A bridge belongs to one tenant and one domain (R1, R8). It is enrolled once with
a one-time code and from then on authenticates with its Ed25519 key; the server
queues commands for it (read or write a key, load programming jobs, ...) and the
agent reports each one back exactly once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Id, TenantScoped, UTCDateTime, enum_column, utcnow


class BridgeCommandKind(enum.Enum):
    """What a bridge is asked to do at its desk programming device."""

    READ_KEY = "READ_KEY"
    WRITE_KEY = "WRITE_KEY"
    LOAD_PROGRAMMING_JOBS = "LOAD_PROGRAMMING_JOBS"
    READ_PROGRAMMING_RESULTS = "READ_PROGRAMMING_RESULTS"
    READ_AUDIT_TRAIL = "READ_AUDIT_TRAIL"
    UPDATE_KEY_FIRMWARE = "UPDATE_KEY_FIRMWARE"
    SIGN_LOGIN = "SIGN_LOGIN"


class BridgeCommandStatus(enum.Enum):
    """QUEUED until first delivered, SENT until reported, then DONE or FAILED (or CANCELLED)."""

    QUEUED = "QUEUED"
    SENT = "SENT"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class BridgeLoginStatus(enum.Enum):
    """A browser login through a bridge (R5): waiting for the key, signed, or not."""

    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


class Bridge(TenantScoped, Base):
    """A bridge agent at a customer site, serving one desk programming device (R22).

    Created with a one-time enrolment code (valid 24 hours, stored as its SHA-256,
    spent by the enrolment); ``public_key`` is the agent's raw Ed25519 public key,
    set when it enrols. ``online_until`` is a lease the live ``bridgeCommands``
    subscription renews: the bridge is online while it lies in the future, in
    whichever API process holds the connection. A revoked bridge is refused.
    """

    __tablename__ = "bridges"
    __table_args__ = (Index("ix_bridges_enrolment_code", "tenant_id", "enrolment_code_hash"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    enrolment_code_hash: Mapped[str | None] = mapped_column(String(64))
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    online_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The subscription holding the lease: a closing older connection leaves a newer one online.
    connection_id: Mapped[str | None] = mapped_column(String(32))
    agent_version: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BridgeCommand(TenantScoped, Base):
    """One thing a bridge is asked to do, and what came of it (R17, R18, R26, R28).

    ``payload`` is computed by the server when the command is queued; a
    SIGN_LOGIN command's PIN is never in it (it travels only in the live message
    to the bridge, R5, R37). ``domain_id`` is the bridge's (R8: commands are seen
    with their bridge). ``scope_domain_ids`` are the domains of the principal
    that queued it (None: all): the report's effects run within them.
    """

    __tablename__ = "bridge_commands"
    __table_args__ = (Index("ix_bridge_commands_open", "tenant_id", "bridge_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    bridge_id: Mapped[int] = mapped_column(ForeignKey("bridges.id", ondelete="CASCADE"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    kind: Mapped[BridgeCommandKind] = mapped_column(enum_column(BridgeCommandKind))
    status: Mapped[BridgeCommandStatus] = mapped_column(
        enum_column(BridgeCommandStatus), default=BridgeCommandStatus.QUEUED
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("programming_keys.id"))
    created_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    scope_domain_ids: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A long command under way (a key's firmware at the desk): bytes done of total.
    progress_done: Mapped[int | None] = mapped_column()
    progress_total: Mapped[int | None] = mapped_column()


class BridgeLogin(TenantScoped, Base):
    """A browser login through a bridge (R5): a challenge the programming key in the desk signs.

    The browser holds ``secret`` (stored as its SHA-256) to poll for the outcome;
    the session token is created and handed out once, when the signed login is
    finished (``token_issued_at``). ``programming_key_id`` is the key that signed.
    """

    __tablename__ = "bridge_logins"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    bridge_id: Mapped[int] = mapped_column(
        ForeignKey("bridges.id", ondelete="CASCADE"), index=True
    )
    command_id: Mapped[int | None] = mapped_column(
        ForeignKey("bridge_commands.id", ondelete="SET NULL")
    )
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[BridgeLoginStatus] = mapped_column(
        enum_column(BridgeLoginStatus), default=BridgeLoginStatus.PENDING
    )
    programming_key_id: Mapped[int | None] = mapped_column(ForeignKey("programming_keys.id"))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BridgeNonce(TenantScoped, Base):
    """A nonce a bridge signed a connection or download with, kept while a replay could pass.

    Like a device's request nonce (R23): stored until the signed timestamp's
    allowed skew has passed, after which the timestamp alone refuses a replay.
    """

    __tablename__ = "bridge_nonces"
    __table_args__ = (
        UniqueConstraint("tenant_id", "bridge_id", "nonce"),
        Index("ix_bridge_nonces_expiry", "tenant_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    bridge_id: Mapped[int] = mapped_column(ForeignKey("bridges.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
