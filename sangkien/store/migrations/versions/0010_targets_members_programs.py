"""targets by assigner, member counts, programs as configuration

* quotas carry who assigned them (several targets per unit and phase); a quota without an
  assigner was assigned by the unit's parent (the unit itself at the top of the tree), which
  is what every figure meant before, so the figures stay the same;
* member counts per unit, dated (``unit_members``);
* competition clusters and blocks (``clusters``);
* programs: the store's phases and quotas become those of the default program, the 2022-2023
  "01 triệu sáng kiến" (initiatives applied 2021-09-01 to 2023-09-01), unchanged.

Revision ID: 0010
Revises: 0009
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

DEFAULT_PROGRAM = '1trieu'


def upgrade() -> None:
    programs = op.create_table('programs',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.bulk_insert(programs, [{'code': DEFAULT_PROGRAM, 'name': '01 triệu sáng kiến (2022–2023)',
                               'starts_on': dt.date(2021, 9, 1), 'ends_on': dt.date(2023, 9, 1)}])
    op.create_table('phases_of_programs',
    sa.Column('program', sa.String(length=32), server_default=DEFAULT_PROGRAM, nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('counts_from', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('program', 'phase')
    )
    op.execute(f"INSERT INTO phases_of_programs (program, phase, name, starts_on, ends_on, counts_from) "
               f"SELECT '{DEFAULT_PROGRAM}', phase, name, starts_on, ends_on, counts_from FROM phases")
    op.drop_table('phases')
    op.rename_table('phases_of_programs', 'phases')
    op.execute("UPDATE quotas SET assigned_by = (SELECT o.parent_code FROM org_units o "
               "WHERE o.code = quotas.unit_code) WHERE assigned_by IS NULL")
    op.execute("UPDATE quotas SET assigned_by = unit_code WHERE assigned_by IS NULL")
    op.create_table('quotas_assigned',
    sa.Column('program', sa.String(length=32), server_default=DEFAULT_PROGRAM, nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('basis', sa.String(length=32), server_default='valid', nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('program', 'unit_code', 'phase', 'assigned_by', 'basis')
    )
    op.execute(f"INSERT INTO quotas_assigned (program, unit_code, phase, assigned_by, basis, target) "
               f"SELECT '{DEFAULT_PROGRAM}', unit_code, phase, assigned_by, basis, target FROM quotas")
    op.drop_table('quotas')
    op.rename_table('quotas_assigned', 'quotas')
    op.create_table('unit_members',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('members', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'as_of')
    )
    op.create_table('clusters',
    sa.Column('cluster_code', sa.String(length=32), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('cluster_code', 'unit_code')
    )
    op.create_table('unit_targets',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('counted', sa.Float(), nullable=True),
    sa.Column('completion', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('unit_code', 'phase', 'assigned_by', 'basis')
    )
    op.create_table('cluster_ranks',
    sa.Column('cluster_code', sa.String(length=32), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=8), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('cluster_name', sa.Text(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('of', sa.Integer(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=True),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('completion', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('cluster_code', 'phase', 'quarter', 'unit_code')
    )


def downgrade() -> None:
    op.drop_table('cluster_ranks')
    op.drop_table('unit_targets')
    op.drop_table('clusters')
    op.drop_table('unit_members')
    op.create_table('quotas_single',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('basis', sa.String(length=32), server_default='valid', nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('unit_code', 'phase')
    )
    # the default program's quotas, one per unit and phase: the one assigned from above, else any
    op.execute(f"INSERT INTO quotas_single (unit_code, phase, target, basis, assigned_by) "
               f"SELECT q.unit_code, q.phase, q.target, q.basis, q.assigned_by FROM quotas q "
               f"WHERE q.program = '{DEFAULT_PROGRAM}' AND NOT EXISTS (SELECT 1 FROM quotas o "
               f"WHERE o.program = q.program AND o.unit_code = q.unit_code AND o.phase = q.phase "
               "AND ((o.assigned_by <> o.unit_code) > (q.assigned_by <> q.unit_code) "
               "OR ((o.assigned_by <> o.unit_code) = (q.assigned_by <> q.unit_code) "
               "AND (o.assigned_by || o.basis) < (q.assigned_by || q.basis))))")
    op.drop_table('quotas')
    op.rename_table('quotas_single', 'quotas')
    op.create_table('phases_single',
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('counts_from', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('phase')
    )
    op.execute(f"INSERT INTO phases_single (phase, name, starts_on, ends_on, counts_from) "
               f"SELECT phase, name, starts_on, ends_on, counts_from FROM phases WHERE program = '{DEFAULT_PROGRAM}'")
    op.drop_table('phases')
    op.rename_table('phases_single', 'phases')
    op.drop_table('programs')
