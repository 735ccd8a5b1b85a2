"""GraphQL object types of the contract, per area, composed here: thin views over model rows.

- ``base``: fields read off a row, related rows through loaders, Relay connections;
- ``organisation``: tenant, roles, domains, schedules (R7, R8, R12);
- ``devices``: remote devices, firmware, extensions, the blocking list (R21–R27, R31);
- ``locking``: employees, keys, cylinders, programming keys and jobs, remote jobs and
  audit events, which refer to one another (R10–R20, R28);
- ``readouts``: readout requests (R29).

Node types are registered with the right to see them in ``app.schema.nodes``.
"""

from app.schema.types.base import Connection, Edge, child_connection, column, gid, related
from app.schema.types.devices import (
    BlockingList,
    CertificateBundle,
    DeviceTraceLog,
    Extension,
    Firmware,
    FirmwareProgress,
    OfflineUpdateSettings,
    RemoteDevice,
)
from app.schema.types.locking import (
    AccessChange,
    AccessEntry,
    AccessProfile,
    AuditEvent,
    AuditEventConnection,
    Authorization,
    Cylinder,
    CylinderGroup,
    Employee,
    Key,
    KeyGroup,
    ProgrammingJob,
    ProgrammingKey,
    RemoteJob,
)
from app.schema.types.organisation import (
    Domain,
    Right,
    Role,
    Schedule,
    Tenant,
    TimeWindow,
    Validity,
    load_schedule,
)
from app.schema.types.readouts import ReadoutRequest

KeyConnection = Connection[Key]
CylinderConnection = Connection[Cylinder]
EmployeeConnection = Connection[Employee]
ProgrammingJobConnection = Connection[ProgrammingJob]
RemoteJobConnection = Connection[RemoteJob]

__all__ = [
    "AccessChange", "AccessEntry", "AccessProfile", "AuditEvent", "AuditEventConnection",
    "Authorization", "BlockingList", "CertificateBundle", "Connection", "Cylinder",
    "CylinderConnection", "CylinderGroup", "DeviceTraceLog", "Domain", "Edge", "Employee",
    "EmployeeConnection", "Extension", "Firmware", "FirmwareProgress", "Key", "KeyConnection",
    "KeyGroup", "OfflineUpdateSettings", "ProgrammingJob", "ProgrammingJobConnection",
    "ProgrammingKey", "ReadoutRequest", "RemoteDevice", "RemoteJob", "RemoteJobConnection",
    "Right", "Role", "Schedule", "Tenant", "TimeWindow", "Validity", "child_connection",
    "column", "gid", "load_schedule", "related",
]
