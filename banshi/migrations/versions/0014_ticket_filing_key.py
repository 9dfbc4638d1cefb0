"""ticket filing key: one ticket per confirmation, however often it is repeated

Killing Rasa or the gateway while 确认提交 was in flight filed the ticket twice: the action filed it,
Rasa never stored the turn, the citizen pressed 确认提交 again. The key is derived from the
conversation and what was confirmed (``hotline.tickets.filing_key``) and is unique.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 18:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


# A plain column and a unique index, not a batch rebuild: on SQLite a rebuild drops the old tickets
# table, and its ticket events would go with it (ON DELETE CASCADE).
def upgrade() -> None:
    op.add_column('tickets', sa.Column('filing_key', sa.String(length=64), nullable=True))
    op.create_index('ix_tickets_filing_key', 'tickets', ['filing_key'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_tickets_filing_key', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('filing_key')
