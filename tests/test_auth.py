"""Credentials: API tokens (R9), programming-key login with challenge and PIN (R5), rights (R7)."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from app.auth.login import complete_login, create_challenge, logout
from app.auth.pins import PinRejected, check_pin, hash_pin, validate_new_pin, verify_pin
from app.auth.principal import Principal, parse_token
from app.auth.rights import BUILTIN_ROLES
from app.auth.tokens import authenticate, create_api_token, revoke_api_token
from app.db import Database
from app.errors import DomainError, Forbidden
from app.models import (
    ApiToken,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    Role,
    utcnow,
)
from app.tenants.service import NewTenant
from hardware.sim.programming_key import SimulatedProgrammingKey, SimulatorState
from tests.factories import add_domain

PIN = "2580"


async def _role_id(database: Database, t: NewTenant, name: str) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        return (await s.scalars(select(Role.id).where(Role.name == name))).one()


async def _add_programming_key(
    database: Database,
    t: NewTenant,
    state: SimulatorState,
    *,
    marking: str,
    kind: ProgrammingKeyKind = ProgrammingKeyKind.MAIN,
    role_ids: Sequence[int] = (),
    domain_ids: Sequence[int] = (),
    status: ProgrammingKeyStatus = ProgrammingKeyStatus.ACTIVE,
) -> int:
    """Register a simulated programming key with the server, as the demo seeding does."""
    sim = SimulatorState.new_key(marking, f"UID-{marking}")
    state.add(t.tenant_id, sim)
    async with database.tenant_session(t.tenant_id) as s:
        key = ProgrammingKey(
            marking=marking, uid=sim.uid, kind=kind, status=status, firmware_version="10.2",
            public_key=sim.public_key, pin_hash=hash_pin(PIN),
        )
        s.add(key)
        await s.flush()
        s.add_all(ProgrammingKeyRole(programming_key_id=key.id, role_id=r) for r in role_ids)
        s.add_all(ProgrammingKeyDomain(programming_key_id=key.id, domain_id=d) for d in domain_ids)
        await s.commit()
        return key.id


async def _login(
    database: Database,
    t: NewTenant,
    key: SimulatedProgrammingKey,
    *,
    pin: str = PIN,
    now: datetime | None = None,
) -> str:
    """Log in as the API layer does: one transaction per step, a PinRejected committed."""
    now = now or utcnow()
    async with database.tenant_session(t.tenant_id) as s:
        nonce = (await create_challenge(s, key.marking, now=now)).nonce
        await s.commit()
    async with database.tenant_session(t.tenant_id) as s:
        try:
            _, token = await complete_login(
                s, challenge_nonce=nonce, signature=key.sign_login(t.tenant_id, nonce),
                pin=pin, now=now,
            )
        except PinRejected:
            await s.commit()
            raise
        await s.commit()
    return token


async def _authenticate(
    database: Database, token: str, *, now: datetime | None = None
) -> Principal | None:
    parsed = parse_token(token)
    assert parsed is not None
    async with database.tenant_session(parsed.tenant_id) as s:
        principal = await authenticate(s, token, now=now)
        await s.commit()
    return principal


@contextmanager
def _count_statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements the application engine runs (the per-transaction tenant setting aside)."""
    statements: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        if "set_config" not in sql:
            statements.append(sql)

    engine = database.app_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def state(tmp_path: Path) -> SimulatorState:
    return SimulatorState(tmp_path / "simulator.json")


# --- API tokens (R9) -------------------------------------------------------------------------


async def test_api_token_is_shown_once_and_stored_only_as_its_hash(
    database: Database, tenant: NewTenant
) -> None:
    # given / when
    async with database.tenant_session(tenant.tenant_id) as s:
        row, token = await create_api_token(
            s, name="Partner", rights=["keys.read"], domain_ids=None
        )
        await s.commit()
    # then
    parsed = parse_token(token)
    assert parsed is not None and parsed.kind == "t" and parsed.tenant_id == tenant.tenant_id
    async with database.tenant_session(tenant.tenant_id) as s:
        stored = (await s.execute(select(ApiToken.__table__).where(ApiToken.id == row.id))).one()
    assert stored.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(parsed.secret in str(value) for value in stored)


