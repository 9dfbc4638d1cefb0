"""faqs, unanswered questions and out-of-scope questions

FAQ entries (searched as part of the matter they cite), the citizen questions the assistant did not
answer well (masked, with the reason), and the questions editors ruled outside the catalogue.

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-25 19:57:52.185964
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faqs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('matter_external_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faqs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faqs_matter_external_id'), ['matter_external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faqs_status'), ['status'], unique=False)

    op.create_table('out_of_scope_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=1000), nullable=False),
    sa.Column('normalized', sa.String(length=1000), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('out_of_scope_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_out_of_scope_questions_normalized'), ['normalized'], unique=False)

    op.create_table('unanswered_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=1000), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('target', sa.String(length=100), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unanswered_questions_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unanswered_questions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_unanswered_questions_reason'), ['reason'], unique=False)
        batch_op.create_index(batch_op.f('ix_unanswered_questions_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unanswered_questions_status'))
        batch_op.drop_index(batch_op.f('ix_unanswered_questions_reason'))
        batch_op.drop_index(batch_op.f('ix_unanswered_questions_created_at'))
        batch_op.drop_index(batch_op.f('ix_unanswered_questions_conversation_id'))

    op.drop_table('unanswered_questions')
    with op.batch_alter_table('out_of_scope_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_out_of_scope_questions_normalized'))

    op.drop_table('out_of_scope_questions')
    with op.batch_alter_table('faqs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faqs_status'))
        batch_op.drop_index(batch_op.f('ix_faqs_matter_external_id'))

    op.drop_table('faqs')
