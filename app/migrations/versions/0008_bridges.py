"""Site bridges: enrolment, commands, logins through a bridge, connection nonces (R5, R22).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import enable_tenant_rls

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("bridges", "bridge_commands", "bridge_logins", "bridge_nonces")


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE",
            name=op.f(f"fk_{table}_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "bridges",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("domain_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("enrolment_code_hash", sa.String(length=64), nullable=True),
        sa.Column("enrolment_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("online_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connection_id", sa.String(length=32), nullable=True),
        sa.Column("agent_version", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domains.id"], name=op.f("fk_bridges_domain_id_domains")
        ),
        *_tenant("bridges"),
    )
    op.create_index(op.f("ix_bridges_domain_id"), "bridges", ["domain_id"])
    op.create_index(op.f("ix_bridges_tenant_id"), "bridges", ["tenant_id"])
    op.create_index(
        "ix_bridges_enrolment_code", "bridges", ["tenant_id", "enrolment_code_hash"]
    )

    op.create_table(
        "bridge_commands",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("bridge_id", ID, nullable=False),
        sa.Column("domain_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_by_key_id", ID, nullable=True),
        sa.Column("created_by_token_id", ID, nullable=True),
        sa.Column("scope_domain_ids", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bridge_id"], ["bridges.id"], ondelete="CASCADE",
            name=op.f("fk_bridge_commands_bridge_id_bridges"),
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domains.id"], name=op.f("fk_bridge_commands_domain_id_domains")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"], ["programming_keys.id"],
            name=op.f("fk_bridge_commands_created_by_key_id_programming_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_token_id"], ["api_tokens.id"],
            name=op.f("fk_bridge_commands_created_by_token_id_api_tokens"),
        ),
        *_tenant("bridge_commands"),
    )
    op.create_index(op.f("ix_bridge_commands_domain_id"), "bridge_commands", ["domain_id"])
    op.create_index(op.f("ix_bridge_commands_tenant_id"), "bridge_commands", ["tenant_id"])
    op.create_index(
        "ix_bridge_commands_open", "bridge_commands", ["tenant_id", "bridge_id", "status"]
    )

    op.create_table(
        "bridge_logins",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("bridge_id", ID, nullable=False),
        sa.Column("command_id", ID, nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("programming_key_id", ID, nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bridge_id"], ["bridges.id"], ondelete="CASCADE",
            name=op.f("fk_bridge_logins_bridge_id_bridges"),
        ),
        sa.ForeignKeyConstraint(
            ["command_id"], ["bridge_commands.id"], ondelete="SET NULL",
            name=op.f("fk_bridge_logins_command_id_bridge_commands"),
        ),
        sa.ForeignKeyConstraint(
            ["programming_key_id"], ["programming_keys.id"],
            name=op.f("fk_bridge_logins_programming_key_id_programming_keys"),
        ),
        sa.UniqueConstraint("nonce", name=op.f("uq_bridge_logins_nonce")),
        *_tenant("bridge_logins"),
    )
    op.create_index(op.f("ix_bridge_logins_bridge_id"), "bridge_logins", ["bridge_id"])
    op.create_index(op.f("ix_bridge_logins_tenant_id"), "bridge_logins", ["tenant_id"])

    op.create_table(
        "bridge_nonces",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("bridge_id", ID, nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bridge_id"], ["bridges.id"], ondelete="CASCADE",
            name=op.f("fk_bridge_nonces_bridge_id_bridges"),
        ),
        sa.UniqueConstraint(
            "tenant_id", "bridge_id", "nonce",
            name=op.f("uq_bridge_nonces_tenant_id_bridge_id_nonce"),
        ),
        *_tenant("bridge_nonces"),
    )
    op.create_index(op.f("ix_bridge_nonces_tenant_id"), "bridge_nonces", ["tenant_id"])
    op.create_index("ix_bridge_nonces_expiry", "bridge_nonces", ["tenant_id", "expires_at"])

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
