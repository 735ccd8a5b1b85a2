"""How far a bridge has got with a long command (a key's firmware at the desk).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bridge_commands") as batch:
        batch.add_column(sa.Column("progress_done", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("progress_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bridge_commands") as batch:
        batch.drop_column("progress_total")
        batch.drop_column("progress_done")
