"""Exponential back-off with jitter, for reconnecting to the server and reopening the serial port.

Many bridges of a tenant lose the server at the same moment (a restart, a
network cut); without jitter they would all come back in lock-step. The delay
before attempt ``n`` (0-based) is drawn uniformly from ``[d/2, d]`` with
``d = min(cap, base * factor**n)`` ("equal jitter": never shorter than half the
nominal delay, so a down server is not hammered, and never longer than the
cap). After a connection that stayed up for ``stable_after`` seconds the
schedule starts again from ``base``.
"""

from __future__ import annotations

import random


class Backoff:
    """The delays between attempts to (re)establish one connection."""

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 60.0,
        factor: float = 2.0,
        stable_after: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        if base <= 0 or cap < base or factor < 1:
            raise ValueError("back-off needs 0 < base <= cap and factor >= 1")
        self.base = base
        self.cap = cap
        self.factor = factor
        self.stable_after = stable_after
        self.attempt = 0
        self._rng = rng or random.Random()

    def nominal(self, attempt: int) -> float:
        """The un-jittered delay ``d`` before attempt ``attempt`` (capped)."""
        delay = self.base
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.cap:
                return self.cap
        return min(delay, self.cap)

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The interval the jittered delay before ``attempt`` is drawn from."""
        d = self.nominal(attempt)
        return d / 2, d

    def next_delay(self) -> float:
        """The delay before the next attempt; each call moves one step along the schedule."""
        low, high = self.bounds(self.attempt)
        self.attempt += 1
        return self._rng.uniform(low, high)

    def reset(self) -> None:
        """Start from ``base`` again (after a success)."""
        self.attempt = 0

    def connection_lasted(self, seconds: float) -> None:
        """A connection ended after ``seconds``; a stable one resets the schedule."""
        if seconds >= self.stable_after:
            self.reset()
