"""The key blocking list (R21): lost keys' UIDs, versioned, signed by the tenant, at most 3,000."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.access.blocking_list import (
    blocking_list_message,
    blocking_list_warning,
    current_blocking_list,
    issue_blocking_list,
    reissue_if_due,
    tenant_public_key,
    verify_blocking_list,
    verify_served_blocking_list,
)
from app.db import Database
from app.errors import DomainError
from app.models import (
    BlockingList,
    Domain,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    Schedule,
    Tenant,
    utcnow,
)
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, make_tenant

BLOCKING_LIST = "{ blockingList { version issuedAt validUntil keyUids signature } }"


async def add_keys(
    database: Database,
    tenant: NewTenant,
    count: int,
    *,
    status: KeyStatus,
    domain_id: int | None = None,
) -> list[str]:
    """``count`` E3 keys with ``status`` in the tenant; their UIDs."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        rows = [
            Key(
                domain_id=domain_id or tenant.default_domain_id,
                marking=f"K-{secrets.token_hex(6)}",
                uid=secrets.token_hex(8).upper(),
                type=KeyType.E3,
                generation=KeyGeneration.GEN2,
                firmware_version="16.3.7",
                status=status,
                schedule_id=schedule_id,
            )
            for _ in range(count)
        ]
        s.add_all(rows)
        await s.commit()
        return [r.uid for r in rows]


async def issue(database: Database, tenant: NewTenant, **kwargs: object) -> BlockingList:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await issue_blocking_list(s, **kwargs)  # type: ignore[arg-type]
        await s.commit()
        return row


async def public_key_of(database: Database, tenant: NewTenant) -> bytes:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.scalar(select(Tenant))
        assert row is not None
        return tenant_public_key(row)


def fields_of(tenant: NewTenant, row: BlockingList) -> dict[str, object]:
    return {
        "tenant_id": tenant.tenant_id,
        "version": row.version,
        "issued_at": row.issued_at,
        "valid_until": row.valid_until,
        "key_uids": list(row.key_uids),
        "signature": row.signature,
    }


async def test_blocking_list_lists_the_lost_keys_sorted_and_verifies_with_the_tenant_key(
    database: Database, tenant: NewTenant
) -> None:
    # given: two lost keys and an issued one
    lost = await add_keys(database, tenant, 2, status=KeyStatus.LOST)
    await add_keys(database, tenant, 1, status=KeyStatus.ISSUED)
    # when
    row = await issue(database, tenant)
    # then: exactly the lost keys, sorted, signed, valid for two hours (R21)
    assert row.version == 1
    assert row.key_uids == sorted(lost)
    assert row.valid_until - row.issued_at == timedelta(hours=2)
    public_key = await public_key_of(database, tenant)
    assert verify_blocking_list(**fields_of(tenant, row), public_key=public_key)  # type: ignore[arg-type]
    assert verify_blocking_list(**fields_of(tenant, row), public_key=public_key.hex())  # type: ignore[arg-type]
    assert b'"keyUids":["' in blocking_list_message(tenant.tenant_id, row)


