"""The key lifecycle: issue, change, return, lost, defective, copy (R10, R12, R18–R20).

Changes of a key's cylinder access go through the job engine; changes of what
the key itself holds (validity, schedule, key groups) become remote jobs (R18).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.blocking_list import blocking_list_warning, issue_blocking_list
from app.access.engine import ReconcileResult, cylinders_of_key, reconcile
from app.access.remote_jobs import cancel_remote_jobs, ensure_remote_job
from app.access.service import (
    Notice,
    check_interval,
    key_memory,
    set_cylinder_group_authorizations,
    visible_id,
    visible_ids,
)
from app.db import id_in
from app.errors import CONFLICT, INVALID, NOT_FOUND, UNSUPPORTED_KEY_TYPE, DomainError
from app.models import (
    AccessEntry,
    AccessProfile,
    Cylinder,
    CylinderGroup,
    CylinderGroupAuthorization,
    DirectAuthorization,
    Employee,
    Key,
    KeyAccessProfile,
    KeyGroup,
    KeyGroupMember,
    KeyStatus,
    KeyType,
    KeyWithdrawal,
    ProgrammingJob,
    RemoteJob,
    RemoteJobKind,
    Schedule,
    Tenant,
)
from app.tenants.scoping import ALL_DOMAINS

_UNSET: Any = object()


@dataclass
class ValidityChange:
    """R12: always valid, or valid from/until (at least one bound)."""

    always_valid: bool
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass
class KeyChange:
    """The outcome of a key operation: the key, the jobs it caused and warnings."""

    key: Key
    programming_jobs: list[ProgrammingJob] = field(default_factory=list)
    remote_jobs: list[RemoteJob] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)


@dataclass
class CopyItem:
    what: str
    detail: str


async def load_key(session: AsyncSession, key_id: int, field_name: str = "keyId") -> Key:
    key = await session.get(Key, key_id)
    if key is None:
        raise DomainError(NOT_FOUND, f"{field_name}: no such key", field_name)
    return key


def check_validity(validity: ValidityChange, key: Key, field_name: str = "validity") -> None:
    if validity.always_valid:
        if validity.valid_from or validity.valid_until:
            raise DomainError(
                INVALID, "validity: give dates only when the key is not always valid", field_name
            )
        return
    if key.type == KeyType.E1:
        raise DomainError(
            UNSUPPORTED_KEY_TYPE,
            "validity: E1 keys have no clock; they are always valid",
            field_name,
        )
    if validity.valid_from is None and validity.valid_until is None:
        raise DomainError(
            INVALID,
            "validity: a key that is not always valid needs validFrom or validUntil",
            field_name,
        )
    if validity.valid_from and validity.valid_until and validity.valid_from >= validity.valid_until:
        raise DomainError(
            INVALID, "validity: validFrom must be before validUntil", f"{field_name}.validUntil"
        )


async def _apply_settings(
    session: AsyncSession,
    key: Key,
    *,
    validity: ValidityChange | None,
    schedule_id: int | None,
    profile_ids: Sequence[int] | None,
    extension_interval_hours: Any,
) -> None:
    """Validate and set validity, schedule, profiles and interval (R12–R14)."""
    if validity is not None:
        check_validity(validity, key)
        key.always_valid = validity.always_valid
        key.valid_from = validity.valid_from
        key.valid_until = validity.valid_until
    if schedule_id is not None:
        await visible_id(session, Schedule, schedule_id, "scheduleId")
        default = await session.scalar(select(Schedule.id).where(Schedule.is_default))
        if key.type == KeyType.E1 and schedule_id != default:
            raise DomainError(
                UNSUPPORTED_KEY_TYPE,
                "scheduleId: E1 keys have no clock; they keep 'Always'",
                "scheduleId",
            )
        key.schedule_id = schedule_id
    if extension_interval_hours is not _UNSET:
        check_interval(extension_interval_hours)
        if extension_interval_hours is not None and key.type != KeyType.E3:
            raise DomainError(
                UNSUPPORTED_KEY_TYPE,
                "extensionIntervalHours: only E3 keys are revalidated at remote devices",
                "extensionIntervalHours",
            )
        key.extension_interval_hours = extension_interval_hours
    if profile_ids is not None:
        profiles = await visible_ids(session, AccessProfile, profile_ids, "accessProfileIds")
        await session.execute(delete(KeyAccessProfile).where(KeyAccessProfile.key_id == key.id))
        session.add_all(KeyAccessProfile(key_id=key.id, access_profile_id=p) for p in profiles)
    await session.flush()


def schedule_payload(schedule: Schedule) -> dict[str, Any]:
    """What a SCHEDULE remote job carries to a key: the schedule and its windows (R12, R18)."""
    return {"scheduleId": schedule.id, "windows": schedule.windows}


async def key_remote_jobs(
    session: AsyncSession, key: Key, kinds: Sequence[RemoteJobKind]
) -> list[RemoteJob]:
    """Remote jobs that bring the key's own memory up to date (R18)."""
    jobs = []
    for kind in kinds:
        if kind == RemoteJobKind.VALIDITY:
            payload: dict[str, Any] = {
                "alwaysValid": key.always_valid,
                "validFrom": key.valid_from.isoformat() if key.valid_from else None,
                "validUntil": key.valid_until.isoformat() if key.valid_until else None,
                "extensionIntervalHours": key.extension_interval_hours,
                "blocked": key.status != KeyStatus.ISSUED,
            }
        elif kind == RemoteJobKind.SCHEDULE:
            schedule = await session.get(Schedule, key.schedule_id)
            assert schedule is not None
            payload = schedule_payload(schedule)
        elif kind == RemoteJobKind.AUTHORIZATIONS:
            if key.type != KeyType.E3:
                continue
            payload = await key_memory(session, key)
        else:  # pragma: no cover - callers pass the kinds above
            raise ValueError(kind)
        job = await ensure_remote_job(session, key, kind, payload)
        if job is not None:
            jobs.append(job)
    return jobs


