"""Audit-trail readout requests, their approval and their history (R29, R33, R38).

Reading an audit trail through a remote device is asked for with a request
that states its purpose (R38). With the tenant's approver function on (chosen at
creation, R29) the request waits for an Approver: a programming key with a role
that grants ``readout.approve`` and whose holder has an e-mail address. Every
such Approver who may see the target (R8) is told by e-mail (R33); one of them
approves or rejects, never the one who asked. With the function off a request is
approved at once. An approved readout of an E3 key becomes an AUDIT_READOUT
remote job, carried out at the key's next remote device (R18); a cylinder's
trail is read by the administrator's programming key on site, and what a programming
visit reads without an approved request is withheld (:func:`store_cylinder_trail`, R15).

The requests are the history: who asked, who decided, when and why, kept for
every request and exportable as CSV (:func:`approver_history_csv`, R38).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.remote_jobs import WAITING, ensure_remote_job
from app.audit.service import ReadEvent, StoredEvents, release_withheld_trail, store_audit_events
from app.auth.tokens import ALL_DOMAIN_KINDS
from app.employees.csv_format import BOM, DELIMITER, FORMULA_TRIGGERS, TEXT_PREFIX
from app.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, UNSUPPORTED_KEY_TYPE, DomainError
from app.mail import holder_email, queue_mail, role_holders
from app.models import (
    AuditSource,
    Cylinder,
    Employee,
    Key,
    KeyType,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ReadoutRequest,
    ReadoutStatus,
    RemoteJob,
    RemoteJobKind,
    Role,
    Tenant,
    utcnow,
)
from app.tenants.scoping import ALL_DOMAINS

APPROVE_RIGHT = "readout.approve"
MAX_TEXT = 2000

_EVERY_DOMAIN = {ALL_DOMAINS: True}


@dataclass(frozen=True)
class ReadoutTarget:
    """What an audit trail is read from (R28): a key (E2/E3) or a cylinder."""

    key: Key | None = None
    cylinder: Cylinder | None = None

    @property
    def domain_id(self) -> int:
        element = self.key if self.key is not None else self.cylinder
        assert element is not None
        return element.domain_id

    def describe(self) -> str:
        if self.key is not None:
            return f"key {self.key.marking}"
        assert self.cylinder is not None
        return f"cylinder {self.cylinder.marking}"


def _clean_text(value: str | None, field: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(INVALID, f"{field}: say why the audit trail is read (R38)", field)
        return None
    if len(text) > MAX_TEXT:
        raise DomainError(INVALID, f"{field}: at most {MAX_TEXT} characters", field)
    return text


async def _load_target(
    session: AsyncSession, key_id: int | None, cylinder_id: int | None, field: str
) -> ReadoutTarget | None:
    """The target as the session sees it (domain-scoped, R8); None when it is not visible."""
    if key_id is not None:
        key = await session.scalar(select(Key).where(Key.id == key_id))
        return ReadoutTarget(key=key) if key is not None else None
    if cylinder_id is not None:
        cylinder = await session.scalar(select(Cylinder).where(Cylinder.id == cylinder_id))
        return ReadoutTarget(cylinder=cylinder) if cylinder is not None else None
    raise DomainError(INVALID, f"{field}: a Key or a Cylinder is required", field)


async def approver_emails(
    session: AsyncSession, *, domain_id: int, exclude_key_id: int | None = None
) -> list[str]:
    """The addresses of the Approvers who may decide on an element of ``domain_id`` (R8, R29).

    An Approver is an active programming key with a role granting
    ``readout.approve`` whose holder has an e-mail; a main or submaster key sees
    every domain, a sub key only its own. Sorted, each address once.
    """
    role_ids = [r.id for r in await session.scalars(select(Role)) if APPROVE_RIGHT in r.rights]
    holders = await role_holders(session, role_ids, exclude_key_id=exclude_key_id)
    limited = [h.programming_key_id for h in holders if h.kind not in ALL_DOMAIN_KINDS]
    in_domain: set[int] = set()
    if limited:
        in_domain = set(
            await session.scalars(
                select(ProgrammingKeyDomain.programming_key_id).where(
                    ProgrammingKeyDomain.programming_key_id.in_(limited),
                    ProgrammingKeyDomain.domain_id == domain_id,
                )
            )
        )
    return sorted(
        {
            h.email
            for h in holders
            if h.kind in ALL_DOMAIN_KINDS or h.programming_key_id in in_domain
        }
    )


def _request_lines(request: ReadoutRequest, target: ReadoutTarget, requester: str) -> list[str]:
    return [
        f"Audit trail readout of {target.describe()}",
        f"Requested by programming key {requester} at {request.requested_at.isoformat()}",
        "",
        "Reason:",
        request.reason,
    ]


async def _schedule_readout(
    session: AsyncSession, request: ReadoutRequest, target: ReadoutTarget
) -> RemoteJob | None:
    """An approved readout of an E3 key goes to the key at its next remote device (R18, R29).

    One open AUDIT_READOUT job per key reads the whole trail, so it carries
    every approved request still waiting for it (``readoutRequestIds``).
    """
    key = target.key
    if key is None or key.type != KeyType.E3:
        return None
    waiting = await session.scalar(
        select(RemoteJob).where(
            RemoteJob.key_id == key.id,
            RemoteJob.kind == RemoteJobKind.AUDIT_READOUT,
            RemoteJob.status.in_(WAITING),
        )
    )
    earlier = list(waiting.payload.get("readoutRequestIds", [])) if waiting is not None else []
    ids = [*(i for i in earlier if i != request.id), request.id]
    return await ensure_remote_job(
        session,
        key,
        RemoteJobKind.AUDIT_READOUT,
        {"readoutRequestId": request.id, "readoutRequestIds": ids},
    )


def readout_request_ids(job: RemoteJob) -> list[int]:
    """The readout requests an AUDIT_READOUT remote job reads the trail for (R29).

    Jobs queued before several requests could share one carry ``readoutRequestId`` only.
    """
    ids = job.payload.get("readoutRequestIds")
    if not isinstance(ids, list):
        single = job.payload.get("readoutRequestId")
        ids = [single] if single is not None else []
    return [int(i) for i in ids if isinstance(i, int)]


async def complete_readouts(session: AsyncSession, job: RemoteJob) -> None:
    """R29: the key's trail was read, so the approved requests ``job`` carried are DONE.

    A request no longer APPROVED (rejected meanwhile, already done) stays as it is.
    """
    request_ids = readout_request_ids(job)
    if not request_ids:
        return
    for request in await session.scalars(
        select(ReadoutRequest).where(
            ReadoutRequest.id.in_(request_ids), ReadoutRequest.status == ReadoutStatus.APPROVED
        )
    ):
        request.status = ReadoutStatus.DONE


async def store_cylinder_trail(
    session: AsyncSession, *, cylinder_id: int, events: Sequence[ReadEvent], field: str
) -> StoredEvents:
    """Store a cylinder's trail read out on site by a programming visit before it rewrites
    the cylinder (R15), under the approver function's rules (R29).

    With the function off, the events are shown like any trail. With it on, they are shown
    only when an approved readout request for the cylinder waits, and that request is then
    carried out (DONE). Otherwise they are stored, so nothing is lost (R15), but withheld:
    shown to nobody until a readout of the cylinder is approved (:func:`decide_readout`).
    """
    tenant = await session.scalar(select(Tenant))
    assert tenant is not None
    approved: list[ReadoutRequest] = []
    if tenant.approver_function and events:
        approved = list(
            await session.scalars(
                select(ReadoutRequest).where(
                    ReadoutRequest.cylinder_id == cylinder_id,
                    ReadoutRequest.status == ReadoutStatus.APPROVED,
                )
            )
        )
    stored = await store_audit_events(
        session,
        source=AuditSource.CYLINDER,
        cylinder_id=cylinder_id,
        events=events,
        field=field,
        withheld=tenant.approver_function and not approved,
    )
    for request in approved:
        request.status = ReadoutStatus.DONE
    await session.flush()
    return stored


async def request_readout(
    session: AsyncSession,
    *,
    requested_by_id: int | None,
    key_id: int | None = None,
    cylinder_id: int | None = None,
    reason: str,
    now: datetime | None = None,
) -> ReadoutRequest:
    """Ask to read the audit trail of a key or a cylinder through a remote device (R29, R38).

    Only a logged-in programming key can ask (``requested_by_id``; the history
    records which key asked): an API token is FORBIDDEN. The target must be
    visible to the session (NOT_FOUND on ``targetId``); an E1 key keeps no audit
    trail (UNSUPPORTED_KEY_TYPE). ``reason`` is mandatory, at most 2,000
    characters. With the approver function on, the request awaits approval and
    every Approver who may see the target gets an e-mail; with it off it is
    approved at once. The caller commits.
    """
    if requested_by_id is None:
        raise DomainError(
            FORBIDDEN,
            "only a programming key logged in can request an audit trail readout: "
            "the approver history records which key asked (R29)",
        )
    now = now or utcnow()
    reason_text = _clean_text(reason, "reason", required=True)
    assert reason_text is not None
    target = await _load_target(session, key_id, cylinder_id, "targetId")
    if target is None:
        raise DomainError(NOT_FOUND, "targetId: no such Key or Cylinder", "targetId")
    if target.key is not None and target.key.type == KeyType.E1:
        raise DomainError(
            UNSUPPORTED_KEY_TYPE,
            f"key {target.key.marking} is an E1 key: it has no clock and keeps no audit trail "
            "(R10)",
            "targetId",
        )
    requester = await session.scalar(
        select(ProgrammingKey).where(ProgrammingKey.id == requested_by_id)
    )
    if requester is None:
        raise DomainError(FORBIDDEN, "the requesting programming key no longer exists")
    tenant = await session.scalar(select(Tenant))
    assert tenant is not None
    request = ReadoutRequest(
        key_id=key_id if target.key is not None else None,
        cylinder_id=cylinder_id if target.cylinder is not None else None,
        reason=reason_text,
        status=(
            ReadoutStatus.AWAITING_APPROVAL if tenant.approver_function else ReadoutStatus.APPROVED
        ),
        requested_by_id=requester.id,
        requested_at=now,
    )
    session.add(request)
    await session.flush()
    if request.status == ReadoutStatus.APPROVED:
        await _schedule_readout(session, request, target)
        return request
    recipients = await approver_emails(
        session, domain_id=target.domain_id, exclude_key_id=requester.id
    )
    lines = [
        *_request_lines(request, target, requester.marking),
        "",
        "Log in with your programming key to approve or reject it.",
    ]
    queue_mail(
        session,
        kind="readout_requested",
        recipients=recipients,
        subject=f"Approval needed: audit trail readout of {target.describe()}",
        body="\n".join(lines),
    )
    await session.flush()
    return request


async def decide_readout(
    session: AsyncSession,
    *,
    request_id: int,
    decided_by_id: int | None,
    approve: bool,
    note: str | None = None,
    now: datetime | None = None,
) -> ReadoutRequest:
    """An Approver approves or rejects a readout request awaiting approval (R29).

    The decider must be a logged-in programming key whose holder has an e-mail,
    and not the key that asked (FORBIDDEN); the request must exist and its
    target be visible to the decider (NOT_FOUND on ``requestId``, R8) and it must
    still await approval (CONFLICT). Records who decided, when and the note; the
    requester's holder is told by e-mail; an approved E3 key readout becomes a
    remote job. The caller commits.
    """
    if decided_by_id is None:
        raise DomainError(
            FORBIDDEN, "only an Approver's programming key, logged in, can decide (R29)"
        )
    now = now or utcnow()
    note_text = _clean_text(note, "note", required=False)
    decider = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.id == decided_by_id))
    if decider is None or await holder_email(session, decider) is None:
        raise DomainError(
            FORBIDDEN,
            "an Approver's programming key must be issued to an employee with an e-mail "
            "address (R29)",
        )
    request = await session.scalar(
        select(ReadoutRequest).where(ReadoutRequest.id == request_id).with_for_update()
    )
    target = (
        await _load_target(session, request.key_id, request.cylinder_id, "requestId")
        if request is not None
        else None
    )
    if request is None or target is None:
        raise DomainError(NOT_FOUND, "requestId: no such ReadoutRequest", "requestId")
    if request.requested_by_id == decider.id:
        raise DomainError(
            FORBIDDEN, "nobody decides on their own readout request (R29)", "requestId"
        )
    if request.status != ReadoutStatus.AWAITING_APPROVAL:
        raise DomainError(
            CONFLICT,
            f"this request is {request.status.value}, not awaiting approval",
            "requestId",
        )
    request.status = ReadoutStatus.APPROVED if approve else ReadoutStatus.REJECTED
    request.decided_by_id = decider.id
    request.decided_at = now
    request.decision_note = note_text
    await session.flush()
    if approve:
        await _schedule_readout(session, request, target)
        if target.cylinder is not None:
            # What programming visits read of this cylinder meanwhile may now be read (R15).
            await release_withheld_trail(session, target.cylinder.id)
    requester = await session.scalar(
        select(ProgrammingKey).where(ProgrammingKey.id == request.requested_by_id)
    )
    email = await holder_email(session, requester) if requester is not None else None
    if email is not None and requester is not None:
        verdict = "approved" if approve else "rejected"
        lines = [
            *_request_lines(request, target, requester.marking),
            "",
            f"{verdict.capitalize()} by programming key {decider.marking} at {now.isoformat()}.",
        ]
        if note_text:
            lines += ["", "Note:", note_text]
        queue_mail(
            session,
            kind="readout_decided",
            recipients=[email],
            subject=f"Audit trail readout of {target.describe()} {verdict}",
            body="\n".join(lines),
        )
        await session.flush()
    return request


# --- history export (R38) -----------------------------------------------------------

HISTORY_COLUMNS = (
    "requestedAt",
    "target",
    "reason",
    "status",
    "requestedBy",
    "requestedByHolder",
    "decidedAt",
    "decidedBy",
    "decidedByHolder",
    "decisionNote",
)


def _cell(value: str | None) -> str:
    text = value or ""
    return TEXT_PREFIX + text if text.startswith(FORMULA_TRIGGERS) else text


async def approver_history_csv(session: AsyncSession) -> str:
    """Every readout request the session may see, oldest first, as CSV (R29, R38).

    Semicolon-separated UTF-8 with a byte order mark, like the employee export;
    a cell that a spreadsheet would run as a formula is prefixed with a quote.
    Requests on elements outside the caller's domains are left out (R8).
    """
    requests = list(
        await session.scalars(
            select(ReadoutRequest).order_by(ReadoutRequest.requested_at, ReadoutRequest.id)
        )
    )
    key_ids = {r.key_id for r in requests if r.key_id is not None}
    cylinder_ids = {r.cylinder_id for r in requests if r.cylinder_id is not None}
    keys = dict(
        (await session.execute(select(Key.id, Key.marking).where(Key.id.in_(key_ids)))).all()
    )
    cylinders = dict(
        (
            await session.execute(
                select(Cylinder.id, Cylinder.marking).where(Cylinder.id.in_(cylinder_ids))
            )
        ).all()
    )
    people = await _programming_key_people(
        session,
        {r.requested_by_id for r in requests}
        | {r.decided_by_id for r in requests if r.decided_by_id is not None},
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(HISTORY_COLUMNS)
    for r in requests:
        if r.key_id is not None and r.key_id in keys:
            target = f"key {keys[r.key_id]}"
        elif r.cylinder_id is not None and r.cylinder_id in cylinders:
            target = f"cylinder {cylinders[r.cylinder_id]}"
        else:
            continue
        requested = people.get(r.requested_by_id, ("", ""))
        decided = people.get(r.decided_by_id, ("", "")) if r.decided_by_id else ("", "")
        writer.writerow(
            _cell(v)
            for v in (
                r.requested_at.isoformat(),
                target,
                r.reason,
                r.status.value,
                requested[0],
                requested[1],
                r.decided_at.isoformat() if r.decided_at else "",
                decided[0],
                decided[1],
                r.decision_note,
            )
        )
    return BOM + out.getvalue()


async def _programming_key_people(
    session: AsyncSession, key_ids: Iterable[int]
) -> dict[int, tuple[str, str]]:
    """Marking and holder's name of each programming key, by id."""
    ids = set(key_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(ProgrammingKey.id, ProgrammingKey.marking, Employee.first_name, Employee.last_name)
        .outerjoin(Employee, Employee.id == ProgrammingKey.holder_id)
        .where(ProgrammingKey.id.in_(ids))
        .execution_options(**_EVERY_DOMAIN)
    )
    return {
        key_id: (marking, f"{first} {last}" if first is not None else "")
        for key_id, marking, first, last in rows
    }
