"""Rate limits on what can be guessed or flooded (R5, R37): logins, PINs, codes, tokens, devices.

Each ``RateRule`` allows so many hits per moving window (``KEYWARDEN_RATE_*``, in the
``limits`` notation, e.g. ``10/minute``) for one identity: a client address, a
programming key, a device. Hits are counted in Redis when ``REDIS_URL`` is set, so
that every process of a deployment shares one count, else in the process's memory
(the embedded default). A hit over the limit raises ``RateLimited``, a ``DomainError``
with the code ``RATE_LIMITED`` that says when to try again: the GraphQL payload's
``errors`` carry it, HTTP routes answer 429 with ``Retry-After``.

Counting happens before the guarded work, so a refused request writes nothing. When
Redis does not answer, requests pass (and a warning is logged): the limits protect
against guessing, they must not take the service down with the counter.

The client address is ``request.client.host``: behind a reverse proxy, start the
server with the proxy's address trusted for ``X-Forwarded-For``
(``FORWARDED_ALLOW_IPS``, README "Behind a proxy"), or every client shares the
proxy's address and its limits.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.requests import HTTPConnection

from app.config import Settings
from app.errors import RATE_LIMITED, DomainError

log = logging.getLogger("keywarden.rate_limits")


@dataclass(frozen=True)
class RateRule:
    """One limit: its name, what it counts (for the error message), its setting."""

    name: str
    counts: str
    setting: str
    # Devices send thousands of requests a second in all: one counter per window is
    # enough for them, where the moving window keeps a time stamp per hit.
    fixed_window: bool = False


LOGIN_PER_KEY = RateRule(
    "login-key", "login challenges for this programming key", "rate_login_per_key"
)
LOGIN_PER_ADDRESS = RateRule(
    "login-address", "login challenges from your address", "rate_login_per_address"
)
PIN_PER_KEY = RateRule("pin-key", "PIN tries for this programming key", "rate_pin_per_key")
PIN_PER_ADDRESS = RateRule("pin-address", "PIN tries from your address", "rate_pin_per_address")
CODE_PER_ADDRESS = RateRule(
    "code-address", "enrolment codes and sign-in links from your address", "rate_code_per_address"
)
TOKEN_FAILURES_PER_ADDRESS = RateRule(
    "token-address", "failed authentications from your address", "rate_token_failures_per_address"
)
DEVICE_REQUESTS = RateRule(
    "device", "requests of this device", "rate_device_requests", fixed_window=True
)
DEVICE_FAILURES_PER_ADDRESS = RateRule(
    "device-address",
    "refused device requests from your address",
    "rate_device_failures_per_address",
    fixed_window=True,
)
RULES = (
    LOGIN_PER_KEY,
    LOGIN_PER_ADDRESS,
    PIN_PER_KEY,
    PIN_PER_ADDRESS,
    CODE_PER_ADDRESS,
    TOKEN_FAILURES_PER_ADDRESS,
    DEVICE_REQUESTS,
    DEVICE_FAILURES_PER_ADDRESS,
)


class RateLimited(DomainError):
    """Too many hits of ``rule`` for one identity; ``retry_after`` seconds until the next."""

    def __init__(self, rule: RateRule, retry_after: int) -> None:
        super().__init__(
            RATE_LIMITED, f"too many {rule.counts}: try again in {retry_after} s"
        )
        self.rule = rule
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """What an HTTP 429 carrying this refusal tells the client to wait (R37)."""
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Hit:
    """A rule to count for one request; ``identity`` None stands for the client's address."""

    rule: RateRule
    identity: str | None = None


class RateLimiter:
    """The deployment's counters (Redis, or this process's memory) and the configured rules."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        redis_url = settings.redis_url.get_secret_value()
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix=f"{settings.queue_namespace}:limits",
                wrap_exceptions=True,
            )
        else:
            storage = MemoryStorage()
        self.moving = MovingWindowRateLimiter(storage)
        self.fixed = FixedWindowRateLimiter(storage)
        self.items: dict[str, RateLimitItem] = {
            rule.name: parse(getattr(settings, rule.setting)) for rule in RULES
        }

    async def hit(self, hits: Sequence[Hit], address: str | None) -> None:
        """Count each of ``hits``; RateLimited for the first one over its limit.

        A hit whose identity is the address is not counted without one (a call
        that did not come over the network, e.g. from a test or the CLI).
        """
        if not self.enabled:
            return
        for one in hits:
            identity = one.identity if one.identity is not None else address
            if identity is None:
                continue
            if not await self._hit(one.rule, identity):
                raise RateLimited(one.rule, await self._retry_after(one.rule, identity))

    async def exhausted(self, rule: RateRule, identity: str | None) -> RateLimited | None:
        """Whether ``identity`` has used up ``rule`` (counting nothing): the error to answer."""
        if not self.enabled or identity is None:
            return None
        try:
            allowed = await self._strategy(rule).test(self.items[rule.name], rule.name, identity)
        except StorageError:
            log.warning("rate limit %s not checked: the counter store failed", rule.name)
            return None
        if allowed:
            return None
        return RateLimited(rule, await self._retry_after(rule, identity))

    async def count(self, rule: RateRule, identity: str | None) -> None:
        """Count one hit of ``rule`` without refusing (e.g. a failure, after it happened)."""
        if self.enabled and identity is not None:
            await self._hit(rule, identity)

    def _strategy(self, rule: RateRule) -> Any:
        return self.fixed if rule.fixed_window else self.moving

    async def _hit(self, rule: RateRule, identity: str) -> bool:
        try:
            return bool(await self._strategy(rule).hit(self.items[rule.name], rule.name, identity))
        except StorageError:
            log.warning("rate limit %s not counted: the counter store failed", rule.name)
            return True

    async def _retry_after(self, rule: RateRule, identity: str) -> int:
        try:
            stats = await self._strategy(rule).get_window_stats(
                self.items[rule.name], rule.name, identity
            )
        except StorageError:
            return 1
        return max(1, math.ceil(stats.reset_time - time.time()))



def limiter_of(connection: HTTPConnection | None) -> RateLimiter | None:
    """The app's limiter for a request or WebSocket (``create_app`` makes it); None without one."""
    if connection is None:
        return None
    limiter = getattr(connection.app.state, "rate_limiter", None)
    return limiter if isinstance(limiter, RateLimiter) else None


def client_address(connection: HTTPConnection | None) -> str | None:
    """The client's address as the server sees it (the proxy's, unless it is trusted)."""
    if connection is None or connection.client is None:
        return None
    return connection.client.host


async def limit(connection: HTTPConnection | None, *hits: Hit) -> None:
    """Count ``hits`` for the request ``connection``; RateLimited when one is over its limit."""
    limiter = limiter_of(connection)
    if limiter is not None:
        await limiter.hit(hits, client_address(connection))
