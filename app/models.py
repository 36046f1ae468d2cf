"""Import every feature's models so that the metadata (and Alembic) sees all tables."""
from app.assignments.models import (
    Attachment,
    CommentBankEntry,
    MentorLink,
    MentorPreference,
    Review,
    Revision,
    Submission,
    SubmissionMessage,
)
from app.auth.models import AuthToken, User
from app.authoring.models import CourseAuthor, CourseUpload
from app.certificates.models import Certificate
from app.cohorts.models import (
    Announcement,
    AnnouncementRecipient,
    CalendarFeed,
    Cohort,
    CohortCourse,
    CohortItemDate,
    ItemRelease,
    Membership,
)
from app.content.models import Course, CourseMedia, Item, ItemTranslation
from app.core.models import AuditEvent
from app.learning.models import Enrolment, Progress
from app.notify.models import Notice, OutboxMessage
from app.offline.models import IdempotencyKey
from app.quizzes.models import QuizAttempt
from app.reminders.models import Reminder
