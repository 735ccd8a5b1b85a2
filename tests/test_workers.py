"""R3, R33: the job queue and the outbox mailer, against a real SMTP server (and real brokers).

The worker processes' tests run on Redis and on RabbitMQ (the ``broker_url``
fixture, issue 13 item 5).

The outbox table is shared by every test of the session, so assertions name
this module's own messages by id (other modules leave pending e-mails too).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from pydantic import SecretStr

from app.config import ConfigError, Settings, get_settings, load_settings
from app.db import Database
from app.models import OutboxMessage
from app.models.base import utcnow
from app.tenants.service import NewTenant
from app.workers.broker import InProcessWorker, configure_broker, start_in_process_worker
from app.workers.main import run_worker
from app.workers.outbox import MAX_ATTEMPTS, deliver_outbox, notify_outbox
from tests.brokers import broker_queue
from tests.harness import TIMEOUT, eventually, patience
from tests.processes import REDIS_URL, SmtpServer, WorkerProcess, message_id

# --- a real SMTP server ---------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailing(settings: Settings, smtp_server: SmtpServer) -> Iterator[Settings]:
    """The settings with the outbox sent to ``smtp_server``, for the in-process actors."""
    yield smtp_server.configure(settings)
    configure_broker(settings)  # the actors of later tests run with the session's settings


# --- helpers ------------------------------------------------------------------------


async def write_outbox(
    database: Database, tenant: NewTenant, recipient: str, subject: str, body: str = "Hello"
) -> int:
    """An e-mail written the way domain code writes one: a row in the tenant's transaction."""
    async with database.tenant_session(tenant.tenant_id) as session:
        message = OutboxMessage(kind="test", recipient=recipient, subject=subject, body=body)
        session.add(message)
        await session.commit()
        return message.id


async def outbox_row(database: Database, outbox_id: int) -> OutboxMessage:
    async with database.system_session() as session:
        message = await session.get(OutboxMessage, outbox_id)
        assert message is not None
        return message


# --- deliver_outbox -----------------------------------------------------------------


async def test_pending_messages_of_two_tenants_are_each_delivered_once(
    database: Database, tenant: NewTenant, other_tenant: NewTenant, smtp_server: SmtpServer
) -> None:
    # given
    first = await write_outbox(database, tenant, "alice@acme.test", "Keys imported", "Body A")
    second = await write_outbox(database, tenant, "bob@acme.test", "Cylinders need work")
    third = await write_outbox(database, other_tenant, "carol@other.test", "Keys imported")
    mine = {first, second, third}

    # when
    report = await deliver_outbox(database, smtp_server.settings)

    # then
    assert mine <= set(report.sent)
    expected = {
        first: ("alice@acme.test", "Keys imported"),
        second: ("bob@acme.test", "Cylinders need work"),
        third: ("carol@other.test", "Keys imported"),
    }
    for outbox_id, (recipient, subject) in expected.items():
        [email] = smtp_server.sink.copies(outbox_id)
        assert email["To"] == recipient
        assert email["X-Envelope-To"] == recipient
        assert email["Subject"] == subject
        assert email["From"] == "keywarden@example.test"
        row = await outbox_row(database, outbox_id)
        assert row.sent_at is not None
        assert row.attempts == 1
    [email] = smtp_server.sink.copies(first)
    assert email.get_content().strip() == "Body A"

    # when
    again = await deliver_outbox(database, smtp_server.settings)

    # then
    assert not mine & set(again.sent + again.retrying + again.abandoned)
    assert all(len(smtp_server.sink.copies(outbox_id)) == 1 for outbox_id in mine)


async def test_concurrent_deliveries_never_send_a_message_twice(
    database: Database, tenant: NewTenant, smtp_server: SmtpServer
) -> None:
    # given: a slow server, so that two deliveries overlap
    smtp_server.sink.delay = 0.05
    mine = {
        await write_outbox(database, tenant, f"user{n}@acme.test", f"Notice {n}") for n in range(6)
    }

    # when
    reports = await asyncio.gather(
        deliver_outbox(database, smtp_server.settings),
        deliver_outbox(database, smtp_server.settings),
    )

    # then
    sent = [outbox_id for report in reports for outbox_id in report.sent]
    assert mine <= set(sent)
    assert len(sent) == len(set(sent))
    assert all(len(smtp_server.sink.copies(outbox_id)) == 1 for outbox_id in mine)


