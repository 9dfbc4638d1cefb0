"""bundles (一件事): a matter that is a life event, its matters in order and an editor's note

A bundle is a matter of its own (versioned, published, indexed like any other) whose ``bundle``
column lists the external ids of the matters it gathers, in the order to do them. Plain
``ADD COLUMN`` (no batch rebuild): rebuilding ``matters`` on SQLite would cascade-delete its materials
and versions.

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30 20:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('matters', sa.Column('bundle', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('matters', sa.Column('bundle_note', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('matters', 'bundle_note')
    op.drop_column('matters', 'bundle')
