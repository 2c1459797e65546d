"""names unique per parent compare folded (NFKC + casefold): a ``*_folded`` column under the unique index

Existing rows get their folded name; when two rows of one parent already fold alike ("Cobranza"
and "cobranza"), the later one's folded value gets its id appended so both keep their names.

Revision ID: 0042_badinput
Revises: 0027
Create Date: 2026-12-07 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atiende.kit.unique import FOLDED_LENGTH, fold

revision: str = '0042_badinput'
down_revision: str | None = '0041_firstday'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, parent column (None: unique in the whole platform), source column
FOLDED: list[tuple[str, str | None, str]] = [
    ('clients', None, 'name'),
    ('projects', 'client_id', 'name'),
    ('campaigns', 'project_id', 'name'),
    ('schedules', 'client_id', 'name'),
    ('typifications', 'client_id', 'code'),
    ('field_definitions', 'client_id', 'key'),
    ('funnels', 'client_id', 'name'),
    ('survey_bots', 'client_id', 'name'),
    ('attention_bots', 'client_id', 'name'),
    ('channels', 'client_id', 'name'),
    ('canned_replies', 'client_id', 'shortcut'),
]


def _columns(parent: str | None, column: str) -> list[str]:
    return [parent, column] if parent else [column]


def _backfill(table: str, parent: str | None, source: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f'SELECT id, {parent or "0"}, {source} FROM {table} ORDER BY id')).all()
    seen: set[tuple[int, str]] = set()
    for row_id, parent_id, value in rows:
        folded = fold(value)
        if (parent_id, folded) in seen:
            folded = f'{folded[:FOLDED_LENGTH - 12]} #{row_id}'
        seen.add((parent_id, folded))
        bind.execute(sa.text(f'UPDATE {table} SET {source}_folded = :folded WHERE id = :id'),
                     {'folded': folded, 'id': row_id})


def upgrade() -> None:
    for table, parent, source in FOLDED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(f'{source}_folded', sa.String(length=FOLDED_LENGTH), nullable=True))
        _backfill(table, parent, source)
        with op.batch_alter_table(table) as batch:
            batch.alter_column(f'{source}_folded', existing_type=sa.String(length=FOLDED_LENGTH), nullable=False)
            batch.drop_constraint(f'uq_{table}_{"_".join(_columns(parent, source))}', type_='unique')
            batch.create_unique_constraint(f'uq_{table}_{"_".join(_columns(parent, source + "_folded"))}',
                                           _columns(parent, f'{source}_folded'))


def downgrade() -> None:
    for table, parent, source in reversed(FOLDED):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'uq_{table}_{"_".join(_columns(parent, source + "_folded"))}', type_='unique')
            batch.create_unique_constraint(f'uq_{table}_{"_".join(_columns(parent, source))}',
                                           _columns(parent, source))
            batch.drop_column(f'{source}_folded')
