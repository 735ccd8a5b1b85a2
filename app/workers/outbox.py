"""Sending the outbox (R33): every e-mail is a row first, and a worker delivers it over SMTP.

Code that causes an e-mail adds an ``OutboxMessage`` in the same transaction
as the change, commits, and then calls ``notify_outbox()``. The ``send_outbox``
actor delivers every due message of every tenant; a periodic sweep sends it
every 30 s as well, so a lost notification only delays an e-mail.

Delivery is at least once. A message is marked sent only after the SMTP
server accepted it; a worker that dies between the server's acceptance and
that commit leaves the row unsent, and it is sent again. Each e-mail carries
``Message-ID: <outbox-{id}@keywarden>`` so that receivers can drop the
duplicate. On PostgreSQL a worker holds the row ``FOR UPDATE SKIP LOCKED``
while it sends, so two workers never send the same message at the same time;
on SQLite (one process) deliveries in the process run one at a time.

Failures are counted in ``attempts`` with the error in ``last_error``; a
message is retried no earlier than ``created_at`` plus the back-off of its
attempts so far (1, 2, 4, ... minutes, at most an hour apart), and given up
after ``MAX_ATTEMPTS`` or on a permanent (5xx) refusal of the message. A
given-up message stays in the table, unsent, for an operator to see.

Message bodies and subjects may hold personal data: logs name message ids and
recipients' domains only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import dramatiq
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.config import Settings
from app.db import Database
from app.models import OutboxMessage
from app.models.base import utcnow
from app.workers.broker import configure_broker, register_periodic, worker_settings

log = logging.getLogger("keywarden.outbox")

MAX_ATTEMPTS = 30
# Back-off between attempts doubles from one minute up to this cap: after
# MAX_ATTEMPTS a message has been tried for about a day.
MAX_BACKOFF = timedelta(minutes=60)
BATCH = 100
_ERROR_LIMIT = 1000
SMTP_TIMEOUT_SECONDS = 30.0


# --- delivery -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    """What one ``deliver_outbox`` run did, by outbox message id."""

    sent: tuple[int, ...] = ()
    retrying: tuple[int, ...] = ()
    abandoned: tuple[int, ...] = ()
    # The run stopped at its batch size; more messages may be due.
    more: bool = False


def retry_backoff(attempts: int) -> timedelta:
    """How long after ``created_at`` a message with ``attempts`` failed attempts is due again."""
    total = timedelta(0)
    for attempt in range(attempts):
        total += min(timedelta(minutes=2**attempt), MAX_BACKOFF)
    return total


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        *(
            and_(
                OutboxMessage.attempts == attempts,
                OutboxMessage.created_at <= now - retry_backoff(attempts),
            )
            for attempts in range(MAX_ATTEMPTS)
        )
    )


async def deliver_outbox(
    database: Database, settings: Settings, *, batch: int = BATCH, now: datetime | None = None
) -> DeliveryReport:
    """Send due outbox messages of all tenants over SMTP, oldest first (R33).

    The SMTP server is the one ``settings`` names (``SMTP_*``).
    A message is due when it is unsent, has fewer than ``MAX_ATTEMPTS``
    attempts and its back-off since ``created_at`` has passed at ``now``
    (default: the current time). Each message is claimed, sent and marked in a
    transaction of its own on the owner connection (``system_session``), so a
    crash costs at most one duplicate. At most ``batch`` messages are tried;
    ``DeliveryReport.more`` says whether the run stopped there.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    due_at = now or utcnow()
    sent: list[int] = []
    retrying: list[int] = []
    abandoned: list[int] = []
    more = False
    async with _one_delivery_per_process(database):
        mailer = _Mailer(settings)
        try:
            async with database.system_session() as session:
                after = 0
                for _ in range(batch):
                    message = await _claim_next(session, database.dialect, after, due_at)
                    if message is None:
                        break
                    after = message.id
                    error = await mailer.send(message)
                    message.attempts += 1
                    if error is None:
                        message.sent_at = utcnow()
                        sent.append(message.id)
                        log.info(
                            "outbox %d (%s) sent to a recipient at %s",
                            message.id,
                            message.kind,
                            _domain(message.recipient),
                        )
                    else:
                        message.last_error = error.text[:_ERROR_LIMIT]
                        if error.permanent or message.attempts >= MAX_ATTEMPTS:
                            message.attempts = max(message.attempts, MAX_ATTEMPTS)
                            abandoned.append(message.id)
                            log.error(
                                "outbox %d to a recipient at %s given up: %s",
                                message.id,
                                _domain(message.recipient),
                                error.kind,
                            )
                        else:
                            retrying.append(message.id)
                            log.warning(
                                "outbox %d to a recipient at %s failed (attempt %d): %s",
                                message.id,
                                _domain(message.recipient),
                                message.attempts,
                                error.kind,
                            )
                    await session.commit()
                else:
                    more = True
        finally:
            await mailer.close()
    return DeliveryReport(tuple(sent), tuple(retrying), tuple(abandoned), more)


