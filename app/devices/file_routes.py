"""Downloads of device files for a USB stick (R27): GET, signed, for one device."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import Settings
from app.db import Database
from app.devices.files import configuration_file, trace_log_request_file
from app.errors import DomainError
from app.models import RemoteDevice, Tenant
from app.schema.relay import decode_id


def device_file_routes(database: Database, settings: Settings) -> list[Route]:
    """GET /devices/<device id>/configuration-file and /devices/<device id>/trace-log-request."""

    def route(suffix: str, right: str, make: Callable[[Tenant, RemoteDevice], bytes]) -> Route:
        async def handle(request: Request) -> Response:
            from app.web import Download, download

            async def produce(session: AsyncSession) -> Download:
                _, device_id = decode_id(request.path_params["device"], "RemoteDevice", "device")
                # Another tenant's or domain's device does not exist here (R1, R8).
                device = await session.get(RemoteDevice, device_id)
                if device is None:
                    raise DomainError("NOT_FOUND", "no such device", "device")
                tenant = await session.scalar(select(Tenant))
                assert tenant is not None
                return Download(
                    make(tenant, device), "application/json", f"{device.serial}-{suffix}.json"
                )

            return await download(request, database, settings, right=right, produce=produce)

        return Route(f"/devices/{{device}}/{suffix}", handle, methods=["GET"])

    return [
        route("configuration-file", "devices.read", configuration_file),
        route("trace-log-request", "devices.write", trace_log_request_file),
    ]
