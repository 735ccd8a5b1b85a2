"""Running the Alembic migrations programmatically (``keywarden migrate``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.config import Settings, get_settings

HERE = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings | None = None) -> Config:
    settings = settings or get_settings()
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["url"] = settings.effective_database_url
    return cfg


@lru_cache(maxsize=1)
def migration_scripts() -> ScriptDirectory:
    """This version's migration scripts: the revisions it knows, and its head."""
    return ScriptDirectory(str(HERE))


def upgrade(settings: Settings | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision``; safe to run on every start."""
    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)
