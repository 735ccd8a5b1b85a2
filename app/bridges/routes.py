"""The key firmware image a bridge downloads for an UPDATE_KEY_FIRMWARE command (R26).

``GET /bridge/commands/<command id>/image`` with ``Authorization: Bridge
<credential>`` (``app.bridges.auth``: the connection credential as base64url
JSON, fresh and single-use). Only the bridge the command was queued for gets
the image, and only while the command is unfinished; the answer carries the
image's SHA-256 in ``X-Keywarden-SHA256`` (also in the command's payload).
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.bridges.auth import BridgeAuthError, authenticate_bridge, parse_authorization
from app.bridges.service import UNFINISHED
from app.config import Settings
from app.db import Database
from app.ids import parse_global_id
from app.logs import note_tenant
from app.models import BridgeCommand, BridgeCommandKind, Firmware


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def bridge_routes(database: Database, settings: Settings) -> list[Route]:
    """The routes a bridge calls besides its WebSocket."""

    async def firmware_image(request: Request) -> Response:
        try:
            credential = parse_authorization(request.headers.get("authorization", ""))
            principal = await authenticate_bridge(database, credential)
        except BridgeAuthError as exc:
            return _error(401, exc.code, exc.message)
        note_tenant(principal.tenant_id)
        parsed = parse_global_id(request.path_params["command"])
        if parsed is None or parsed[0] != "BridgeCommand" or not parsed[1].isdigit():
            return _error(404, "NOT_FOUND", "no such command")
        async with database.tenant_session(principal.tenant_id) as session:
            command = await session.scalar(
                select(BridgeCommand).where(
                    BridgeCommand.id == int(parsed[1]),
                    BridgeCommand.bridge_id == principal.bridge_id,
                    BridgeCommand.kind == BridgeCommandKind.UPDATE_KEY_FIRMWARE,
                    BridgeCommand.status.in_(UNFINISHED),
                )
            )
            firmware_id = command.payload.get("firmwareId") if command is not None else None
            firmware = (
                await session.get(Firmware, firmware_id) if isinstance(firmware_id, int) else None
            )
            if firmware is None:
                return _error(404, "NOT_FOUND", "no unfinished firmware command of this bridge")
            return Response(
                firmware.image,
                media_type="application/octet-stream",
                headers={"X-Keywarden-SHA256": firmware.sha256},
            )

    return [Route("/bridge/commands/{command}/image", firmware_image, methods=["GET"])]
