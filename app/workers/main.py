"""``keywarden worker``: separate worker processes for the Redis or RabbitMQ queue (R3, R33).

Runs Dramatiq's ``Worker`` API directly (not the ``dramatiq`` command): each
process consumes the queue with a few threads and sends the periodic actors
(the outbox sweep every 30 s). SIGTERM or SIGINT stops it gracefully: running
actors get ``SHUTDOWN_TIMEOUT_MS`` to finish; whatever they did not finish
stays in the broker and in the outbox and is done by another worker later.

``python -m app.workers.main`` does the same, with settings from the environment.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
from types import FrameType

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

import app.workers  # noqa: F401  (declares every actor)
from app.config import ConfigError, Settings, load_settings
from app.logs import configure_server_logging
from app.workers.broker import (
    SHUTDOWN_TIMEOUT_MS,
    PeriodicSender,
    boot_broker,
    configure_broker,
    describe_queue,
)

log = logging.getLogger("keywarden.workers")

EMBEDDED_DEFAULT = (
    "the embedded default runs its queue inside `keywarden serve`; "
    "set BROKER_URL or REDIS_URL to run separate workers"
)


def run_worker(
    settings: Settings, *, processes: int = 1, threads: int = 2, periodic: bool = True
) -> int:
    """Consume the Redis or RabbitMQ job queue until SIGTERM/SIGINT; the exit status (R3).

    Refuses (status 2) without a broker URL: then the queue lives inside the API
    process. With ``processes`` > 1 this process supervises that many worker
    processes and stops them all when one dies (status 1), so that the service
    manager restarts the whole set. ``periodic=False`` leaves out the sweeps.
    """
    if not settings.queue_url:
        print(f"keywarden worker: {EMBEDDED_DEFAULT}", file=sys.stderr)
        return 2
    if processes < 1 or threads < 1:
        print("keywarden worker: --processes and --threads must be at least 1", file=sys.stderr)
        return 2
    configure_server_logging(settings)
    if processes == 1:
        return _serve(settings, threads, periodic)
    return _supervise(settings, processes, threads, periodic)


def _serve(settings: Settings, threads: int, periodic: bool) -> int:
    stop = _stop_on_signals()
    broker = configure_broker(settings)
    try:
        _reach(broker)
    except Exception as exc:
        where = describe_queue(settings)
        print(f"keywarden worker: cannot reach the queue ({where}): {exc!r}", file=sys.stderr)
        return 1
    boot_broker(broker)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    sender = PeriodicSender(broker, settings=settings).start() if periodic else None
    log.info(
        "worker %d ready: %d thread(s), actors %s, queue on %s",
        os.getpid(),
        threads,
        sorted(broker.actors),
        describe_queue(settings),
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("worker %d stopping", os.getpid())
        if sender is not None:
            sender.stop()
        worker.stop(timeout=SHUTDOWN_TIMEOUT_MS)
        broker.close()
    return 0


def _reach(broker: dramatiq.Broker) -> None:
    """Raise unless the broker answers (a worker that cannot reach it exits at once)."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()
    elif isinstance(broker, RabbitmqBroker):
        # Opens (and closes) this thread's connection; the consumer threads open their own.
        assert broker.connection.is_open
        del broker.connection
    else:
        raise RuntimeError(f"not a queue for separate workers: {type(broker).__name__}")


def _child(settings: Settings, threads: int, periodic: bool) -> None:
    configure_server_logging(settings)
    sys.exit(_serve(settings, threads, periodic))


def _supervise(settings: Settings, processes: int, threads: int, periodic: bool) -> int:
    stop = _stop_on_signals()
    # Spawned, not forked: this process may already run threads.
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=_child, args=(settings, threads, periodic), name=f"keywarden-worker-{n}"
        )
        for n in range(1, processes + 1)
    ]
    for child in children:
        child.start()
    status = 0
    while not stop.wait(0.5):
        dead = [c for c in children if not c.is_alive()]
        if dead:
            log.error(
                "worker process %s exited with %s; stopping the others",
                dead[0].pid,
                dead[0].exitcode,
            )
            status = 1
            break
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join(SHUTDOWN_TIMEOUT_MS / 1000 + 5)
        if child.is_alive():
            child.kill()
            child.join()
        if child.exitcode not in (0, None):
            status = 1
    return status


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def main(argv: list[str] | None = None) -> int:
    """``python -m app.workers.main [--processes N] [--threads N] [--no-periodic]``."""
    parser = argparse.ArgumentParser(prog="keywarden worker", description=__doc__)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--no-periodic", action="store_true", help="do not send the periodic sweeps"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"keywarden worker: configuration error:\n{exc}", file=sys.stderr)
        return 2
    return run_worker(
        settings, processes=args.processes, threads=args.threads, periodic=not args.no_periodic
    )


if __name__ == "__main__":
    sys.exit(main())
