"""raw_records: a partial index on the rows whose outcome is not decided yet, so a night with nothing new finds
none without reading every landed row of each source

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_raw_records_undecided', 'raw_records', ['source', 'id'],
                    sqlite_where=sa.text('outcome IS NULL'), postgresql_where=sa.text('outcome IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_raw_records_undecided', table_name='raw_records')
