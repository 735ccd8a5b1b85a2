"""The locking system's elements and the access model that ties them (R10–R14)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Id, TenantScoped, UTCDateTime, enum_column, utcnow
from app.models.enums import CylinderStatus, KeyGeneration, KeyStatus, KeyType


class Schedule(TenantScoped, Base):
    """When a key opens (R12). ``windows`` is a list of {days, start, end} ("HH:MM").

    Every tenant has the default "Always" (Sunday 00:00 to Saturday 23:59).
    """

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    windows: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Key(TenantScoped, Base):
    """A user key (R10). A key always has a validity and a schedule (R12)."""

    __tablename__ = "keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "marking"),
        UniqueConstraint("tenant_id", "uid"),
        Index("ix_keys_tenant_status", "tenant_id", "status"),
        CheckConstraint(
            "always_valid OR valid_from IS NOT NULL OR valid_until IS NOT NULL", name="validity"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    marking: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(String(64))
    type: Mapped[KeyType] = mapped_column(enum_column(KeyType))
    generation: Mapped[KeyGeneration] = mapped_column(enum_column(KeyGeneration))
    firmware_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[KeyStatus] = mapped_column(enum_column(KeyStatus))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    always_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"), index=True)
    extension_interval_hours: Mapped[int | None] = mapped_column()
    audit_readout_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # R19: a lost key reported with "deprogram" is withdrawn from every cylinder's desired list.
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cylinder(TenantScoped, Base):
    """A cylinder (R11): keeps an access list and an audit trail.

    ``needs_reprogramming`` marks a clone (R32) or a broken-off job (R15) until a
    full reprogramming job has been carried out.
    """

    __tablename__ = "cylinders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "marking"),
        UniqueConstraint("tenant_id", "uid"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    marking: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(String(64))
    status: Mapped[CylinderStatus] = mapped_column(enum_column(CylinderStatus))
    security_relevant: Mapped[bool] = mapped_column(Boolean, default=False)
    is_clone: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_reprogramming: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KeyGroup(TenantScoped, Base):
    """A group of E3 keys that cylinders authorise as a whole (R10, R13)."""

    __tablename__ = "key_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))


class KeyGroupMember(TenantScoped, Base):
    __tablename__ = "key_group_members"

    key_group_id: Mapped[int] = mapped_column(
        ForeignKey("key_groups.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[int] = mapped_column(
        ForeignKey("keys.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CylinderGroup(TenantScoped, Base):
    """Cylinders that take one slot in an E3 key's access list (R13)."""

    __tablename__ = "cylinder_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))


class CylinderGroupMember(TenantScoped, Base):
    __tablename__ = "cylinder_group_members"

    cylinder_group_id: Mapped[int] = mapped_column(
        ForeignKey("cylinder_groups.id", ondelete="CASCADE"), primary_key=True
    )
    cylinder_id: Mapped[int] = mapped_column(
        ForeignKey("cylinders.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CylinderGroupAuthorization(TenantScoped, Base):
    """An E3 key authorised on a cylinder group: one slot in the key's memory (R13)."""

    __tablename__ = "cylinder_group_authorizations"

    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"), primary_key=True)
    cylinder_group_id: Mapped[int] = mapped_column(
        ForeignKey("cylinder_groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AccessProfile(TenantScoped, Base):
    """A named set of cylinders with a schedule and optional extension interval (R13, R14)."""

    __tablename__ = "access_profiles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"))
    extension_interval_hours: Mapped[int | None] = mapped_column()


class AccessProfileCylinder(TenantScoped, Base):
    __tablename__ = "access_profile_cylinders"

    access_profile_id: Mapped[int] = mapped_column(
        ForeignKey("access_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    cylinder_id: Mapped[int] = mapped_column(
        ForeignKey("cylinders.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KeyAccessProfile(TenantScoped, Base):
    __tablename__ = "key_access_profiles"

    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"), primary_key=True)
    access_profile_id: Mapped[int] = mapped_column(
        ForeignKey("access_profiles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class EmployeeAccessProfile(TenantScoped, Base):
    """A profile given to an employee applies to every key they hold (R13)."""

    __tablename__ = "employee_access_profiles"

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    access_profile_id: Mapped[int] = mapped_column(
        ForeignKey("access_profiles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KeyWithdrawal(TenantScoped, Base):
    """A lost key deprogrammed from one cylinder only (R19; FAQ: "deprogrammed of
    security-relevant areas"): it leaves that cylinder's desired list, and stays in the
    others, where the blocking list keeps it out. ``Key.withdrawn`` is the same for every
    cylinder at once."""

    __tablename__ = "key_withdrawals"

    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"), primary_key=True)
    cylinder_id: Mapped[int] = mapped_column(
        ForeignKey("cylinders.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# Exactly one subject per access-list line or job change: key, key group or cylinder group.
ONE_OF_THREE = (
    "(CASE WHEN key_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN key_group_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN cylinder_group_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _one_row_per_subject(table: str) -> tuple[Index, Index]:
    """Partial unique indexes: one row per cylinder and key, and per cylinder and key group.

    A plain unique constraint over (cylinder, key, group) would not catch
    duplicates, since the subject not set is NULL and NULLs never compare equal.
    """
    return (
        Index(
            f"uq_{table}_key", "tenant_id", "cylinder_id", "key_id", unique=True,
            sqlite_where=text("key_id IS NOT NULL"), postgresql_where=text("key_id IS NOT NULL"),
        ),
        Index(
            f"uq_{table}_group", "tenant_id", "cylinder_id", "key_group_id", unique=True,
            sqlite_where=text("key_group_id IS NOT NULL"),
            postgresql_where=text("key_group_id IS NOT NULL"),
        ),
    )


class DirectAuthorization(TenantScoped, Base):
    """A key or key group authorised on one cylinder directly (R13, R16)."""

    __tablename__ = "direct_authorizations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cylinder_id", "key_id", "key_group_id"),
        *_one_row_per_subject("direct_authorizations"),
        CheckConstraint("(key_id IS NULL) <> (key_group_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cylinder_id: Mapped[int] = mapped_column(
        ForeignKey("cylinders.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("keys.id", ondelete="CASCADE"), index=True
    )
    key_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_groups.id", ondelete="CASCADE"), index=True
    )


class AccessEntry(TenantScoped, Base):
    """One line of a cylinder's access list (R11): a key or key group, desired and/or programmed.

    The difference between desired and programmed is exactly the set of open
    programming jobs for the cylinder (R11, R15).
    """

    __tablename__ = "access_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cylinder_id", "key_id", "key_group_id"),
        *_one_row_per_subject("access_entries"),
        Index(
            "uq_access_entries_cylinder_group", "tenant_id", "cylinder_id", "cylinder_group_id",
            unique=True, sqlite_where=text("cylinder_group_id IS NOT NULL"),
            postgresql_where=text("cylinder_group_id IS NOT NULL"),
        ),
        CheckConstraint(ONE_OF_THREE, name="one_subject"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cylinder_id: Mapped[int] = mapped_column(
        ForeignKey("cylinders.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("keys.id", ondelete="CASCADE"), index=True
    )
    key_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_groups.id", ondelete="CASCADE"), index=True
    )
    # The cylinder's membership in a cylinder group (R13): E3 keys authorised on the group open it.
    cylinder_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("cylinder_groups.id", ondelete="CASCADE"), index=True
    )
    desired: Mapped[bool] = mapped_column(Boolean, default=True)
    programmed: Mapped[bool] = mapped_column(Boolean, default=False)
