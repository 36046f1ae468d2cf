"""a certificate's cohort is a foreign key: certificate.cohort_id references cohort.id (set to
NULL if the cohort is ever deleted: the certificate stays valid)

Revision ID: d4e8a1f2c7b5
Revises: b5e2d8c4a913
Create Date: 2026-12-06 01:45:00

A certificate whose cohort_id names no cohort (the column had no key before) loses that cohort
first; nothing else changes.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e8a1f2c7b5'
down_revision = 'b5e2d8c4a913'
branch_labels = None
depends_on = None

DANGLING = "UPDATE certificate SET cohort_id = NULL WHERE cohort_id IS NOT NULL AND cohort_id NOT IN (SELECT id FROM cohort)"


def upgrade():
    op.get_bind().execute(sa.text(DANGLING))
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_certificate_cohort_id_cohort'), 'cohort', ['cohort_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certificate_cohort_id_cohort'), type_='foreignkey')
