"""Programming-key PINs and the main key's PUK: slow hashes, rules for new PINs, lock-out after
wrong tries (R5, R6, R37).

A wrong PIN must count even though the operation that checked it fails. So
:func:`check_pin` records the failed attempt in the session (flushed) and raises
:class:`PinRejected`, a ``WRONG_PIN`` DomainError whose counter update the caller
must **commit**, not roll back, before reporting the error. Nothing else is
written before a PIN check in the operations that use it (login, R6's PIN change),
so that commit persists only the attempt (and, at login, the spent challenge).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import INVALID, WRONG_PIN, DomainError
from app.models import ProgrammingKey

MAX_ATTEMPTS = 3
LOCK_TIME = timedelta(minutes=15)
MAX_LOCK_TIME = timedelta(hours=24)

_hasher = PasswordHasher()
_PIN = re.compile(r"[0-9]{4,8}")


class PinRejected(DomainError):
    """A wrong PIN, or a PIN check refused while the key is locked (R5).

    The session holds the failed-attempt count: commit it, then report the error.
    ``locked_until`` is set while the key is locked.
    """

    def __init__(self, message: str, field: str, locked_until: datetime | None = None) -> None:
        super().__init__(WRONG_PIN, message, field)
        self.locked_until = locked_until


def hash_pin(pin: str) -> str:
    """The stored form of a PIN: an argon2id hash (R5: a slow hash)."""
    return _hasher.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` matches ``pin_hash``; a damaged hash matches nothing."""
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def validate_new_pin(pin: str, field: str) -> None:
    """Refuse a PIN that is not 4 to 8 digits or is trivial to guess (R37: no default PINs).

    Trivial: one digit repeated (0000) or a run up or down, wrapping at 9/0
    (1234, 4321, 7890).
    """
    if not _PIN.fullmatch(pin):
        raise DomainError(INVALID, "a PIN is 4 to 8 digits", field)
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in pairwise(digits)}
    if steps in ({0}, {1}, {9}):
        raise DomainError(
            INVALID, "this PIN is too easy to guess (repeated digit or a run)", field
        )


@dataclass(frozen=True)
class _Secret:
    """Which of a programming key's secrets is checked, and where its count and lock live."""

    name: str
    hash: str
    failed: str
    locked_until: str


_PIN_SECRET = _Secret("PIN", "pin_hash", "failed_pin_attempts", "locked_until")
_PUK_SECRET = _Secret("PUK", "puk_hash", "failed_puk_attempts", "puk_locked_until")


async def check_pin(
    session: AsyncSession,
    programming_key: ProgrammingKey,
    pin: str,
    *,
    now: datetime,
    field: str = "pin",
) -> None:
    """Check a programming key's PIN, locking the key after repeated wrong PINs (R5, R6).

    Returns quietly when the PIN is right and resets the failure count. A wrong PIN
    raises :class:`PinRejected` after counting it; every third consecutive failure
    locks the key for 15 minutes, doubling with each further lock-out (at most 24
    hours). While locked every PIN, the right one too, is refused unchecked. The
    caller must commit the session after a :class:`PinRejected` (module docstring).
    """
    await _check(session, programming_key, pin, _PIN_SECRET, now=now, field=field)


async def check_puk(
    session: AsyncSession,
    programming_key: ProgrammingKey,
    puk: str,
    *,
    now: datetime,
    field: str = "puk",
) -> None:
    """Check the main key's PUK exactly as :func:`check_pin` checks a PIN (R5, R6).

    Wrong PUKs have their own count and lock: the PUK is what opens a key whose
    PIN is locked, so a PIN lock-out must not lock it, nor a right PIN clear it.
    """
    await _check(session, programming_key, puk, _PUK_SECRET, now=now, field=field)


async def _check(
    session: AsyncSession,
    programming_key: ProgrammingKey,
    given: str,
    secret: _Secret,
    *,
    now: datetime,
    field: str,
) -> None:
    locked_until: datetime | None = getattr(programming_key, secret.locked_until)
    if locked_until is not None and locked_until > now:
        raise PinRejected(
            f"too many wrong {secret.name}s: locked until {locked_until.isoformat()}",
            field,
            locked_until,
        )
    stored: str | None = getattr(programming_key, secret.hash)
    if stored is None:
        raise PinRejected(f"this programming key has no {secret.name} yet", field)

    if verify_pin(stored, given):
        if getattr(programming_key, secret.failed) or locked_until is not None:
            setattr(programming_key, secret.failed, 0)
            setattr(programming_key, secret.locked_until, None)
        if _hasher.check_needs_rehash(stored):
            setattr(programming_key, secret.hash, hash_pin(given))
        return

    # Incremented in SQL so that concurrent wrong tries are all counted.
    counter = getattr(ProgrammingKey, secret.failed)
    failed = (
        await session.execute(
            update(ProgrammingKey)
            .where(ProgrammingKey.id == programming_key.id)
            .values({counter: counter + 1})
            .returning(counter)
        )
    ).scalar_one()
    setattr(programming_key, secret.failed, failed)
    if failed % MAX_ATTEMPTS == 0:
        doublings = min(failed // MAX_ATTEMPTS - 1, 10)  # bounded: the cap is reached anyway
        lock = min(LOCK_TIME * 2**doublings, MAX_LOCK_TIME)
        setattr(programming_key, secret.locked_until, now + lock)
        await session.flush()
        raise PinRejected(
            f"wrong {secret.name}; too many wrong {secret.name}s: "
            f"locked until {(now + lock).isoformat()}",
            field,
            now + lock,
        )
    await session.flush()
    left = MAX_ATTEMPTS - failed % MAX_ATTEMPTS
    raise PinRejected(
        f"wrong {secret.name}; {left} attempt(s) left before the key is locked", field
    )


def random_pin(digits: int) -> str:
    """A random PIN (or PUK) of ``digits`` digits from the system CSPRNG that passes
    :func:`validate_new_pin` (R37: nothing trivial, no two installations alike)."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(digits))
        try:
            validate_new_pin(pin, "pin")
        except DomainError:
            continue
        return pin
