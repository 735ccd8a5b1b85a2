"""``keywarden serve``: the API in one process, or in several on one listening socket."""

from __future__ import annotations

import logging
import signal
import socket
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from app.config import Settings
from app.logs import configure_server_logging
from app.web import create_app


class ServeError(Exception):
    """What keeps the server from starting, said to the operator (e.g. a bad ``--fd``)."""


def serve(
    settings: Settings, *, host: str | None, port: int | None, fd: int | None, workers: int
) -> int:
    """Serve the API until stopped; the exit status. ``fd``: an inherited listening socket
    (socket activation); ``workers`` > 1: that many processes on one socket (issue 13 item 4).
    Refuses (status 2) what ``serve_refusal`` names; raises ``ServeError`` for a bad ``fd``."""
    if refused := serve_refusal(settings, workers):
        print(f"keywarden serve: {refused}", file=sys.stderr)
        return 2
    log_config = configure_server_logging(settings)
    several = workers > 1
    config = uvicorn.Config(
        # Spawned worker processes import the app and build it themselves, from the
        # environment they inherit: an import string and a factory, not an object.
        "app.web:create_app" if several else create_app(settings),
        factory=several,
        workers=workers,
        host=host or settings.host,
        port=port or settings.port,
        # uvicorn's lines take our handler and format, in every worker process too; the
        # line per request is ours (app.logs.RequestLogMiddleware), with request id,
        # tenant and operation.
        log_config=log_config,
        log_level=settings.log_level.lower(),
        access_log=False,
        # Only a trusted proxy's X-Forwarded-For names the client (rate limits, logs).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    sockets = None
    if fd is not None:
        try:
            inherited = socket.socket(fileno=fd)
        except OSError as exc:
            raise ServeError(f"--fd {fd}: not an open socket ({exc.strerror})") from exc
        logging.getLogger("keywarden.serve").info(
            "serving on the inherited socket %s", inherited.getsockname()
        )
        sockets = [inherited]
    if several:
        # uvicorn's supervisor: one listening socket shared by N spawned servers, each
        # stopped gracefully on SIGTERM/SIGINT; a dead one is replaced.
        logging.getLogger("keywarden.serve").info("serving from %d processes", workers)
        supervisor = Multiprocess(config, sockets=sockets or [config.bind_socket()])
        supervisor.run()
        # It gives up when a process failed to start: the app would fail in every one.
        failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
        return STARTUP_FAILURE if failed else 0
    server = uvicorn.Server(config)
    # uvicorn stops gracefully on SIGTERM (running requests finish), then raises it again
    # for the handler it found: the default one would kill the process after its clean
    # stop (status -15). Stopped as asked, the server exits 0 (issue 13 item 4).
    signal.signal(signal.SIGTERM, lambda signum, frame: setattr(server, "should_exit", True))
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:
        pass
    # As uvicorn.run: a server that never started (its application failed) is a failure.
    return 0 if server.started else STARTUP_FAILURE


def serve_refusal(settings: Settings, workers: int) -> str | None:
    """Why ``keywarden serve --workers N`` cannot run with these settings, if it cannot.

    Several processes are one system only when they share the job queue, the live
    events (REDIS_URL) and a database several processes may write (PostgreSQL): the
    embedded default keeps its queue and events inside its one process, and SQLite
    takes one writer at a time (issue 13 item 4, docs/decisions.md).
    """
    if workers < 1:
        return "--workers must be at least 1"
    if workers == 1:
        return None
    missing = []
    if not settings.redis_url:
        missing.append("REDIS_URL (the queue and live events the processes share)")
    if settings.is_sqlite:
        missing.append("a PostgreSQL DATABASE_URL (SQLite takes one writing process)")
    if missing:
        return f"--workers {workers} needs " + " and ".join(missing)
    return None
