"""Device trace logs uploaded from a USB stick (R27).

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import enable_tenant_rls

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "device_trace_logs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["remote_devices.id"], ondelete="CASCADE",
            name=op.f("fk_device_trace_logs_device_id_remote_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE",
            name=op.f("fk_device_trace_logs_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_trace_logs")),
        sa.UniqueConstraint(
            "tenant_id", "device_id", "request_id",
            name=op.f("uq_device_trace_logs_tenant_id_device_id_request_id"),
        ),
    )
    op.create_index(op.f("ix_device_trace_logs_device_id"), "device_trace_logs", ["device_id"])
    op.create_index(op.f("ix_device_trace_logs_tenant_id"), "device_trace_logs", ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        enable_tenant_rls("device_trace_logs")


def downgrade() -> None:
    op.drop_table("device_trace_logs")
