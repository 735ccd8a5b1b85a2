"""Pub/sub for live events: in-process fan-out, or Redis between processes (R1, R3, R23).

A message is a small JSON object (ids and facts, never rows) published on one
tenant's channel of one topic, ``<prefix>:<tenant_id>:<topic>``; a subscriber
listens to its own tenant's channel only (R1). Every subscriber has a bounded
mailbox: a subscriber that does not keep up loses its oldest messages (counted
in ``Mailbox.dropped``), and a publisher never waits for it.

- :class:`InProcessPubSub` (the embedded default, R3) fans out inside the process.
  It is one object per process and thread-safe: worker threads with their own
  event loops publish into it, and delivery hops onto each subscriber's loop.
- :class:`RedisPubSub` (``REDIS_URL`` set) publishes with ``PUBLISH`` and runs ONE
  listener task per process and event loop, subscribed to the channels its local
  subscribers need, which fans each message out locally. When the connection
  drops (Redis restarted, ``CLIENT KILL``, network), the listener reconnects with
  exponential back-off and subscribes again to every channel still wanted.
  Messages published while it was disconnected are lost (Redis pub/sub keeps
  nothing); current state is always readable through queries.

:func:`get_pubsub` picks the implementation from the settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

from app.config import Settings

log = logging.getLogger("keywarden.events")

Message = Mapping[str, Any]

DEFAULT_PREFIX = "keywarden"
# Messages a subscriber may have waiting before its oldest are dropped.
MAILBOX_SIZE = 1000
# How long subscribing waits for Redis to confirm before going on without it
# (the listener keeps trying; events flow once the subscription is in place).
SUBSCRIBE_CONFIRM_SECONDS = 5.0


def _publisher(url: str) -> aioredis.Redis:
    # A request publishes after its commit: with Redis down it must fail fast, not retry
    # for seconds (redis-py's default), since nobody would be listening anyway.
    return aioredis.from_url(
        url,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), 2),
        socket_connect_timeout=1,
        socket_timeout=2,
    )


class Mailbox:
    """One subscriber's bounded queue of messages on one channel.

    ``deliver`` may be called from any thread; the messages are taken on the event
    loop that opened the mailbox. When full, the oldest message is dropped and
    counted: a slow subscriber never holds up a publisher.
    """

    def __init__(self, channel: str, size: int, on_drop: Any = None) -> None:
        self.channel = channel
        self.size = size
        self.dropped = 0
        self._on_drop = on_drop
        self._loop = asyncio.get_running_loop()
        self._items: deque[Message] = deque()
        self._ready = asyncio.Event()

    def deliver(self, message: Message) -> None:
        """Hand a message to this subscriber, from whatever thread or loop is publishing."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._put(message)
            return
        with suppress(RuntimeError):  # the subscriber's loop has closed: nobody is listening
            self._loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: Message) -> None:
        if len(self._items) >= self.size:
            self._items.popleft()
            self.dropped += 1
            if self.dropped == 1:
                log.warning("a subscriber of %s is not keeping up: dropping its oldest "
                            "messages", self.channel)
            if self._on_drop is not None:
                self._on_drop()
        self._items.append(message)
        self._ready.set()

    async def next_batch(
        self, *, limit: int = 100, wait_seconds: float | None = None
    ) -> list[Message]:
        """The waiting messages, oldest first, at most ``limit``; waits for the first one.

        Returns an empty list when ``wait_seconds`` pass without a message.
        """
        if not self._items:
            self._ready.clear()
            if wait_seconds is None:
                await self._ready.wait()
            else:
                try:
                    await asyncio.wait_for(self._ready.wait(), wait_seconds)
                except TimeoutError:
                    return []
        batch: list[Message] = []
        while self._items and len(batch) < limit:
            batch.append(self._items.popleft())
        return batch


