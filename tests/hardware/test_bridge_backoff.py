"""Reconnection back-off of the bridge agent (issue 5): exponential, jittered, capped, reset
after a stable connection."""

from __future__ import annotations

import random

import pytest

from hardware.bridge.backoff import Backoff


def test_delays_grow_exponentially_within_their_jitter_bounds_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=60.0, factor=2.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(40)]
    for attempt, delay in enumerate(delays):
        nominal = min(60.0, 0.5 * 2**attempt)
        # equal jitter: never below half the nominal delay, never above it
        assert nominal / 2 <= delay <= nominal
    assert backoff.bounds(0) == (0.25, 0.5)
    assert backoff.bounds(3) == (2.0, 4.0)
    assert backoff.bounds(1000) == (30.0, 60.0)  # capped, no overflow far along
    assert max(delays) <= 60.0
    assert delays[-1] >= 30.0


def test_jitter_spreads_bridges_that_fail_at_the_same_moment() -> None:
    # many bridges losing the server together must not come back in lock-step
    firsts = {round(Backoff(base=1.0, cap=60.0).bounds(5)[0], 3)}
    spread = {round(Backoff(base=1.0, cap=60.0).next_delay(), 6) for _ in range(50)}
    assert firsts == {16.0}
    assert len(spread) > 40


def test_a_stable_connection_resets_the_schedule_and_a_short_one_does_not() -> None:
    backoff = Backoff(base=1.0, cap=60.0, stable_after=30.0, rng=random.Random(1))
    for _ in range(6):
        backoff.next_delay()
    backoff.connection_lasted(5.0)  # dropped again quickly: keep backing off
    assert backoff.next_delay() >= backoff.nominal(6) / 2
    backoff.connection_lasted(31.0)
    assert backoff.attempt == 0
    assert backoff.next_delay() <= 1.0


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(base=0)
    with pytest.raises(ValueError):
        Backoff(base=10, cap=5)