def _jobs_first_security(
    result: ReconcileResult, security: dict[int, bool]
) -> list[ProgrammingJob]:
    """R19: security-relevant cylinders first."""
    return sorted(result.touched, key=lambda j: (not security.get(j.cylinder_id, False), j.id))


async def _reconcile_key(session: AsyncSession, key: Key, before: set[int]) -> list[ProgrammingJob]:
    after = await cylinders_of_key(session, key.id)
    return await _reconcile_security_first(session, before | after)


async def _reconcile_security_first(
    session: AsyncSession, cylinders: set[int]
) -> list[ProgrammingJob]:
    """Reconcile the cylinders; the jobs touched, security-relevant cylinders first (R19)."""
    if not cylinders:
        return []
    result = await reconcile(session, cylinders)
    security = dict(
        (
            await session.execute(
                select(Cylinder.id, Cylinder.security_relevant).where(Cylinder.id.in_(cylinders))
            )
        ).all()
    )
    return _jobs_first_security(result, security)


async def issue_key(
    session: AsyncSession,
    *,
    key_id: int,
    employee_id: int,
    validity: ValidityChange | None,
    schedule_id: int | None,
    profile_ids: Sequence[int] | None,
    extension_interval_hours: int | None,
    cylinder_group_ids: Sequence[int] | None = None,
) -> KeyChange:
    """Hand a key in stock to an employee with validity, schedule and access profiles (R10–R14).

    With the approver function off, audit readout is switched on by the issue (R29).
    """
    key = await load_key(session, key_id)
    if key.status != KeyStatus.IN_STOCK:
        hint = {
            KeyStatus.NOT_ACTIVATED: "activate its extension first",
            KeyStatus.ISSUED: "return it first",
        }.get(key.status, "it cannot be issued")
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}; {hint}", "keyId")
    if await session.get(Employee, employee_id) is None:
        raise DomainError(NOT_FOUND, "employeeId: no such employee", "employeeId")
    before = await cylinders_of_key(session, key.id)
    await _apply_settings(
        session,
        key,
        validity=validity or ValidityChange(always_valid=True),
        schedule_id=schedule_id,
        profile_ids=profile_ids,
        extension_interval_hours=(
            extension_interval_hours if extension_interval_hours is not None else _UNSET
        ),
    )
    tenant = await session.scalar(select(Tenant))
    assert tenant is not None
    if cylinder_group_ids is not None:
        await set_cylinder_group_authorizations(session, key, cylinder_group_ids)
    key.holder_id = employee_id
    key.status = KeyStatus.ISSUED
    key.audit_readout_enabled = key.type != KeyType.E1 and not tenant.approver_function
    await session.flush()
    jobs = await _reconcile_key(session, key, before)
    remote = await key_remote_jobs(
        session,
        key,
        [RemoteJobKind.VALIDITY, RemoteJobKind.SCHEDULE, RemoteJobKind.AUTHORIZATIONS],
    )
    return KeyChange(key, jobs, remote)


