"""The remote-device endpoint: ``POST /remote/v1/<tenant id>/<serial>/<verb>`` (R22–R24).

Verbs: ``heartbeat``, ``key-inserted``, ``results``, and for programming keys (R17)
``programming-key-inserted``, ``programming-results``. Each request is JSON,
signed by the device (app.devices.protocol); the tenant comes from the path and
every database access goes through that tenant's session, so row-level
security applies as for GraphQL (R1). Answers:

- 200 with the verb's answer, signed by the tenant (``X-Keywarden-Signature``);
- 400 ``{"error": {"code", "message", "field"}}`` for a body that breaks the
  format (signed too; nothing of the request is kept, its nonce included);
- 401 for a request that does not prove itself (unknown device, bad
  signature, stale timestamp, replay), 404 for an unknown verb, 413 for a body
  over ``KEYWARDEN_MAX_UPLOAD_BYTES``, 415 for a body that is not JSON.

Unknown fields in a body are ignored, so devices may send more than this
version reads. The wire format is in docs/remote-protocol.md.

What a request changed that live subscribers see (a device online, firmware
progress, remote jobs delivered or closed, R23) is announced once its
transaction has committed; a pub/sub outage is logged and never fails the
device's request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.audit.service import MAX_EVENTS_PER_READOUT, ReadEvent
from app.config import Settings
from app.db import Database
from app.devices.fast_heartbeat import QuietHeartbeat, is_quiet, quiet_heartbeat
from app.devices.heartbeat import FirmwareReport, HeartbeatReport, heartbeat
from app.devices.key_insertion import KeyInsertion, key_inserted
from app.devices.offline_updates import OfflineUpdate
from app.devices.programming_keys import (
    ProgrammingKeyInsertion,
    ProgrammingKeyReport,
    WireResult,
    programming_key_inserted,
    programming_results,
)
from app.devices.protocol import (
    SIGNATURE_HEADER,
    TENANT_PATTERN,
    AuthenticatedDevice,
    DeviceAuthError,
    SignedHeaders,
    authenticate_request,
    check_headers,
    parse_timestamp,
    rfc3339,
    sign_answer,
)
from app.devices.results import DeviceResults, JobResult, report_results
from app.errors import INVALID, DomainError
from app.events.publish import publish_committed, publish_queued
from app.factory.firmware import is_version
from app.firmware.transfer import CHUNK_SIZE, MAX_CHUNK_SIZE
from app.ids import parse_global_id
from app.logs import note_tenant
from app.models import AccessResult, OutboxMessage, RemoteJobStatus, utcnow
from app.ops.instruments import HEARTBEATS
from app.programming.service import MAX_JOBS_PER_REQUEST, OUTCOMES
from app.rate_limits import (
    DEVICE_FAILURES_PER_ADDRESS,
    DEVICE_REQUESTS,
    RateLimiter,
    client_address,
    limiter_of,
)
from app.workers.outbox import notify_outbox
from hardware.wire import MAX_OFFLINE_UPDATES_PER_HEARTBEAT, REMOTE_PREFIX

log = logging.getLogger("keywarden.devices")

UID_LENGTH = 64
MAX_JOB_RESULTS = 500
REASON_LENGTH = 64

Handler = Callable[[AsyncSession, AuthenticatedDevice, Mapping[str, Any], datetime], Awaitable[Any]]


# --- reading bodies -----------------------------------------------------------------------


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(INVALID, f"{field}: {message}", field)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(body: bytes) -> Mapping[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise DomainError(INVALID, f"the body is not UTF-8 JSON ({exc})", "body") from exc
    if not isinstance(value, dict):
        raise DomainError(INVALID, "the body must be a JSON object", "body")
    return value


def _text(
    obj: Mapping[str, Any], name: str, path: str, *, required: bool, max_length: int
) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise _invalid(path, "is required")
        return None
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise _invalid(path, f"must be a string of 1 to {max_length} characters")
    return value


def _version(obj: Mapping[str, Any], name: str, path: str, *, required: bool) -> str | None:
    value = _text(obj, name, path, required=required, max_length=32)
    if value is not None and not is_version(value):
        raise _invalid(path, "must be a firmware version such as 16.3.7")
    return value


def _time(obj: Mapping[str, Any], name: str, path: str, *, required: bool) -> datetime | None:
    text = _text(obj, name, path, required=required, max_length=40)
    if text is None:
        return None
    value = parse_timestamp(text)
    if value is None:
        raise _invalid(path, "must be an RFC 3339 time with its offset")
    return value


def _integer(obj: Mapping[str, Any], name: str, path: str, *, required: bool) -> int | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise _invalid(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise _invalid(path, "must be a non-negative integer")
    return value


def _flag(obj: Mapping[str, Any], name: str, path: str) -> bool:
    value = obj.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(path, "must be true or false")
    return value


def _objects(obj: Mapping[str, Any], name: str, limit: int) -> list[Mapping[str, Any]]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(name, "must be a list")
    if len(value) > limit:
        raise _invalid(name, f"at most {limit} entries per request")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _invalid(f"{name}.{i}", "must be an object")
    return value


def parse_heartbeat(body: Mapping[str, Any]) -> HeartbeatReport:
    """The heartbeat body: versions, the blocking list version held, offline updates (R23, R24),
    the firmware transfer under way and the chunk size wanted (R25)."""
    updates = []
    for i, item in enumerate(
        _objects(body, "offlineUpdates", MAX_OFFLINE_UPDATES_PER_HEARTBEAT)
    ):
        path = f"offlineUpdates.{i}"
        uid = _text(item, "keyUid", f"{path}.keyUid", required=True, max_length=UID_LENGTH)
        at = _time(item, "at", f"{path}.at", required=True)
        assert uid is not None and at is not None
        updates.append(
            OfflineUpdate(uid, at, _time(item, "validUntil", f"{path}.validUntil", required=False))
        )
    chunk_size = _integer(body, "firmwareChunkSize", "firmwareChunkSize", required=False)
    if chunk_size is not None and not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise _invalid("firmwareChunkSize", f"must be between 1 and {MAX_CHUNK_SIZE} bytes")
    return HeartbeatReport(
        firmware_version=_version(body, "firmwareVersion", "firmwareVersion", required=False),
        bootloader_version=_version(
            body, "bootloaderVersion", "bootloaderVersion", required=False
        ),
        blocking_list_version=_integer(
            body, "blockingListVersion", "blockingListVersion", required=False
        ),
        offline_updates=updates,
        firmware=_firmware_report(body),
        firmware_chunk_size=chunk_size or CHUNK_SIZE,
    )


def _firmware_report(body: Mapping[str, Any]) -> FirmwareReport | None:
    """``firmware: {firmwareId, offset, done}``: the image a device is receiving (R25)."""
    value = body.get("firmware")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid("firmware", "must be an object")
    firmware_id = _integer(value, "firmwareId", "firmware.firmwareId", required=True)
    offset = _integer(value, "offset", "firmware.offset", required=True)
    assert firmware_id is not None and offset is not None
    return FirmwareReport(firmware_id, offset, _flag(value, "done", "firmware.done"))


def parse_key_insertion(body: Mapping[str, Any]) -> KeyInsertion:
    """The key-inserted body: the key's UID, firmware and, optionally, clock."""
    uid = _text(body, "keyUid", "keyUid", required=True, max_length=UID_LENGTH)
    firmware = _version(body, "keyFirmware", "keyFirmware", required=True)
    assert uid is not None and firmware is not None
    return KeyInsertion(uid, firmware, _time(body, "keyClock", "keyClock", required=False))


