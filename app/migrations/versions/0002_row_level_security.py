"""Row-level security and the application role (R1).

On PostgreSQL the API connects as ``keywarden_app``, which owns no table and is
no superuser, so the policies below apply to everything it runs, raw SQL
included: a row is visible and writable only while ``app.tenant_id`` (set per
transaction) names its tenant. The owner (migrations, system work) bypasses them.
On SQLite this migration does nothing: isolation there is the application's.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from collections.abc import Sequence

from alembic import op

from app.migrations.rls import APP_ROLE, enable_tenant_rls

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



# The tables of revision 0001, frozen: a later migration that adds a tenant table
# enables RLS on it itself (app.migrations.rls.enable_tenant_rls).
TENANT_TABLES = (
    "blocking_lists", "certificate_bundles", "cylinder_groups", "domains", "extensions",
    "key_groups", "outbox", "roles", "schedules", "trusted_vendor_keys", "access_profiles",
    "cylinders", "employees", "firmware", "remote_devices", "access_profile_cylinders",
    "cylinder_group_members", "employee_access_profiles", "firmware_deployments", "keys",
    "programming_keys", "access_entries", "api_tokens", "audit_events", "direct_authorizations",
    "key_access_profiles", "key_group_members", "login_challenges", "login_sessions",
    "programming_jobs", "programming_key_domains", "programming_key_roles", "readout_requests",
    "remote_jobs", "programming_job_changes",
)


def _tenant_tables() -> list[tuple[str, str]]:
    return [("tenants", "id")] + [(table, "tenant_id") for table in TENANT_TABLES]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
          END IF;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    for table, column in _tenant_tables():
        enable_tenant_rls(table, column)
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _ in _tenant_tables():
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