async def _claim_next(
    session: AsyncSession, dialect: str, after: int, due_at: datetime
) -> OutboxMessage | None:
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.attempts < MAX_ATTEMPTS,
            OutboxMessage.id > after,
            _due(due_at),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if dialect == "postgresql":
        # Another worker's message stays locked until it commits: skip it rather
        # than wait for it and send it a second time.
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.scalars(stmt)).first()


_sqlite_delivery = threading.Lock()


@asynccontextmanager
async def _one_delivery_per_process(database: Database) -> AsyncIterator[None]:
    """SQLite has no row locks: deliveries in this process take turns instead."""
    if database.dialect != "sqlite":
        yield
        return
    # A threading lock, polled: deliveries run on the event loops of different
    # threads (worker threads, the API), which no asyncio primitive spans.
    while not _sqlite_delivery.acquire(blocking=False):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    try:
        yield
    finally:
        _sqlite_delivery.release()


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "?"


@dataclass(frozen=True)
class _Failure:
    kind: str  # safe to log: an exception class and SMTP code
    text: str  # stored in last_error; may name the recipient
    permanent: bool


class _Mailer:
    """One SMTP connection for a run, opened on the first message.

    Once connecting fails, the remaining messages of the run fail with the same
    error without trying again, so an unreachable server costs one timeout.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None
        self.unavailable: _Failure | None = None

    async def send(self, message: OutboxMessage) -> _Failure | None:
        try:
            email = self._email(message)
        except ValueError as exc:
            return _Failure("ValueError", f"cannot build the e-mail: {exc}", permanent=True)
        if self.unavailable is not None:
            return self.unavailable
        client = await self._connected()
        if client is None:
            return self.unavailable
        try:
            await client.send_message(
                email, sender=self.settings.smtp_from, recipients=[message.recipient]
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return _Failure(
                f"recipient refused {codes}",
                "; ".join(f"{r.code} {r.message}" for r in exc.recipients),
                permanent=all(code >= 500 for code in codes),
            )
        except aiosmtplib.SMTPSenderRefused as exc:
            # SMTP_FROM is our configuration, not this message's fault: retry.
            return _Failure(f"sender refused {exc.code}", f"{exc.code} {exc.message}", False)
        except aiosmtplib.SMTPResponseException as exc:
            return _Failure(
                f"{type(exc).__name__} {exc.code}", f"{exc.code} {exc.message}", exc.code >= 500
            )
        except ValueError as exc:
            return _Failure("ValueError", f"cannot send to this address: {exc}", permanent=True)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The connection broke; the next message reconnects.
            await self.close()
            return _Failure(type(exc).__name__, f"{type(exc).__name__}: {exc}", permanent=False)
        return None

    async def _connected(self) -> aiosmtplib.SMTP | None:
        if self.client is not None and self.client.is_connected:
            return self.client
        smtp = self.settings
        client = aiosmtplib.SMTP(
            hostname=smtp.smtp_host,
            port=smtp.smtp_port,
            username=smtp.smtp_username,
            password=smtp.smtp_password.get_secret_value() if smtp.smtp_password else None,
            start_tls=smtp.smtp_starttls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            self.unavailable = _Failure(
                type(exc).__name__,
                f"SMTP server {smtp.smtp_host}:{smtp.smtp_port} unavailable: {exc}",
                permanent=False,
            )
            log.warning(
                "SMTP server %s:%d unavailable: %s",
                smtp.smtp_host,
                smtp.smtp_port,
                type(exc).__name__,
            )
            return None
        self.client = client
        return client

    def _email(self, message: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.smtp_from
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = format_datetime(message.created_at)
        # Stable across resends, so receivers can drop the duplicates of at-least-once.
        email["Message-ID"] = f"<outbox-{message.id}@keywarden>"
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body)
        return email

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


# --- the actor ----------------------------------------------------------------------


@dramatiq.actor(
    actor_name="send_outbox",
    broker=configure_broker(),
    max_retries=3,
    min_backoff=5_000,
    max_backoff=60_000,
    time_limit=10 * 60_000,
)
def send_outbox() -> None:
    """Deliver the due outbox messages of every tenant (R33); idempotent, carries no data.

    Sends itself again when a full batch was sent, so a backlog drains without
    waiting for the sweep.
    """
    report = asyncio.run(_deliver(worker_settings()))
    if report.more:
        send_outbox.send()


async def _deliver(settings: Settings) -> DeliveryReport:
    database = Database(settings)
    try:
        return await deliver_outbox(database, settings)
    finally:
        await database.dispose()


register_periodic(send_outbox, seconds=lambda settings: settings.outbox_sweep_seconds)


def notify_outbox() -> None:
    """Ask a worker to send the outbox now; call after the transaction that wrote to it commits.

    Never raises: when the queue is unreachable the messages are safe in the
    outbox and the next sweep sends them.
    """
    try:
        send_outbox.send()
    except Exception:
        log.warning("could not enqueue send_outbox; the sweep will send it", exc_info=True)
