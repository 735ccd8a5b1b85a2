"""What the remote-device endpoint keeps: request nonces and key revalidations (R14, R23, R24)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Id, TenantScoped, UTCDateTime, utcnow


class DeviceNonce(TenantScoped, Base):
    """A nonce a remote device used to sign a request, kept while a replay could be accepted.

    A signed request is accepted once: its nonce is stored for its device until
    ``expires_at`` (the request's timestamp plus the allowed clock skew), after
    which the timestamp alone refuses a replay and the row can go (R23).
    """

    __tablename__ = "device_nonces"
    __table_args__ = (
        UniqueConstraint("tenant_id", "device_id", "nonce"),
        Index("ix_device_nonces_expiry", "tenant_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("remote_devices.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyRevalidation(TenantScoped, Base):
    """A key's validity extended at a remote device, online or offline (R14, R24).

    Online: written when the server answers a key insertion with a new validity
    end. Offline: a wall device granted it on its own, within its offline
    settings, and reported it with its next heartbeat (``reported_at``). The
    history of revalidations tells when a key is next expected at a device (R34).
    ``key_id`` is None when the device reported a UID the tenant does not know.
    """

    __tablename__ = "key_revalidations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "device_id", "key_uid", "at"),
        Index("ix_key_revalidations_key", "tenant_id", "key_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("keys.id", ondelete="SET NULL"))
    key_uid: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int] = mapped_column(ForeignKey("remote_devices.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeviceTraceLog(TenantScoped, Base):
    """A trace log a wall device wrote to a USB stick, uploaded to be read (R27)."""

    __tablename__ = "device_trace_logs"
    __table_args__ = (UniqueConstraint("tenant_id", "device_id", "request_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("remote_devices.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    log: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