async def test_unreachable_smtp_server_counts_the_attempt_and_keeps_the_message(
    database: Database, tenant: NewTenant
) -> None:
    # given
    down = SmtpServer()
    outbox_id = await write_outbox(database, tenant, "dave@acme.test", "Replacement cylinders")

    # when
    report = await deliver_outbox(database, down.settings)

    # then
    assert outbox_id in report.retrying
    row = await outbox_row(database, outbox_id)
    assert row.sent_at is None
    assert row.attempts == 1
    assert row.last_error is not None and "unavailable" in row.last_error

    # when: the server is back, but the message's back-off has not passed yet
    down.start()
    try:
        early = await deliver_outbox(database, down.settings)
        # then
        assert outbox_id not in early.sent + early.retrying
        assert down.sink.copies(outbox_id) == []

        # when: a minute later
        later = await deliver_outbox(
            database, down.settings, now=row.created_at + timedelta(minutes=1, seconds=1)
        )
        # then
        assert outbox_id in later.sent
        assert len(down.sink.copies(outbox_id)) == 1
        row = await outbox_row(database, outbox_id)
        assert row.sent_at is not None
        assert row.attempts == 2
    finally:
        down.stop()


async def test_refused_recipient_is_retried_when_temporary_and_given_up_when_permanent(
    database: Database, tenant: NewTenant, smtp_server: SmtpServer
) -> None:
    # given
    smtp_server.sink.refused["busy@acme.test"] = "450 4.2.1 mailbox busy"
    smtp_server.sink.refused["nobody@acme.test"] = "550 5.1.1 no such user"
    busy = await write_outbox(database, tenant, "busy@acme.test", "Keys imported")
    nobody = await write_outbox(database, tenant, "nobody@acme.test", "Keys imported")

    # when
    report = await deliver_outbox(database, smtp_server.settings)

    # then
    assert busy in report.retrying
    assert nobody in report.abandoned
    busy_row = await outbox_row(database, busy)
    assert (busy_row.sent_at, busy_row.attempts) == (None, 1)
    assert busy_row.last_error is not None and "450" in busy_row.last_error
    nobody_row = await outbox_row(database, nobody)
    assert (nobody_row.sent_at, nobody_row.attempts) == (None, MAX_ATTEMPTS)
    assert nobody_row.last_error is not None and "550" in nobody_row.last_error

    # when: much later, the mailbox is no longer busy
    del smtp_server.sink.refused["busy@acme.test"]
    later = await deliver_outbox(database, smtp_server.settings, now=utcnow() + timedelta(days=2))

    # then: the given-up message stays in the outbox, unsent, and is not tried again
    assert busy in later.sent
    assert nobody not in later.sent + later.retrying + later.abandoned
    assert smtp_server.sink.copies(nobody) == []
    assert (await outbox_row(database, nobody)).sent_at is None


async def test_subject_with_a_line_break_is_given_up_instead_of_injecting_headers(
    database: Database, tenant: NewTenant, smtp_server: SmtpServer
) -> None:
    # given
    outbox_id = await write_outbox(
        database, tenant, "erin@acme.test", "Hello\r\nBcc: mallory@evil.test"
    )

    # when
    report = await deliver_outbox(database, smtp_server.settings)

    # then
    assert outbox_id in report.abandoned
    assert smtp_server.sink.copies(outbox_id) == []
    assert not any("mallory" in str(e["X-Envelope-To"]) for e in smtp_server.sink.accepted)


def test_smtp_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    for name, value in {
        "SMTP_HOST": "mail.example.test",
        "SMTP_PORT": "587",
        "SMTP_FROM": "locks@example.test",
        "SMTP_USERNAME": "keywarden",
        "SMTP_PASSWORD": "s3cret-pass",
        "SMTP_STARTTLS": "1",
    }.items():
        monkeypatch.setenv(name, value)

    # when
    smtp = Settings()

    # then
    assert (smtp.smtp_host, smtp.smtp_port, smtp.smtp_from, smtp.smtp_username) == (
        "mail.example.test",
        587,
        "locks@example.test",
        "keywarden",
    )
    assert smtp.smtp_password == SecretStr("s3cret-pass")
    assert smtp.smtp_starttls is True
    assert "s3cret-pass" not in repr(smtp)
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_USERNAME", "SMTP_PASSWORD"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SMTP_STARTTLS", "")  # empty is unset
    default = Settings()
    assert (default.smtp_host, default.smtp_port, default.smtp_from) == (
        "127.0.0.1",
        25,
        "keywarden@localhost",
    )
    assert (default.smtp_username, default.smtp_password, default.smtp_starttls) == (
        None,
        None,
        False,
    )