async def test_a_tampered_blocking_list_fails_verification(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a signed list with one lost key
    await add_keys(database, tenant, 1, status=KeyStatus.LOST)
    row = await issue(database, tenant)
    public_key = await public_key_of(database, tenant)
    good = fields_of(tenant, row)
    # when: a key is unblocked, the version or validity changed, or the list replayed elsewhere
    tampered = [
        {**good, "key_uids": []},
        {**good, "key_uids": [*good["key_uids"], "DEADBEEF"]},  # type: ignore[list-item]
        {**good, "version": row.version + 1},
        {**good, "valid_until": row.valid_until + timedelta(days=1)},  # type: ignore[operator]
        {**good, "tenant_id": other_tenant.tenant_id},
        {**good, "signature": "not base64!"},
    ]
    # then: none verifies; nor does the right list with another tenant's key
    for fields in tampered:
        assert not verify_blocking_list(**fields, public_key=public_key)  # type: ignore[arg-type]
    other_key = await public_key_of(database, other_tenant)
    assert not verify_blocking_list(**good, public_key=other_key)  # type: ignore[arg-type]


async def test_versions_increase_with_every_issue(database: Database, tenant: NewTenant) -> None:
    # given / when: three lists, a loss between the second and the third
    first = await issue(database, tenant)
    second = await issue(database, tenant)
    uid = (await add_keys(database, tenant, 1, status=KeyStatus.LOST))[0]
    third = await issue(database, tenant)
    # then
    assert [first.version, second.version, third.version] == [1, 2, 3]
    assert first.key_uids == [] and third.key_uids == [uid]
    async with database.tenant_session(tenant.tenant_id) as s:
        newest = await current_blocking_list(s)
    assert newest is not None and newest.version == 3


async def test_other_tenants_lost_keys_never_appear(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a lost key in each tenant (R1)
    mine = await add_keys(database, tenant, 1, status=KeyStatus.LOST)
    await add_keys(database, other_tenant, 1, status=KeyStatus.LOST)
    # when
    row = await issue(database, tenant)
    # then
    assert row.key_uids == mine


async def test_lost_keys_of_every_domain_are_listed_whatever_the_session_sees(
    database: Database, tenant: NewTenant
) -> None:
    # given: a lost key in a second domain, and a session limited to the default domain (R8)
    async with database.tenant_session(tenant.tenant_id) as s:
        second = Domain(name="Plant 2")
        s.add(second)
        await s.commit()
    elsewhere = await add_keys(database, tenant, 1, status=KeyStatus.LOST, domain_id=second.id)
    here = await add_keys(database, tenant, 1, status=KeyStatus.LOST)
    # when
    async with database.tenant_session(tenant.tenant_id, [tenant.default_domain_id]) as s:
        row = await issue_blocking_list(s)
        await s.commit()
    # then: the walls refuse both keys
    assert row.key_uids == sorted(elsewhere + here)


async def test_more_than_3000_lost_keys_are_refused_and_2700_warned(
    database: Database, tenant: NewTenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given: 2,700 lost keys
    await add_keys(database, tenant, 2700, status=KeyStatus.LOST)
    # when
    with caplog.at_level(logging.WARNING, logger="keywarden.blocking_list"):
        near = await issue(database, tenant)
    # then: issued, with a warning (R11)
    assert len(near.key_uids) == 2700
    assert blocking_list_warning(near) is not None
    assert any("2700 of at most 3000" in r.getMessage() for r in caplog.records)
    # given: 301 more, 3,001 in all
    await add_keys(database, tenant, 301, status=KeyStatus.LOST)
    # when / then: refused, nothing issued
    with pytest.raises(DomainError) as refused:
        await issue(database, tenant)
    assert refused.value.code == "CONFLICT"
    async with database.tenant_session(tenant.tenant_id) as s:
        newest = await current_blocking_list(s)
    assert newest is not None and newest.version == near.version


async def test_a_short_list_has_no_warning(database: Database, tenant: NewTenant) -> None:
    row = await issue(database, tenant)
    assert blocking_list_warning(row) is None


async def test_reissue_happens_when_the_newest_list_is_an_hour_old_or_missing(
    database: Database, tenant: NewTenant
) -> None:
    now = utcnow()
    async with database.tenant_session(tenant.tenant_id) as s:
        # when there is none: issued
        first = await reissue_if_due(s, now)
        # when it is fresh: nothing
        fresh = await reissue_if_due(s, now + timedelta(minutes=59))
        # when it is an hour old: the next version
        due = await reissue_if_due(s, now + timedelta(hours=1))
        await s.commit()
    assert first is not None and first.version == 1
    assert fresh is None
    assert due is not None and due.version == 2


async def test_concurrent_losses_give_distinct_versions_and_the_newest_lists_both(
    database: Database, tenant: NewTenant
) -> None:
    # given: two issued keys
    uids = await add_keys(database, tenant, 2, status=KeyStatus.ISSUED)

    async def report_lost(uid: str) -> int:
        async with database.tenant_session(tenant.tenant_id) as s:
            key = await s.scalar(select(Key).where(Key.uid == uid))
            assert key is not None
            key.status = KeyStatus.LOST
            await s.flush()
            row = await issue_blocking_list(s)
            await s.commit()
            return row.version

    # when: both are reported lost at the same time
    versions = await asyncio.gather(report_lost(uids[0]), report_lost(uids[1]))
    # then: no version repeats, and the newest list refuses both keys
    assert sorted(versions) == [1, 2]
    async with database.tenant_session(tenant.tenant_id) as s:
        newest = await current_blocking_list(s)
    assert newest is not None and newest.key_uids == sorted(uids)


async def test_concurrent_issues_all_succeed_with_distinct_versions(
    database: Database, tenant: NewTenant
) -> None:
    # given: four transactions issuing the same tenant's list at the same moment
    # when
    rows = await asyncio.gather(*(issue(database, tenant) for _ in range(4)))
    # then
    assert sorted(r.version for r in rows) == [1, 2, 3, 4]


async def test_blocking_list_query_issues_the_first_list_and_it_verifies_as_served(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a new tenant (no list yet) with a lost key
    uid = (await add_keys(database, tenant, 1, status=KeyStatus.LOST))[0]
    # when
    served = (await gql(BLOCKING_LIST))["blockingList"]
    public_key = (await gql("{ tenantPublicKey }"))["tenantPublicKey"]
    again = (await gql(BLOCKING_LIST))["blockingList"]
    # then: version 1, verifiable by a device with the served public key; not reissued
    assert served["version"] == 1 and served["keyUids"] == [uid]
    assert verify_served_blocking_list(served, tenant_id=tenant.tenant_id, public_key=public_key)
    assert not verify_served_blocking_list(
        {**served, "keyUids": []}, tenant_id=tenant.tenant_id, public_key=public_key
    )
    assert again == served


async def test_another_tenants_blocking_list_is_never_served(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: another tenant with a lost key and its own list
    other = await make_tenant(database, "Elsewhere")
    await add_keys(database, other, 1, status=KeyStatus.LOST)
    await issue(database, other)
    # when
    served = (await gql(BLOCKING_LIST))["blockingList"]
    # then: this tenant's own first list, empty (R1)
    assert served["version"] == 1 and served["keyUids"] == []
