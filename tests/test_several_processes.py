"""Several processes behave as one system (issue 13 item 4; R3, R23, R33).

Two API processes (``keywarden serve``, each on its own port) and two worker
processes (``python -m app.workers.main``) share the test's PostgreSQL database
and Redis under a queue namespace and pub/sub prefix of this module: a
subscriber on one API process hears what was done through the other, e-mails
are each delivered once however many workers consume, and the periodic outbox
sweep is sent once per interval across the workers. ``keywarden serve
--workers 2`` answers on one port from two processes.

The processes start once for the module; the last two tests stop some of them
(SIGTERM while a request, or a message, is in flight) and must stay last.
PostgreSQL only: the processes share the database with the test.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.events.publish import JOB_EVENTS
from app.tenants.service import NewTenant
from app.workers.outbox import notify_outbox
from tests.conftest import BACKEND, make_tenant, superadmin_token
from tests.harness import TIMEOUT, LoggedProcess, eventually, patience
from tests.processes import (
    ApiProcess,
    SharedServices,
    WorkerProcess,
    message_id,
    shared_services,
)
from tests.test_subscriptions import CHANGE, JOB_EVENTS_SUB, GraphQLSocket, make_site, numsub
from tests.test_workers import outbox_row, write_outbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="the API and worker processes share the database with the test: PostgreSQL only",
    ),
]

SWEEP_SECONDS = 2  # KEYWARDEN_OUTBOX_SWEEP_SECONDS of the workers: several intervals per test
SWEPT = re.compile(r"sent periodic send_outbox for interval (\d+)")


# --- the processes ------------------------------------------------------------------------


@dataclass
class Deployment:
    """Two API processes and two worker processes sharing PostgreSQL, Redis and SMTP."""

    api_a: ApiProcess
    api_b: ApiProcess
    workers: list[WorkerProcess]
    shared: SharedServices
    logs: Path


@pytest.fixture(scope="module")
async def deployment(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    """2 × ``keywarden serve`` and 2 × worker on one database and one Redis namespace."""
    logs = tmp_path_factory.mktemp("several")
    with shared_services(settings) as shared:
        apis = [
            ApiProcess(shared.settings, shared.namespace, logs / f"api-{n}.log",
                       **shared.smtp.env, **shared.nowhere)
            for n in ("a", "b")
        ]
        sweeping = {
            **shared.nowhere,
            "KEYWARDEN_OUTBOX_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "KEYWARDEN_LOG_LEVEL": "DEBUG",  # the line per periodic send is a debug line
        }
        workers = [
            WorkerProcess(shared.settings, shared.namespace, shared.smtp,
                          logs / f"worker-{n}.log", env=sweeping)
            for n in (1, 2)
        ]
        processes: list[ApiProcess | WorkerProcess] = [*apis, *workers]
        try:
            await asyncio.gather(*(process.ready() for process in processes))
            yield Deployment(*apis, workers, shared, logs)
        finally:
            for process in processes:
                process.close()


@pytest.fixture
async def site_tenant(database: Database) -> NewTenant:
    return await make_tenant(database, "Several processes")


async def graphql(url: str, token: str, query: str, variables: dict[str, object]) -> object:
    async with httpx.AsyncClient(base_url=url, timeout=patience(10)) as http:
        response = await http.post(
            "/graphql", headers={"Authorization": f"Bearer {token}"},
            json={"query": query, "variables": variables},
        )
    assert response.status_code == 200, response.text
    return response.json()["data"]


# --- one system ---------------------------------------------------------------------------


async def test_a_subscriber_on_one_api_process_hears_a_mutation_made_through_the_other(
    deployment: Deployment, database: Database, site_tenant: NewTenant
) -> None:
    # given: a jobEvents subscriber on API process A (R23)
    site = await make_site(database, site_tenant)
    token = await superadmin_token(database, site_tenant)
    ws = await (await GraphQLSocket.open(deployment.api_a.ws_url, token)).acknowledged()
    await ws.subscribe("jobs", JOB_EVENTS_SUB)
    channel = f"{deployment.shared.namespace}:{site_tenant.tenant_id}:{JOB_EVENTS}"

    async def subscribed() -> bool:
        return await numsub(deployment.shared.redis_url, channel) >= 1

    await eventually(subscribed, "API process A to subscribe on Redis")

    # when: the key is authorised on the cylinder through API process B (R16)
    data = await graphql(deployment.api_b.url, token, CHANGE, {"i": {
        "cylinderIds": [site.cylinder], "add": [site.key]}})
    result = data["changeAuthorizations"]  # type: ignore[index]
    assert result["errors"] == []

    # then: the subscriber on A hears of B's programming job
    event = (await ws.next("jobs", seconds=10))["jobEvents"]
    assert event["programmingJob"]["id"] == result["programmingJobs"][0]["id"]
    assert event["programmingJob"]["cylinder"] == {"marking": "MAIN-1"}
    await ws.close()


async def test_each_outbox_email_is_delivered_once_with_two_workers_consuming(
    deployment: Deployment, database: Database, site_tenant: NewTenant
) -> None:
    # given: twelve e-mails written, each announced (R33), and the sweep running meanwhile
    mine = [
        await write_outbox(database, site_tenant, f"user{n}@acme.test", f"Notice {n}")
        for n in range(12)
    ]

    # when
    for _ in mine:
        notify_outbox()

    # then: every one is sent, and the SMTP server received each exactly once
    async def all_sent() -> bool:
        return all([(await outbox_row(database, i)).sent_at is not None for i in mine])

    await eventually(all_sent, "the twelve e-mails to be marked sent",
                     details=lambda: "\n".join(w.output()[-3000:] for w in deployment.workers))
    copies = {i: len(deployment.shared.smtp.sink.copies(i)) for i in mine}
    assert copies == dict.fromkeys(mine, 1)
    assert all([(await outbox_row(database, i)).attempts == 1 for i in mine])


def sweeps(workers: list[WorkerProcess]) -> list[int]:
    """The intervals for which a worker sent the outbox sweep, one entry per send."""
    return [int(n) for w in workers for n in SWEPT.findall(w.output())]


async def test_the_periodic_sweep_is_sent_once_per_interval_across_two_workers(
    deployment: Deployment,
) -> None:
    # given: two workers, each of which would send the sweep every SWEEP_SECONDS
    workers = deployment.workers
    start = len(set(sweeps(workers)))

    # when: several intervals pass
    def intervals_passed() -> bool:
        return all(w.alive() for w in workers) and len(set(sweeps(workers))) >= start + 4

    await eventually(
        lambda: asyncio.to_thread(intervals_passed),
        "four more intervals of the outbox sweep", seconds=TIMEOUT,
        details=lambda: "\n".join(w.output()[-3000:] for w in workers),
    )

    # then: each interval's sweep was sent once, by one worker or the other
    sent = sweeps(workers)
    assert len(sent) == len(set(sent)), sorted(sent)


async def test_serve_with_two_workers_answers_on_one_port_from_two_processes(
    deployment: Deployment,
) -> None:
    # given: `keywarden serve --workers 2` on one inherited socket, logging JSON lines
    shared = deployment.shared
    server = ApiProcess(
        shared.settings, shared.namespace, deployment.logs / "serve-workers.log",
        "--workers", "2", KEYWARDEN_LOG_FORMAT="json", **shared.smtp.env, **shared.nowhere,
    )
    try:
        await server.ready()

        # when: clients keep calling /health on the one port, several at a time
        def answering_processes() -> set[int]:
            return {
                line["process"] for line in json_lines(server)
                if line["logger"] == "keywarden.request" and line.get("path") == "/health"
            }

        async def both_answered() -> bool:
            async def call() -> None:
                async with httpx.AsyncClient(timeout=patience(10)) as http:
                    assert (await http.get(f"{server.url}/health")).status_code == 200

            await asyncio.gather(*(call() for _ in range(8)))
            return len(await asyncio.to_thread(answering_processes)) >= 2

        await eventually(both_answered, "two processes to answer /health",
                         details=server.output)

        # then: two processes answered, both children of the one `keywarden serve`
        answering = answering_processes()
        assert len(answering) == 2
        assert {parent_of(pid) for pid in answering} == {server.process.pid}
        # and uvicorn's own lines took the configured format in each of them: JSON only
        started = {
            line["process"] for line in json_lines(server)
            if line["message"] == "Application startup complete."
        }
        assert started == answering
    finally:
        status = server.signal(signal.SIGTERM)
    assert status == 0, server.output()


def json_lines(process: LoggedProcess) -> list[dict[str, object]]:
    """Every line the process wrote, each of which must be a JSON object."""
    return [json.loads(line) for line in process.output().splitlines() if line.strip()]


def parent_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^PPid:\s*(\d+)", status, re.MULTILINE)[1])  # type: ignore[index]


# --- graceful shutdown (these stop processes of the deployment: keep them last) ----------


async def test_sigterm_lets_an_api_process_finish_its_request_and_exit_0(
    deployment: Deployment, database: Database, site_tenant: NewTenant
) -> None:
    # given: an employee export through API process B held up by a lock on the table
    token = await superadmin_token(database, site_tenant)
    api = deployment.api_b
    async with database.system_session() as locking, httpx.AsyncClient(
        base_url=api.url, timeout=patience(TIMEOUT)
    ) as http:
        await locking.execute(text("LOCK TABLE employees IN ACCESS EXCLUSIVE MODE"))
        export = asyncio.create_task(
            http.get("/export/employees.csv", headers={"Authorization": f"Bearer {token}"})
        )

        async def export_waits() -> bool:
            async with database.system_session() as session:
                waiting = await session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND query ILIKE '%employees%'"))
                return bool(waiting)

        await eventually(export_waits, "the export to wait for the table", details=api.output)

        # when: the service manager stops B while the export is in flight
        api.process.send_signal(signal.SIGTERM)
        await api.logged("Shutting down")
        await api.logged("Waiting for connections to close")
        await locking.rollback()

        # then: the export completes
        response = await export
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    # and B exits 0 once it has answered
    status = await asyncio.to_thread(api.process.wait, patience(TIMEOUT))
    assert status == 0, api.output()


async def test_sigterm_lets_the_workers_finish_the_message_in_hand_and_exit_0(
    deployment: Deployment, database: Database, site_tenant: NewTenant
) -> None:
    # given: a worker in the middle of sending an e-mail, the SMTP server not yet answering
    sink = deployment.shared.smtp.sink
    outbox_id = await write_outbox(database, site_tenant, "judy@acme.test", "Keys imported")
    sink.held.add(message_id(outbox_id))
    sink.accept_held = True
    notify_outbox()
    arrived = await asyncio.to_thread(sink.arrived.wait, patience(TIMEOUT))
    assert arrived, "\n".join(w.output()[-3000:] for w in deployment.workers)

    # when: the service manager stops both workers, then the server answers
    workers = deployment.workers
    for worker in workers:
        worker.process.send_signal(signal.SIGTERM)

    def both_stopping() -> bool:
        return all(" stopping" in worker.output() for worker in workers)

    await eventually(lambda: asyncio.to_thread(both_stopping), "both workers to be stopping")
    # the one sending waits for its message (the idle one may be gone already)
    assert any(worker.process.poll() is None for worker in workers)
    sink.released.set()

    # then: both exit 0, and the message was sent, once
    for worker in workers:
        status = await asyncio.to_thread(worker.process.wait, patience(TIMEOUT))
        assert status == 0, worker.output()
    row = await outbox_row(database, outbox_id)
    assert row.sent_at is not None
    assert (row.attempts, len(sink.copies(outbox_id))) == (1, 1)
