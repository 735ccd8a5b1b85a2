"""Why a wall or mobile device last refused a programming key's jobs (R17), for the admin.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programming_keys") as batch:
        batch.add_column(sa.Column("remote_refusal", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programming_keys") as batch:
        batch.drop_column("remote_refusal")