async def update_key(
    session: AsyncSession,
    *,
    key_id: int,
    validity: ValidityChange | None,
    schedule_id: int | None,
    profile_ids: Sequence[int] | None,
    extension_interval_hours: Any = _UNSET,
    audit_readout_enabled: bool | None,
    cylinder_group_ids: Sequence[int] | None = None,
) -> KeyChange:
    """Change a key's validity, schedule, profiles, interval or readout (R12–R14, R29)."""
    key = await load_key(session, key_id)
    if key.status in (KeyStatus.LOST, KeyStatus.DEFECTIVE):
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}", "keyId")
    before = await cylinders_of_key(session, key.id)
    old = (key.always_valid, key.valid_from, key.valid_until, key.extension_interval_hours)
    old_schedule = key.schedule_id
    await _apply_settings(
        session,
        key,
        validity=validity,
        schedule_id=schedule_id,
        profile_ids=profile_ids,
        extension_interval_hours=extension_interval_hours,
    )
    if audit_readout_enabled is not None:
        if audit_readout_enabled and key.type == KeyType.E1:
            raise DomainError(
                UNSUPPORTED_KEY_TYPE,
                "auditReadoutEnabled: E1 keys keep no audit trail",
                "auditReadoutEnabled",
            )
        key.audit_readout_enabled = audit_readout_enabled
    await session.flush()
    jobs = await _reconcile_key(session, key, before) if profile_ids is not None else []
    kinds = []
    if old != (key.always_valid, key.valid_from, key.valid_until, key.extension_interval_hours):
        kinds.append(RemoteJobKind.VALIDITY)
    if old_schedule != key.schedule_id:
        kinds.append(RemoteJobKind.SCHEDULE)
    if cylinder_group_ids is not None and await set_cylinder_group_authorizations(
        session, key, cylinder_group_ids
    ):
        kinds.append(RemoteJobKind.AUTHORIZATIONS)
    remote = await key_remote_jobs(session, key, kinds) if key.status == KeyStatus.ISSUED else []
    return KeyChange(key, jobs, remote)


async def return_key(session: AsyncSession, *, key_id: int) -> KeyChange:
    """Take an issued key back into stock: no holder, no access profiles, key memory blocked.

    Direct authorizations and key-group memberships stay with the key (they belong
    to the key, not to the person); the holder's and the key's profiles no longer apply.
    """
    key = await load_key(session, key_id)
    if key.status != KeyStatus.ISSUED:
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}, not issued", "keyId")
    before = await cylinders_of_key(session, key.id)
    await session.execute(delete(KeyAccessProfile).where(KeyAccessProfile.key_id == key.id))
    key.holder_id = None
    key.status = KeyStatus.IN_STOCK
    await session.flush()
    jobs = await _reconcile_key(session, key, before)
    remote = await key_remote_jobs(session, key, [RemoteJobKind.VALIDITY])
    return KeyChange(key, jobs, remote)


