"""label corrections: an agent's type or category correction is kept as a labelled example

``banshi hotline train`` adds these to the shared training messages, so a city's own agents improve
its model. Written in the same transaction as the correction (``hotline.corrections``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 20:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'label_examples',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('type', sa.String(length=8), nullable=True),
        sa.Column('category', sa.String(length=50), nullable=True),
        sa.Column('predicted', sa.String(length=50), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_label_examples_ticket_id', 'label_examples', ['ticket_id'])
    op.create_index('ix_label_examples_at', 'label_examples', ['at'])


def downgrade() -> None:
    op.drop_index('ix_label_examples_at', table_name='label_examples')
    op.drop_index('ix_label_examples_ticket_id', table_name='label_examples')
    op.drop_table('label_examples')
