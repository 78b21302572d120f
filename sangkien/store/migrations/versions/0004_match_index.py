"""match index: the matcher's coded records in segments, the queue of records to resolve, links by either record

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('match_index',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scheme', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_run', sa.Integer(), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    if op.get_bind().dialect.name == 'postgresql':
        # the segments are incompressible arrays: skip TOAST's compression (pglz would only cost time)
        op.execute('ALTER TABLE match_index ALTER COLUMN payload SET STORAGE EXTERNAL')
    op.create_table('resolve_queue',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('raw_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_match_links_raw_id_b', 'match_links', ['raw_id_b'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_match_links_raw_id_b', table_name='match_links')
    op.drop_table('resolve_queue')
    op.drop_table('match_index')