@dataclass(frozen=True)
class Deprogramming:
    """Which cylinders a lost key is deprogrammed from (R19; FAQ: "a lost key should be
    deprogrammed of security-relevant areas depending on the authorisation").

    Nothing given: every cylinder. ``cylinder_ids``: only these (ids checked visible to the
    caller, R8). ``security_relevant_only``: only the security-relevant cylinders that hold
    the key, in every domain, as the blocking list is.
    """

    cylinder_ids: Sequence[int] | None = None
    security_relevant_only: bool | None = None

    def check(self, deprogram: bool) -> None:
        """INVALID naming the field: both choices at once, or a choice without deprogramming."""
        if self.cylinder_ids is not None and self.security_relevant_only is not None:
            raise DomainError(
                INVALID,
                "securityRelevantOnly: give cylinderIds or securityRelevantOnly, not both",
                "securityRelevantOnly",
            )
        for name, given in (
            ("cylinderIds", self.cylinder_ids is not None),
            ("securityRelevantOnly", bool(self.security_relevant_only)),
        ):
            if given and not deprogram:
                raise DomainError(
                    INVALID, f"{name}: choose cylinders only with deprogram: true", name
                )
        if self.cylinder_ids is not None and not self.cylinder_ids:
            raise DomainError(
                INVALID,
                "cylinderIds: name at least one cylinder, or report with deprogram: false",
                "cylinderIds",
            )

    @property
    def everywhere(self) -> bool:
        return self.cylinder_ids is None and not self.security_relevant_only


async def withdraw_lost_key(
    session: AsyncSession, key: Key, cylinder_ids: Iterable[int]
) -> set[int]:
    """Take a lost key out of these cylinders' desired lists, once each (R19).

    Returns the cylinders it was not withdrawn from before; the caller reconciles them.
    """
    wanted = set(cylinder_ids)
    done = set(
        await session.scalars(
            select(KeyWithdrawal.cylinder_id).where(
                KeyWithdrawal.key_id == key.id, id_in(session, KeyWithdrawal.cylinder_id, wanted)
            )
        )
    )
    fresh = wanted - done
    session.add_all(KeyWithdrawal(key_id=key.id, cylinder_id=c) for c in sorted(fresh))
    await session.flush()
    return fresh


async def withdraw_lost_keys_from(session: AsyncSession, cylinder_id: int) -> list[Key]:
    """Take every lost key still in a cylinder's access list out of it (R19): for a cylinder
    that became security-relevant, where no lost key may stay. Keys of every domain; those
    withdrawn here or everywhere already are left alone. The caller reconciles the cylinder.
    """
    keys = list(
        await session.scalars(
            select(Key)
            .join(AccessEntry, AccessEntry.key_id == Key.id)
            .where(
                AccessEntry.cylinder_id == cylinder_id,
                Key.status == KeyStatus.LOST,
                Key.withdrawn.is_(False),
                Key.id.not_in(
                    select(KeyWithdrawal.key_id).where(KeyWithdrawal.cylinder_id == cylinder_id)
                ),
            )
            .order_by(Key.marking),
            execution_options={ALL_DOMAINS: True},
        )
    )
    session.add_all(KeyWithdrawal(key_id=k.id, cylinder_id=cylinder_id) for k in keys)
    await session.flush()
    return keys


