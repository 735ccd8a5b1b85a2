"""Announcing bridge commands to the bridge's live subscription (R1, R5, R23).

Each bridge listens on its own topic of its tenant's channel
(``bridge-commands:<bridge id>``), so neither another tenant's bridge nor
another bridge of the tenant receives its messages. A message carries command
ids only, plus — for a SIGN_LOGIN command — the PIN the browser gave, which
exists nowhere else: it is never written to the database nor logged (R5, R37).
A bridge that is not listening when the message is published never gets that
PIN; its login expires.

Publish only after the transaction that created the commands has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.config import Settings
from app.events.pubsub import get_pubsub
from app.models import utcnow

log = logging.getLogger("keywarden.bridges")

BRIDGE_COMMANDS = "bridge-commands"


def bridge_topic(bridge_id: int) -> str:
    """The topic one bridge's commands are announced on, within its tenant's channel."""
    return f"{BRIDGE_COMMANDS}:{bridge_id}"


@dataclass(frozen=True)
class CommandsAnnounced:
    """Commands of one bridge that are new (or have something live for the bridge)."""

    tenant_id: str
    bridge_id: int
    command_ids: list[int]
    at: datetime
    # command id -> fields merged into the command's payload on delivery (the login PIN).
    live: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The bridge was revoked: its live connection is closed at once.
    revoked: bool = False


async def announce(
    settings: Settings,
    tenant_id: str,
    bridge_id: int,
    command_ids: Iterable[int],
    *,
    live: Mapping[int, Mapping[str, Any]] | None = None,
) -> bool:
    """Tell the bridge's subscription about committed commands; False when pub/sub failed.

    A pub/sub outage loses nothing that was stored: the bridge gets every
    unfinished command when it subscribes (only a login's PIN is lost with it).
    """
    ids = list(command_ids)
    if not ids:
        return True
    message = {
        "tenant_id": tenant_id,
        "kind": BRIDGE_COMMANDS,
        "bridge_id": bridge_id,
        "command_ids": ids,
        "at": utcnow().isoformat(),
        "live": {str(k): dict(v) for k, v in (live or {}).items()},
    }
    try:
        await get_pubsub(settings).publish(tenant_id, bridge_topic(bridge_id), message)
    except Exception:
        # Never the message itself: it may carry a PIN (R37).
        log.exception("could not announce %d command(s) to bridge %s", len(ids), bridge_id)
        return False
    return True


async def announce_revoked(settings: Settings, tenant_id: str, bridge_id: int) -> None:
    """Tell the bridge's live subscription, in whichever process, that the bridge was revoked."""
    message = {
        "tenant_id": tenant_id, "kind": BRIDGE_COMMANDS, "bridge_id": bridge_id,
        "command_ids": [], "at": utcnow().isoformat(), "revoked": True,
    }
    try:
        await get_pubsub(settings).publish(tenant_id, bridge_topic(bridge_id), message)
    except Exception:
        # The subscription still finds out when it next renews its lease.
        log.exception("could not announce the revocation of bridge %s", bridge_id)


def commands_from_message(message: Mapping[str, Any]) -> CommandsAnnounced | None:
    """The announcement a pub/sub message carries; None when it is malformed."""
    try:
        if message["kind"] != BRIDGE_COMMANDS:
            return None
        live_raw = message.get("live") or {}
        live = {
            int(k): dict(v) for k, v in live_raw.items() if isinstance(v, Mapping)
        }
        return CommandsAnnounced(
            tenant_id=str(message["tenant_id"]),
            bridge_id=int(message["bridge_id"]),
            command_ids=[int(i) for i in message["command_ids"]],
            at=datetime.fromisoformat(str(message["at"])),
            live=live,
            revoked=message.get("revoked") is True,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