class _FanOut:
    """The mailboxes of this process, by channel (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_channel: dict[str, set[Mailbox]] = {}
        self.dropped = 0

    def _count_drop(self) -> None:
        self.dropped += 1

    def add(self, channel: str, size: int) -> Mailbox:
        mailbox = Mailbox(channel, size, on_drop=self._count_drop)
        with self._lock:
            self._by_channel.setdefault(channel, set()).add(mailbox)
        return mailbox

    def remove(self, mailbox: Mailbox) -> int:
        """Forget a mailbox; how many are left on its channel."""
        with self._lock:
            boxes = self._by_channel.get(mailbox.channel)
            if boxes is None:
                return 0
            boxes.discard(mailbox)
            if not boxes:
                del self._by_channel[mailbox.channel]
                return 0
            return len(boxes)

    def count(self, channel: str) -> int:
        with self._lock:
            return len(self._by_channel.get(channel, ()))

    def deliver(self, channel: str, message: Message) -> int:
        with self._lock:
            boxes = list(self._by_channel.get(channel, ()))
        for box in boxes:
            box.deliver(message)
        return len(boxes)


class PubSub(ABC):
    """Publish small messages to a tenant's topic; subscribe to one's own tenant's topic."""

    def __init__(self, prefix: str, mailbox_size: int = MAILBOX_SIZE) -> None:
        self.prefix = prefix
        self.mailbox_size = mailbox_size
        self._fanout = _FanOut()

    def channel(self, tenant_id: str, topic: str) -> str:
        """The channel of one tenant's topic (R1: a tenant's events never share a channel)."""
        return f"{self.prefix}:{tenant_id}:{topic}"

    @property
    def dropped(self) -> int:
        """Messages dropped in this process because a subscriber's mailbox was full."""
        return self._fanout.dropped

    def subscriber_count(self, tenant_id: str, topic: str) -> int:
        """Subscribers of this process listening to the tenant's topic."""
        return self._fanout.count(self.channel(tenant_id, topic))

    async def publish(self, tenant_id: str, topic: str, message: Message) -> None:
        """Publish one message on the tenant's topic."""
        await self.publish_many([(tenant_id, topic, message)])

    @abstractmethod
    async def publish_many(self, items: Iterable[tuple[str, str, Message]]) -> None:
        """Publish ``(tenant_id, topic, message)`` items, in order, in one go."""

    @abstractmethod
    def subscribe(self, tenant_id: str, topic: str) -> Any:
        """``async with pubsub.subscribe(tenant, topic) as mailbox``: listen while inside."""

    @abstractmethod
    async def close(self) -> None:
        """Stop listening and release connections."""


class InProcessPubSub(PubSub):
    """Fan-out inside one process (R3's embedded default); safe to publish from any thread."""

    async def close(self) -> None:
        """Nothing to release: the process's one in-process pub/sub lives as long as it."""

    async def publish_many(self, items: Iterable[tuple[str, str, Message]]) -> None:
        for tenant_id, topic, message in items:
            self._fanout.deliver(self.channel(tenant_id, topic), message)

    @asynccontextmanager
    async def subscribe(self, tenant_id: str, topic: str) -> AsyncIterator[Mailbox]:
        mailbox = self._fanout.add(self.channel(tenant_id, topic), self.mailbox_size)
        try:
            yield mailbox
        finally:
            self._fanout.remove(mailbox)


def listener_name(prefix: str) -> str:
    """The Redis client name of the pub/sub listener of deployments using ``prefix``."""
    return f"keywarden-pubsub:{prefix}"


