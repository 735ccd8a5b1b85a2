"""The right to administer domains, given to the built-in roles that hold it (R7, R8).

New tenants get "domains.write" in Superadmin and Admin from app.auth.rights; the
built-in roles of existing tenants are rows that nobody may edit, so they get it here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RIGHT = "domains.write"
HOLDERS = ("Superadmin", "Admin")

roles = sa.table(
    "roles",
    sa.column("id", sa.BigInteger()),
    sa.column("name", sa.String()),
    sa.column("builtin", sa.Boolean()),
    sa.column("rights", sa.JSON()),
)


def _change(give: bool) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(roles.c.id, roles.c.rights).where(
            roles.c.builtin.is_(True), roles.c.name.in_(HOLDERS)
        )
    ).all()
    for role_id, rights in rows:
        kept = [r for r in rights or [] if r != RIGHT]
        connection.execute(
            roles.update()
            .where(roles.c.id == role_id)
            .values(rights=[*kept, RIGHT] if give else kept)
        )


def upgrade() -> None:
    _change(give=True)


def downgrade() -> None:
    _change(give=False)
