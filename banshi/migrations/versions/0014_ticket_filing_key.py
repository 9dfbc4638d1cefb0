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


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('filing_key', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_tickets_filing_key', ['filing_key'])


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_constraint('uq_tickets_filing_key', type_='unique')
        batch.drop_column('filing_key')