async def report_key_lost(
    session: AsyncSession,
    *,
    key_id: int,
    deprogram: bool,
    scope: Deprogramming | None = None,
) -> KeyChange:
    """R19: status LOST, onto the blocking list (every domain, whatever is deprogrammed);
    with ``deprogram`` removed from the cylinders ``scope`` names (all by default),
    security-relevant cylinders first. Waiting remote jobs are cancelled: whoever finds the
    key must not get its validity extended.

    Warnings: the key kept in cylinders (only the blocking list keeps it out there), and
    the blocking list nearing the 3,000 keys a cylinder holds (R11).
    """
    scope = scope or Deprogramming()
    scope.check(deprogram)
    key = await load_key(session, key_id)
    if key.status in (KeyStatus.LOST, KeyStatus.NOT_ACTIVATED):
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}", "keyId")
    chosen = (
        await visible_ids(session, Cylinder, scope.cylinder_ids, "cylinderIds")
        if scope.cylinder_ids is not None
        else None
    )
    before = await cylinders_of_key(session, key.id)
    key.status = KeyStatus.LOST
    key.withdrawn = deprogram and scope.everywhere
    await session.flush()
    await cancel_remote_jobs(session, key.id)
    # Should the key turn up at a device, its own memory is blocked too (R18).
    block = await ensure_remote_job(session, key, RemoteJobKind.BLOCK, {"reason": "lost"})
    blocking_list = await issue_blocking_list(session)
    jobs: list[ProgrammingJob] = []
    kept = before
    if deprogram:
        if scope.everywhere:
            targets = before
        elif chosen is not None:
            targets = await withdraw_lost_key(session, key, chosen)
        else:
            targets = await withdraw_lost_key(
                session, key, await security_relevant(session, before)
            )
        jobs = await _reconcile_security_first(session, targets)
        kept = before - targets
    warnings = []
    if not deprogram:
        warnings.append(
            Notice(
                "NOT_DEPROGRAMMED",
                "the key stays in its cylinders; only the blocking list "
                "keeps it out at wall devices",
            )
        )
    elif kept:
        warnings.append(
            Notice(
                "PARTLY_DEPROGRAMMED",
                f"the key stays in {len(kept)} other cylinder(s); only the blocking list "
                "keeps it out there",
            )
        )
    nearly_full = blocking_list_warning(blocking_list)
    if nearly_full is not None:
        warnings.append(Notice("BLOCKING_LIST_NEARLY_FULL", nearly_full))
    return KeyChange(key, jobs, [block] if block else [], warnings)


async def security_relevant(session: AsyncSession, cylinder_ids: Iterable[int]) -> set[int]:
    """Those of the cylinders marked security-relevant (R19), in every domain."""
    ids = list(cylinder_ids)
    if not ids:
        return set()
    return set(
        await session.scalars(
            select(Cylinder.id).where(
                id_in(session, Cylinder.id, ids), Cylinder.security_relevant.is_(True)
            ),
            execution_options={ALL_DOMAINS: True},
        )
    )


async def report_key_defective(session: AsyncSession, *, key_id: int) -> KeyChange:
    """A broken key: hidden from normal search (R10); its configuration can be copied to a
    replacement (R20, R26)."""
    key = await load_key(session, key_id)
    if key.status in (KeyStatus.DEFECTIVE, KeyStatus.NOT_ACTIVATED, KeyStatus.LOST):
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}", "keyId")
    key.status = KeyStatus.DEFECTIVE
    await session.flush()
    await cancel_remote_jobs(session, key.id)
    warning = Notice(
        "REPLACEMENT_PROPOSED",
        f"copy the configuration of {key.marking} onto a replacement key (copyKeyConfiguration)",
    )
    return KeyChange(key, [], [], [warning])


