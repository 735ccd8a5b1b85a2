"""Configuration from the environment (R3: no configuration means the embedded default).

Every setting of the server and its workers is a field of :class:`Settings`, read
from the environment variables the README's configuration table documents; no
other module reads ``os.environ``. :func:`load_settings` validates them once at
start-up and turns a bad value into a :class:`ConfigError` that names the
variable. Secrets (database and Redis URLs, which may carry passwords, the
SMTP password and the metrics token) are ``SecretStr``: they print as
``**********`` in a repr or a log line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import limits
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Dramatiq's own defaults for the Redis broker's redelivery (dramatiq.brokers.redis).
DEFAULT_QUEUE_HEARTBEAT_TIMEOUT_MS = 60_000
DEFAULT_QUEUE_MAINTENANCE_CHANCE = 1_000
# A live worker polls Redis about once a second, which counts as its heartbeat: a
# shorter timeout would hand the messages of a live worker to another one.
MIN_QUEUE_HEARTBEAT_TIMEOUT_MS = 2_000
# Dramatiq counts the maintenance chance in millionths.
QUEUE_MAINTENANCE_SCALE = 1_000_000

DATABASE_DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# The job queue's broker (app.workers.broker): Redis, or RabbitMQ over AMQP.
BROKER_SCHEMES = ("redis://", "rediss://", "amqp://", "amqps://")
_VENDOR_KEY = re.compile(r"[0-9a-fA-F]{64}")


class ConfigError(Exception):
    """A configuration value is invalid; the message names the environment variable."""


def _database_url(value: SecretStr) -> SecretStr:
    # The message never repeats the URL: it may carry a password.
    text = value.get_secret_value()
    if not text:
        return value
    try:
        driver = make_url(text).drivername
    except ArgumentError:
        raise ValueError("not a database URL (e.g. postgresql+asyncpg://user@host/db)") from None
    if driver not in DATABASE_DRIVERS:
        raise ValueError(f"the driver must be one of {', '.join(DATABASE_DRIVERS)}, not {driver}")
    return value


def _redis_url(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if text and not text.startswith(REDIS_SCHEMES):
        raise ValueError(f"must start with {', '.join(REDIS_SCHEMES)}")
    return value


def _broker_url(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if text and not text.startswith(BROKER_SCHEMES):
        raise ValueError(f"must start with {', '.join(BROKER_SCHEMES)}")
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def _optional_http_url(value: str) -> str:
    return _http_url(value) if value else value


def _vendor_keys(value: str) -> str:
    for key in (k.strip() for k in value.split(",")):
        if key and not _VENDOR_KEY.fullmatch(key):
            raise ValueError("must be comma-separated Ed25519 public keys, 64 hex digits each")
    return value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


DatabaseUrl = Annotated[SecretStr, AfterValidator(_database_url)]
RedisUrl = Annotated[SecretStr, AfterValidator(_redis_url)]
BrokerUrl = Annotated[SecretStr, AfterValidator(_broker_url)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _rate(value: str) -> str:
    """A rate limit in the ``limits`` notation: ``10/minute``, ``100 per hour``."""
    try:
        limits.parse(value)
    except ValueError:
        raise ValueError("must be a rate like '10/minute' or '100 per hour'") from None
    return value


Rate = Annotated[str, AfterValidator(_rate)]
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)]
LogFormat = Annotated[Literal["text", "json"], BeforeValidator(_lower)]


class Settings(BaseSettings):
    """Everything Keywarden reads from its environment.

    With nothing set, the server runs on a SQLite file under ``./var/`` with an
    in-process queue and pub/sub (R3). ``DATABASE_URL`` and ``REDIS_URL`` switch to
    PostgreSQL (asyncpg) and Redis; ``BROKER_URL`` puts the job queue on RabbitMQ
    (or another Redis) instead of ``REDIS_URL``. A field with an alias is read from the
    variable of that name, any other from its own name in capitals.
    """

    model_config = SettingsConfigDict(
        env_prefix="",
        extra="ignore",
        case_sensitive=False,
        # An empty variable means "not set": the default applies.
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    database_url: DatabaseUrl = SecretStr("")
    # The role the API connects as on PostgreSQL: not the owner of the tables, so
    # row-level security applies to it (R1). Empty: derived from database_url.
    app_database_url: DatabaseUrl = SecretStr("")
    redis_url: RedisUrl = SecretStr("")
    # The job queue's broker (issue 13 item 5): redis(s):// or amqp(s):// (RabbitMQ);
    # empty: the queue on REDIS_URL when that is set, else in-process (queue_url).
    broker_url: BrokerUrl = SecretStr("")
    host: str = "127.0.0.1"
    port: Port = 8000
    var_dir: Path = Path("var")
    keywarden_debug: bool = False
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, alias="KEYWARDEN_MAX_UPLOAD_BYTES"
    )
    max_query_depth: int = Field(default=12, ge=1, alias="KEYWARDEN_MAX_QUERY_DEPTH")
    max_query_tokens: int = Field(default=2000, ge=1, alias="KEYWARDEN_MAX_QUERY_TOKENS")
    max_query_cost: int = Field(default=50_000, ge=1, alias="KEYWARDEN_MAX_QUERY_COST")
    session_hours: int = Field(default=8, ge=1, alias="KEYWARDEN_SESSION_HOURS")
    # One line per request on stderr; large fleets behind a proxy that logs turn it off
    # (thousands of heartbeats a second).
    access_log: bool = Field(default=True, alias="KEYWARDEN_ACCESS_LOG")
    log_format: LogFormat = Field(default="text", alias="KEYWARDEN_LOG_FORMAT")
    log_level: LogLevel = Field(default="INFO", alias="KEYWARDEN_LOG_LEVEL")
    # Where the simulator keeps the private keys of simulated programming keys.
    simulator_state: Path | None = Field(default=None, alias="KEYWARDEN_SIMULATOR_STATE")
    # Vendor keys whose factory data new tenants trust (R31); empty: the development key.
    vendor_public_keys: Annotated[str, AfterValidator(_vendor_keys)] = Field(
        default="", alias="KEYWARDEN_VENDOR_PUBLIC_KEYS"
    )
    # The vendor data center connected tenants poll (R2, R25, R31).
    datacenter_url: Annotated[str, AfterValidator(_http_url)] = Field(
        default="http://127.0.0.1:8900", alias="KEYWARDEN_DATACENTER_URL"
    )

    # The outbox mailer's SMTP server (R33).
    smtp_host: str = "127.0.0.1"
    smtp_port: Port = 25
    smtp_from: str = "keywarden@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # How often the outbox sweep sends what is still pending (R33), once per deployment.
    outbox_sweep_seconds: float = Field(default=30.0, ge=1, alias="KEYWARDEN_OUTBOX_SWEEP_SECONDS")

    # The Redis job queue (R3): key prefix, and how soon a dead worker's messages
    # go to another worker (app.workers.broker.redelivery_options).
    queue_namespace: str = Field(default="keywarden", alias="KEYWARDEN_QUEUE_NAMESPACE")
    queue_heartbeat_timeout_ms: int = Field(
        default=DEFAULT_QUEUE_HEARTBEAT_TIMEOUT_MS,
        ge=MIN_QUEUE_HEARTBEAT_TIMEOUT_MS,
        alias="KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS",
    )
    queue_maintenance_chance: int = Field(
        default=DEFAULT_QUEUE_MAINTENANCE_CHANCE,
        ge=1,
        le=QUEUE_MAINTENANCE_SCALE,
        alias="KEYWARDEN_QUEUE_MAINTENANCE_CHANCE",
    )
    # The built web manager (issue 11); empty: frontend/dist of this checkout.
    frontend_dir: Path | None = Field(default=None, alias="KEYWARDEN_FRONTEND_DIR")
    # The first part of every pub/sub channel name (deployments sharing a Redis, tests).
    pubsub_prefix: str = Field(default="keywarden", alias="KEYWARDEN_PUBSUB_PREFIX")

    # Who may read /metrics (app.ops.metrics): the bearer of this token; unset, only
    # clients on this host that no proxy forwarded.
    metrics_token: SecretStr | None = Field(default=None, alias="KEYWARDEN_METRICS_TOKEN")
    # An OpenTelemetry collector's OTLP/HTTP address: traces go there (app.ops.tracing, needs
    # the otel extra); empty: no tracing.
    otel_endpoint: Annotated[str, AfterValidator(_optional_http_url)] = Field(
        default="", alias="KEYWARDEN_OTEL_ENDPOINT"
    )

    # Reverse proxies whose X-Forwarded-For names the client (addresses or networks,
    # comma-separated): rate limits and logs then see the client, not the proxy.
    trusted_proxies: str = Field(default="", alias="KEYWARDEN_TRUSTED_PROXIES")
    # Rate limits (app.rate_limits): hits per moving window and identity, e.g. "10/minute".
    rate_limits_enabled: bool = Field(default=True, alias="KEYWARDEN_RATE_LIMITS")
    rate_login_per_key: Rate = Field(default="10/minute", alias="KEYWARDEN_RATE_LOGIN_PER_KEY")
    rate_login_per_address: Rate = Field(
        default="60/minute", alias="KEYWARDEN_RATE_LOGIN_PER_ADDRESS"
    )
    rate_pin_per_key: Rate = Field(default="10/minute", alias="KEYWARDEN_RATE_PIN_PER_KEY")
    rate_pin_per_address: Rate = Field(default="30/minute", alias="KEYWARDEN_RATE_PIN_PER_ADDRESS")
    rate_code_per_address: Rate = Field(
        default="20/minute", alias="KEYWARDEN_RATE_CODE_PER_ADDRESS"
    )
    rate_token_failures_per_address: Rate = Field(
        default="20/minute", alias="KEYWARDEN_RATE_TOKEN_FAILURES_PER_ADDRESS"
    )
    # A wall device heartbeats once a minute and reports in bursts during a visit.
    rate_device_requests: Rate = Field(default="600/minute", alias="KEYWARDEN_RATE_DEVICE")
    rate_device_failures_per_address: Rate = Field(
        default="600/minute", alias="KEYWARDEN_RATE_DEVICE_FAILURES_PER_ADDRESS"
    )

    @property
    def frontend_path(self) -> Path:
        return self.frontend_dir or Path(__file__).resolve().parent.parent / "frontend" / "dist"

    @property
    def queue_url(self) -> str:
        """The job queue's broker URL, password included: ``BROKER_URL``, else ``REDIS_URL``.

        Empty: the in-process queue of the embedded default (R3).
        """
        return self.broker_url.get_secret_value() or self.redis_url.get_secret_value()

    @property
    def queue_on_rabbitmq(self) -> bool:
        return self.queue_url.startswith(("amqp://", "amqps://"))

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_database_url(self) -> str:
        """The owner's database URL, password included: for engines, never for logs."""
        if url := self.database_url.get_secret_value():
            return url
        return f"sqlite+aiosqlite:///{self.var_dir / 'keywarden.db'}"

    @property
    def simulator_state_path(self) -> Path:
        return self.simulator_state or self.var_dir / "simulator.json"

    @property
    def configured_vendor_keys(self) -> list[str]:
        """The configured vendor keys (KEYWARDEN_VENDOR_PUBLIC_KEYS); empty when none are."""
        return [k.strip() for k in self.vendor_public_keys.split(",") if k.strip()]


_SECRET_VARIABLES = {
    "DATABASE_URL", "APP_DATABASE_URL", "REDIS_URL", "BROKER_URL", "SMTP_PASSWORD",
    "KEYWARDEN_METRICS_TOKEN",
}


def describe_errors(exc: ValidationError) -> str:
    """One line per invalid variable: its name, what is wrong, and (unless secret) its value."""
    lines = []
    for error in exc.errors():
        # A field is reported under its alias (the variable) or its own name.
        variable = str(error["loc"][0]).upper() if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        shown = "" if variable in _SECRET_VARIABLES else f" (got {error['input']!r:.80})"
        lines.append(f"{variable}: {message}{shown}")
    return "\n".join(lines)


def load_settings() -> Settings:
    """The settings from the environment, validated; ``ConfigError`` names each bad variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


@contextmanager
def environment_kept(*names: str) -> Iterator[None]:
    """Undo what a library sets in the process environment under ``names`` (this module
    is the one that touches the environment): Dramatiq's Prometheus middleware, e.g.,
    points every later child process at its multiprocess directory (app.workers.metrics)."""
    before = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@lru_cache
def get_settings() -> Settings:
    return Settings()
