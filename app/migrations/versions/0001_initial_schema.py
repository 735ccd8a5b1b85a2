"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('tenants',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hosting_mode', sa.Enum('HOSTED', 'PURCHASED', name='hostingmode', native_enum=False, length=32), nullable=False),
    sa.Column('data_center_connected', sa.Boolean(), nullable=False),
    sa.Column('approver_function', sa.Boolean(), nullable=False),
    sa.Column('flexible_extensions', sa.Boolean(), nullable=False),
    sa.Column('signing_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants'))
    )
    op.create_table('blocking_lists',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('key_uids', sa.JSON(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_blocking_lists_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocking_lists')),
    sa.UniqueConstraint('tenant_id', 'version', name=op.f('uq_blocking_lists_tenant_id_version'))
    )
    with op.batch_alter_table('blocking_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocking_lists_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('certificate_bundles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_certificate_bundles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_bundles')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_certificate_bundles_tenant_id_name'))
    )
    with op.batch_alter_table('certificate_bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_bundles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cylinder_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_cylinder_groups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cylinder_groups')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_cylinder_groups_tenant_id_name'))
    )
    with op.batch_alter_table('cylinder_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cylinder_groups_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('domains',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_domains_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domains')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_domains_tenant_id_name'))
    )
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domains_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('extensions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated', sa.Boolean(), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('new_keys', sa.Integer(), nullable=False),
    sa.Column('new_cylinders', sa.Integer(), nullable=False),
    sa.Column('clones', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_extensions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extensions')),
    sa.UniqueConstraint('tenant_id', 'file_id', name=op.f('uq_extensions_tenant_id_file_id'))
    )
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extensions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('key_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_key_groups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_groups')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_key_groups_tenant_id_name'))
    )
    with op.batch_alter_table('key_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_groups_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('roles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('rights', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_roles_tenant_id_name'))
    )
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('schedules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('windows', sa.JSON(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_schedules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_schedules_tenant_id_name'))
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedules_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('trusted_vendor_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_trusted_vendor_keys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_vendor_keys')),
    sa.UniqueConstraint('tenant_id', 'public_key', name=op.f('uq_trusted_vendor_keys_tenant_id_public_key'))
    )
    with op.batch_alter_table('trusted_vendor_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trusted_vendor_keys_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('access_profiles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('schedule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('extension_interval_hours', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_access_profiles_schedule_id_schedules')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_access_profiles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_profiles')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_access_profiles_tenant_id_name'))
    )
    with op.batch_alter_table('access_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_profiles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cylinders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('domain_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('marking', sa.String(length=64), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('NOT_ACTIVATED', 'ACTIVE', 'DEFECTIVE', name='cylinderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('security_relevant', sa.Boolean(), nullable=False),
    sa.Column('is_clone', sa.Boolean(), nullable=False),
    sa.Column('needs_reprogramming', sa.Boolean(), nullable=False),
    sa.Column('extension_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_cylinders_domain_id_domains')),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_cylinders_extension_id_extensions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_cylinders_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cylinders')),
    sa.UniqueConstraint('tenant_id', 'marking', name=op.f('uq_cylinders_tenant_id_marking')),
    sa.UniqueConstraint('tenant_id', 'uid', name=op.f('uq_cylinders_tenant_id_uid'))
    )
    with op.batch_alter_table('cylinders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cylinders_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cylinders_extension_id'), ['extension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cylinders_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('employees',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('domain_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employee_number', sa.String(length=64), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_employees_domain_id_domains')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_employees_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employees')),
    sa.UniqueConstraint('tenant_id', 'employee_number', name=op.f('uq_employees_tenant_id_employee_number'))
    )
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employees_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_employees_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('firmware',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('target', sa.Enum('KEY_GEN1', 'KEY_GEN2', 'REMOTE_DEVICE', 'REMOTE_BOOTLOADER', name='firmwaretarget', native_enum=False, length=32), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('source', sa.Enum('DATA_CENTER', 'MANUAL', name='firmwaresource', native_enum=False, length=32), nullable=False),
    sa.Column('certificate_bundle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['certificate_bundle_id'], ['certificate_bundles.id'], name=op.f('fk_firmware_certificate_bundle_id_certificate_bundles')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_firmware_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firmware')),
    sa.UniqueConstraint('tenant_id', 'target', 'version', 'certificate_bundle_id', name=op.f('uq_firmware_tenant_id_target_version_certificate_bundle_id'))
    )
    with op.batch_alter_table('firmware', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firmware_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('remote_devices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('domain_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('WALL', 'MOBILE', 'DESK', name='remotedevicekind', native_enum=False, length=32), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=True),
    sa.Column('firmware_version', sa.String(length=32), nullable=False),
    sa.Column('bootloader_version', sa.String(length=32), nullable=False),
    sa.Column('heartbeat_interval_seconds', sa.Integer(), nullable=False),
    sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('system_linked', sa.Boolean(), nullable=False),
    sa.Column('potential_free_output', sa.Boolean(), nullable=False),
    sa.Column('updater_gen1', sa.Boolean(), nullable=False),
    sa.Column('updater_gen2', sa.Boolean(), nullable=False),
    sa.Column('offline_max_updates', sa.Integer(), nullable=True),
    sa.Column('offline_max_hours_since_online', sa.Integer(), nullable=True),
    sa.Column('offline_blocking_list_validity_hours', sa.Integer(), nullable=True),
    sa.Column('offline_extension_hours', sa.Integer(), nullable=True),
    sa.Column('extension_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_remote_devices_domain_id_domains')),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_remote_devices_extension_id_extensions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_remote_devices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_devices')),
    sa.UniqueConstraint('tenant_id', 'serial', name=op.f('uq_remote_devices_tenant_id_serial'))
    )
    with op.batch_alter_table('remote_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_devices_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remote_devices_extension_id'), ['extension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remote_devices_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('access_profile_cylinders',
    sa.Column('access_profile_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['access_profile_id'], ['access_profiles.id'], name=op.f('fk_access_profile_cylinders_access_profile_id_access_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_access_profile_cylinders_cylinder_id_cylinders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_access_profile_cylinders_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('access_profile_id', 'cylinder_id', name=op.f('pk_access_profile_cylinders'))
    )
    with op.batch_alter_table('access_profile_cylinders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_profile_cylinders_cylinder_id'), ['cylinder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_profile_cylinders_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cylinder_group_members',
    sa.Column('cylinder_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['cylinder_group_id'], ['cylinder_groups.id'], name=op.f('fk_cylinder_group_members_cylinder_group_id_cylinder_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_cylinder_group_members_cylinder_id_cylinders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_cylinder_group_members_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cylinder_group_id', 'cylinder_id', name=op.f('pk_cylinder_group_members'))
    )
    with op.batch_alter_table('cylinder_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cylinder_group_members_cylinder_id'), ['cylinder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cylinder_group_members_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('employee_access_profiles',
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('access_profile_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['access_profile_id'], ['access_profiles.id'], name=op.f('fk_employee_access_profiles_access_profile_id_access_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_employee_access_profiles_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_employee_access_profiles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'access_profile_id', name=op.f('pk_employee_access_profiles'))
    )
    with op.batch_alter_table('employee_access_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_access_profiles_access_profile_id'), ['access_profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_employee_access_profiles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('firmware_deployments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('firmware_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['remote_devices.id'], name=op.f('fk_firmware_deployments_device_id_remote_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['firmware_id'], ['firmware.id'], name=op.f('fk_firmware_deployments_firmware_id_firmware'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_firmware_deployments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firmware_deployments')),
    sa.UniqueConstraint('tenant_id', 'device_id', 'firmware_id', name=op.f('uq_firmware_deployments_tenant_id_device_id_firmware_id'))
    )
    with op.batch_alter_table('firmware_deployments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firmware_deployments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('domain_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('marking', sa.String(length=64), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('type', sa.Enum('E1', 'E2', 'E3', name='keytype', native_enum=False, length=32), nullable=False),
    sa.Column('generation', sa.Enum('GEN1', 'GEN2', name='keygeneration', native_enum=False, length=32), nullable=False),
    sa.Column('firmware_version', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('NOT_ACTIVATED', 'IN_STOCK', 'ISSUED', 'LOST', 'DEFECTIVE', name='keystatus', native_enum=False, length=32), nullable=False),
    sa.Column('holder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('always_valid', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('schedule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('extension_interval_hours', sa.Integer(), nullable=True),
    sa.Column('audit_readout_enabled', sa.Boolean(), nullable=False),
    sa.Column('extension_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.CheckConstraint('always_valid OR valid_from IS NOT NULL OR valid_until IS NOT NULL', name=op.f('ck_keys_validity')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_keys_domain_id_domains')),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_keys_extension_id_extensions')),
    sa.ForeignKeyConstraint(['holder_id'], ['employees.id'], name=op.f('fk_keys_holder_id_employees')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_keys_schedule_id_schedules')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_keys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_keys')),
    sa.UniqueConstraint('tenant_id', 'marking', name=op.f('uq_keys_tenant_id_marking')),
    sa.UniqueConstraint('tenant_id', 'uid', name=op.f('uq_keys_tenant_id_uid'))
    )
    with op.batch_alter_table('keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keys_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_keys_extension_id'), ['extension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_keys_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_keys_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_keys_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_keys_tenant_status', ['tenant_id', 'status'], unique=False)

    op.create_table('programming_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('marking', sa.String(length=64), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('MAIN', 'SUBMASTER', 'SUB', name='programmingkeykind', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('NOT_ACTIVATED', 'ACTIVE', 'LOST', name='programmingkeystatus', native_enum=False, length=32), nullable=False),
    sa.Column('firmware_version', sa.String(length=32), nullable=False),
    sa.Column('holder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('puk_hash', sa.String(length=200), nullable=True),
    sa.Column('failed_pin_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extension_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extensions.id'], name=op.f('fk_programming_keys_extension_id_extensions')),
    sa.ForeignKeyConstraint(['holder_id'], ['employees.id'], name=op.f('fk_programming_keys_holder_id_employees')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_programming_keys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programming_keys')),
    sa.UniqueConstraint('tenant_id', 'marking', name=op.f('uq_programming_keys_tenant_id_marking')),
    sa.UniqueConstraint('tenant_id', 'uid', name=op.f('uq_programming_keys_tenant_id_uid'))
    )
    with op.batch_alter_table('programming_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programming_keys_extension_id'), ['extension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programming_keys_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programming_keys_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('access_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('key_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('desired', sa.Boolean(), nullable=False),
    sa.Column('programmed', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.CheckConstraint('(key_id IS NULL) <> (key_group_id IS NULL)', name=op.f('ck_access_entries_one_subject')),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_access_entries_cylinder_id_cylinders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_group_id'], ['key_groups.id'], name=op.f('fk_access_entries_key_group_id_key_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_access_entries_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_access_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_entries')),
    sa.UniqueConstraint('tenant_id', 'cylinder_id', 'key_id', 'key_group_id', name=op.f('uq_access_entries_tenant_id_cylinder_id_key_id_key_group_id'))
    )
    with op.batch_alter_table('access_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_entries_cylinder_id'), ['cylinder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_entries_key_group_id'), ['key_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_entries_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_entries_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('rights', sa.JSON(), nullable=False),
    sa.Column('domain_ids', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['programming_keys.id'], name=op.f('fk_api_tokens_created_by_id_programming_keys')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_api_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Enum('CYLINDER', 'KEY', name='auditsource', native_enum=False, length=32), nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('key_uid', sa.String(length=64), nullable=True),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('result', sa.Enum('GRANTED', 'DENIED_NOT_AUTHORIZED', 'DENIED_SCHEDULE', 'DENIED_EXPIRED', 'DENIED_BLOCKED', name='accessresult', native_enum=False, length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_audit_events_cylinder_id_cylinders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_audit_events_key_id_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_cylinder', ['tenant_id', 'cylinder_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_key', ['tenant_id', 'key_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('direct_authorizations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('key_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.CheckConstraint('(key_id IS NULL) <> (key_group_id IS NULL)', name=op.f('ck_direct_authorizations_one_subject')),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_direct_authorizations_cylinder_id_cylinders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_group_id'], ['key_groups.id'], name=op.f('fk_direct_authorizations_key_group_id_key_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_direct_authorizations_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_direct_authorizations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_direct_authorizations')),
    sa.UniqueConstraint('tenant_id', 'cylinder_id', 'key_id', 'key_group_id', name=op.f('uq_direct_authorizations_tenant_id_cylinder_id_key_id_key_group_id'))
    )
    with op.batch_alter_table('direct_authorizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_direct_authorizations_cylinder_id'), ['cylinder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_direct_authorizations_key_group_id'), ['key_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_direct_authorizations_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_direct_authorizations_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('key_access_profiles',
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('access_profile_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['access_profile_id'], ['access_profiles.id'], name=op.f('fk_key_access_profiles_access_profile_id_access_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_key_access_profiles_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_key_access_profiles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'access_profile_id', name=op.f('pk_key_access_profiles'))
    )
    with op.batch_alter_table('key_access_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_access_profiles_access_profile_id'), ['access_profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_access_profiles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('key_group_members',
    sa.Column('key_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['key_group_id'], ['key_groups.id'], name=op.f('fk_key_group_members_key_group_id_key_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_key_group_members_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_key_group_members_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_group_id', 'key_id', name=op.f('pk_key_group_members'))
    )
    with op.batch_alter_table('key_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_group_members_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_group_members_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('login_challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('programming_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['programming_key_id'], ['programming_keys.id'], name=op.f('fk_login_challenges_programming_key_id_programming_keys')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_login_challenges_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_challenges')),
    sa.UniqueConstraint('nonce', name=op.f('uq_login_challenges_nonce'))
    )
    with op.batch_alter_table('login_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_challenges_programming_key_id'), ['programming_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_challenges_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('login_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('programming_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['programming_key_id'], ['programming_keys.id'], name=op.f('fk_login_sessions_programming_key_id_programming_keys')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_login_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_login_sessions_secret_hash'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_login_sessions_key', ['programming_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_sessions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('programming_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'ASSIGNED', 'ON_KEY', 'DONE', 'FAILED', 'CANCELLED', name='programmingjobstatus', native_enum=False, length=32), nullable=False),
    sa.Column('full_reprogram', sa.Boolean(), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['programming_keys.id'], name=op.f('fk_programming_jobs_assignee_id_programming_keys')),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_programming_jobs_cylinder_id_cylinders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_programming_jobs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programming_jobs'))
    )
    with op.batch_alter_table('programming_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programming_jobs_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_programming_jobs_open', ['tenant_id', 'cylinder_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_programming_jobs_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('programming_key_domains',
    sa.Column('programming_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('domain_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_programming_key_domains_domain_id_domains'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programming_key_id'], ['programming_keys.id'], name=op.f('fk_programming_key_domains_programming_key_id_programming_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_programming_key_domains_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programming_key_id', 'domain_id', name=op.f('pk_programming_key_domains'))
    )
    with op.batch_alter_table('programming_key_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programming_key_domains_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('programming_key_roles',
    sa.Column('programming_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['programming_key_id'], ['programming_keys.id'], name=op.f('fk_programming_key_roles_programming_key_id_programming_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_programming_key_roles_role_id_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_programming_key_roles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programming_key_id', 'role_id', name=op.f('pk_programming_key_roles'))
    )
    with op.batch_alter_table('programming_key_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programming_key_roles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('readout_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cylinder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('AWAITING_APPROVAL', 'APPROVED', 'REJECTED', 'DONE', name='readoutstatus', native_enum=False, length=32), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.CheckConstraint('(key_id IS NULL) <> (cylinder_id IS NULL)', name=op.f('ck_readout_requests_one_target')),
    sa.ForeignKeyConstraint(['cylinder_id'], ['cylinders.id'], name=op.f('fk_readout_requests_cylinder_id_cylinders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['programming_keys.id'], name=op.f('fk_readout_requests_decided_by_id_programming_keys')),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_readout_requests_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['programming_keys.id'], name=op.f('fk_readout_requests_requested_by_id_programming_keys')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_readout_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readout_requests'))
    )
    with op.batch_alter_table('readout_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readout_requests_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('remote_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('VALIDITY', 'SCHEDULE', 'AUTHORIZATIONS', 'FIRMWARE', 'BLOCK', 'AUDIT_READOUT', name='remotejobkind', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'DELIVERED', 'DONE', 'FAILED', 'CANCELLED', name='remotejobstatus', native_enum=False, length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('delivered_via_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['delivered_via_id'], ['remote_devices.id'], name=op.f('fk_remote_jobs_delivered_via_id_remote_devices')),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_remote_jobs_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_remote_jobs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_jobs'))
    )
    with op.batch_alter_table('remote_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_remote_jobs_open', ['tenant_id', 'key_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_remote_jobs_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('programming_job_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('op', sa.Enum('ADD', 'REMOVE', name='accesschangeop', native_enum=False, length=32), nullable=False),
    sa.Column('key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('key_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.CheckConstraint('(key_id IS NULL) <> (key_group_id IS NULL)', name=op.f('ck_programming_job_changes_one_subject')),
    sa.ForeignKeyConstraint(['job_id'], ['programming_jobs.id'], name=op.f('fk_programming_job_changes_job_id_programming_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_group_id'], ['key_groups.id'], name=op.f('fk_programming_job_changes_key_group_id_key_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_id'], ['keys.id'], name=op.f('fk_programming_job_changes_key_id_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_programming_job_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programming_job_changes'))
    )
    with op.batch_alter_table('programming_job_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programming_job_changes_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programming_job_changes_tenant_id'), ['tenant_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('programming_job_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programming_job_changes_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_programming_job_changes_job_id'))

    op.drop_table('programming_job_changes')
    with op.batch_alter_table('remote_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_jobs_tenant_id'))
        batch_op.drop_index('ix_remote_jobs_open')

    op.drop_table('remote_jobs')
    with op.batch_alter_table('readout_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_readout_requests_tenant_id'))

    op.drop_table('readout_requests')
    with op.batch_alter_table('programming_key_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programming_key_roles_tenant_id'))

    op.drop_table('programming_key_roles')
    with op.batch_alter_table('programming_key_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programming_key_domains_tenant_id'))

    op.drop_table('programming_key_domains')
    with op.batch_alter_table('programming_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programming_jobs_tenant_id'))
        batch_op.drop_index('ix_programming_jobs_open')
        batch_op.drop_index(batch_op.f('ix_programming_jobs_assignee_id'))

    op.drop_table('programming_jobs')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_tenant_id'))
        batch_op.drop_index('ix_login_sessions_key')

    op.drop_table('login_sessions')
    with op.batch_alter_table('login_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_challenges_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_login_challenges_programming_key_id'))

    op.drop_table('login_challenges')
    with op.batch_alter_table('key_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_group_members_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_key_group_members_key_id'))

    op.drop_table('key_group_members')
    with op.batch_alter_table('key_access_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_access_profiles_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_key_access_profiles_access_profile_id'))

    op.drop_table('key_access_profiles')
    with op.batch_alter_table('direct_authorizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_direct_authorizations_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_direct_authorizations_key_id'))
        batch_op.drop_index(batch_op.f('ix_direct_authorizations_key_group_id'))
        batch_op.drop_index(batch_op.f('ix_direct_authorizations_cylinder_id'))

    op.drop_table('direct_authorizations')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_tenant_id'))
        batch_op.drop_index('ix_audit_events_key')
        batch_op.drop_index('ix_audit_events_cylinder')

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_tenant_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('access_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_entries_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_access_entries_key_id'))
        batch_op.drop_index(batch_op.f('ix_access_entries_key_group_id'))
        batch_op.drop_index(batch_op.f('ix_access_entries_cylinder_id'))

    op.drop_table('access_entries')
    with op.batch_alter_table('programming_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programming_keys_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_programming_keys_holder_id'))
        batch_op.drop_index(batch_op.f('ix_programming_keys_extension_id'))

    op.drop_table('programming_keys')
    with op.batch_alter_table('keys', schema=None) as batch_op:
        batch_op.drop_index('ix_keys_tenant_status')
        batch_op.drop_index(batch_op.f('ix_keys_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_keys_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_keys_holder_id'))
        batch_op.drop_index(batch_op.f('ix_keys_extension_id'))
        batch_op.drop_index(batch_op.f('ix_keys_domain_id'))

    op.drop_table('keys')
    with op.batch_alter_table('firmware_deployments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firmware_deployments_tenant_id'))

    op.drop_table('firmware_deployments')
    with op.batch_alter_table('employee_access_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_access_profiles_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_employee_access_profiles_access_profile_id'))

    op.drop_table('employee_access_profiles')
    with op.batch_alter_table('cylinder_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cylinder_group_members_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_cylinder_group_members_cylinder_id'))

    op.drop_table('cylinder_group_members')
    with op.batch_alter_table('access_profile_cylinders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_profile_cylinders_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_access_profile_cylinders_cylinder_id'))

    op.drop_table('access_profile_cylinders')
    with op.batch_alter_table('remote_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_devices_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_remote_devices_extension_id'))
        batch_op.drop_index(batch_op.f('ix_remote_devices_domain_id'))

    op.drop_table('remote_devices')
    with op.batch_alter_table('firmware', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firmware_tenant_id'))

    op.drop_table('firmware')
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employees_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_employees_domain_id'))

    op.drop_table('employees')
    with op.batch_alter_table('cylinders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cylinders_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_cylinders_extension_id'))
        batch_op.drop_index(batch_op.f('ix_cylinders_domain_id'))

    op.drop_table('cylinders')
    with op.batch_alter_table('access_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_profiles_tenant_id'))

    op.drop_table('access_profiles')
    with op.batch_alter_table('trusted_vendor_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trusted_vendor_keys_tenant_id'))

    op.drop_table('trusted_vendor_keys')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedules_tenant_id'))

    op.drop_table('schedules')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roles_tenant_id'))

    op.drop_table('roles')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_tenant_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('key_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_groups_tenant_id'))

    op.drop_table('key_groups')
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extensions_tenant_id'))

    op.drop_table('extensions')
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domains_tenant_id'))

    op.drop_table('domains')
    with op.batch_alter_table('cylinder_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cylinder_groups_tenant_id'))

    op.drop_table('cylinder_groups')
    with op.batch_alter_table('certificate_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_bundles_tenant_id'))

    op.drop_table('certificate_bundles')
    with op.batch_alter_table('blocking_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocking_lists_tenant_id'))

    op.drop_table('blocking_lists')
    op.drop_table('tenants')
    
