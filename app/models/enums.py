"""The domain's enumerations, shared by the models and the GraphQL schema."""

from __future__ import annotations

import enum


class HostingMode(enum.Enum):
    """R2: hosted by us (many tenants) or purchased and run by the customer."""

    HOSTED = "HOSTED"
    PURCHASED = "PURCHASED"


class KeyType(enum.Enum):
    """R10: E1 has no clock, E2 adds clock and audit trail, E3 adds remote updates."""

    E1 = "E1"
    E2 = "E2"
    E3 = "E3"


class KeyGeneration(enum.Enum):
    """R10: ASIC1 (firmware up to 6.x) or ASIC2 (10.x and up)."""

    GEN1 = "GEN1"
    GEN2 = "GEN2"


class KeyStatus(enum.Enum):
    NOT_ACTIVATED = "NOT_ACTIVATED"
    IN_STOCK = "IN_STOCK"
    ISSUED = "ISSUED"
    LOST = "LOST"
    DEFECTIVE = "DEFECTIVE"


class CylinderStatus(enum.Enum):
    NOT_ACTIVATED = "NOT_ACTIVATED"
    ACTIVE = "ACTIVE"
    DEFECTIVE = "DEFECTIVE"


class ProgrammingKeyKind(enum.Enum):
    """R5: main (PR), submaster (PSM) or sub (PN) programming key."""

    MAIN = "MAIN"
    SUBMASTER = "SUBMASTER"
    SUB = "SUB"


class ProgrammingKeyStatus(enum.Enum):
    NOT_ACTIVATED = "NOT_ACTIVATED"
    ACTIVE = "ACTIVE"
    LOST = "LOST"


class Weekday(enum.Enum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ProgrammingJobStatus(enum.Enum):
    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    ON_KEY = "ON_KEY"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class AccessChangeOp(enum.Enum):
    ADD = "ADD"
    REMOVE = "REMOVE"


class RemoteJobKind(enum.Enum):
    VALIDITY = "VALIDITY"
    SCHEDULE = "SCHEDULE"
    AUTHORIZATIONS = "AUTHORIZATIONS"
    FIRMWARE = "FIRMWARE"
    BLOCK = "BLOCK"
    AUDIT_READOUT = "AUDIT_READOUT"


class RemoteJobStatus(enum.Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class RemoteDeviceKind(enum.Enum):
    WALL = "WALL"
    MOBILE = "MOBILE"
    DESK = "DESK"


class FirmwareTarget(enum.Enum):
    KEY_GEN1 = "KEY_GEN1"
    KEY_GEN2 = "KEY_GEN2"
    REMOTE_DEVICE = "REMOTE_DEVICE"
    REMOTE_BOOTLOADER = "REMOTE_BOOTLOADER"


class FirmwareSource(enum.Enum):
    DATA_CENTER = "DATA_CENTER"
    MANUAL = "MANUAL"


class ReadoutStatus(enum.Enum):
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    DONE = "DONE"


class AccessResult(enum.Enum):
    GRANTED = "GRANTED"
    DENIED_NOT_AUTHORIZED = "DENIED_NOT_AUTHORIZED"
    DENIED_SCHEDULE = "DENIED_SCHEDULE"
    DENIED_EXPIRED = "DENIED_EXPIRED"
    DENIED_BLOCKED = "DENIED_BLOCKED"


class AuditSource(enum.Enum):
    """R28: an audit event is read out of a cylinder or out of an E2/E3 key."""

    CYLINDER = "CYLINDER"
    KEY = "KEY"