def parse_results(body: Mapping[str, Any]) -> DeviceResults:
    """The results body: job outcomes (a failure with its reason, ``INTERRUPTED`` for a key
    pulled out mid-write, R26) and the key's audit events (R18, R28)."""
    jobs = []
    for i, item in enumerate(_objects(body, "jobs", MAX_JOB_RESULTS)):
        ident = _integer(item, "remoteJobId", f"jobs.{i}.remoteJobId", required=True)
        outcome = item.get("outcome")
        if not isinstance(outcome, str) or outcome not in ("DONE", "FAILED"):
            raise _invalid(f"jobs.{i}.outcome", "must be DONE or FAILED")
        reason = _text(
            item, "reason", f"jobs.{i}.reason", required=False, max_length=REASON_LENGTH
        )
        if reason is not None and outcome != "FAILED":
            raise _invalid(f"jobs.{i}.reason", "only a FAILED job has a reason")
        assert ident is not None
        jobs.append(JobResult(ident, RemoteJobStatus[outcome], reason))
    events = []
    for i, item in enumerate(_objects(body, "auditEvents", MAX_EVENTS_PER_READOUT)):
        path = f"auditEvents.{i}"
        at = _time(item, "at", f"{path}.at", required=True)
        result = _access_result(item, path)
        cylinder = _text(
            item, "cylinderUid", f"{path}.cylinderUid", required=False, max_length=UID_LENGTH
        )
        assert at is not None
        events.append(ReadEvent(at=at, result=result, cylinder_uid=cylinder))
    key_uid = _text(body, "keyUid", "keyUid", required=bool(events), max_length=UID_LENGTH)
    return DeviceResults(key_uid=key_uid, jobs=jobs, audit_events=events)


