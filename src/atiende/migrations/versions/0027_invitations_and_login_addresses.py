"""memberships become invitations until accepted; failed logins remember their source address

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 12:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('memberships') as batch:
        batch.add_column(sa.Column('status', sa.String(length=32), nullable=False, server_default='accepted'))
    with op.batch_alter_table('login_attempts') as batch:
        batch.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_login_attempts_address'), ['address'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_attempts') as batch:
        batch.drop_index(batch.f('ix_login_attempts_address'))
        batch.drop_column('address')
    with op.batch_alter_table('memberships') as batch:
        batch.drop_column('status')
