"""Row-level security for tenant tables (R1), for use by migrations on PostgreSQL.

Every migration that creates a table with a ``tenant_id`` calls
``enable_tenant_rls(table)`` for it (after checking the dialect is PostgreSQL),
so the application role sees and writes only the current tenant's rows.
"""

from __future__ import annotations

from alembic import op

APP_ROLE = "keywarden_app"
SETTING = "current_setting('app.tenant_id', true)"


def enable_tenant_rls(table: str, column: str = "tenant_id") -> None:
    """Enable RLS on ``table`` with the tenant policy, and grant the app role its rows."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {SETTING}) WITH CHECK ({column} = {SETTING})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    # The table's id sequence (and any other created since): the app role inserts rows.
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
