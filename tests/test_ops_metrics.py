"""``/metrics`` scraped after real traffic, parsed as Prometheus parses it (issue 13 item 6)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app.config import Settings
from app.db import Database
from app.models import Bridge, OutboxMessage, utcnow
from app.ops.instruments import MAX_OPERATION_NAMES, OTHER, operation_label
from app.tenants.service import NewTenant
from app.web import create_app
from app.workers import send_outbox
from app.workers.broker import configure_broker
from hardware.sim.wall_device import SimulatedWallDevice
from tests.conftest import superadmin_token
from tests.harness import eventually
from tests.processes import reachable_redis, redis_queue
from tests.test_devices import add_device
from tests.test_subscriptions import GraphQLSocket, LiveServer

NAMED_QUERY = "query KeysOverview { keys(first: 1) { totalCount } }"
WATCH = "subscription WatchDevices { deviceStatus { online } }"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape by name and labels, through prometheus-client's own parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@asynccontextmanager
async def served(
    settings: Settings, database: Database, client: tuple[str, int] = ("127.0.0.1", 4321)
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, database), client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[LiveServer]:
    """The application under uvicorn with its lifespan: the in-process queue runs (R3)."""
    with LiveServer(settings) as server:
        yield server


# --- after real traffic ----------------------------------------------------------------


async def test_a_named_query_a_heartbeat_and_a_subscription_show_on_the_scrape(
    live: LiveServer, database: Database, tenant: NewTenant
) -> None:
    # given: a tenant's token and a registered wall device
    token = await superadmin_token(database, tenant)
    device_key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, device_key, serial="WPD-METRICS")
    async with httpx.AsyncClient(base_url=live.http_url) as http:
        before = parse((await http.get("/metrics")).text)

        # when: a named query, a heartbeat, an anonymous query, and an open subscription
        auth = {"Authorization": f"Bearer {token}"}
        named = await http.post("/graphql", json={"query": NAMED_QUERY}, headers=auth)
        assert named.status_code == 200 and "errors" not in named.json(), named.text
        anonymous = await http.post("/graphql", json={"query": "{ keys(first: 1) { totalCount } }"},
                                    headers=auth)
        assert anonymous.status_code == 200, anonymous.text
        async with SimulatedWallDevice(live.http_url, tenant.tenant_id, "WPD-METRICS",
                                       device_key) as device:
            await device.heartbeat()
        socket = await (await GraphQLSocket.open(live.ws_url, token)).acknowledged()
        await socket.subscribe("1", WATCH)
        during = await eventually(
            lambda: _open_subscriptions(http, 1), "the subscription to count as open", 5
        )

        # then: each one counted, with its operation name and type
        duration = "keywarden_graphql_request_duration_seconds_count"
        assert value(during, duration, operation="KeysOverview", type="query") == value(
            before, duration, operation="KeysOverview", type="query"
        ) + 1
        assert value(during, duration, operation="anonymous", type="query") >= 1
        assert value(during, "keywarden_device_heartbeats_total") == value(
            before, "keywarden_device_heartbeats_total"
        ) + 1

        # and when the subscription ends, it no longer counts as open
        await socket.close()
        await eventually(
            lambda: _open_subscriptions(http, 0), "the subscription to count as closed", 5
        )


async def _open_subscriptions(http: httpx.AsyncClient, expected: float) -> Samples | None:
    samples = parse((await http.get("/metrics")).text)
    gauge = value(samples, "keywarden_graphql_subscriptions_open", operation="WatchDevices")
    return samples if gauge == expected else None


async def test_dramatiq_middleware_counts_the_in_process_queues_messages(
    live: LiveServer,
) -> None:
    # given: the live server's in-process worker, which sends the outbox sweep at start

    # when: scraped once the sweep ran
    async def sweeps() -> float:
        async with httpx.AsyncClient(base_url=live.http_url) as http:
            samples = parse((await http.get("/metrics")).text)
        return value(
            samples, "dramatiq_messages_total", queue_name="default", actor_name="send_outbox"
        )

    # then: Dramatiq's own metrics are on the API's /metrics, and its multiprocess directory
    # is not handed to the process's children
    assert await eventually(sweeps, "Dramatiq's message counter on /metrics", 10) >= 1
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


# --- read at scrape time -----------------------------------------------------------------


async def test_outbox_backlog_and_bridges_online_are_read_from_the_database(
    settings: Settings, database: Database, tenant: NewTenant
) -> None:
    async with served(settings, database) as http:
        before = await scrape(http)

        # given: one more e-mail waiting, one given up, and one more bridge online
        async with database.tenant_session(tenant.tenant_id) as session:
            session.add_all([
                OutboxMessage(kind="test", recipient="a@example.org", subject="s", body="b"),
                OutboxMessage(kind="test", recipient="b@example.org", subject="s", body="b",
                              attempts=30),
                Bridge(domain_id=tenant.default_domain_id, name="Desk",
                       online_until=utcnow() + timedelta(minutes=1)),
                Bridge(domain_id=tenant.default_domain_id, name="Gone",
                       online_until=utcnow() - timedelta(minutes=1)),
            ])
            await session.commit()

        # when
        after = await scrape(http)

    # then: counts only, no tenant in any label
    for name in ("keywarden_outbox_backlog", "keywarden_outbox_given_up",
                 "keywarden_bridges_online"):
        assert value(after, name) == value(before, name) + 1, name
    assert not any(tenant.tenant_id in str(labels) for _, labels in after)


async def test_queue_depth_of_the_in_process_queue(
    settings: Settings, database: Database
) -> None:
    # given: a message delayed for a minute in the in-process queue (counted whether or not
    # a worker already holds it, so this module's live worker cannot race the scrape)
    broker = configure_broker(settings)
    before = broker.queues["default.DQ"].unfinished_tasks + broker.queues[
        "default"
    ].unfinished_tasks
    send_outbox.send_with_options(delay=60_000)
    try:
        async with served(settings, database) as http:
            # when
            samples = await scrape(http)
    finally:
        broker.flush("default.DQ")

    # then
    assert value(samples, "keywarden_queue_messages", queue="default") == before + 1


async def test_queue_depth_of_the_redis_queue(settings: Settings, database: Database) -> None:
    # given: two messages waiting in Redis under a namespace of this test's own
    with redis_queue(settings, reachable_redis()) as (with_redis, _namespace):
        send_outbox.send()
        send_outbox.send_with_options(delay=60_000)
        async with served(with_redis, database) as http:
            # when
            samples = await scrape(http)

    # then: the waiting one and the delayed one
    assert value(samples, "keywarden_queue_messages", queue="default") == 2


# --- who may scrape ----------------------------------------------------------------------


async def test_without_a_token_only_this_host_unforwarded_may_scrape(
    settings: Settings, database: Database
) -> None:
    # given: no KEYWARDEN_METRICS_TOKEN
    async with served(settings, database, client=("203.0.113.7", 4321)) as remote:
        # when: another host scrapes
        refused = await remote.get("/metrics")
    async with served(settings, database) as local:
        # when: a proxy on this host forwards someone's scrape
        forwarded = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
        # when: this host scrapes
        allowed = await local.get("/metrics")

    # then
    assert refused.status_code == 403
    assert "KEYWARDEN_METRICS_TOKEN" in refused.json()["errors"][0]["message"]
    assert forwarded.status_code == 403
    assert allowed.status_code == 200


async def test_with_a_token_only_its_bearer_may_scrape_from_anywhere(
    settings: Settings, database: Database
) -> None:
    # given
    token = secrets.token_urlsafe(24)
    guarded = settings.model_copy(update={"metrics_token": SecretStr(token)})
    async with served(guarded, database, client=("203.0.113.7", 4321)) as http:
        # when
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    # then
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert token not in right.text


def test_operation_names_are_bounded() -> None:
    # given: more distinct names than the bound, and names no GraphQL document can carry
    labels = {operation_label(f"Generated{n}") for n in range(MAX_OPERATION_NAMES + 50)}

    # then
    assert OTHER in labels and len(labels) <= MAX_OPERATION_NAMES + 1
    assert operation_label(None) == "anonymous"
    assert operation_label("x" * 65) == OTHER
    assert operation_label("not a name") == OTHER

