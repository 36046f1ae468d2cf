"""work and mentor links belong to a cohort: foreign keys on submission.cohort_id and
mentor_link.cohort_id, filled in for existing rows

Revision ID: c0f0f179b391
Revises: 7a3c91e0b4d2
Create Date: 2026-12-05 10:00:00

Existing submissions get the cohort through which the learner takes the course (the first
cohort they joined as a learner among those that have it; none if no cohort of theirs has it),
as app/cohorts/scope.py decides for new work. Current mentor links made without a cohort (the
admins' Mentoring page, before cohorts) get the first cohort the learner joined in which the
mentor is a mentor, when there is one; the others keep no cohort and reach only work done
outside any cohort.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c0f0f179b391'
down_revision = '7a3c91e0b4d2'
branch_labels = None
depends_on = None

# The learner's cohorts that have the submission's course ...
_COHORTS_OF_WORK = """
    SELECT m.cohort_id FROM cohort_membership m
    JOIN cohort_course cc ON cc.cohort_id = m.cohort_id
    JOIN item i ON i.course_id = cc.course_id
    WHERE i.id = submission.item_id AND m.user_id = submission.user_id AND m.role = 'learner'
"""
# ... the one it has if that is among them, else the first joined.
SUBMISSION_COHORTS = f"""
UPDATE submission SET cohort_id = COALESCE(
    ({_COHORTS_OF_WORK} AND m.cohort_id = submission.cohort_id),
    ({_COHORTS_OF_WORK} ORDER BY m.created_at, m.id LIMIT 1))
"""

# A link whose cohort no longer exists cannot keep it (the key would refuse it) and must not
# become a link without a cohort, which would reach other work: it ends.
DANGLING_LINKS = """
UPDATE mentor_link SET cohort_id = NULL, ended_at = COALESCE(ended_at, :now)
WHERE cohort_id IS NOT NULL AND cohort_id NOT IN (SELECT id FROM cohort)
"""

LINK_COHORTS = """
UPDATE mentor_link SET cohort_id = (
    SELECT lm.cohort_id FROM cohort_membership lm
    JOIN cohort_membership mm ON mm.cohort_id = lm.cohort_id
    WHERE lm.user_id = mentor_link.learner_id AND lm.role = 'learner'
      AND mm.user_id = mentor_link.mentor_id AND mm.role = 'mentor'
    ORDER BY lm.created_at, lm.id
    LIMIT 1)
WHERE cohort_id IS NULL AND ended_at IS NULL
"""


def upgrade():
    bind = op.get_bind()
    bind.execute(sa.text(SUBMISSION_COHORTS))
    bind.execute(sa.text(DANGLING_LINKS).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True))),
                 {"now": datetime.now(UTC)})
    bind.execute(sa.text(LINK_COHORTS))
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_submission_cohort_id_cohort'), 'cohort', ['cohort_id'], ['id'])
    with op.batch_alter_table('mentor_link', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_mentor_link_cohort_id_cohort'), 'cohort', ['cohort_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade():
    # The cohorts filled in stay: they were right before and are harmless without the keys.
    with op.batch_alter_table('mentor_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_mentor_link_cohort_id_cohort'), type_='foreignkey')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submission_cohort_id_cohort'), type_='foreignkey')
