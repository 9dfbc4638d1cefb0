"""versions, publishing and the audit log

``matters.published_version`` names the version citizens see; a newer ``matter_versions`` row is a
draft. Existing published (and deleted) matters are taken as live at their current version, and that
version row gets ``published_at`` = its creation time. ``audit_log`` records every catalogue change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:57:38.390700
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_target'), ['target'], unique=False)

    with op.batch_alter_table('matter_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_matter_versions_matter_version', ['matter_id', 'version'], unique=True)

    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_version', sa.Integer(), nullable=True))

    op.execute("UPDATE matters SET published_version = version WHERE status IN ('published', 'deleted')")
    op.execute(
        "UPDATE matter_versions SET published_at = created_at WHERE EXISTS (SELECT 1 FROM matters m "
        "WHERE m.id = matter_versions.matter_id AND m.published_version = matter_versions.version)"
    )


def downgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_column('published_version')

    with op.batch_alter_table('matter_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_matter_versions_matter_version')
        batch_op.drop_column('published_at')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_target'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
