"""records: drop the indexes on portal_id and source, which no query reads (records are read by raw id, by unit,
or whole); each landed record paid for them (portal ids arrive in no order: at 1.3 M portal rows the index
alone cost about 7 s of a 90 s pull)

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_records_portal_id', table_name='records')
    op.drop_index('ix_records_source', table_name='records')


def downgrade() -> None:
    op.create_index('ix_records_source', 'records', ['source'])
    op.create_index('ix_records_portal_id', 'records', ['portal_id'])