async def test_api_token_authenticates_with_its_rights_and_domains(
    database: Database, tenant: NewTenant
) -> None:
    # given
    second = await add_domain(database, tenant, "Second")
    async with database.tenant_session(tenant.tenant_id) as s:
        row, token = await create_api_token(
            s, name="Script", rights=["keys.read", "employees.read"], domain_ids=[second]
        )
        await s.commit()
    # when
    principal = await _authenticate(database, token)
    # then
    assert principal is not None
    assert principal.kind == "api_token" and principal.token_id == row.id
    assert principal.rights == {"keys.read", "employees.read"}
    assert principal.domain_ids == {second}
    assert principal.programming_key_id is None
    principal.require("keys.read")
    with pytest.raises(Forbidden) as refused:
        principal.require("keys.write")
    assert refused.value.code == "FORBIDDEN" and "keys.write" in refused.value.message


async def test_revoked_api_token_no_longer_authenticates(
    database: Database, tenant: NewTenant
) -> None:
    # given
    async with database.tenant_session(tenant.tenant_id) as s:
        row, token = await create_api_token(s, name="Old", rights=["keys.read"], domain_ids=None)
        await s.commit()
    assert await _authenticate(database, token) is not None
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        await revoke_api_token(s, row.id)
        await s.commit()
    # then
    assert await _authenticate(database, token) is None


