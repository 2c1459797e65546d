"""reports: SLA policies, presence history, the client's time zone

Revision ID: 0026
Revises: 0033
Create Date: 2026-12-06 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('timezone', sa.String(length=64), nullable=False,
                                   server_default='America/Bogota'))
    op.create_table('sla_policies',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('queue_optimal_seconds', sa.Integer(), nullable=False),
    sa.Column('queue_low_seconds', sa.Integer(), nullable=False),
    sa.Column('first_response_optimal_seconds', sa.Integer(), nullable=False),
    sa.Column('first_response_low_seconds', sa.Integer(), nullable=False),
    sa.Column('resolution_hours', sa.Integer(), nullable=False),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_sla_policies_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_sla_policies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('client_id', 'campaign_id', name=op.f('uq_sla_policies_client_id_campaign_id'))
    )
    op.create_index(op.f('ix_sla_policies_client_id'), 'sla_policies', ['client_id'], unique=False)
    op.create_table('presence_spans',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('presence', sa.Enum('online', 'away', 'offline', name='presence', native_enum=False, length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_presence_spans_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_presence_spans_membership_id_memberships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_spans'))
    )
    op.create_index(op.f('ix_presence_spans_client_id'), 'presence_spans', ['client_id'], unique=False)
    op.create_index('ix_presence_spans_member_time', 'presence_spans', ['membership_id', 'started_at'], unique=False)
    op.create_table('sla_breaches',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Enum('queue', 'first_response', name='slatarget', native_enum=False, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('breached_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_sla_breaches_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_sla_breaches_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_sla_breaches_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_breaches')),
    sa.UniqueConstraint('conversation_id', 'target', name=op.f('uq_sla_breaches_conversation_id_target'))
    )
    op.create_index('ix_sla_breaches_client_time', 'sla_breaches', ['client_id', 'breached_at'], unique=False)
    # the report queries filter conversations by client and opening time
    op.create_index('ix_conversations_client_opened', 'conversations', ['client_id', 'opened_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_conversations_client_opened', table_name='conversations')
    op.drop_index('ix_sla_breaches_client_time', table_name='sla_breaches')
    op.drop_table('sla_breaches')
    op.drop_index('ix_presence_spans_member_time', table_name='presence_spans')
    op.drop_index(op.f('ix_presence_spans_client_id'), table_name='presence_spans')
    op.drop_table('presence_spans')
    op.drop_index(op.f('ix_sla_policies_client_id'), table_name='sla_policies')
    op.drop_table('sla_policies')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('timezone')
