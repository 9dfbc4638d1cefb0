"""desk assignment: agents' status and skills, and the handoff's skill and answer clock

The desk assigns waiting conversations and new tickets to online agents by skill and capacity
(``hotline.assignment``); ``agent_desk`` keeps each agent's status, skills and round-robin turn, and
a handoff keeps its category, when the desk gave it away, and how often it came back unanswered.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 20:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


# Plain added columns, not a batch rebuild (see 0014): nothing that points at handoffs is touched.
def upgrade() -> None:
    op.create_table(
        'agent_desk',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), primary_key=True),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('away_reason', sa.String(length=20), nullable=True),
        sa.Column('skills', sa.JSON(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('last_assigned_at', sa.DateTime(), nullable=True),
    )
    op.add_column('handoffs', sa.Column('category', sa.String(length=50), nullable=True))
    op.add_column('handoffs', sa.Column('assigned_at', sa.DateTime(), nullable=True))
    op.add_column('handoffs', sa.Column('returned_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('handoffs', sa.Column('returned_from', sa.Integer(), nullable=True))
    op.add_column('handoffs', sa.Column('returned_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoffs') as batch:
        for column in ('returned_at', 'returned_from', 'returned_count', 'assigned_at', 'category'):
            batch.drop_column(column)
    op.drop_table('agent_desk')