# --- the in-process queue of the embedded default (R3) ------------------------------


async def test_notify_outbox_has_the_in_process_worker_deliver_the_message(
    mailing: Settings, database: Database, tenant: NewTenant, smtp_server: SmtpServer
) -> None:
    # given
    with InProcessWorker(mailing, periodic=False) as worker:
        outbox_id = await write_outbox(database, tenant, "frank@acme.test", "Keys imported")

        # when
        notify_outbox()
        await asyncio.to_thread(worker.join, timeout_ms=round(patience(30) * 1000))

    # then
    assert len(smtp_server.sink.copies(outbox_id)) == 1
    assert (await outbox_row(database, outbox_id)).sent_at is not None


async def test_in_process_worker_sends_what_was_written_before_it_started(
    mailing: Settings, database: Database, tenant: NewTenant, smtp_server: SmtpServer
) -> None:
    # given: a message whose notification was lost (the process stopped after the commit)
    outbox_id = await write_outbox(database, tenant, "gina@acme.test", "Keys imported")

    # when
    worker = start_in_process_worker(mailing)
    assert worker is not None
    try:

        async def delivered() -> bool:
            return len(smtp_server.sink.copies(outbox_id)) == 1

        await eventually(delivered, "the sweep at start to deliver the message")
    finally:
        worker.stop()

    # then
    assert (await outbox_row(database, outbox_id)).sent_at is not None


# Fails on every run, so the worker holds its retry (a minute away) when it stops.
_retry_held = threading.Event()


@dramatiq.actor(actor_name="test_always_failing", max_retries=1, min_backoff=60_000)
def _always_failing() -> None:
    _retry_held.set()
    raise RuntimeError("this actor always fails")


async def test_a_stopped_in_process_worker_leaves_no_message_that_a_later_one_waits_for(
    settings: Settings,
) -> None:
    # given: a worker stopped while it held a retry of a failing actor (R3)
    configure_broker(settings)
    with InProcessWorker(settings, periodic=False) as first:
        _always_failing.send()
        assert await asyncio.to_thread(_retry_held.wait, patience(10))
        broker = first.broker
        assert broker is not None

        async def retry_taken() -> bool:
            return broker.queues[dq_name("default")].qsize() == 0

        await eventually(retry_taken, "the worker to take the retry into its delay queue")

    # when: the next worker on the same in-process queue is joined
    with InProcessWorker(settings, periodic=False) as second:
        await asyncio.to_thread(second.join, timeout_ms=round(patience(5) * 1000))

    # then: it returned at once, the dropped retry counted as done
    assert [q.unfinished_tasks for q in broker.queues.values()] == [0] * len(broker.queues)


