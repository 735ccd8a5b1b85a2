"""All persistent models; importing this package registers every table on ``Base.metadata``."""

from app.models.base import Base, TenantScoped, utcnow
from app.models.bridges import (
    Bridge,
    BridgeCommand,
    BridgeCommandKind,
    BridgeCommandStatus,
    BridgeLogin,
    BridgeLoginStatus,
    BridgeNonce,
)
from app.models.devices import DeviceNonce, DeviceTraceLog, KeyRevalidation
from app.models.elements import (
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    Cylinder,
    CylinderGroup,
    CylinderGroupAuthorization,
    CylinderGroupMember,
    DirectAuthorization,
    EmployeeAccessProfile,
    Key,
    KeyAccessProfile,
    KeyGroup,
    KeyGroupMember,
    KeyWithdrawal,
    Schedule,
)
from app.models.enums import *
from app.models.operations import (
    AuditEvent,
    BlockingList,
    CertificateBundle,
    Extension,
    Firmware,
    FirmwareDeployment,
    ProgrammingJob,
    ProgrammingJobChange,
    ReadoutRequest,
    RemoteDevice,
    RemoteJob,
)
from app.models.people import (
    ApiToken,
    Employee,
    LoginChallenge,
    LoginSession,
    ProgrammingKey,
    SignInLink,
)
from app.models.tenancy import (
    Domain,
    OutboxMessage,
    ProgrammingKeyDomain,
    ProgrammingKeyRole,
    Role,
    Tenant,
    TrustedVendorKey,
    new_tenant_id,
)
from app.models.workers import PeriodicLease

__all__ = [name for name in dir() if not name.startswith("_")]
