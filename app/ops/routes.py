"""The operations endpoints beside ``/health``: ``/ready`` and ``/metrics`` (issue 13 item 6)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.config import Settings
from app.db import Database
from app.ops.metrics import exposition, may_scrape
from app.ops.readiness import ReadinessProbe


def _refused(status: int, code: str, message: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status, headers=headers)


def ops_routes(database: Database, settings: Settings) -> list[BaseRoute]:
    """``GET /ready`` (200 or 503) and ``GET /metrics`` (Prometheus text, to who may scrape)."""
    probe = ReadinessProbe(database, settings)

    async def ready(request: Request) -> Response:
        readiness = await probe.check()
        return JSONResponse(readiness.body(), 200 if readiness.ready else 503)

    async def metrics(request: Request) -> Response:
        if not may_scrape(request, settings):
            if settings.metrics_token is not None:
                return _refused(
                    401, "UNAUTHENTICATED", "send Authorization: Bearer <metrics token>"
                )
            return _refused(
                403, "FORBIDDEN",
                "only this host may scrape /metrics; set KEYWARDEN_METRICS_TOKEN to allow others",
            )
        return Response(await exposition(database, settings), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