class RedisPubSub(PubSub):
    """Redis pub/sub with one reconnecting listener per process and event loop (R3, R23).

    Publishing uses its own connection pool. The listener holds one connection,
    subscribed to the channels the local mailboxes need (``SUBSCRIBE`` when the
    first local subscriber of a channel arrives, ``UNSUBSCRIBE`` when the last one
    leaves) and fans each message out to them.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        mailbox_size: int = MAILBOX_SIZE,
        min_backoff: float = 0.05,
        max_backoff: float = 5.0,
        health_check_interval: float = 10.0,
    ) -> None:
        super().__init__(prefix, mailbox_size)
        self.url = url
        self.loop = asyncio.get_running_loop()
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.reconnects = 0
        self._publisher = _publisher(url)
        # No hidden retries on the listening connection: the listener owns
        # reconnecting, so a dropped connection is always noticed and re-subscribed.
        self._listening = aioredis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=health_check_interval,
            socket_keepalive=True,
            socket_connect_timeout=5,
            # Named in CLIENT LIST, so one deployment's (or test's) listener can be told
            # apart from the others sharing the Redis server.
            client_name=listener_name(prefix),
        )
        self._pubsub: Any = None  # the listener's current redis PubSub, None while disconnected
        self._wanted: dict[str, asyncio.Event] = {}  # channel -> set once Redis confirmed it
        self._commands = asyncio.Lock()  # orders SUBSCRIBE/UNSUBSCRIBE and reconnecting
        self._listener: asyncio.Task[None] | None = None
        self._closed = False

    async def publish_many(self, items: Iterable[tuple[str, str, Message]]) -> None:
        async with self._publisher.pipeline(transaction=False) as pipe:
            count = 0
            for tenant_id, topic, message in items:
                pipe.publish(self.channel(tenant_id, topic), json.dumps(message))
                count += 1
            if count:
                await pipe.execute()

    @asynccontextmanager
    async def subscribe(self, tenant_id: str, topic: str) -> AsyncIterator[Mailbox]:
        if self._closed:
            raise RuntimeError("this pub/sub is closed")
        channel = self.channel(tenant_id, topic)
        mailbox = self._fanout.add(channel, self.mailbox_size)
        try:
            confirmed = await self._want(channel)
            try:
                await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_CONFIRM_SECONDS)
            except TimeoutError:
                log.warning("Redis has not confirmed the subscription to %s yet", channel)
            yield mailbox
        finally:
            if self._fanout.remove(mailbox) == 0:
                await self._unwant(channel)

    async def _want(self, channel: str) -> asyncio.Event:
        async with self._commands:
            self._start_listener()
            confirmed = self._wanted.get(channel)
            if confirmed is None:
                confirmed = self._wanted[channel] = asyncio.Event()
                if self._connected():
                    try:
                        await self._pubsub.subscribe(channel)
                    except (aioredis.RedisError, OSError) as exc:
                        # The listener notices the broken connection and subscribes again.
                        log.debug("SUBSCRIBE %s failed: %s", channel, exc)
            return confirmed

    async def _unwant(self, channel: str) -> None:
        async with self._commands:
            if self._fanout.count(channel) or channel not in self._wanted:
                return
            del self._wanted[channel]
            if self._connected():
                try:
                    await self._pubsub.unsubscribe(channel)
                except (aioredis.RedisError, OSError) as exc:
                    log.debug("UNSUBSCRIBE %s failed: %s", channel, exc)

    def _connected(self) -> bool:
        # While the listener reconnects, it subscribes to every wanted channel itself.
        connection = getattr(self._pubsub, "connection", None)
        return connection is not None and bool(connection.is_connected)

    def _start_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="keywarden-pubsub-listener")

    async def _listen(self) -> None:
        backoff = self.min_backoff
        connected_before = False
        while not self._closed:
            pubsub = self._listening.pubsub()
            try:
                async with self._commands:
                    await pubsub.connect()
                    if self._wanted:
                        await pubsub.subscribe(*self._wanted)
                    self._pubsub = pubsub
                if connected_before:
                    self.reconnects += 1
                    log.info("pub/sub listener reconnected (%d channels)", len(self._wanted))
                connected_before = True
                backoff = self.min_backoff
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._handle(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost, Redis down, protocol error
                log.warning(
                    "pub/sub listener lost Redis (%s: %s); reconnecting in %.2fs",
                    type(exc).__name__, exc, backoff,
                )
            finally:
                self._pubsub = None
                for confirmed in self._wanted.values():
                    confirmed.clear()
                with suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def _handle(self, message: Mapping[str, Any]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        if kind == "subscribe":
            confirmed = self._wanted.get(channel)  # type: ignore[arg-type]
            if confirmed is not None:
                confirmed.set()
        elif kind == "message":
            try:
                body = json.loads(message["data"])
            except (ValueError, TypeError):
                log.warning("ignoring a malformed message on %s", channel)
                return
            if isinstance(body, dict):
                self._fanout.deliver(channel, body)  # type: ignore[arg-type]

    async def close(self) -> None:
        self._closed = True
        _forget(self)
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._listening.aclose()
        await self._publisher.aclose()


_memory = InProcessPubSub(DEFAULT_PREFIX)
_registry_lock = threading.Lock()
_redis: dict[tuple[str, str, asyncio.AbstractEventLoop], RedisPubSub] = {}


def _forget(pubsub: RedisPubSub) -> None:
    with _registry_lock:
        for key, value in list(_redis.items()):
            if value is pubsub:
                del _redis[key]


def get_pubsub(settings: Settings, *, prefix: str | None = None) -> PubSub:
    """The process's pub/sub for these settings: Redis when ``redis_url`` is set (R3).

    In-process: one object per process, shared by every thread and loop. Redis: one
    per Redis URL, channel prefix and running event loop, created on first use and
    kept until closed (the web app closes its own at shutdown). Call it from
    inside a running event loop. The channel prefix is ``prefix``, else
    ``KEYWARDEN_PUBSUB_PREFIX``: deployments sharing one Redis, and tests, keep
    apart by giving different prefixes.
    """
    if not settings.redis_url:
        return _memory
    loop = asyncio.get_running_loop()
    key = (settings.redis_url.get_secret_value(), prefix or settings.pubsub_prefix, loop)
    with _registry_lock:
        for stale in [k for k in _redis if k[2].is_closed()]:
            del _redis[stale]
        pubsub = _redis.get(key)
        if pubsub is None:
            pubsub = _redis[key] = RedisPubSub(key[0], prefix=key[1])
        return pubsub


def existing_pubsub(settings: Settings, *, prefix: str | None = None) -> PubSub | None:
    """The pub/sub :func:`get_pubsub` would return, if one is already open in this loop."""
    if not settings.redis_url:
        return _memory
    key = (
        settings.redis_url.get_secret_value(),
        prefix or settings.pubsub_prefix,
        asyncio.get_running_loop(),
    )
    with _registry_lock:
        return _redis.get(key)


async def publish_once(settings: Settings, items: list[tuple[str, str, Message]]) -> None:
    """Publish through a connection opened for this call only (code without a long-lived loop).

    For Dramatiq actors, which run each message in a fresh ``asyncio.run``: a
    cached listener there would outlive its loop.
    """
    if not settings.redis_url:
        await _memory.publish_many(items)
        return
    prefix = settings.pubsub_prefix
    client = _publisher(settings.redis_url.get_secret_value())
    try:
        async with client.pipeline(transaction=False) as pipe:
            for tenant_id, topic, message in items:
                pipe.publish(f"{prefix}:{tenant_id}:{topic}", json.dumps(message))
            await pipe.execute()
    finally:
        await client.aclose()
