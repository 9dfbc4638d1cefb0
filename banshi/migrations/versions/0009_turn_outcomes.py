"""turn outcomes

What each bot turn did, as data (a guide presented, a clarification offered, not found, a handoff…),
stated by the dialogue and stored by the gateway against the citizen's message of the turn; the
dashboard and the unanswered-question capture read it instead of the bot's wording.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('turn_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('matter_id', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['chat_messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('turn_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_outcomes_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_turn_outcomes_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_turn_outcomes_matter_id'), ['matter_id'], unique=False)
        batch_op.create_index('ix_turn_outcomes_kind_conversation', ['kind', 'conversation_id'], unique=False)


def downgrade() -> None:
    op.drop_table('turn_outcomes')
