"""match index segments get a token (their file in the local cache); members lose the unread content hash

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('match_index', sa.Column('token', sa.String(length=32), nullable=True))
    # written by every resolution, read by nothing since the resolve queue (0004) finds changed records
    with op.batch_alter_table('initiative_members') as batch:
        batch.drop_column('content_hash')


def downgrade() -> None:
    with op.batch_alter_table('initiative_members') as batch:
        batch.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
    op.drop_column('match_index', 'token')
