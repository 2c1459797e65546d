"""attention bots

Revision ID: 0014
Revises: 0006
Create Date: 2026-12-05 11:47:56.002681
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attention_bots',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('welcome_message', sa.Text(), nullable=False),
    sa.Column('fallback_message', sa.Text(), nullable=False),
    sa.Column('handoff_message', sa.Text(), nullable=False),
    sa.Column('menu', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_attention_bots_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attention_bots')),
    sa.UniqueConstraint('client_id', 'name', name=op.f('uq_attention_bots_client_id_name'))
    )
    with op.batch_alter_table('attention_bots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attention_bots_client_id'), ['client_id'], unique=False)

    op.create_table('knowledge_entries',
    sa.Column('bot_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('phrasings', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('buttons', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['attention_bots.id'], name=op.f('fk_knowledge_entries_bot_id_attention_bots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_entries'))
    )
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_entries_bot_id'), ['bot_id'], unique=False)

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attention_bot_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('bot_handoff_keywords', sa.JSON(), nullable=False,
                                      server_default='["asesor", "agente", "humano", "persona"]'))
        batch_op.add_column(sa.Column('bot_max_misunderstandings', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('bot_answers_out_of_hours', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('bot_resolved_typification_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_campaigns_attention_bot_id_attention_bots'), 'attention_bots', ['attention_bot_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_campaigns_bot_resolved_typification_id_typifications'), 'typifications', ['bot_resolved_typification_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot_state', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('bot_handoff_reason', sa.Enum('keyword', 'menu', 'misunderstood', 'out_of_hours', 'bot_unavailable', name='bothandoffreason', native_enum=False, length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('bot_handoff_reason')
        batch_op.drop_column('bot_state')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaigns_bot_resolved_typification_id_typifications'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_campaigns_attention_bot_id_attention_bots'), type_='foreignkey')
        batch_op.drop_column('bot_resolved_typification_id')
        batch_op.drop_column('bot_answers_out_of_hours')
        batch_op.drop_column('bot_max_misunderstandings')
        batch_op.drop_column('bot_handoff_keywords')
        batch_op.drop_column('attention_bot_id')

    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_entries_bot_id'))

    op.drop_table('knowledge_entries')
    with op.batch_alter_table('attention_bots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attention_bots_client_id'))

    op.drop_table('attention_bots')
