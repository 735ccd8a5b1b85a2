"""Configuration from the environment (R3: no configuration means the embedded default)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Keywarden reads from its environment.

    With nothing set, the server runs on a SQLite file under ``./var/`` with an
    in-process queue and pub/sub (R3). ``DATABASE_URL`` and ``REDIS_URL`` switch to
    PostgreSQL (asyncpg) and Redis.
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: str = ""
    # The role the API connects as on PostgreSQL: not the owner of the tables, so
    # row-level security applies to it (R1). Empty: derived from database_url.
    app_database_url: str = ""
    redis_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    keywarden_debug: bool = False
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, alias="KEYWARDEN_MAX_UPLOAD_BYTES")
    max_query_depth: int = Field(default=12, alias="KEYWARDEN_MAX_QUERY_DEPTH")
    max_query_tokens: int = Field(default=2000, alias="KEYWARDEN_MAX_QUERY_TOKENS")
    max_query_cost: int = Field(default=50_000, alias="KEYWARDEN_MAX_QUERY_COST")
    session_hours: int = Field(default=8, alias="KEYWARDEN_SESSION_HOURS")
    # One line per request on stderr; large fleets behind a proxy that logs turn it off
    # (thousands of heartbeats a second).
    access_log: bool = Field(default=True, alias="KEYWARDEN_ACCESS_LOG")
    # Where the simulator keeps the private keys of simulated programming keys.
    simulator_state: Path | None = Field(default=None, alias="KEYWARDEN_SIMULATOR_STATE")

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'keywarden.db'}"

    @property
    def simulator_state_path(self) -> Path:
        return self.simulator_state or self.var_dir / "simulator.json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
