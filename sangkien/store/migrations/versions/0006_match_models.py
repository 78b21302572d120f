"""match models: the weights each store learns at a full run; person keys parsed as Vietnamese names

Revision ID: 0006
Revises: 0005
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_BATCH = 20_000


def upgrade() -> None:
    op.create_table(
        'match_models',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('fitted_run', sa.Integer(), nullable=True),
        sa.Column('fitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('pairs', sa.Integer(), nullable=False),
        sa.Column('random_pairs', sa.Integer(), nullable=False),
        sa.Column('scheme', sa.String(length=64), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
    )
    _rekey_authors()


def _rekey_authors() -> None:
    """Records' author keys again, as parsed names ("ThS. Nguyễn Văn An" -> "nguyen van an"):
    the keys of older records were their folded words sorted. The match index is coded
    under a new scheme, so the next resolution is full and reads the new keys."""
    from sangkien.text.persons import person_key

    conn = op.get_bind()
    records = sa.table('records', sa.column('raw_id', sa.Integer), sa.column('authors', sa.Text),
                       sa.column('author_keys', sa.Text))
    last = -1
    while True:
        rows = conn.execute(sa.select(records.c.raw_id, records.c.authors).where(records.c.raw_id > last)
                            .order_by(records.c.raw_id).limit(_BATCH)).all()
        if not rows:
            break
        updates = []
        for raw_id, authors in rows:
            names = json.loads(authors or "[]")
            keys = sorted({person_key(n) for n in names} - {""})
            updates.append({"rid": raw_id, "keys": "|".join(keys)})
        conn.execute(records.update().where(records.c.raw_id == sa.bindparam("rid"))
                     .values(author_keys=sa.bindparam("keys")), updates)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table('match_models')
