"""hit tests and test sets

The 命中测试 history (every question an editor tested, with its top result and confidence), named
test sets of questions with their expected matters, and each run of a set with per-question results.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25 19:58:40.710112
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hit_test_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('hit_test_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('drafts', sa.Boolean(), nullable=False),
    sa.Column('previous_run_id', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('regressions', sa.Integer(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['hit_test_sets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hit_test_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hit_test_runs_set_id'), ['set_id'], unique=False)

    op.create_table('hit_tests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('drafts', sa.Boolean(), nullable=False),
    sa.Column('top_external_id', sa.String(length=100), nullable=True),
    sa.Column('top_name', sa.String(length=200), nullable=True),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('confident', sa.Boolean(), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['hit_test_runs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hit_tests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hit_tests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hit_tests_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hit_tests_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hit_tests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hit_tests_user_id'))
        batch_op.drop_index(batch_op.f('ix_hit_tests_run_id'))
        batch_op.drop_index(batch_op.f('ix_hit_tests_created_at'))

    op.drop_table('hit_tests')
    with op.batch_alter_table('hit_test_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hit_test_runs_set_id'))

    op.drop_table('hit_test_runs')
    op.drop_table('hit_test_sets')
