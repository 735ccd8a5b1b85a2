"""Live events (R23): device status and job changes, announced after commit over pub/sub.

Inside a transaction::

    queue_device_status(session, device_ids, online=False)      # R23
    queue_job_events(session, job_ids=..., remote_job_ids=...)   # R15, R18
    await session.commit()
    await publish_queued(session, settings_or_pubsub)

(Mutations run through ``app.schema.runner``, which calls ``publish_queued`` itself.)
Outside one, after committing: ``await publish_now(settings_or_pubsub, event, ...)``.
"""

from app.events.publish import (
    DEVICE_STATUS,
    JOB_EVENTS,
    DeviceStatusChanged,
    Event,
    JobChanged,
    events_from_message,
    publish_now,
    publish_queued,
    queue_device_status,
    queue_event,
    queue_job_events,
)
from app.events.pubsub import InProcessPubSub, PubSub, RedisPubSub, get_pubsub

__all__ = [
    "DEVICE_STATUS",
    "JOB_EVENTS",
    "DeviceStatusChanged",
    "Event",
    "InProcessPubSub",
    "JobChanged",
    "PubSub",
    "RedisPubSub",
    "events_from_message",
    "get_pubsub",
    "publish_now",
    "publish_queued",
    "queue_device_status",
    "queue_event",
    "queue_job_events",
]
