"""The rights every operation checks, and the built-in roles that bundle them (R7)."""

from __future__ import annotations

from collections.abc import Iterable

from app.auth.principal import Principal
from app.errors import FORBIDDEN, INVALID, DomainError

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


# R29: the approver function separates who asks from who decides, so the right to decide is
# given to a programming key (directly or through a role) by administrators who do not hold
# it themselves: no built-in administrator role does.
GIVEN_WITHOUT_HOLDING = frozenset({"readout.approve"})


def grantable_rights(
    rights: Iterable[str],
    granter: Principal | None,
    field: str = "rights",
    *,
    to_programming_keys: bool = False,
) -> list[str]:
    """``rights`` sorted and each once, once they may be granted by ``granter`` (R7).

    Every right must exist (INVALID naming the unknown ones) and, with a
    ``granter``, be one the granter holds: nobody hands out more than they have
    (FORBIDDEN naming the rights they lack). Rights that go to programming keys
    (roles, a key's roles) may include :data:`GIVEN_WITHOUT_HOLDING` all the same
    (R29). None as granter is the system itself (tenant creation, the demo). Both
    errors are on ``field``.
    """
    wanted = sorted(set(rights))
    unknown = unknown_rights(wanted)
    if unknown:
        raise DomainError(INVALID, f"unknown right: {', '.join(unknown)}", field)
    if granter is not None:
        exempt = GIVEN_WITHOUT_HOLDING if to_programming_keys else frozenset()
        beyond = [r for r in wanted if not granter.has(r) and r not in exempt]
        if beyond:
            raise DomainError(
                FORBIDDEN, f"cannot grant a right you do not hold: {', '.join(beyond)}", field
            )
    return wanted
