"""wechat followers and inbound messages

The WeChat channel's state: each follower's (openid's) conversation and the last message they were
sent, and every message WeChat delivered by its MsgId (or, for events, openid + CreateTime), so a
retry on any replica, before or after a restart, starts no second turn and files no second ticket.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wechat_followers',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('delivered_id', sa.Integer(), nullable=False),
    sa.Column('turn_started_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('openid')
    )
    op.create_table('wechat_inbound',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_inbound_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_inbound_received_at'))
    op.drop_table('wechat_inbound')
    op.drop_table('wechat_followers')
