"""One access-list row and one direct authorization per cylinder and key (or key group) (R11, R15).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("direct_authorizations", "access_entries")


def upgrade() -> None:
    for table in TABLES:
        for subject in ("key_id", "key_group_id"):
            suffix = "key" if subject == "key_id" else "group"
            where = sa.text(f"{subject} IS NOT NULL")
            op.create_index(
                f"uq_{table}_{suffix}", table, ["tenant_id", "cylinder_id", subject], unique=True,
                sqlite_where=where, postgresql_where=where,
            )


def downgrade() -> None:
    for table in TABLES:
        for suffix in ("key", "group"):
            op.drop_index(f"uq_{table}_{suffix}", table_name=table)