def parse_programming_key(body: Mapping[str, Any]) -> ProgrammingKeyInsertion:
    """A programming key inserted: ``programmingKeyUid`` and the ``keyFirmware`` it reports."""
    uid = _text(body, "programmingKeyUid", "programmingKeyUid", required=True,
                max_length=UID_LENGTH)
    firmware = _version(body, "keyFirmware", "keyFirmware", required=True)
    assert uid is not None and firmware is not None
    return ProgrammingKeyInsertion(uid, firmware)


def parse_programming_results(body: Mapping[str, Any]) -> ProgrammingKeyReport:
    """The programming-results body: the key and each job's outcome with the trail the
    cylinder held before it was rewritten (R15, R17)."""
    results = []
    for i, item in enumerate(_objects(body, "results", MAX_JOBS_PER_REQUEST)):
        path = f"results.{i}"
        gid = _text(item, "jobId", f"{path}.jobId", required=True, max_length=UID_LENGTH)
        assert gid is not None
        parsed = parse_global_id(gid)
        job_id = (
            int(parsed[1])
            if parsed is not None and parsed[0] == "ProgrammingJob" and parsed[1].isdigit()
            else None
        )
        outcome = item.get("outcome")
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            raise _invalid(f"{path}.outcome", "must be DONE, ABORTED or FAILED")
        events = []
        for j, event in enumerate(_objects(item, "auditEvents", MAX_EVENTS_PER_READOUT)):
            where = f"{path}.auditEvents.{j}"
            at = _time(event, "at", f"{where}.at", required=True)
            assert at is not None
            key_uid = _text(event, "keyUid", f"{where}.keyUid", required=False,
                            max_length=UID_LENGTH)
            events.append(ReadEvent(at=at, result=_access_result(event, where), key_uid=key_uid))
        results.append(WireResult(job_id, gid, outcome, events))
    return ProgrammingKeyReport(parse_programming_key(body), results)


def _access_result(item: Mapping[str, Any], path: str) -> AccessResult:
    result = item.get("result")
    if not isinstance(result, str) or result not in AccessResult.__members__:
        raise _invalid(f"{path}.result", f"must be one of {', '.join(AccessResult.__members__)}")
    return AccessResult[result]


# --- the verbs -------------------------------------------------------------------------------


async def _heartbeat(
    session: AsyncSession, auth: AuthenticatedDevice, body: Mapping[str, Any], now: datetime
) -> Any:
    result = await heartbeat(session, auth.device, auth.tenant, parse_heartbeat(body), now=now)
    return result.answer


async def _key_inserted(
    session: AsyncSession, auth: AuthenticatedDevice, body: Mapping[str, Any], now: datetime
) -> Any:
    return await key_inserted(
        session, auth.device, auth.tenant, parse_key_insertion(body), now=now
    )


async def _results(
    session: AsyncSession, auth: AuthenticatedDevice, body: Mapping[str, Any], now: datetime
) -> Any:
    return await report_results(session, auth.device, auth.tenant, parse_results(body), now=now)


async def _programming_key_inserted(
    session: AsyncSession, auth: AuthenticatedDevice, body: Mapping[str, Any], now: datetime
) -> Any:
    return await programming_key_inserted(
        session, auth.device, parse_programming_key(body), now=now
    )


async def _programming_results(
    session: AsyncSession, auth: AuthenticatedDevice, body: Mapping[str, Any], now: datetime
) -> Any:
    return await programming_results(
        session, auth.device, parse_programming_results(body), now=now
    )


VERBS: dict[str, Handler] = {
    "heartbeat": _heartbeat,
    "key-inserted": _key_inserted,
    "results": _results,
    "programming-key-inserted": _programming_key_inserted,
    "programming-results": _programming_results,
}


# --- HTTP ------------------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = _json({"error": {"code": code, "message": message, **extra}})
    return Response(body, status, media_type="application/json", headers=headers)


