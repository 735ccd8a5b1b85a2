"""One-time sign-in links for the web manager (issue 11: development and self-hosters).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import enable_tenant_rls

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sign_in_links",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("programming_key_id", ID, nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["programming_key_id"], ["programming_keys.id"],
            name=op.f("fk_sign_in_links_programming_key_id_programming_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE",
            name=op.f("fk_sign_in_links_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_links")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_sign_in_links_secret_hash")),
    )
    op.create_index(
        op.f("ix_sign_in_links_programming_key_id"), "sign_in_links", ["programming_key_id"]
    )
    op.create_index(op.f("ix_sign_in_links_tenant_id"), "sign_in_links", ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        enable_tenant_rls("sign_in_links")


def downgrade() -> None:
    op.drop_table("sign_in_links")
