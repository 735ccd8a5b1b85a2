"""Background work (R3, R33): the job queue and its actors.

Importing this package declares every actor on the current broker.
"""

from app.workers import datacenter as datacenter
from app.workers import maintenance as maintenance
from app.workers import outbox as outbox
from app.workers.broker import configure_broker, start_in_process_worker
from app.workers.outbox import notify_outbox, send_outbox

__all__ = [
    "configure_broker",
    "datacenter",
    "maintenance",
    "notify_outbox",
    "outbox",
    "send_outbox",
    "start_in_process_worker",
]
