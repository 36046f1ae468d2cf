"""cohort rhythm (issue 14): the schedule per cohort (dates, early releases, time zone, the
mentors' turnaround target), sequencing and pacing from course.yml, calendar feeds, reminders and
the reminder preference, the conversation on a submission, and trainers' announcements

Revision ID: f8993cd232a7
Revises: 5b8e1f2a9c70
Create Date: 2026-12-06 02:48:13

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f8993cd232a7'
down_revision = '5b8e1f2a9c70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_announcement_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_announcement_cohort_id_cohort'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement'))
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('calendar_feed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_calendar_feed_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calendar_feed_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed')),
    sa.UniqueConstraint('token', name=op.f('uq_calendar_feed_token'))
    )
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_feed_user_id'), ['user_id'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_reminder_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('key', name=op.f('uq_reminder_key'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_user_id'), ['user_id'], unique=False)

    op.create_table('announcement_recipient',
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], name=op.f('fk_announcement_recipient_announcement_id_announcement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_announcement_recipient_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('announcement_id', 'user_id', name=op.f('pk_announcement_recipient'))
    )
    with op.batch_alter_table('announcement_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_recipient_user_id'), ['user_id'], unique=False)

    op.create_table('cohort_item_date',
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_item_date_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_cohort_item_date_item_id_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cohort_id', 'item_id', name=op.f('pk_cohort_item_date'))
    )
    with op.batch_alter_table('cohort_item_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_item_date_item_id'), ['item_id'], unique=False)

    op.create_table('item_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_item_release_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_item_release_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['user.id'], name=op.f('fk_item_release_released_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_item_release_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_release')),
    sa.UniqueConstraint('cohort_id', 'item_id', 'user_id', name=op.f('uq_item_release_cohort_id_item_id_user_id'))
    )
    with op.batch_alter_table('item_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_release_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_release_user_id'), ['user_id'], unique=False)

    op.create_table('submission_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_submission_message_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_submission_message_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_message'))
    )
    with op.batch_alter_table('submission_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_message_submission_id'), ['submission_id'], unique=False)

    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='Asia/Tbilisi', nullable=False))
        batch_op.add_column(sa.Column('review_target_days', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('schedule_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('pacing', sa.JSON(), server_default='{}', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders', sa.String(length=10), server_default='immediate', nullable=False))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('reminders')

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('pacing')
        batch_op.drop_column('requires')

    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_column('schedule_version')
        batch_op.drop_column('review_target_days')
        batch_op.drop_column('time_zone')

    with op.batch_alter_table('submission_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_message_submission_id'))

    op.drop_table('submission_message')
    with op.batch_alter_table('item_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_release_user_id'))
        batch_op.drop_index(batch_op.f('ix_item_release_item_id'))

    op.drop_table('item_release')
    with op.batch_alter_table('cohort_item_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_item_date_item_id'))

    op.drop_table('cohort_item_date')
    with op.batch_alter_table('announcement_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_recipient_user_id'))

    op.drop_table('announcement_recipient')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_user_id'))

    op.drop_table('reminder')
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_user_id'))
        batch_op.drop_index(batch_op.f('ix_calendar_feed_cohort_id'))

    op.drop_table('calendar_feed')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_cohort_id'))

    op.drop_table('announcement')
