"""Import every feature's models so that the metadata (and Alembic) sees all tables."""
from app.auth.models import AuthToken, User  # noqa: F401
from app.core.models import AuditEvent  # noqa: F401
from app.notify.models import Notice, OutboxMessage  # noqa: F401
from app.content.models import Course, CourseMedia, Enrolment, Item, ItemTranslation, Progress  # noqa: F401
from app.assignments.models import (Attachment, CommentBankEntry, MentorLink, MentorPreference,  # noqa: F401
                                    Review, Revision, Submission)
from app.quizzes.models import QuizAttempt  # noqa: F401
from app.certificates.models import Certificate  # noqa: F401
from app.cohorts.models import Cohort, CohortCourse, Membership  # noqa: F401
from app.authoring.models import CourseAuthor, CourseUpload  # noqa: F401
from app.offline.models import IdempotencyKey  # noqa: F401
