"""clients read phones written without a country code in their default region (ISO 3166 code)

Revision ID: 0041_firstday
Revises: 0027
Create Date: 2026-12-07 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0041_firstday'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('phone_region', sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('phone_region')
