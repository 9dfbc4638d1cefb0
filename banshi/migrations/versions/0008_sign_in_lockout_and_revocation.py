"""sign-in lockout and session revocation

``failed_logins`` / ``locked_until`` stop password guessing against a staff account;
``session_version`` is carried in every session token, so signing out ends the session for good
(a copied token stops working) rather than only dropping the browser's cookie.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 01:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
        batch.drop_column('locked_until')
        batch.drop_column('failed_logins')