async def test_token_of_one_tenant_does_not_work_for_another(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given
    async with database.tenant_session(tenant.tenant_id) as s:
        _, token = await create_api_token(s, name="A", rights=["keys.read"], domain_ids=None)
        await s.commit()
    a_hex = tenant.tenant_id.replace("-", "")
    b_hex = other_tenant.tenant_id.replace("-", "")
    # when: the tenant part swapped to B's (R1)
    swapped = token.replace(a_hex, b_hex)
    # then
    assert await _authenticate(database, swapped) is None
    async with database.tenant_session(other_tenant.tenant_id) as s:
        assert await authenticate(s, token) is None
    assert await _authenticate(database, token) is not None


async def test_malformed_tokens_are_refused_without_a_lookup(
    database: Database, tenant: NewTenant
) -> None:
    # given
    async with database.tenant_session(tenant.tenant_id) as s:
        _, token = await create_api_token(s, name="A", rights=["keys.read"], domain_ids=None)
        await s.commit()
    # when / then
    for bad in ["", token[:-1], token + "A", token.upper(), token.replace("kw_t_", "kw_x_"),
                "Bearer " + token]:
        assert parse_token(bad) is None
        async with database.tenant_session(tenant.tenant_id) as s:
            assert await authenticate(s, bad) is None


async def test_unknown_right_is_refused_naming_it(database: Database, tenant: NewTenant) -> None:
    # given
    async with database.tenant_session(tenant.tenant_id) as s:
        # when
        with pytest.raises(DomainError) as refused:
            await create_api_token(
                s, name="Bad", rights=["keys.read", "keys.teleport"], domain_ids=None
            )
    # then
    assert refused.value.code == "INVALID"
    assert refused.value.field == "rights"
    assert "keys.teleport" in refused.value.message and "keys.read" not in refused.value.message


async def test_token_name_must_be_given_and_short(database: Database, tenant: NewTenant) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        for name in ["   ", "x" * 201]:
            with pytest.raises(DomainError) as refused:
                await create_api_token(s, name=name, rights=["keys.read"], domain_ids=None)
            assert (refused.value.code, refused.value.field) == ("INVALID", "name")


async def test_a_domain_of_another_tenant_cannot_be_given_to_a_token(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await create_api_token(
                s, name="X", rights=["keys.read"], domain_ids=[other_tenant.default_domain_id]
            )
    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "domainIds")


async def test_a_token_cannot_hold_more_than_its_creator(
    database: Database, tenant: NewTenant
) -> None:
    # given: a creator with two rights in the default domain only
    second = await add_domain(database, tenant, "Second")
    creator = Principal(
        tenant_id=tenant.tenant_id, kind="session", name="programming key PN1",
        rights=frozenset({"tokens.write", "keys.read"}),
        domain_ids=frozenset({tenant.default_domain_id}),
    )
    async with database.tenant_session(tenant.tenant_id) as s:
        # when / then
        with pytest.raises(DomainError) as refused:
            await create_api_token(
                s, name="X", rights=["keys.read", "keys.write"], domain_ids=None, creator=creator
            )
        assert (refused.value.code, refused.value.field) == ("FORBIDDEN", "rights")
        assert "keys.write" in refused.value.message
        with pytest.raises(DomainError) as refused:
            await create_api_token(
                s, name="X", rights=["keys.read"], domain_ids=[second], creator=creator
            )
        assert (refused.value.code, refused.value.field) == ("FORBIDDEN", "domainIds")
        row, _ = await create_api_token(
            s, name="X", rights=["keys.read"], domain_ids=None, creator=creator
        )
        assert row.domain_ids == [tenant.default_domain_id]


async def test_last_used_time_is_written_at_most_once_a_minute(
    database: Database, tenant: NewTenant
) -> None:
    # given
    async with database.tenant_session(tenant.tenant_id) as s:
        row, token = await create_api_token(s, name="A", rights=["keys.read"], domain_ids=None)
        await s.commit()
    first = utcnow()
    # when
    await _authenticate(database, token, now=first)
    await _authenticate(database, token, now=first + timedelta(seconds=30))
    async with database.tenant_session(tenant.tenant_id) as s:
        after_two = await s.scalar(select(ApiToken.last_used_at).where(ApiToken.id == row.id))
    await _authenticate(database, token, now=first + timedelta(seconds=61))
    async with database.tenant_session(tenant.tenant_id) as s:
        after_three = await s.scalar(select(ApiToken.last_used_at).where(ApiToken.id == row.id))
    # then
    assert after_two == first
    assert after_three == first + timedelta(seconds=61)


async def test_authenticating_a_recently_used_api_token_is_one_statement(
    database: Database, tenant: NewTenant
) -> None:
    # given: a token used a moment ago
    async with database.tenant_session(tenant.tenant_id) as s:
        _, token = await create_api_token(s, name="A", rights=["keys.read"], domain_ids=None)
        await s.commit()
    await _authenticate(database, token)
    # when
    with _count_statements(database) as statements:
        principal = await _authenticate(database, token)
    # then
    assert principal is not None
    assert len(statements) == 1, statements


# --- programming-key login (R5) --------------------------------------------------------------


async def test_login_round_trip_opens_a_session_with_the_keys_rights(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given: a main key with Superadmin, its private key only in the simulator's state
    key_id = await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    sim = SimulatorState(state.path).get(tenant.tenant_id, "PR1")
    # when
    token = await _login(database, tenant, sim)
    principal = await _authenticate(database, token)
    # then
    assert parse_token(token) is not None and token.startswith("kw_s_")
    assert principal is not None
    assert principal.kind == "session" and principal.programming_key_id == key_id
    assert principal.rights == set(BUILTIN_ROLES["Superadmin"])
    assert principal.domain_ids is None


async def test_a_token_created_in_a_session_records_the_programming_key(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    key_id = await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    principal = await _authenticate(
        database, await _login(database, tenant, state.get(tenant.tenant_id, "PR1"))
    )
    assert principal is not None
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        row, _ = await create_api_token(
            s, name="Made by PR1", rights=["keys.read"], domain_ids=None, creator=principal
        )
    # then
    assert row.created_by_id == key_id


async def test_logout_ends_the_session(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    token = await _login(database, tenant, state.get(tenant.tenant_id, "PR1"))
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await logout(s, token) is True
        await s.commit()
    # then
    assert await _authenticate(database, token) is None
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await logout(s, token) is False


async def test_session_expires_after_its_hours(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    now = utcnow()
    token = await _login(database, tenant, state.get(tenant.tenant_id, "PR1"), now=now)
    # when / then
    assert await _authenticate(database, token, now=now + timedelta(hours=7, minutes=59))
    assert await _authenticate(database, token, now=now + timedelta(hours=8)) is None


async def test_login_signed_by_another_key_is_refused(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    impostor = SimulatorState.new_key("PR1", "UID-PR1")
    # when
    with pytest.raises(DomainError) as refused:
        await _login(database, tenant, impostor)
    # then
    assert (refused.value.code, refused.value.field) == ("BAD_SIGNATURE", "signature")


async def test_a_challenge_signed_for_another_tenant_is_refused(
    database: Database, tenant: NewTenant, other_tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    sim = state.get(tenant.tenant_id, "PR1")
    async with database.tenant_session(tenant.tenant_id) as s:
        nonce = (await create_challenge(s, "PR1")).nonce
        await s.commit()
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await complete_login(
                s, challenge_nonce=nonce, signature=sim.sign_login(other_tenant.tenant_id, nonce),
                pin=PIN,
            )
    # then
    assert refused.value.code == "BAD_SIGNATURE"


async def test_a_challenge_cannot_be_used_twice(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given: a challenge already used to log in
    await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    sim = state.get(tenant.tenant_id, "PR1")
    async with database.tenant_session(tenant.tenant_id) as s:
        nonce = (await create_challenge(s, "PR1")).nonce
        await s.commit()
    signature = sim.sign_login(tenant.tenant_id, nonce)
    async with database.tenant_session(tenant.tenant_id) as s:
        await complete_login(s, challenge_nonce=nonce, signature=signature, pin=PIN)
        await s.commit()
    # when: replayed
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await complete_login(s, challenge_nonce=nonce, signature=signature, pin=PIN)
    # then
    assert (refused.value.code, refused.value.field) == ("INVALID", "challenge")


async def test_an_expired_challenge_is_refused(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given: a challenge created three minutes ago
    await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    sim = state.get(tenant.tenant_id, "PR1")
    then = utcnow() - timedelta(minutes=3)
    async with database.tenant_session(tenant.tenant_id) as s:
        nonce = (await create_challenge(s, "PR1", now=then)).nonce
        await s.commit()
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await complete_login(
                s, challenge_nonce=nonce, signature=sim.sign_login(tenant.tenant_id, nonce),
                pin=PIN,
            )
    # then
    assert (refused.value.code, refused.value.field) == ("INVALID", "challenge")


async def test_unknown_lost_and_inactive_keys_get_no_challenge(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    await _add_programming_key(
        database, tenant, state, marking="PN-LOST", kind=ProgrammingKeyKind.SUB,
        status=ProgrammingKeyStatus.LOST,
    )
    await _add_programming_key(
        database, tenant, state, marking="PN-NEW", kind=ProgrammingKeyKind.SUB,
        status=ProgrammingKeyStatus.NOT_ACTIVATED,
    )
    async with database.tenant_session(tenant.tenant_id) as s:
        # when / then
        with pytest.raises(DomainError) as refused:
            await create_challenge(s, "NOPE")
        assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "marking")
        for marking in ["PN-LOST", "PN-NEW"]:
            with pytest.raises(DomainError) as refused:
                await create_challenge(s, marking)
            assert (refused.value.code, refused.value.field) == ("INVALID", "marking")


async def test_a_key_of_another_tenant_cannot_log_in_here(
    database: Database, tenant: NewTenant, other_tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    await _add_programming_key(
        database, other_tenant, state, marking="PR1", role_ids=[other_tenant.superadmin_role_id]
    )
    # when / then (R1)
    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await create_challenge(s, "PR1")
    assert refused.value.code == "NOT_FOUND"


async def test_three_wrong_pins_lock_the_key(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    key_id = await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    sim = state.get(tenant.tenant_id, "PR1")
    now = utcnow()
    # when: three wrong PINs
    for _ in range(3):
        with pytest.raises(PinRejected):
            await _login(database, tenant, sim, pin="9999", now=now)
    # then: the right PIN is refused while locked, and accepted once the lock ran out
    with pytest.raises(PinRejected) as refused:
        await _login(database, tenant, sim, pin=PIN, now=now + timedelta(minutes=14))
    assert refused.value.code == "WRONG_PIN" and "locked until" in refused.value.message
    assert refused.value.locked_until == now + timedelta(minutes=15)
    await _login(database, tenant, sim, pin=PIN, now=now + timedelta(minutes=15))
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(ProgrammingKey, key_id)
        assert key is not None
        assert (key.failed_pin_attempts, key.locked_until) == (0, None)


async def test_further_lock_outs_last_twice_as_long(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given: a key locked once, the lock run out
    key_id = await _add_programming_key(database, tenant, state, marking="PR1")
    now = utcnow()
    # when: three more wrong PINs
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(ProgrammingKey, key_id)
        assert key is not None
        for at in [now] * 3 + [now + timedelta(minutes=15)] * 3:
            with pytest.raises(PinRejected):
                await check_pin(s, key, "0000", now=at)
        # then
        assert key.locked_until == now + timedelta(minutes=15 + 30)


async def test_wrong_pins_count_only_when_consecutive(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    key_id = await _add_programming_key(database, tenant, state, marking="PR1")
    now = utcnow()
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(ProgrammingKey, key_id)
        assert key is not None
        # when: two wrong, one right, two wrong
        for pin in ["1111", "2222", PIN, "1111", "2222"]:
            try:
                await check_pin(s, key, pin, now=now)
            except PinRejected:
                pass
        # then
        assert (key.failed_pin_attempts, key.locked_until) == (2, None)


async def test_sub_key_session_has_only_its_roles_rights_and_its_domains(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given: a sub key with Operator and Approver in one extra domain
    second = await add_domain(database, tenant, "Second")
    operator = await _role_id(database, tenant, "Operator")
    approver = await _role_id(database, tenant, "Approver")
    await _add_programming_key(
        database, tenant, state, marking="PN1", kind=ProgrammingKeyKind.SUB,
        role_ids=[operator, approver], domain_ids=[second],
    )
    # when
    principal = await _authenticate(
        database, await _login(database, tenant, state.get(tenant.tenant_id, "PN1"))
    )
    # then
    assert principal is not None
    assert principal.rights == set(BUILTIN_ROLES["Operator"]) | set(BUILTIN_ROLES["Approver"])
    assert principal.domain_ids == {second}
    assert not principal.has("tenant.settings")


@pytest.mark.parametrize("kind", [ProgrammingKeyKind.MAIN, ProgrammingKeyKind.SUBMASTER])
async def test_main_and_submaster_keys_see_every_domain(
    database: Database, tenant: NewTenant, state: SimulatorState, kind: ProgrammingKeyKind
) -> None:
    # given: a key with one domain attached
    second = await add_domain(database, tenant, "Second")
    await _add_programming_key(
        database, tenant, state, marking="P1", kind=kind,
        role_ids=[tenant.superadmin_role_id], domain_ids=[second],
    )
    # when
    principal = await _authenticate(
        database, await _login(database, tenant, state.get(tenant.tenant_id, "P1"))
    )
    # then (R5, R8)
    assert principal is not None and principal.domain_ids is None


async def test_a_session_of_a_key_reported_lost_stops_working(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # given
    key_id = await _add_programming_key(
        database, tenant, state, marking="PR1", role_ids=[tenant.superadmin_role_id]
    )
    token = await _login(database, tenant, state.get(tenant.tenant_id, "PR1"))
    # when
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(ProgrammingKey, key_id)
        assert key is not None
        key.status = ProgrammingKeyStatus.LOST
        await s.commit()
    # then
    assert await _authenticate(database, token) is None


@pytest.mark.parametrize(
    ("kind", "expected"), [(ProgrammingKeyKind.MAIN, 1), (ProgrammingKeyKind.SUB, 2)]
)
async def test_authenticating_a_session_takes_at_most_two_statements(
    database: Database,
    tenant: NewTenant,
    state: SimulatorState,
    kind: ProgrammingKeyKind,
    expected: int,
) -> None:
    # given: a session used a moment ago, its key with two roles and a domain
    operator = await _role_id(database, tenant, "Operator")
    await _add_programming_key(
        database, tenant, state, marking="P1", kind=kind,
        role_ids=[tenant.superadmin_role_id, operator], domain_ids=[tenant.default_domain_id],
    )
    token = await _login(database, tenant, state.get(tenant.tenant_id, "P1"))
    await _authenticate(database, token)
    # when
    with _count_statements(database) as statements:
        principal = await _authenticate(database, token)
    # then: the roles come with the session; the domains of a sub key in a second query
    assert principal is not None
    assert len(statements) == expected, statements


# --- PINs (R5, R37) --------------------------------------------------------------------------


def test_a_pin_is_stored_as_a_slow_hash() -> None:
    stored = hash_pin("2580")
    assert stored.startswith("$argon2id$") and "2580" not in stored
    assert verify_pin(stored, "2580")
    assert not verify_pin(stored, "2581")
    assert not verify_pin("not a hash", "2580")


@pytest.mark.parametrize(
    "pin", ["", "123", "123456789", "12a4", "0000", "7777777", "1234", "4321", "7890", "98765",
            "٣٥٧٩"],
)
def test_short_long_or_trivial_pins_are_refused(pin: str) -> None:
    with pytest.raises(DomainError) as refused:
        validate_new_pin(pin, "newPin")
    assert (refused.value.code, refused.value.field) == ("INVALID", "newPin")


@pytest.mark.parametrize("pin", ["2580", "1357", "1123", "90210", "31415926"])
def test_ordinary_pins_are_accepted(pin: str) -> None:
    validate_new_pin(pin, "newPin")


# --- the simulator's programming keys ---------------------------------------------------------


def test_simulator_state_keeps_keys_private_and_per_tenant(tmp_path: Path) -> None:
    # given
    path = tmp_path / "sub" / "simulator.json"
    key = SimulatorState.new_key("PR1", "UID1")
    # when
    SimulatorState(path).add("tenant-a", key)
    # then
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["simulator.json"]
    loaded = SimulatorState(path).get("tenant-a", "PR1")
    assert (loaded.uid, loaded.public_key) == ("UID1", key.public_key)
    with pytest.raises(KeyError, match="PR1"):
        SimulatorState(path).get("tenant-b", "PR1")


async def test_main_key_keeps_every_right_even_without_roles(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # R5: the main key is the master credential; taking its roles must not lock it out
    await _add_programming_key(database, tenant, state, marking="PR-9", role_ids=())
    token = await _login(database, tenant, state.get(tenant.tenant_id, "PR-9"))
    principal = await _authenticate(database, token)
    assert principal is not None
    assert principal.has("tenant.settings") and principal.has("keys.write")
    assert principal.domain_ids is None


async def test_submaster_key_may_always_program_cylinders_and_read_system_data(
    database: Database, tenant: NewTenant, state: SimulatorState
) -> None:
    # R5: a PSM may reprogram cylinders and read in system data, a right no role takes away
    auditor = await _role_id(database, tenant, "Auditor")
    await _add_programming_key(
        database, tenant, state, marking="PSM-1", kind=ProgrammingKeyKind.SUBMASTER,
        role_ids=[auditor],
    )
    token = await _login(database, tenant, state.get(tenant.tenant_id, "PSM-1"))
    principal = await _authenticate(database, token)
    assert principal is not None
    assert principal.has("cylinders.program") and principal.has("system.read")
    assert principal.has("keys.read") and not principal.has("keys.write")
