"""One logging set-up for every Keywarden process: the server, its workers and the bridge agent.

Plain text lines by default; with the format ``json`` one JSON object per line
(``time``, ``level``, ``logger``, ``message``, then the record's own fields, and
``exception`` with the traceback). A record's own fields are what the caller
passed as ``extra=`` (a request's ``request_id``, ``tenant``, ``operation``);
text lines append them as ``key=value``. Everything goes to standard error,
for the service manager (systemd's journal, a container runtime) to keep.

Standard library only: the bridge agent installs without the server's
dependencies, and ``hardware`` never imports ``app`` (the server reuses this).
Libraries whose debug lines carry secrets (WebSocket frames with a PIN or a
signature, HTTP headers with a credential) never log below WARNING (R37).
"""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

TEXT = "text"
JSON = "json"
FORMATS = (TEXT, JSON)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Their DEBUG lines print whole WebSocket frames and HTTP headers: never below WARNING.
QUIET = ("websockets", "httpx", "httpcore", "hpack", "aiosqlite")
# uvicorn's loggers: configured here so that its lines take the same way as ours.
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")

_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))
) | {"message", "asctime", "taskName", "color_message"}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record carries beyond the standard ones (``extra=``, filters)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


class TextFormatter(logging.Formatter):
    """``<time> <pid> <LEVEL> <logger>: <message> key=value ...``, then the traceback if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = record_fields(record)
        if fields:
            line += " " + " ".join(f"{key}={_text(value)}" for key, value in fields.items())
        return line


def _text(value: Any) -> str:
    text = "-" if value is None else str(value)
    return json.dumps(text) if (not text or any(c in text for c in ' "=\n')) else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        entry.update(record_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def check(level: str, fmt: str) -> tuple[str, str]:
    """``(LEVEL, format)`` normalised; ``ValueError`` naming the allowed values otherwise."""
    level, fmt = level.strip().upper(), fmt.strip().lower()
    if level not in LEVELS:
        raise ValueError(f"the log level must be one of {', '.join(LEVELS)}, not {level!r}")
    if fmt not in FORMATS:
        raise ValueError(f"the log format must be {TEXT} or {JSON}, not {fmt!r}")
    return level, fmt


def logging_config(
    level: str = "INFO", fmt: str = TEXT, *, filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dictionary of a Keywarden process.

    One handler on standard error with the chosen formatter; the root logger and
    uvicorn's loggers at ``level``; the libraries in ``QUIET`` at WARNING.
    ``filters`` (name -> a dictConfig filter entry, e.g. ``{"()": SomeFilter}``)
    go on the handler: the server adds a request's id and tenant to every line
    with one. Give the same dictionary to ``uvicorn.run(log_config=...)``.
    """
    level, fmt = check(level, fmt)
    formatter = JsonFormatter if fmt == JSON else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"keywarden": {"()": formatter}},
        "filters": dict(filters or {}),
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "keywarden",
                "filters": list(filters or {}),
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            **{name: {"level": level, "handlers": [], "propagate": True} for name in UVICORN},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }


def configure_logging(
    level: str = "INFO", fmt: str = TEXT, *, filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Apply :func:`logging_config` to this process and return it."""
    config = logging_config(level, fmt, filters=filters)
    logging.config.dictConfig(config)
    return config

