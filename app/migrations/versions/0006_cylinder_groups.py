"""Cylinder groups (R13): memberships in access lists and job changes, key authorizations.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import enable_tenant_rls

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OF_THREE = (
    "(CASE WHEN key_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN key_group_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN cylinder_group_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        "cylinder_group_authorizations",
        sa.Column("key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "cylinder_group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["cylinder_group_id"], ["cylinder_groups.id"], ondelete="CASCADE",
            name=op.f("fk_cylinder_group_authorizations_cylinder_group_id_cylinder_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["keys.id"], ondelete="CASCADE",
            name=op.f("fk_cylinder_group_authorizations_key_id_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE",
            name=op.f("fk_cylinder_group_authorizations_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint(
            "key_id", "cylinder_group_id", name=op.f("pk_cylinder_group_authorizations")
        ),
    )
    op.create_index(
        op.f("ix_cylinder_group_authorizations_cylinder_group_id"),
        "cylinder_group_authorizations", ["cylinder_group_id"],
    )
    op.create_index(
        op.f("ix_cylinder_group_authorizations_tenant_id"),
        "cylinder_group_authorizations", ["tenant_id"],
    )
    for table in ("access_entries", "programming_job_changes"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "cylinder_group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                    nullable=True,
                )
            )
            batch.create_foreign_key(
                op.f(f"fk_{table}_cylinder_group_id_cylinder_groups"), "cylinder_groups",
                ["cylinder_group_id"], ["id"], ondelete="CASCADE",
            )
            batch.drop_constraint(op.f(f"ck_{table}_one_subject"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_one_subject"), ONE_OF_THREE)
    op.create_index(
        op.f("ix_access_entries_cylinder_group_id"), "access_entries", ["cylinder_group_id"]
    )
    where = sa.text("cylinder_group_id IS NOT NULL")
    op.create_index(
        "uq_access_entries_cylinder_group", "access_entries",
        ["tenant_id", "cylinder_id", "cylinder_group_id"], unique=True,
        sqlite_where=where, postgresql_where=where,
    )
    if op.get_bind().dialect.name == "postgresql":
        enable_tenant_rls("cylinder_group_authorizations")


def downgrade() -> None:
    op.drop_index("uq_access_entries_cylinder_group", table_name="access_entries")
    op.drop_index(op.f("ix_access_entries_cylinder_group_id"), table_name="access_entries")
    for table in ("access_entries", "programming_job_changes"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_one_subject"), type_="check")
            batch.create_check_constraint(
                op.f(f"ck_{table}_one_subject"), "(key_id IS NULL) <> (key_group_id IS NULL)"
            )
            batch.drop_constraint(
                op.f(f"fk_{table}_cylinder_group_id_cylinder_groups"), type_="foreignkey"
            )
            batch.drop_column("cylinder_group_id")
    op.drop_table("cylinder_group_authorizations")
