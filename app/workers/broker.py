"""The job queue (R3): Dramatiq over Redis or RabbitMQ, or in-process when nothing is configured.

With no broker URL (the embedded default) the queue is Dramatiq's
``StubBroker`` and its workers are threads of the API process
(``start_in_process_worker``). With one (``Settings.queue_url``: ``BROKER_URL``,
else ``REDIS_URL``), messages go through Redis or, for ``amqp://``, RabbitMQ
(issue 13 item 5), and separate ``keywarden worker`` processes consume them
(``app.workers.main``).

Actors are declared on whatever broker is current when their module is
imported; ``configure_broker`` moves them to a new broker if the configuration
changes later, so importing ``app.workers`` early is always safe.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import dramatiq
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from pydantic import ValidationError

from app.config import Settings, get_settings
from app.workers.leases import take_periodic_lease
from app.workers.metrics import QueueMetrics

log = logging.getLogger("keywarden.workers")

# How long a stopping worker waits for running actors before it exits anyway. An
# unfinished message is not lost: Redis gives it to another worker after the
# heartbeat timeout, RabbitMQ as soon as the worker's connection closes, and the
# outbox sweep finds its rows regardless.
SHUTDOWN_TIMEOUT_MS = 20_000


@dataclass
class _Configured:
    key: tuple[str, str]
    broker: dramatiq.Broker
    settings: Settings


_lock = threading.RLock()
_current: _Configured | None = None
# Where actors wait when they are declared while the environment is invalid.
_unconfigured: StubBroker | None = None
_booted: weakref.WeakSet[dramatiq.Broker] = weakref.WeakSet()


class InProcessBroker(StubBroker):
    """The embedded default's queue (R3): a ``StubBroker`` whose stopped workers let go.

    A Dramatiq worker that stops hands back the messages it still held (those
    waiting for their retry time, those fetched but not started) through its
    consumers' ``requeue``, which the ``StubBroker`` leaves empty: the messages
    vanish but stay counted as unfinished, so ``join`` on the queue waits for
    them forever. Here they are dropped and counted as done. The in-process
    queue lives no longer than its process anyway; what the dropped messages
    would have done is redone from the database by the periodic actors (the
    outbox sweep, the maintenance checks).
    """

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 100) -> Consumer:
        return _LettingGo(super().consume(queue_name, prefetch, timeout), self.queues[queue_name])


class _LettingGo(Consumer):
    def __init__(self, consumer: Consumer, messages: queue.Queue[bytes]) -> None:
        self.consumer = consumer
        self.queue = messages

    def ack(self, message: MessageProxy) -> None:
        self.consumer.ack(message)

    def nack(self, message: MessageProxy) -> None:
        self.consumer.nack(message)

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        dropped = [m.actor_name for m in messages]
        for _ in dropped:
            self.queue.task_done()
        if dropped:
            log.warning(
                "in-process worker stopped holding %d message(s) (%s); periodic work redoes them",
                len(dropped),
                ", ".join(sorted(set(dropped))),
            )

    def __next__(self) -> MessageProxy | None:
        return next(self.consumer)

    def close(self) -> None:
        self.consumer.close()


def redelivery_options(settings: Settings) -> dict[str, int]:
    """How fast Redis hands the messages of a dead worker to another one (R3, at least once).

    A worker takes messages out of the queue into its own "unacknowledged" set
    and acknowledges each when its actor returned. A worker killed meanwhile
    (SIGKILL, power loss) acknowledges nothing; its messages go back to the
    queue once its heartbeat (every Redis command it sends, about once a second
    while it polls) is older than ``KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS``
    (default Dramatiq's 60,000), found by the queue maintenance that runs with
    ``KEYWARDEN_QUEUE_MAINTENANCE_CHANCE`` of every million queue commands
    (default Dramatiq's 1,000). Actors are idempotent, so the message running again
    does no harm; tests shorten both to see a redelivery within seconds. The
    settings checked both at start-up (at least 2,000 ms; 1 to a million).
    """
    return {
        "heartbeat_timeout": settings.queue_heartbeat_timeout_ms,
        "maintenance_chance": settings.queue_maintenance_chance,
    }


def configure_broker(
    settings: Settings | None = None, *, namespace: str | None = None
) -> dramatiq.Broker:
    """Make the process's job queue (R3) the global Dramatiq broker and return it.

    ``RabbitmqBroker`` for an ``amqp(s)://`` queue URL, ``RedisBroker`` for a
    Redis one (``settings.queue_url``), else a ``StubBroker`` for the in-process
    queue of the embedded default. On RabbitMQ the namespace is not used: a
    deployment (or a test) keeps its queues apart with a virtual host of its own,
    named in the URL. Calling it again with the same URL and namespace returns
    the same broker (idempotent); a
    different configuration replaces the broker and moves every declared actor
    onto the new one. The settings given last are the ones actors of this
    process use (``worker_settings``).

    Without ``settings`` and with an invalid environment (a bad variable) the
    actors are declared on an unconfigured ``StubBroker`` instead of failing the
    import: the entry point's ``load_settings`` reports the variable (exit 2).
    """
    global _current, _unconfigured
    if settings is None:
        try:
            settings = get_settings()
        except ValidationError:
            with _lock:
                if _current is not None:
                    return _current.broker
                _unconfigured = _unconfigured or StubBroker()
                return _unconfigured
    namespace = namespace or settings.queue_namespace
    url = settings.queue_url
    on_redis = bool(url) and not settings.queue_on_rabbitmq
    key = (url, namespace if on_redis else "")
    with _lock:
        if _current is not None and _current.key == key:
            _current.settings = settings
            return _current.broker
        broker: dramatiq.Broker
        if settings.queue_on_rabbitmq:
            # Confirmed publishing: a send returns once RabbitMQ has the message.
            broker = RabbitmqBroker(url=url, confirm_delivery=True)
        elif on_redis:
            broker = RedisBroker(url=url, namespace=namespace, **redelivery_options(settings))
        else:
            broker = InProcessBroker()
            # Its workers run in the API process, whose /metrics then serves Dramatiq's own.
            broker.add_middleware(QueueMetrics())
        old = _current.broker if _current is not None else _unconfigured
        if old is not None:
            for actor in list(old.actors.values()):
                actor.broker = broker
                broker.declare_actor(actor)
            old.close()
        _unconfigured = None
        dramatiq.set_broker(broker)
        _current = _Configured(key=key, broker=broker, settings=settings)
        return broker


def describe_queue(settings: Settings) -> str:
    """Where the job queue is, for logs: the broker and its host, never a password."""
    url = settings.queue_url
    if not url:
        return "in-process"
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port}" if parts.port else parts.hostname
    if settings.queue_on_rabbitmq:
        return f"RabbitMQ at {where}, virtual host {unquote(parts.path[1:]) or '/'!r}"
    return f"Redis at {where or parts.path}, namespace {settings.queue_namespace!r}"


def current_broker() -> dramatiq.Broker | None:
    """The broker ``configure_broker`` made last in this process, if any (for ``/metrics``)."""
    with _lock:
        return _current.broker if _current is not None else None


def worker_settings() -> Settings:
    """The settings the actors of this process run with (database, Redis, broker)."""
    with _lock:
        if _current is None:
            configure_broker()
        assert _current is not None
        return _current.settings


def boot_broker(broker: dramatiq.Broker) -> None:
    """Run the broker's process-boot hooks once (they start e.g. the time-limit monitor)."""
    with _lock:
        if broker in _booted:
            return
        broker.emit_after("process_boot")
        _booted.add(broker)


# --- periodic work ----------------------------------------------------------------


@dataclass(frozen=True)
class Periodic:
    """An actor sent at worker start and then every ``seconds`` (e.g. the outbox sweep).

    ``seconds`` is a number, or what a setting says (``KEYWARDEN_OUTBOX_SWEEP_SECONDS``).
    """

    actor: dramatiq.Actor[Any, Any]
    seconds: float | Callable[[Settings], float]

    def interval(self, settings: Settings) -> float:
        return self.seconds(settings) if callable(self.seconds) else self.seconds


PERIODIC: list[Periodic] = []


def register_periodic(
    actor: dramatiq.Actor[Any, Any], *, seconds: float | Callable[[Settings], float]
) -> None:
    """Have every worker send ``actor`` (no arguments) at start and every ``seconds``."""
    if not any(p.actor is actor for p in PERIODIC):
        PERIODIC.append(Periodic(actor, seconds))


class PeriodicSender:
    """Sends the registered periodic actors from a background thread.

    The first round is sent at start unconditionally (a restarted worker picks
    up what a dead one left). Later rounds fall on the boundaries of wall-clock
    intervals (every 30 s: at :00 and :30), and the first worker to claim an
    interval (``_claim``) is the one that sends: N worker processes send each
    periodic message once per interval, not N times (issue 13 item 4); the actors
    are idempotent either way.
    """

    def __init__(
        self,
        broker: dramatiq.Broker,
        periodic: list[Periodic] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.broker = broker
        self.periodic = list(PERIODIC if periodic is None else periodic)
        self.settings = settings or worker_settings()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Self:
        for item in self.periodic:
            thread = threading.Thread(
                target=self._run,
                args=(item,),
                name=f"keywarden-periodic-{item.actor.actor_name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self, item: Periodic) -> None:
        self._send(item, None)
        seconds = item.interval(self.settings)
        while not self._stop.wait(seconds - time.time() % seconds):
            # Woken a hair early, the interval is the one already sent: claimed, skipped.
            self._send(item, int(time.time() // seconds))

    def _send(self, item: Periodic, interval: int | None) -> None:
        name = item.actor.actor_name
        try:
            if interval is not None and not self._claim(item, interval):
                return
            item.actor.send()
            log.debug(
                "sent periodic %s %s", name,
                "at start" if interval is None else f"for interval {interval}",
            )
        except Exception:
            # The queue being unreachable must not end the loop; the next round retries.
            log.warning("could not send periodic %s", name, exc_info=True)

    def _claim(self, item: Periodic, interval: int) -> bool:
        """Whether this process sends the round of ``interval`` (issue 13 item 4).

        On Redis the first to set a key per actor and interval (``SET NX``); on
        RabbitMQ (a deployment that may run no Redis) the first to move the actor's
        lease row in the database past its expiry (``app.workers.leases``), for a
        little less than the interval. The in-process queue has one sender anyway.
        """
        name = item.actor.actor_name
        seconds = item.interval(self.settings)
        if isinstance(self.broker, RedisBroker):
            claim = f"{self.broker.namespace}:periodic:{name}:{interval}"
            ttl_ms = max(int(seconds * 2000), 1)
            return bool(self.broker.client.set(claim, os.getpid(), nx=True, px=ttl_ms))
        if isinstance(self.broker, RabbitmqBroker):
            return take_periodic_lease(self.settings, name, seconds * 0.9)
        return True


# --- the in-process worker of the embedded default ----------------------------------


class InProcessWorker:
    """Dramatiq worker threads inside the API process, for the embedded default (R3).

    Consumes the ``StubBroker``; also sends the periodic actors (the outbox
    sweep) so that work whose notification was lost, e.g. because the process
    stopped between a commit and its enqueue, is still done after a restart.
    """

    def __init__(self, settings: Settings, *, threads: int = 1, periodic: bool = True) -> None:
        self.settings = settings
        self.threads = threads
        self.periodic = periodic
        self.broker: StubBroker | None = None
        self.worker: dramatiq.Worker | None = None
        self._sender: PeriodicSender | None = None

    def start(self) -> Self:
        broker = configure_broker(self.settings)
        if not isinstance(broker, StubBroker):
            raise RuntimeError("a queue broker is configured: run `keywarden worker` instead")
        boot_broker(broker)
        self.broker = broker
        self.worker = dramatiq.Worker(broker, worker_threads=self.threads)
        self.worker.start()
        if self.periodic:
            self._sender = PeriodicSender(broker, settings=self.settings).start()
        log.info("in-process queue started (%d thread(s))", self.threads)
        return self

    def stop(self, timeout: int = SHUTDOWN_TIMEOUT_MS) -> None:
        """Stop sending periodic work, let running actors finish (up to ``timeout`` ms)."""
        if self._sender is not None:
            self._sender.stop()
            self._sender = None
        if self.worker is not None:
            self.worker.stop(timeout=timeout)
            self.worker = None

    def join(self, queue_name: str = "default", timeout_ms: int = 30_000) -> None:
        """Wait until the queue is empty and nothing is running (tests, shutdown)."""
        assert self.broker is not None and self.worker is not None
        self.broker.join(queue_name, timeout=timeout_ms, fail_fast=False)
        self.worker.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_process_worker(
    settings: Settings, *, threads: int = 1, periodic: bool = True
) -> InProcessWorker | None:
    """Start the embedded queue's worker threads (R3); None when a broker URL is configured.

    The web app calls this at startup and ``.stop()`` on the result at shutdown.
    One thread by default: on SQLite deliveries run one at a time anyway.
    """
    if settings.queue_url:
        configure_broker(settings)
        log.info("job queue on %s: `keywarden worker` consumes it", describe_queue(settings))
        return None
    return InProcessWorker(settings, threads=threads, periodic=periodic).start()
