"""Wrong PUKs are counted and lock the PUK like wrong PINs lock the PIN (R5, R6).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programming_keys") as batch:
        batch.add_column(
            sa.Column("failed_puk_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("puk_locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programming_keys") as batch:
        batch.drop_column("puk_locked_until")
        batch.drop_column("failed_puk_attempts")
