"""Periodic leases: periodic work once per deployment without Redis (issue 13 items 4, 5).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_leases",
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("actor_name", name=op.f("pk_periodic_leases")),
    )


def downgrade() -> None:
    op.drop_table("periodic_leases")