async def copy_key_configuration(
    session: AsyncSession, *, source_id: int, target_id: int, dry_run: bool
) -> tuple[Key, list[CopyItem], list[ProgrammingJob]]:
    """R20: copy schedule, validity, validations (interval) and authorizations to another key.

    Shows what will be copied; with ``dry_run`` nothing is written. E3 functions
    (key groups, extension interval) cannot go onto E1/E2 keys, nor clock functions
    (validity, schedules) onto E1 keys: UNSUPPORTED_KEY_TYPE.
    """
    source = await load_key(session, source_id, "sourceKeyId")
    target = await load_key(session, target_id, "targetKeyId")
    if source.id == target.id:
        raise DomainError(
            INVALID, "targetKeyId: choose another key than the source", "targetKeyId"
        )
    if target.status in (KeyStatus.LOST, KeyStatus.DEFECTIVE, KeyStatus.NOT_ACTIVATED):
        raise DomainError(
            CONFLICT, f"targetKeyId: the key is {target.status.name}", "targetKeyId"
        )
    schedule = await session.get(Schedule, source.schedule_id)
    assert schedule is not None
    profiles = list(
        await session.scalars(
            select(AccessProfile)
            .join(KeyAccessProfile, KeyAccessProfile.access_profile_id == AccessProfile.id)
            .where(KeyAccessProfile.key_id == source.id)
            .order_by(AccessProfile.name)
        )
    )
    direct = list(
        await session.scalars(
            select(Cylinder)
            .join(DirectAuthorization, DirectAuthorization.cylinder_id == Cylinder.id)
            .where(DirectAuthorization.key_id == source.id)
            .order_by(Cylinder.marking)
        )
    )
    groups = list(
        await session.scalars(
            select(KeyGroup)
            .join(KeyGroupMember, KeyGroupMember.key_group_id == KeyGroup.id)
            .where(KeyGroupMember.key_id == source.id)
            .order_by(KeyGroup.name)
        )
    )
    cylinder_groups = list(
        await session.scalars(
            select(CylinderGroup)
            .join(
                CylinderGroupAuthorization,
                CylinderGroupAuthorization.cylinder_group_id == CylinderGroup.id,
            )
            .where(CylinderGroupAuthorization.key_id == source.id)
            .order_by(CylinderGroup.name)
        )
    )
    e3_functions = [g.name for g in groups] + [g.name for g in cylinder_groups]
    if source.extension_interval_hours is not None:
        e3_functions.append("extension interval")
    if target.type != KeyType.E3 and e3_functions:
        raise DomainError(
            UNSUPPORTED_KEY_TYPE,
            f"targetKeyId: {target.marking} is {target.type.name}; E3 functions "
            f"({', '.join(e3_functions)}) cannot be copied onto it",
            "targetKeyId",
        )
    clock = not source.always_valid or not schedule.is_default
    if target.type == KeyType.E1 and clock:
        raise DomainError(
            UNSUPPORTED_KEY_TYPE,
            f"targetKeyId: {target.marking} is E1 (no clock); validity and schedules "
            "cannot be copied onto it",
            "targetKeyId",
        )
    items = [CopyItem("schedule", schedule.name)]
    if source.always_valid:
        items.append(CopyItem("validity", "always valid"))
    else:
        span = " ".join(
            part
            for part in (
                f"from {source.valid_from.isoformat()}" if source.valid_from else "",
                f"until {source.valid_until.isoformat()}" if source.valid_until else "",
            )
            if part
        )
        items.append(CopyItem("validity", span))
    if source.extension_interval_hours is not None:
        items.append(CopyItem("validation", f"every {source.extension_interval_hours} h"))
    items += [CopyItem("accessProfile", p.name) for p in profiles]
    items += [CopyItem("authorization", f"cylinder {c.marking}") for c in direct]
    items += [CopyItem("keyGroup", g.name) for g in groups]
    items += [CopyItem("cylinderGroup", g.name) for g in cylinder_groups]
    if dry_run:
        return target, items, []

    before = await cylinders_of_key(session, target.id)
    target.schedule_id = source.schedule_id
    target.always_valid = source.always_valid
    target.valid_from = source.valid_from
    target.valid_until = source.valid_until
    target.extension_interval_hours = source.extension_interval_hours
    await session.execute(delete(KeyAccessProfile).where(KeyAccessProfile.key_id == target.id))
    await session.execute(
        delete(DirectAuthorization).where(DirectAuthorization.key_id == target.id)
    )
    session.add_all(KeyAccessProfile(key_id=target.id, access_profile_id=p.id) for p in profiles)
    session.add_all(DirectAuthorization(cylinder_id=c.id, key_id=target.id) for c in direct)
    present = set(
        await session.scalars(
            select(KeyGroupMember.key_group_id).where(KeyGroupMember.key_id == target.id)
        )
    )
    session.add_all(
        KeyGroupMember(key_group_id=g.id, key_id=target.id) for g in groups if g.id not in present
    )
    await session.flush()
    await set_cylinder_group_authorizations(session, target, [g.id for g in cylinder_groups])
    jobs = await _reconcile_key(session, target, before)
    if target.status == KeyStatus.ISSUED:
        await key_remote_jobs(
            session,
            target,
            [RemoteJobKind.VALIDITY, RemoteJobKind.SCHEDULE, RemoteJobKind.AUTHORIZATIONS],
        )
    return target, items, jobs
