"""conversation slots kept only on the handoff

A handoff stored the dialogue's slots twice, on ``handoffs.slots`` and on ``conversations.slots``, and
readers merged the two back. The handoff's copy (taken when the citizen asked for a person) is the
one kept; the conversation's column goes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('slots')


def downgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('slots', sa.JSON(), nullable=False, server_default='{}'))
