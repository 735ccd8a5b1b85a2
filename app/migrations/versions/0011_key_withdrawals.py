"""Lost keys deprogrammed from some cylinders only (R19; FAQ: security-relevant areas).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import enable_tenant_rls

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "key_withdrawals",
        sa.Column("key_id", ID, nullable=False),
        sa.Column("cylinder_id", ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["keys.id"], ondelete="CASCADE",
            name=op.f("fk_key_withdrawals_key_id_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["cylinder_id"], ["cylinders.id"], ondelete="CASCADE",
            name=op.f("fk_key_withdrawals_cylinder_id_cylinders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE",
            name=op.f("fk_key_withdrawals_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("key_id", "cylinder_id", name=op.f("pk_key_withdrawals")),
    )
    op.create_index(op.f("ix_key_withdrawals_cylinder_id"), "key_withdrawals", ["cylinder_id"])
    op.create_index(op.f("ix_key_withdrawals_tenant_id"), "key_withdrawals", ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        enable_tenant_rls("key_withdrawals")


def downgrade() -> None:
    op.drop_table("key_withdrawals")