def _signed(status: int, value: Any, signing_key: bytes, nonce: str) -> Response:
    body = _json(value)
    signature = sign_answer(signing_key, nonce, status, body)
    return Response(
        body, status, media_type="application/json", headers={SIGNATURE_HEADER: signature}
    )


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes ``limit`` bytes (whatever Content-Length says)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def handle_device_request(
    request: Request, database: Database, settings: Settings
) -> Response:
    """One device request: authenticate, run the verb in the tenant's transaction, answer.

    Once the transaction has committed, the live events it queued are published
    (R23); ``publish_queued`` logs a failure and never raises.
    """
    tenant_id = request.path_params["tenant_id"]
    serial = request.path_params["serial"]
    handler = VERBS.get(request.path_params["verb"])
    if handler is None:
        return _error(404, "NOT_FOUND", "unknown verb; use " + ", ".join(VERBS))
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return _error(415, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json")
    body = await _read_body(request, settings.max_upload_bytes)
    if body is None:
        return _error(413, "TOO_LARGE", f"body larger than {settings.max_upload_bytes} bytes")
    now = utcnow()
    # Only requests that authenticated count against a device, so that nobody can use up a
    # real device's allowance by sending in its name; refused ones count against the address.
    limiter, address = limiter_of(request), client_address(request)
    device = f"{tenant_id}/{serial}"
    if limiter is not None:
        refused = await limiter.exhausted(
            DEVICE_FAILURES_PER_ADDRESS, address
        ) or await limiter.exhausted(DEVICE_REQUESTS, device)
        if refused is not None:
            return _error(429, refused.code, refused.message, refused.headers,
                          retryAfter=refused.retry_after)
    try:
        signed = check_headers(request.headers, now)
        if not TENANT_PATTERN.fullmatch(tenant_id):
            raise DeviceAuthError("UNAUTHENTICATED", "unknown device or bad signature")
    except DeviceAuthError as exc:
        return await _refused(exc, limiter, address, tenant_id[:36], serial, now)
    note_tenant(tenant_id)  # for the request's log lines: the tenant the device addresses
    if handler is _heartbeat and database.dialect == "postgresql":
        try:
            quiet = await _quiet_heartbeat(request, database, tenant_id, serial, signed, body, now)
        except DeviceAuthError as exc:
            return await _refused(exc, limiter, address, tenant_id, serial, now)
        if quiet is not None:
            if limiter is not None:
                await limiter.count(DEVICE_REQUESTS, device)
            if quiet.came_online is not None:
                await publish_committed(settings, quiet.came_online)
            HEARTBEATS.inc()
            return _signed(200, quiet.answer, quiet.signing_key, signed.nonce)
    async with database.tenant_session(tenant_id) as session:
        try:
            auth = await authenticate_request(
                session,
                serial=serial,
                method=request.method,
                path=request.url.path,
                signed=signed,
                body=body,
                now=now,
            )
        except DeviceAuthError as exc:
            await session.rollback()
            return await _refused(exc, limiter, address, tenant_id, serial, now)
        if limiter is not None:
            await limiter.count(DEVICE_REQUESTS, device)
        signing_key = auth.tenant.signing_key  # a rollback below expires the row
        try:
            answer = await handler(session, auth, _json_object(body), now)
        except DomainError as exc:
            await session.rollback()
            error = {"code": exc.code, "message": exc.message, "field": exc.field}
            return _signed(400, {"error": error}, signing_key, signed.nonce)
        mailed = _wrote_mail(session)
        await session.commit()
    await publish_queued(session, settings)
    if mailed:
        notify_outbox()  # the e-mails the request wrote go now, not at the next sweep (R33)
    if handler is _heartbeat:
        HEARTBEATS.inc()
    return _signed(200, answer, signing_key, signed.nonce)


async def _refused(
    exc: DeviceAuthError,
    limiter: RateLimiter | None,
    address: str | None,
    tenant_id: str,
    serial: str,
    now: datetime,
) -> Response:
    """401 for a request that did not authenticate, counted against its address."""
    log.info("device request refused: %s (%s %s)", exc.code, tenant_id, serial[:64])
    if limiter is not None:
        await limiter.count(DEVICE_FAILURES_PER_ADDRESS, address)
    return _error(401, exc.code, exc.message, serverTime=rfc3339(now))


def _wrote_mail(session: AsyncSession) -> bool:
    """Whether the request's transaction wrote e-mails to the outbox (R33)."""
    return any(isinstance(row, OutboxMessage) for row in session.identity_map.values())


async def _quiet_heartbeat(
    request: Request,
    database: Database,
    tenant_id: str,
    serial: str,
    signed: SignedHeaders,
    body: bytes,
    now: datetime,
) -> QuietHeartbeat | None:
    """The quiet-heartbeat fast path (:mod:`app.devices.fast_heartbeat`), when the body allows it.

    A body that does not parse goes the ORM way too, which authenticates first and then
    names the field in its error.
    """
    try:
        report = parse_heartbeat(_json_object(body))
    except DomainError:
        return None
    if not is_quiet(report):
        return None
    return await quiet_heartbeat(
        database,
        tenant_id=tenant_id,
        serial=serial,
        method=request.method,
        path=request.url.path,
        signed=signed,
        body=body,
        report=report,
        now=now,
    )


def remote_routes(database: Database, settings: Settings) -> list[BaseRoute]:
    """The routes of the remote-device endpoint, for the application's route list."""

    async def endpoint(request: Request) -> Response:
        return await handle_device_request(request, database, settings)

    return [Route(REMOTE_PREFIX + "/{tenant_id}/{serial}/{verb}", endpoint, methods=["POST"])]
