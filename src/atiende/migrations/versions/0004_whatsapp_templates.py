"""whatsapp templates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('whatsapp_templates',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('synced_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_whatsapp_templates_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_templates')),
    sa.UniqueConstraint('channel_id', 'name', 'language', name=op.f('uq_whatsapp_templates_channel_id_name_language'))
    )
    with op.batch_alter_table('whatsapp_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_templates_channel_id'), ['channel_id'], unique=False)
    op.create_table('whatsapp_template_messages',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_whatsapp_template_messages_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_whatsapp_template_messages'))
    )


def downgrade() -> None:
    op.drop_table('whatsapp_template_messages')
    with op.batch_alter_table('whatsapp_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatsapp_templates_channel_id'))
    op.drop_table('whatsapp_templates')
