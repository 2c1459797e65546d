"""reports: rollups (a fact row per conversation and per assignment) and the dirty list

Revision ID: 0044_rollups
Revises: 0027
Create Date: 2026-12-07 02:00:00

The tables start empty: ``atiende reports rebuild`` fills them (the backfill); from then on the
worker keeps them fresh.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0044_rollups'
down_revision: str | None = '0042_badinput'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    status = sa.Enum('queued', 'assigned', 'survey', 'bot', 'closed', name='conversationstatus', native_enum=False,
                     length=32)
    reason = sa.Enum('agent', 'supervisor', 'inactivity', 'out_of_hours', 'bot', name='closereason',
                     native_enum=False, length=32)
    op.create_table('report_conversation_facts',
    sa.Column('conversation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('status', status, nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('opened_slot', sa.Integer(), nullable=False),
    sa.Column('typification_id', sa.Integer(), nullable=True),
    sa.Column('funnel_stage_id', sa.Integer(), nullable=True),
    sa.Column('close_reason', reason, nullable=True),
    sa.Column('last_agent_id', sa.Integer(), nullable=True),
    sa.Column('first_reply_by', sa.Integer(), nullable=True),
    *[sa.Column(name, sa.Boolean(), nullable=False) for name in (
        'answered', 'closed', 'offered', 'abandoned', 'surveyed', 'responded', 'bot_started', 'bot_resolved',
        'bot_handoff')],
    *[sa.Column(name, sa.Integer(), nullable=False) for name in (
        'transfers', 'rating_sum', 'rating_count', 'satisfied_count')],
    *[sa.Column(name, sa.Float(), nullable=True) for name in (
        'queue_wait_s', 'queue_wait_bs', 'first_response_s', 'first_response_bs', 'resolution_s', 'resolution_bs')],
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_report_conversation_facts_client_id_clients'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_report_conversation_facts_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_report_conversation_facts'))
    )
    op.create_index('ix_report_conversation_facts_client_opened', 'report_conversation_facts',
                    ['client_id', 'opened_at'], unique=False)
    op.create_table('report_assignment_facts',
    sa.Column('conversation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('typification_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('started_s', sa.Float(), nullable=False),
    sa.Column('ended_s', sa.Float(), nullable=True),
    sa.Column('handle_s', sa.Float(), nullable=True),
    sa.Column('handle_bs', sa.Float(), nullable=True),
    sa.Column('transfer_in', sa.Boolean(), nullable=False),
    sa.Column('transfer_out', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['report_conversation_facts.conversation_id'],
                            name=op.f('fk_report_assignment_facts_conversation_id_report_conversation_facts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'position', name=op.f('pk_report_assignment_facts'))
    )
    op.create_index('ix_report_assignment_facts_member', 'report_assignment_facts',
                    ['membership_id', 'conversation_id'], unique=False)
    op.create_index('ix_report_assignment_facts_client_opened', 'report_assignment_facts',
                    ['client_id', 'opened_at'], unique=False)
    op.create_index('ix_report_assignment_facts_client_started', 'report_assignment_facts',
                    ['client_id', 'started_s'], unique=False)
    op.create_table('report_dirty_conversations',
    sa.Column('conversation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_report_dirty_conversations_conversation_id_conversations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_report_dirty_conversations'))
    )
    op.create_index('ix_report_dirty_conversations_client', 'report_dirty_conversations', ['client_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_dirty_conversations_client', table_name='report_dirty_conversations')
    op.drop_table('report_dirty_conversations')
    op.drop_index('ix_report_assignment_facts_client_started', table_name='report_assignment_facts')
    op.drop_index('ix_report_assignment_facts_client_opened', table_name='report_assignment_facts')
    op.drop_index('ix_report_assignment_facts_member', table_name='report_assignment_facts')
    op.drop_table('report_assignment_facts')
    op.drop_index('ix_report_conversation_facts_client_opened', table_name='report_conversation_facts')
    op.drop_table('report_conversation_facts')
