"""The rights every operation checks, and the built-in roles that bundle them (R7)."""

from __future__ import annotations

RIGHTS: dict[str, str] = {
    "domains.read": "See domains",
    "domains.write": "Create, rename and delete domains; move elements between domains (R8)",
    "roles.read": "See roles and their rights",
    "roles.write": "Create roles and edit the rights of non-built-in roles",
    "employees.read": "See employees",
    "employees.write": "Create, change and import employees",
    "keys.read": "See keys",
    "keys.issue": "Issue and return keys",
    "keys.write": "Change key configuration, report keys lost or defective, copy configuration",
    "cylinders.read": "See cylinders",
    "cylinders.write": "Change cylinders",
    "access.write": "Change schedules, access profiles, key groups and authorizations",
    "jobs.read": "See programming and remote jobs",
    "jobs.assign": "Assign programming jobs to programming keys",
    "programming_keys.read": "See programming keys",
    "programming_keys.write": "Change programming keys, their roles, domains and PINs",
    "devices.read": "See remote devices",
    "devices.write": "Change remote device settings",
    "firmware.read": "See firmware and certificate bundles",
    "firmware.write": "Import and apply firmware",
    "extensions.read": "See factory data extensions",
    "extensions.import": "Import factory data extensions",
    "extensions.activate": "Activate factory data extensions",
    "audit.read": "Read audit trails",
    "blocking_list.read": "See the key blocking list",
    "readout.read": "See audit readout requests and their history",
    "readout.request": "Request an audit trail readout",
    "readout.approve": "Approve or reject audit trail readouts (R29)",
    "tenant.settings": "Change the tenant's settings",
    "tokens.write": "Create and revoke API tokens",
    "cylinders.program": "Carry out programming jobs: load them onto the key and program cylinders",
    "system.read": "Read in system data and backups",
}

# R5: what a submaster key (PSM) may always do, whatever its roles say.
SUBMASTER_RIGHTS = frozenset({"cylinders.program", "system.read"})

_READ = [r for r in RIGHTS if r.endswith(".read")]

# R5: the main key (PR) is the master credential; no role change can lock it out.
MAIN_KEY_RIGHTS = frozenset(r for r in RIGHTS if r != "readout.approve")

BUILTIN_ROLES: dict[str, list[str]] = {
    # The approver function separates duties: nobody approves their own readout (R29).
    "Superadmin": [r for r in RIGHTS if r != "readout.approve"],
    "Admin": [
        r
        for r in RIGHTS
        if r not in {"readout.approve", "tenant.settings", "roles.write", "tokens.write"}
    ],
    "Operator": [
        "domains.read", "employees.read", "employees.write", "keys.read", "keys.issue",
        "cylinders.read", "jobs.read",
    ],
    "Auditor": _READ,
    "Approver": ["readout.read", "readout.approve"],
}


def unknown_rights(rights: list[str]) -> list[str]:
    return [r for r in rights if r not in RIGHTS]
