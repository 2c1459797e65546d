"""attention bots: the questions they could not answer, counted

Revision ID: 0024
Revises: 0015
Create Date: 2026-12-05 16:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bot_unanswered_questions',
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['attention_bots.id'], name=op.f('fk_bot_unanswered_questions_bot_id_attention_bots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_unanswered_questions')),
    sa.UniqueConstraint('bot_id', 'key', name=op.f('uq_bot_unanswered_questions_bot_id_key'))
    )
    op.create_index(op.f('ix_bot_unanswered_questions_bot_id'), 'bot_unanswered_questions', ['bot_id'], unique=False)
    op.create_index(op.f('ix_bot_unanswered_questions_last_seen_at'), 'bot_unanswered_questions', ['last_seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_bot_unanswered_questions_last_seen_at'), table_name='bot_unanswered_questions')
    op.drop_index(op.f('ix_bot_unanswered_questions_bot_id'), table_name='bot_unanswered_questions')
    op.drop_table('bot_unanswered_questions')
