"""The migration that gives work and mentor links their cohort, from the previous head with data
in it (both databases): existing rows get the cohort the app would give them, nothing is lost on
the way (SQLite rebuilds the tables), and it goes down and up again."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import flask_migrate
import pytest
from sqlalchemy import func, select

from app import create_app
from app.assignments.models import Attachment, MentorLink, Review, Revision, Submission
from app.auth import services as auth_services
from app.cohorts import facts
from app.cohorts.models import LEARNER, MENTOR, Cohort, CohortCourse, Membership
from app.content.models import Course, Item
from app.extensions import db
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL
from tests.support.databases import own_database

PREVIOUS = "7a3c91e0b4d2"
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own (tests/support/databases.py)."""
    with own_database(TEST_DATABASE_URL, tmp_path, "cohort_scope") as url:
        yield url


def _seed() -> dict[str, int]:
    """At the previous head: two cohorts sharing course C (cohort 2 also has D), people in them,
    submissions without a cohort, and mentor links with and without one."""
    users = {key: auth_services.create_user(f"{key}@example.org", name=key) for key in (
        "l1", "l2", "l3", "m1", "m2")}
    c, d = (Course(slug=slug, source_hash=slug, titles={"en": slug}, summaries={}, languages=["en"],
                   estimated_hours=1, is_open=True, completion={}) for slug in ("c", "d"))
    db.session.add_all([c, d])
    db.session.flush()
    item_c, item_d = (Item(course_id=course.id, slug="a", kind="assignment", position=0, required=True, minutes=5)
                      for course in (c, d))
    cohort1, cohort2 = Cohort(name="One"), Cohort(name="Two")
    db.session.add_all([item_c, item_d, cohort1, cohort2])
    db.session.flush()
    db.session.add_all([CohortCourse(cohort_id=cohort1.id, course_id=c.id),
                        CohortCourse(cohort_id=cohort2.id, course_id=c.id),
                        CohortCourse(cohort_id=cohort2.id, course_id=d.id)])
    for n, (cohort, key, role) in enumerate([(cohort1, "l1", LEARNER), (cohort2, "l1", LEARNER),
                                             (cohort2, "l2", LEARNER), (cohort1, "m1", MENTOR),
                                             (cohort2, "m2", MENTOR)]):
        db.session.add(Membership(cohort_id=cohort.id, user_id=users[key].id, role=role,
                                  created_at=T0 + timedelta(days=n)))
    work = {
        "s1": Submission(user_id=users["l1"].id, item_id=item_c.id, state="submitted"),  # in both: cohort 1
        "s2": Submission(user_id=users["l1"].id, item_id=item_d.id, state="draft"),  # only cohort 2 has D
        "s3": Submission(user_id=users["l3"].id, item_id=item_c.id, state="draft"),  # no cohort
        "s4": Submission(user_id=users["l2"].id, item_id=item_c.id, state="draft", cohort_id=cohort2.id),
    }
    links = {
        "k1": MentorLink(mentor_id=users["m1"].id, learner_id=users["l1"].id),  # both in cohort 1
        "k2": MentorLink(mentor_id=users["m2"].id, learner_id=users["l3"].id),  # no shared cohort
        "k3": MentorLink(mentor_id=users["m2"].id, learner_id=users["l1"].id, cohort_id=cohort2.id),
        "k4": MentorLink(mentor_id=users["m1"].id, learner_id=users["l2"].id, cohort_id=cohort2.id + 100),
    }
    db.session.add_all([*work.values(), *links.values()])
    db.session.flush()
    revision = Revision(submission_id=work["s1"].id, number=1, body="kept", form_token="t" * 30)
    db.session.add(revision)
    db.session.flush()
    db.session.add_all([
        Attachment(submission_id=work["s1"].id, revision_id=revision.id, original_name="a.pdf",
                   stored_name="x" * 32, content_type="application/pdf", size=1, sha256="0" * 64),
        Review(revision_id=revision.id, mentor_id=users["m1"].id, scores={}, total=0, decision="approve")])
    ids = {"cohort1": cohort1.id, "cohort2": cohort2.id, **{key: row.id for key, row in {**work, **links}.items()}}
    db.session.commit()
    db.session.remove()  # (reading an expired row would open a transaction that holds SQLite's lock)
    return ids


def test_existing_work_and_links_get_their_cohort_and_nothing_is_lost(empty_database):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=PREVIOUS)
        with facts.untracked(db.session):  # cohort.facts_version comes with a later migration
            ids = _seed()
        flask_migrate.upgrade()
        db.session.remove()
        cohorts = dict(db.session.execute(select(Submission.id, Submission.cohort_id)).all())
        assert cohorts == {ids["s1"]: ids["cohort1"], ids["s2"]: ids["cohort2"], ids["s3"]: None,
                           ids["s4"]: ids["cohort2"]}
        links = {row.id: (row.cohort_id, row.ended_at is None) for row in db.session.scalars(select(MentorLink))}
        assert links == {ids["k1"]: (ids["cohort1"], True), ids["k2"]: (None, True),
                         ids["k3"]: (ids["cohort2"], True), ids["k4"]: (None, False)}
        # The rebuilt tables kept every row that hangs off them.
        assert [db.session.scalar(select(func.count()).select_from(model)) for model in (
            Revision, Attachment, Review)] == [1, 1, 1]
        db.session.remove()
        flask_migrate.check()  # the schema is what the models say
        flask_migrate.downgrade(revision=PREVIOUS)
        flask_migrate.upgrade()
        db.session.remove()
        assert db.session.scalar(select(func.count(Revision.id))) == 1
        db.session.remove()
        db.engine.dispose()
