"""``keywarden-bridge`` (also ``python -m hardware.bridge``): enrol, run, status.

* ``enrol --server URL --tenant ID --code CODE``: once per bridge. Generates the
  Ed25519 key pair, keeps the private key in the state directory (0600) and
  registers the public key with the server's ``enrolBridge`` using the one-time
  code an administrator created (``createBridgeEnrolment``).
* ``run --port /dev/ttyX``: the headless service (:mod:`hardware.bridge.agent`).
* ``status [--json]``: enrolment, whether the service runs, its connection,
  serial port, queued reports and last command.

Exit status: 0 success; 1 the server refused or could not be reached at
enrolment; 2 a configuration error (not enrolled, key file too open, already
running, bad arguments); ``status`` exits 3 when the service is not running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hardware.bridge import AGENT_VERSION
from hardware.bridge.state import (
    ConfigError,
    Enrolment,
    StateDir,
    default_state_dir,
    public_key_b64,
)
from hardware.bridge.status import EXIT_NOT_RUNNING, EXIT_RUNNING, AgentLock, collect, render
from hardware.logconfig import configure_logging

log = logging.getLogger("keywarden.bridge")

# The server's variables for the same choices (the README's configuration table).
LOG_LEVEL_ENV = "KEYWARDEN_LOG_LEVEL"
LOG_FORMAT_ENV = "KEYWARDEN_LOG_FORMAT"

ENROL_MUTATION = """
mutation EnrolBridge($tenantId: String!, $code: String!, $publicKey: String!,
                     $agentVersion: String) {
  enrolBridge(input: {tenantId: $tenantId, code: $code, publicKey: $publicKey,
                      agentVersion: $agentVersion}) {
    bridgeId
    errors { field code message }
  }
}
"""


class EnrolmentFailed(Exception):
    """The server refused the enrolment, or could not be reached."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        # Even with --log-level debug, the WebSocket and HTTP libraries stay at WARNING:
        # their debug lines print whole frames (a SIGN_LOGIN carries the PIN) and headers.
        configure_logging(args.log_level, args.log_format)
    except ValueError as exc:
        print(f"keywarden-bridge: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"keywarden-bridge: {exc}", file=sys.stderr)
        return 2
    except EnrolmentFailed as exc:
        print(f"keywarden-bridge: enrolment failed: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keywarden-bridge", description="The Keywarden site bridge agent."
    )
    p.add_argument("--version", action="version", version=f"keywarden-bridge {AGENT_VERSION}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir", type=Path, default=None,
        help="state directory (default: $KEYWARDEN_BRIDGE_STATE_DIR, systemd's "
             "$STATE_DIRECTORY, or ~/.local/state/keywarden-bridge)",
    )
    common.add_argument("--log-level", default=os.environ.get(LOG_LEVEL_ENV) or "info",
                        help=f"debug, info, warning or error (default: ${LOG_LEVEL_ENV} or info)")
    common.add_argument("--log-format", default=os.environ.get(LOG_FORMAT_ENV) or "text",
                        help=f"text or json lines (default: ${LOG_FORMAT_ENV} or text)")
    sub = p.add_subparsers(metavar="COMMAND")

    enrol = sub.add_parser("enrol", parents=[common], help="enrol this bridge once")
    enrol.add_argument("--server", required=True, help="Keywarden URL, e.g. https://kw.example")
    enrol.add_argument("--tenant", required=True, help="the tenant id")
    enrol.add_argument("--code", required=True, help="the one-time enrolment code")
    enrol.add_argument("--name", default=None, help="a local name (default: host name)")
    enrol.add_argument("--force", action="store_true",
                       help="enrol again with a new key pair, replacing the current enrolment")
    enrol.set_defaults(func=cmd_enrol)

    run = sub.add_parser("run", parents=[common], help="run the bridge service")
    run.add_argument("--port", required=True, help="serial port of the desk device")
    run.add_argument("--server", default=None, help="override the enrolled server URL")
    run.add_argument("--baud", type=int, default=115200, help="serial line rate")
    run.add_argument("--link-retry", type=float, default=60.0, metavar="SECONDS",
                     help="how long a command waits for a lost serial link to come back")
    run.add_argument("--max-backoff", type=float, default=60.0, metavar="SECONDS",
                     help="longest wait between reconnection attempts to the server")
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", parents=[common], help="show enrolment and service state")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)
    return p


def _state(args: argparse.Namespace) -> StateDir:
    return StateDir(args.state_dir or default_state_dir())


# --- enrol ------------------------------------------------------------------------------


def cmd_enrol(args: argparse.Namespace) -> int:
    """Enrol once: new key pair, ``enrolBridge`` with the one-time code, config stored."""
    from hardware.bridge.agent import http_base

    state = _state(args)
    state.ensure()
    if state.load_enrolment() is not None and not args.force:
        raise ConfigError(
            f"this bridge is already enrolled ({state.config_path}); "
            "use --force to enrol again with a new key"
        )
    try:
        server = http_base(args.server)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    key = Ed25519PrivateKey.generate()
    # The new key is stored (0600, fsynced) before the server learns its public half, so
    # an accepted enrolment never lacks its key; it replaces the old key only on success.
    pending = state.path / "bridge.key.new"
    state.store_private_key(key, pending)
    try:
        bridge_id = _enrol(server, args.tenant, args.code, public_key_b64(key))
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    pending.replace(state.key_path)
    enrolment = Enrolment(
        server=server, tenant_id=args.tenant, bridge_id=bridge_id,
        name=args.name or socket.gethostname(), public_key=public_key_b64(key),
        enrolled_at=datetime.now(UTC).isoformat(),
    )
    state.store_enrolment(enrolment)
    print(f"enrolled: bridge {bridge_id} of tenant {args.tenant} at {server}")
    print(f"state in {state.path}; start the service with: keywarden-bridge run --port <device>")
    return 0


def _enrol(server: str, tenant_id: str, code: str, public_key: str) -> str:
    import httpx

    variables = {"tenantId": tenant_id, "code": code, "publicKey": public_key,
                 "agentVersion": AGENT_VERSION}
    try:
        response = httpx.post(f"{server}/graphql", timeout=30.0,
                              json={"query": ENROL_MUTATION, "variables": variables})
    except httpx.HTTPError as exc:
        raise EnrolmentFailed(f"cannot reach {server}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        raise EnrolmentFailed(f"{server} answered HTTP {response.status_code}") from None
    if body.get("errors"):
        raise EnrolmentFailed("; ".join(str(e.get("message")) for e in body["errors"]))
    payload = (body.get("data") or {}).get("enrolBridge") or {}
    if payload.get("errors"):
        raise EnrolmentFailed("; ".join(
            f"{e.get('message')}" + (f" ({e['field']})" if e.get("field") else "")
            for e in payload["errors"]
        ))
    if not payload.get("bridgeId"):
        raise EnrolmentFailed(f"{server} returned no bridge id")
    return str(payload["bridgeId"])


# --- run --------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    """Run the service until SIGTERM."""
    from hardware.bridge.agent import Agent, AgentOptions
    from hardware.bridge.backoff import Backoff

    state = _state(args)
    if not state.path.is_dir():
        raise ConfigError(f"no state directory {state.path}: enrol first")
    enrolment = state.load_enrolment()
    if enrolment is None:
        raise ConfigError(f"not enrolled ({state.config_path} missing): enrol first")
    key = state.load_private_key()
    if args.server is not None:
        from hardware.bridge.agent import websocket_url

        try:
            websocket_url(args.server)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if args.baud < 0 or args.link_retry < 0 or args.max_backoff < 1:
        raise ConfigError("--baud and --link-retry must be >= 0, --max-backoff >= 1")
    options = AgentOptions(
        port=args.port, server=args.server, baudrate=args.baud,
        link_retry_seconds=args.link_retry,
        ws_backoff=Backoff(base=min(1.0, args.max_backoff), cap=args.max_backoff),
    )
    lock = AgentLock(state)
    lock.acquire()
    try:
        agent = Agent(state, enrolment, key, options)
        return asyncio.run(agent.run())
    finally:
        lock.release()


# --- status -----------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    report = collect(_state(args))
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(render(report))
    return EXIT_RUNNING if report["running"] else EXIT_NOT_RUNNING
