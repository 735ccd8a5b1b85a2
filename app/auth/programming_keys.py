"""Programming keys: their holder, roles and domains, and their PINs (R5, R6, R7, R8).

- :func:`update_programming_key` — holder, roles and domains, within the caller's reach.
- :func:`change_sub_key_pin` — a sub key's new PIN, authorised by the main key's PIN (R6),
  within the caller's reach.
- :func:`reset_main_key_pin` — the main key's new PIN, authorised by its PUK (R5).
- :func:`set_first_pin` — a factory-delivered key without a PIN gets one from its holder,
  who proves holding the key by signing a login challenge (R5, R31).

Who may change a programming key (R5, R7, R8): a caller who holds every right the key
holds (nobody changes a key more powerful than themselves, so the main key cannot be
taken over or locked out by a lesser administrator) and who administers the key's
domains; main and submaster keys administer every domain, so only a caller of every
domain changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.login import signed_by_key
from app.auth.pins import check_pin, check_puk, hash_pin, random_pin, validate_new_pin
from app.auth.principal import Principal
from app.auth.rights import (
    GIVEN_WITHOUT_HOLDING,
    MAIN_KEY_RIGHTS,
    SUBMASTER_RIGHTS,
    grantable_rights,
)
from app.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, DomainError
from app.mail import holder_email
from app.models import (
    Domain,
    Employee,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    Role,
    utcnow,
)

SUB_KINDS = (ProgrammingKeyKind.SUB, ProgrammingKeyKind.SUBMASTER)
# R5, R8: these keys administer every domain, whatever domains are attached to them.
EVERY_DOMAIN_KINDS = (ProgrammingKeyKind.MAIN, ProgrammingKeyKind.SUBMASTER)
PUK_DIGITS = 8  # a PUK: eight random digits, nothing trivial (R5, R37)
KEY_FIELD = "programmingKeyId"


async def change_sub_key_pin(
    session: AsyncSession,
    *,
    sub_key_id: int,
    caller: Principal,
    main_key_pin: str,
    new_pin: str,
    now: datetime | None = None,
) -> ProgrammingKey:
    """Give a sub or submaster programming key a new PIN, authorised by the main key's PIN (R6).

    The target must be a SUB or SUBMASTER key of the tenant (NOT_FOUND, INVALID
    on ``subKeyId``) within the ``caller``'s reach, as for every change of a
    programming key (module docstring; FORBIDDEN on ``subKeyId``: a caller of some
    domains changes only sub keys of those, R8); the new PIN must follow the PIN
    rules (INVALID on ``newPin``). Both are checked before the main key's PIN, so
    a refused change spends no try. ``main_key_pin`` is the PIN of the tenant's
    main key (PR) — a PUK is not accepted in its place — checked with
    ``check_pin``: a wrong one is counted against the main key, which is locked
    after three (WRONG_PIN on ``mainKeyPin``). After a :class:`PinRejected` the
    caller must commit the count, not roll it back; nothing else is written
    before the check. On success the sub key's failed attempts and lock are
    cleared. The caller commits. PINs are never logged.
    """
    now = now or utcnow()
    sub_key = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.id == sub_key_id))
    if sub_key is None:
        raise DomainError(NOT_FOUND, "subKeyId: no such ProgrammingKey", "subKeyId")
    if sub_key.kind not in SUB_KINDS:
        raise DomainError(
            INVALID,
            "subKeyId: only a sub or submaster key's PIN is changed with the main key's PIN (R6)",
            "subKeyId",
        )
    await _require_reach(
        session, sub_key, caller, await _every_domain(session, caller), field="subKeyId"
    )
    validate_new_pin(new_pin, "newPin")
    main_key = await session.scalar(
        select(ProgrammingKey)
        .where(
            ProgrammingKey.kind == ProgrammingKeyKind.MAIN,
            ProgrammingKey.status == ProgrammingKeyStatus.ACTIVE,
        )
        .order_by(ProgrammingKey.id)
        .limit(1)
    )
    if main_key is None:
        raise DomainError(
            CONFLICT, "the tenant has no active main programming key to authorise this", None
        )
    await check_pin(session, main_key, main_key_pin, now=now, field="mainKeyPin")
    _set_pin(sub_key, new_pin)
    await session.flush()
    return sub_key


async def update_programming_key(
    session: AsyncSession,
    programming_key_id: int,
    *,
    caller: Principal,
    holder_id: int | None = None,
    role_ids: Sequence[int] | None = None,
    domain_ids: Sequence[int] | None = None,
) -> ProgrammingKey:
    """Give a programming key a holder, roles or domains (R5, R7, R8); None leaves each as is.

    The key must be within the ``caller``'s reach (module docstring; FORBIDDEN on
    ``programmingKeyId``). The holder is an employee the caller sees (NOT_FOUND on
    ``holderId``); from then on job and approval e-mails go to that employee's
    address. Roles must exist (NOT_FOUND on ``roleIds.<i>``) and every right the
    key gains must be one the caller holds (FORBIDDEN on ``roleIds``, except the
    approver's right, R29). A key that may approve readouts needs a holder with
    an e-mail (INVALID, R29). Domains must exist and be administered by the caller
    (NOT_FOUND / FORBIDDEN on ``domainIds``); a sub key keeps at least one, and
    main and submaster keys take none, as they administer every domain (INVALID).
    Never commits.
    """
    key = await _programming_key(session, programming_key_id)
    every_domain = await _every_domain(session, caller)
    await _require_reach(session, key, caller, every_domain)
    rights = await _rights_of_roles(session, [key.id])
    if holder_id is not None:
        holder = await session.get(Employee, holder_id)
        if holder is None:
            raise DomainError(NOT_FOUND, "holderId: no such Employee", "holderId")
        key.holder_id = holder.id
    if role_ids is not None:
        rights = await _set_roles(session, key, role_ids, caller, rights)
    if domain_ids is not None:
        await _set_domains(session, key, domain_ids, caller, every_domain)
    if (holder_id is not None or role_ids is not None) and GIVEN_WITHOUT_HOLDING & rights:
        await _require_holder_email(session, key, "holderId" if holder_id else "roleIds")
    await session.flush()
    return key


async def reset_main_key_pin(
    session: AsyncSession,
    programming_key_id: int,
    *,
    caller: Principal,
    puk: str,
    new_pin: str,
    now: datetime | None = None,
) -> ProgrammingKey:
    """Give the main key (PR) a new PIN with its PUK, e.g. once its PIN is locked (R5, R6).

    The key must be the tenant's main key (INVALID on ``programmingKeyId``: sub
    keys get a new PIN with the main key's PIN, R6) within the caller's reach. The
    new PIN must follow the PIN rules (INVALID on ``newPin``, checked before the
    PUK so that a typo spends no try). The PUK is checked with ``check_puk``: wrong
    ones are counted and lock the PUK like wrong PINs lock the PIN (WRONG_PIN on
    ``puk``; the caller must commit the count). On success the PIN's failed
    attempts and lock are cleared. The PUK itself is never shown again. Never
    commits.
    """
    now = now or utcnow()
    key = await _programming_key(session, programming_key_id)
    if key.kind is not ProgrammingKeyKind.MAIN:
        raise DomainError(
            INVALID,
            "only the main key has a PUK; a sub key's PIN is changed with the main key's PIN (R6)",
            KEY_FIELD,
        )
    await _require_reach(session, key, caller, await _every_domain(session, caller))
    validate_new_pin(new_pin, "newPin")
    await check_puk(session, key, puk, now=now, field="puk")
    _set_pin(key, new_pin)
    await session.flush()
    return key


async def set_first_pin(
    session: AsyncSession,
    *,
    challenge_nonce: str,
    signature: bytes,
    new_pin: str,
    now: datetime | None = None,
) -> tuple[ProgrammingKey, str | None]:
    """A factory-delivered programming key's first PIN, set by whoever holds the key (R5, R31).

    The key proves itself as at login: it signs a challenge from
    ``requestLoginChallenge`` (see ``signed_by_key``; only active keys, so only
    after an admin activated its extension). It must have no PIN yet (CONFLICT on
    ``challenge``: a PIN is changed with the main key's PIN or the PUK, R6). A
    main key without a PUK gets one now, returned here and never shown again;
    otherwise the second value is None. Then ``completeLogin`` works with the new
    PIN. Never commits.
    """
    now = now or utcnow()
    validate_new_pin(new_pin, "newPin")
    key = await signed_by_key(
        session, challenge_nonce=challenge_nonce, signature=signature, now=now
    )
    if key.pin_hash is not None:
        raise DomainError(
            CONFLICT,
            f"programming key {key.marking} has a PIN already: a new one needs the main key's "
            "PIN or the PUK (R6)",
            "challenge",
        )
    _set_pin(key, new_pin)
    puk = None
    if key.kind is ProgrammingKeyKind.MAIN and key.puk_hash is None:
        puk = random_pin(PUK_DIGITS)
        key.puk_hash = hash_pin(puk)
    await session.flush()
    return key, puk


def _set_pin(key: ProgrammingKey, pin: str) -> None:
    """The key's new PIN, hashed; its wrong tries and lock are over (R5)."""
    key.pin_hash = hash_pin(pin)
    key.failed_pin_attempts = 0
    key.locked_until = None


async def _programming_key(session: AsyncSession, programming_key_id: int) -> ProgrammingKey:
    key = await session.get(ProgrammingKey, programming_key_id)
    if key is None:
        raise DomainError(NOT_FOUND, f"{KEY_FIELD}: no such ProgrammingKey", KEY_FIELD)
    return key


async def _every_domain(session: AsyncSession, caller: Principal) -> bool:
    """Whether ``caller`` administers every domain of the tenant (R8)."""
    if caller.domain_ids is None:
        return True
    return set(await session.scalars(select(Domain.id))) <= caller.domain_ids


async def _key_rights(session: AsyncSession, key: ProgrammingKey) -> frozenset[str]:
    """What a logged-in ``key`` may do: its roles' rights and its kind's own (R5, R7)."""
    rights = await _rights_of_roles(session, [key.id])
    if key.kind is ProgrammingKeyKind.MAIN:
        return rights | MAIN_KEY_RIGHTS
    if key.kind is ProgrammingKeyKind.SUBMASTER:
        return rights | SUBMASTER_RIGHTS
    return rights


async def _require_reach(
    session: AsyncSession,
    key: ProgrammingKey,
    caller: Principal,
    every_domain: bool,
    *,
    field: str = KEY_FIELD,
) -> None:
    """Refuse a change of ``key`` by a caller less powerful than the key (module docstring);
    FORBIDDEN names ``field``, the input that named the key."""
    stronger = sorted(
        r for r in await _key_rights(session, key) - GIVEN_WITHOUT_HOLDING if not caller.has(r)
    )
    if stronger:
        raise DomainError(
            FORBIDDEN,
            f"programming key {key.marking} holds rights you do not: {', '.join(stronger)}",
            field,
        )
    if every_domain:
        return
    if key.kind in EVERY_DOMAIN_KINDS:
        raise DomainError(
            FORBIDDEN,
            f"programming key {key.marking} administers every domain; changing it needs "
            "every domain (R5, R8)",
            field,
        )
    assert caller.domain_ids is not None  # not every domain: limited
    domains = set(
        await session.scalars(
            select(ProgrammingKeyDomain.domain_id).where(
                ProgrammingKeyDomain.programming_key_id == key.id
            )
        )
    )
    if not domains or not domains <= caller.domain_ids:
        raise DomainError(
            FORBIDDEN,
            f"programming key {key.marking} administers domains you do not (R8)",
            field,
        )


async def _rights_of_roles(
    session: AsyncSession, key_ids: Iterable[int] = (), role_ids: Iterable[int] = ()
) -> frozenset[str]:
    """The rights of the roles ``role_ids`` and of the roles the keys ``key_ids`` hold."""
    held = select(ProgrammingKeyRole.role_id).where(
        ProgrammingKeyRole.programming_key_id.in_(list(key_ids))
    )
    rows = await session.scalars(
        select(Role.rights).where(Role.id.in_(held) | Role.id.in_(list(role_ids)))
    )
    return frozenset(right for rights in rows for right in rights)


async def _set_roles(
    session: AsyncSession,
    key: ProgrammingKey,
    role_ids: Sequence[int],
    caller: Principal,
    rights_before: frozenset[str],
) -> frozenset[str]:
    """Replace the key's roles with ``role_ids``; returns the rights they grant (R7)."""
    wanted = list(dict.fromkeys(role_ids))
    found = set(await session.scalars(select(Role.id).where(Role.id.in_(wanted))))
    for i, role_id in enumerate(role_ids):
        if role_id not in found:
            raise DomainError(NOT_FOUND, f"roleIds.{i}: no such Role", f"roleIds.{i}")
    rights = await _rights_of_roles(session, role_ids=wanted)
    grantable_rights(rights - rights_before, caller, "roleIds", to_programming_keys=True)
    await _replace_links(session, ProgrammingKeyRole, ProgrammingKeyRole.role_id, key.id, wanted)
    return rights


async def _set_domains(
    session: AsyncSession,
    key: ProgrammingKey,
    domain_ids: Sequence[int],
    caller: Principal,
    every_domain: bool,
) -> None:
    """Replace the sub key's domains with ``domain_ids`` (R8)."""
    if key.kind in EVERY_DOMAIN_KINDS:
        raise DomainError(
            INVALID,
            f"a {key.kind.value.lower()} key administers every domain; it takes no domains (R5)",
            "domainIds",
        )
    wanted = list(dict.fromkeys(domain_ids))
    if not wanted:
        raise DomainError(INVALID, "a sub key administers at least one domain", "domainIds")
    found = set(await session.scalars(select(Domain.id).where(Domain.id.in_(wanted))))
    for i, domain_id in enumerate(domain_ids):
        if domain_id not in found:
            raise DomainError(NOT_FOUND, f"domainIds.{i}: no such Domain", f"domainIds.{i}")
    if not every_domain:
        assert caller.domain_ids is not None
        beyond = [d for d in wanted if d not in caller.domain_ids]
        if beyond:
            raise DomainError(
                FORBIDDEN, "cannot give a domain you do not administer (R8)", "domainIds"
            )
    await _replace_links(
        session, ProgrammingKeyDomain, ProgrammingKeyDomain.domain_id, key.id, wanted
    )


async def _replace_links(
    session: AsyncSession,
    link: type[ProgrammingKeyRole] | type[ProgrammingKeyDomain],
    column: InstrumentedAttribute[int],
    key_id: int,
    wanted: list[int],
) -> None:
    """Make the key's role or domain links exactly ``wanted``, keeping the ones that stay."""
    await session.execute(
        delete(link).where(link.programming_key_id == key_id, column.not_in(wanted))
    )
    present = set(await session.scalars(select(column).where(link.programming_key_id == key_id)))
    session.add_all(
        link(programming_key_id=key_id, **{column.key: value})
        for value in wanted
        if value not in present
    )


async def _require_holder_email(session: AsyncSession, key: ProgrammingKey, field: str) -> None:
    """R29 (FAQ): an approver's holder needs an e-mail, which approval requests go to."""
    if await holder_email(session, key) is None:
        raise DomainError(
            INVALID,
            f"programming key {key.marking} may approve readouts: its holder needs an e-mail "
            "address (R29)",
            field,
        )