@pytest.mark.parametrize(
    "configured",
    [
        {"redis_url": SecretStr(REDIS_URL)},
        {"broker_url": SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F")},
        {"broker_url": SecretStr(REDIS_URL)},
    ],
    ids=["REDIS_URL", "BROKER_URL amqp", "BROKER_URL redis"],
)
def test_with_a_broker_configured_the_api_process_runs_no_worker(
    settings: Settings, configured: dict[str, SecretStr], caplog: pytest.LogCaptureFixture
) -> None:
    # given (issue 13 item 5: the queue on RabbitMQ or Redis, chosen by URL)
    with_broker = settings.model_copy(update=configured)
    caplog.set_level(logging.INFO, logger="keywarden.workers")

    # when
    try:
        worker = start_in_process_worker(with_broker)
        broker = configure_broker(with_broker)
    finally:
        configure_broker(settings)

    # then
    assert worker is None
    expected = RabbitmqBroker if "amqp" in with_broker.queue_url else RedisBroker
    assert type(broker) is expected
    where = "RabbitMQ at 127.0.0.1:5672" if expected is RabbitmqBroker else "Redis at 127.0.0.1"
    assert f"job queue on {where}" in caplog.text
    assert "guest:guest" not in caplog.text


def test_worker_command_refuses_without_a_broker(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    status = run_worker(settings)

    # then
    assert status == 2
    assert "set BROKER_URL or REDIS_URL to run separate workers" in capsys.readouterr().err


def test_worker_command_exits_when_rabbitmq_is_unreachable(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: nothing listens on port 1
    down = settings.model_copy(update={"broker_url": SecretStr("amqp://kw:s3cret@127.0.0.1:1/")})

    # when
    try:
        status = run_worker(down)
    finally:
        configure_broker(settings)

    # then: it says where the queue is, never the password
    assert status == 1
    err = capsys.readouterr().err
    assert "cannot reach the queue (RabbitMQ at 127.0.0.1:1" in err
    assert "s3cret" not in err


@pytest.mark.parametrize("url", ["http://127.0.0.1:5672", "amqp-ish://x", "postgresql://x/y"])
def test_a_broker_url_of_another_scheme_is_refused_at_start_up_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    # given
    monkeypatch.setenv("BROKER_URL", url)
    get_settings.cache_clear()

    # when
    try:
        with pytest.raises(ConfigError) as refused:
            load_settings()
    finally:
        get_settings.cache_clear()

    # then
    message = str(refused.value)
    assert "BROKER_URL: must start with redis://, rediss://, amqp://, amqps://" in message
    assert url not in message


# --- separate worker processes over Redis and RabbitMQ (R3, R33, issue 13 item 5) -------


@pytest.fixture
def queue(settings: Settings, broker_url: str) -> Iterator[tuple[Settings, str]]:
    """This process enqueues through the broker in a namespace (or virtual host) of its own."""
    with broker_queue(settings, broker_url) as configured:
        yield configured


@pytest.fixture
async def spawn(tmp_path: Path) -> AsyncIterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*args: Any) -> WorkerProcess:
        process = WorkerProcess(*args[:3], tmp_path / f"worker-{len(started)}.log", *args[3:])
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()


async def test_separate_worker_processes_deliver_an_enqueued_message(
    database: Database,
    tenant: NewTenant,
    smtp_server: SmtpServer,
    queue: tuple[Settings, str],
    spawn: Callable[..., WorkerProcess],
) -> None:
    # given: two worker processes that only do what is enqueued (no sweep)
    settings, namespace = queue
    worker = spawn(settings, namespace, smtp_server, "--processes", "2", "--no-periodic")
    await worker.ready(processes=2)
    outbox_id = await write_outbox(database, tenant, "hank@acme.test", "Keys imported")

    # when
    notify_outbox()

    # then
    async def sent() -> bool:
        return (await outbox_row(database, outbox_id)).sent_at is not None

    await eventually(sent, f"outbox {outbox_id} to be marked sent", details=worker.output)
    assert len(smtp_server.sink.copies(outbox_id)) == 1
    where = (
        f"RabbitMQ at 127.0.0.1:5672, virtual host {namespace!r}"
        if settings.queue_on_rabbitmq
        else f"Redis at 127.0.0.1:6379, namespace {namespace!r}"
    )
    assert f"queue on {where}" in worker.output()

    # when: the service manager stops the workers
    status = worker.signal(signal.SIGTERM)

    # then
    assert status == 0, worker.output()


async def test_a_worker_killed_while_sending_loses_no_message(
    database: Database,
    tenant: NewTenant,
    smtp_server: SmtpServer,
    queue: tuple[Settings, str],
    spawn: Callable[..., WorkerProcess],
) -> None:
    # given: a worker in the middle of sending, the server not yet having answered
    settings, namespace = queue
    first = spawn(settings, namespace, smtp_server)
    await first.ready()
    outbox_id = await write_outbox(database, tenant, "ivan@acme.test", "Keys imported")
    smtp_server.sink.held.add(message_id(outbox_id))
    notify_outbox()
    arrived = await asyncio.to_thread(smtp_server.sink.arrived.wait, patience(TIMEOUT))
    assert arrived, first.output()

    # when
    first.signal(signal.SIGKILL)
    smtp_server.sink.released.set()

    # then: nothing was committed, the message is still pending
    row = await outbox_row(database, outbox_id)
    assert (row.sent_at, row.attempts) == (None, 0)

    # when: another worker starts
    second = spawn(settings, namespace, smtp_server)

    # then
    async def sent() -> bool:
        return (await outbox_row(database, outbox_id)).sent_at is not None

    await eventually(sent, f"outbox {outbox_id} to be marked sent", details=second.output)
    assert len(smtp_server.sink.copies(outbox_id)) == 1
    assert second.signal(signal.SIGTERM) == 0, second.output()
