"""The operations endpoints beside ``/health``: ``/ready`` (issue 13 item 6)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.config import Settings
from app.db import Database
from app.ops.readiness import ReadinessProbe


def ops_routes(database: Database, settings: Settings) -> list[BaseRoute]:
    """``GET /ready``: 200 when the database, the broker and the migrations are, else 503."""
    probe = ReadinessProbe(database, settings)

    async def ready(request: Request) -> Response:
        readiness = await probe.check()
        return JSONResponse(readiness.body(), 200 if readiness.ready else 503)

    return [Route("/ready", ready, methods=["GET"])]
