"""What the job queue's workers share through the database (R3, issue 13 item 4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class PeriodicLease(Base):
    """Who sends a periodic actor's message this interval: one row per actor.

    A worker process sends the message only when it takes the lease, i.e. when
    ``until`` has passed; so N workers send it once per interval rather than N
    times. Not tenant data: only the workers' owner connection touches it.
    """

    __tablename__ = "periodic_leases"

    actor_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(100))
