"""Remote devices: request nonces (replay protection) and key revalidations (R14, R23, R24).

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import APP_ROLE, enable_tenant_rls

revision: str = "0005"
down_revision: str | None = "0006"  # after 0006 (cylinder groups), which landed first
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "device_nonces",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["remote_devices.id"],
            name=op.f("fk_device_nonces_device_id_remote_devices"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"],
            name=op.f("fk_device_nonces_tenant_id_tenants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_nonces")),
        sa.UniqueConstraint(
            "tenant_id", "device_id", "nonce",
            name=op.f("uq_device_nonces_tenant_id_device_id_nonce"),
        ),
    )
    with op.batch_alter_table("device_nonces") as batch:
        batch.create_index("ix_device_nonces_expiry", ["tenant_id", "expires_at"], unique=False)
        batch.create_index(batch.f("ix_device_nonces_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "key_revalidations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key_id", ID, nullable=True),
        sa.Column("key_uid", sa.String(length=64), nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["remote_devices.id"],
            name=op.f("fk_key_revalidations_device_id_remote_devices"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["keys.id"],
            name=op.f("fk_key_revalidations_key_id_keys"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"],
            name=op.f("fk_key_revalidations_tenant_id_tenants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_revalidations")),
        sa.UniqueConstraint(
            "tenant_id", "device_id", "key_uid", "at",
            name=op.f("uq_key_revalidations_tenant_id_device_id_key_uid_at"),
        ),
    )
    with op.batch_alter_table("key_revalidations") as batch:
        batch.create_index(
            "ix_key_revalidations_key", ["tenant_id", "key_id", "at"], unique=False
        )
        batch.create_index(batch.f("ix_key_revalidations_tenant_id"), ["tenant_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in ("device_nonces", "key_revalidations"):
            enable_tenant_rls(table)
            op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {APP_ROLE}")


def downgrade() -> None:
    with op.batch_alter_table("key_revalidations") as batch:
        batch.drop_index(batch.f("ix_key_revalidations_tenant_id"))
        batch.drop_index("ix_key_revalidations_key")
    op.drop_table("key_revalidations")
    with op.batch_alter_table("device_nonces") as batch:
        batch.drop_index(batch.f("ix_device_nonces_tenant_id"))
        batch.drop_index("ix_device_nonces_expiry")
    op.drop_table("device_nonces")
