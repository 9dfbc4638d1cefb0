"""material sources: 免提交, data sharing, electronic licences

The platform export says which materials a citizen need not bring (免提交, and what replaces them),
which the department fetches through data sharing, and which an electronic licence stands for. The
walk-through and the checklist set them apart, so they are kept per material.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('materials') as batch:
        batch.add_column(sa.Column('exempt', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('exempt_by', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('data_shared', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('e_licence', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('materials') as batch:
        batch.drop_column('e_licence')
        batch.drop_column('data_shared')
        batch.drop_column('exempt_by')
        batch.drop_column('exempt')
