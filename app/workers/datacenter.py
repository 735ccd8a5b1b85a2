"""Data-center actors (R2, R25, R31): poll for connected tenants, import what is due.

``poll_data_center`` (no arguments) sends one ``poll_data_center_tenant``
message per connected tenant, so one tenant's slow or failing data center
answer holds up no other, and a worker killed mid-poll costs one tenant's
redelivery. Both are idempotent (``app.datacenter.poll``): a redelivered
message imports nothing twice and writes no e-mail twice, because each file is
imported, with its e-mails, in one transaction and skipped once it is there.

``poll_data_center`` is sent every ``POLL_SECONDS`` by the periodic sender
(once per interval per deployment); on demand, ``poll_data_center_tenant.send(tenant_id)``.
"""

from __future__ import annotations

import asyncio
import logging

import dramatiq

# The module, not its names: app.datacenter.poll imports app.workers (notify_outbox), and
# app.workers imports this module, so the poll module may still be initialising here.
from app.config import Settings
from app.datacenter import poll
from app.db import Database
from app.workers.broker import configure_broker, register_periodic, worker_settings

log = logging.getLogger("keywarden.datacenter")

# How often the scheduler should poll: firmware waits 24 hours anyway (R25),
# extensions are wanted soon (R31).
POLL_SECONDS = 15 * 60.0


@dramatiq.actor(
    actor_name="poll_data_center",
    broker=configure_broker(),
    max_retries=3,
    min_backoff=30_000,
    max_backoff=300_000,
    time_limit=5 * 60_000,
)
def poll_data_center() -> None:
    """Send a poll for every tenant connected to the data center (R2); carries no data."""
    for tenant_id in asyncio.run(_connected(worker_settings())):
        poll_data_center_tenant.send(tenant_id)


@dramatiq.actor(
    actor_name="poll_data_center_tenant",
    broker=configure_broker(),
    max_retries=3,
    min_backoff=30_000,
    max_backoff=300_000,
    time_limit=30 * 60_000,
)
def poll_data_center_tenant(tenant_id: str) -> None:
    """Import the firmware (24 h after its offer, R25) and extensions (R31) due for one tenant."""
    report = asyncio.run(_poll(worker_settings(), tenant_id))
    for _, offer_id, reason in report.failed:
        log.warning("data center poll of tenant %s: %s: %s", tenant_id, offer_id or "-", reason)


async def _connected(settings: Settings) -> list[str]:
    database = Database(settings)
    try:
        return await poll.connected_tenant_ids(database)
    finally:
        await database.dispose()


async def _poll(settings: Settings, tenant_id: str) -> poll.PollReport:
    database = Database(settings)
    try:
        async with poll.DataCenterClient(settings.datacenter_url) as client:
            return await poll.poll_tenant(database, settings, tenant_id, client=client)
    finally:
        await database.dispose()


register_periodic(poll_data_center, seconds=POLL_SECONDS)
