"""sign-in failures by client address

Each failed staff sign-in is kept with the address it came from (``channels.sign_in_throttle``), so
throttling is per address and per (address, account): one outside address can no longer lock an
agent's account. ``users.failed_logins`` / ``users.locked_until`` (0008) are no longer read or written;
they are left in place (dropping them would rebuild ``users`` under SQLite's foreign keys).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failures_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failures_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failures_at'), ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('sign_in_failures')
