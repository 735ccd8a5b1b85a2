"""Jobs, devices, firmware, factory data, audit trails and approvals (R15–R33)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Id, TenantScoped, UTCDateTime, enum_column, utcnow
from app.models.elements import ONE_OF_THREE
from app.models.enums import (
    AccessChangeOp,
    AccessResult,
    AuditSource,
    FirmwareSource,
    FirmwareTarget,
    ProgrammingJobStatus,
    ReadoutStatus,
    RemoteDeviceKind,
    RemoteJobKind,
    RemoteJobStatus,
)


class Extension(TenantScoped, Base):
    """A factory data file for newly ordered elements (R31), imported then activated.

    ``content`` is the verified JSON document; ``file_id`` is the vendor's id for
    the file, so importing the same file twice is recognised.
    """

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("tenant_id", "file_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    file_id: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, object]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_keys: Mapped[int] = mapped_column(default=0)
    new_cylinders: Mapped[int] = mapped_column(default=0)
    clones: Mapped[int] = mapped_column(default=0)


class ProgrammingJob(TenantScoped, Base):
    """Changes to one cylinder's programmed access list, carried out on site (R15).

    ``full_reprogram`` writes the whole desired access list (clones R32, broken-off
    jobs R15) instead of individual changes.
    """

    __tablename__ = "programming_jobs"
    __table_args__ = (Index("ix_programming_jobs_open", "tenant_id", "cylinder_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cylinder_id: Mapped[int] = mapped_column(ForeignKey("cylinders.id", ondelete="CASCADE"))
    status: Mapped[ProgrammingJobStatus] = mapped_column(
        enum_column(ProgrammingJobStatus), default=ProgrammingJobStatus.PENDING
    )
    full_reprogram: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("programming_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProgrammingJobChange(TenantScoped, Base):
    """One addition or removal of a key, key group or cylinder-group membership a job carries."""

    __tablename__ = "programming_job_changes"
    __table_args__ = (CheckConstraint(ONE_OF_THREE, name="one_subject"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("programming_jobs.id", ondelete="CASCADE"), index=True
    )
    op: Mapped[AccessChangeOp] = mapped_column(enum_column(AccessChangeOp))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"))
    key_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_groups.id", ondelete="CASCADE")
    )
    cylinder_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("cylinder_groups.id", ondelete="CASCADE")
    )


class RemoteDevice(TenantScoped, Base):
    """A wall, mobile or desk programming device (R22) and its offline settings (R24)."""

    __tablename__ = "remote_devices"
    __table_args__ = (UniqueConstraint("tenant_id", "serial"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RemoteDeviceKind] = mapped_column(enum_column(RemoteDeviceKind))
    serial: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    firmware_version: Mapped[str] = mapped_column(String(32))
    bootloader_version: Mapped[str] = mapped_column(String(32))
    heartbeat_interval_seconds: Mapped[int] = mapped_column(default=60)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    system_linked: Mapped[bool] = mapped_column(Boolean, default=False)
    potential_free_output: Mapped[bool] = mapped_column(Boolean, default=False)
    updater_gen1: Mapped[bool] = mapped_column(Boolean, default=False)
    updater_gen2: Mapped[bool] = mapped_column(Boolean, default=False)
    offline_max_updates: Mapped[int | None] = mapped_column()
    offline_max_hours_since_online: Mapped[int | None] = mapped_column()
    offline_blocking_list_validity_hours: Mapped[int | None] = mapped_column()
    offline_extension_hours: Mapped[int | None] = mapped_column()
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteJob(TenantScoped, Base):
    """A change carried to an E3 key when it meets a remote device (R18)."""

    __tablename__ = "remote_jobs"
    __table_args__ = (Index("ix_remote_jobs_open", "tenant_id", "key_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"))
    kind: Mapped[RemoteJobKind] = mapped_column(enum_column(RemoteJobKind))
    status: Mapped[RemoteJobStatus] = mapped_column(
        enum_column(RemoteJobStatus), default=RemoteJobStatus.PENDING
    )
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    delivered_via_id: Mapped[int | None] = mapped_column(ForeignKey("remote_devices.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CertificateBundle(TenantScoped, Base):
    """A certificate bundle (CCB) that firmware is issued for (R25)."""

    __tablename__ = "certificate_bundles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Firmware(TenantScoped, Base):
    """A signature-checked firmware image for keys or remote devices (R25, R26)."""

    __tablename__ = "firmware"
    __table_args__ = (UniqueConstraint("tenant_id", "target", "version", "certificate_bundle_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    target: Mapped[FirmwareTarget] = mapped_column(enum_column(FirmwareTarget))
    version: Mapped[str] = mapped_column(String(32))
    source: Mapped[FirmwareSource] = mapped_column(enum_column(FirmwareSource))
    certificate_bundle_id: Mapped[int] = mapped_column(ForeignKey("certificate_bundles.id"))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied: Mapped[bool] = mapped_column(Boolean, default=False)


class FirmwareDeployment(TenantScoped, Base):
    """Progress of one firmware image on one remote device, chunk by chunk (R25)."""

    __tablename__ = "firmware_deployments"
    __table_args__ = (UniqueConstraint("tenant_id", "device_id", "firmware_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("remote_devices.id", ondelete="CASCADE"))
    firmware_id: Mapped[int] = mapped_column(ForeignKey("firmware.id", ondelete="CASCADE"))
    offset: Mapped[int] = mapped_column(default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReadoutRequest(TenantScoped, Base):
    """A request to read an audit trail through a remote device, decided by an Approver (R29)."""

    __tablename__ = "readout_requests"
    __table_args__ = (
        CheckConstraint("(key_id IS NULL) <> (cylinder_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"))
    cylinder_id: Mapped[int | None] = mapped_column(ForeignKey("cylinders.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReadoutStatus] = mapped_column(enum_column(ReadoutStatus))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("programming_keys.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("programming_keys.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class BlockingList(TenantScoped, Base):
    """A versioned, signed key blocking list (R21)."""

    __tablename__ = "blocking_lists"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_uids: Mapped[list[str]] = mapped_column(JSON, default=list)
    signature: Mapped[str] = mapped_column(String(200))


class AuditEvent(TenantScoped, Base):
    """One access attempt read out of a cylinder or a key (R28)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_cylinder", "tenant_id", "cylinder_id", "at"),
        Index("ix_audit_events_key", "tenant_id", "key_id", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[AuditSource] = mapped_column(enum_column(AuditSource))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("keys.id", ondelete="SET NULL"))
    # A foreign key (another system's) is kept by its UID only.
    key_uid: Mapped[str | None] = mapped_column(String(64))
    cylinder_id: Mapped[int | None] = mapped_column(ForeignKey("cylinders.id", ondelete="SET NULL"))
    result: Mapped[AccessResult] = mapped_column(enum_column(AccessResult))
    # R15 vs R29: a cylinder's trail read out by a programming visit, with the approver
    # function on and no approved readout request, is kept but shown to nobody until one is.
    withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
