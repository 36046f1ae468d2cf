"""The comment bank: private and shared comments, inserting one into the feedback without
scripts, editing and deleting (author or admin only), bad input and a comment deleted meanwhile."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.assignments import comments
from app.assignments.models import CommentBankEntry, MentorLink, Revision, Submission
from app.core.authz import AccessDenied
from app.extensions import db
from tests.cohorts.conftest import add_submission, make_cohort


@pytest.fixture
def bank(app, factories):
    """Cohort A (mentors m1, m2 of learners l1, l2) and cohort B (mentor m3 of l3), one course."""
    course = factories.make_course(items=("lesson", "assignment"))
    item = course.items[1]
    people = {key: factories.make_user(name=key.upper()) for key in ("m1", "m2", "m3", "l1", "l2", "l3")}
    people["admin"] = factories.make_admin(name="ADMIN")
    cohort_a = make_cohort(app, name="A", courses=[course], mentors=[people["m1"], people["m2"]],
                           learners=[people["l1"], people["l2"]])
    cohort_b = make_cohort(app, name="B", courses=[course], mentors=[people["m3"]], learners=[people["l3"]])
    with app.app_context():
        db.session.add_all([
            MentorLink(mentor_id=people["m1"].id, learner_id=people["l1"].id, cohort_id=cohort_a),
            MentorLink(mentor_id=people["m2"].id, learner_id=people["l2"].id, cohort_id=cohort_a),
            MentorLink(mentor_id=people["m3"].id, learner_id=people["l3"].id, cohort_id=cohort_b)])
        db.session.commit()
    work = {key: add_submission(app, people[key].id, item.id, "submitted") for key in ("l1", "l2", "l3")}
    return people, work


def page(client, submission_id):
    return html.unescape(client.get(f"/review/{submission_id}").get_data(as_text=True))


def bank_post(client, submission_id, action, **fields):
    return client.post(f"/review/{submission_id}/comments", data={"comment_action": action, **fields})


def entries(app):
    with app.app_context():
        return {entry.text: (entry.author_id, entry.shared, entry.cohort_id)
                for entry in db.session.scalars(select(CommentBankEntry))}


def entry_id(app, text):
    with app.app_context():
        return db.session.scalar(select(CommentBankEntry.id).where(CommentBankEntry.text == text))


def test_own_comments_always_shared_ones_only_in_their_cohort(client, app, auth, bank):
    people, work = bank
    auth.login_as(people["m1"])
    assert bank_post(client, work["l1"], "add", text="  Private note  ").status_code == 200
    response = bank_post(client, work["l1"], "add", text="Name the duty-bearers.", shared="1")
    assert response.status_code == 200 and "The comment is saved." in response.get_data(as_text=True)
    saved = entries(app)
    assert saved["Private note"][:2] == (people["m1"].id, False)  # stripped, private
    assert saved["Name the duty-bearers."][:2] == (people["m1"].id, True)
    mine = page(client, work["l1"])
    assert "Private note" in mine and "Name the duty-bearers." in mine and "shared with this cohort's mentors" in mine
    auth.logout()

    auth.login_as(people["m2"])  # the cohort's other mentor, on another learner's work
    theirs = page(client, work["l2"])
    assert "Name the duty-bearers." in theirs and "Shared by M1" in theirs and "Private note" not in theirs
    # …who may use it but not change it
    assert f'value="save:{entry_id(app, "Name the duty-bearers.")}"' not in theirs
    auth.logout()

    auth.login_as(people["m3"])  # a mentor of another cohort, same assignment
    other = page(client, work["l3"])
    assert "Name the duty-bearers." not in other and "Private note" not in other
    assert bank_post(client, work["l3"], f"insert:{entry_id(app, 'Name the duty-bearers.')}",
                     feedback="x").status_code == 409
    auth.logout()


def test_insert_without_scripts_keeps_everything_typed_and_chosen(client, app, auth, bank):
    people, work = bank
    auth.login_as(people["m1"])
    bank_post(client, work["l1"], "add", text="Say who takes part.\nAnd how.")
    comment_id = entry_id(app, "Say who takes part.\nAnd how.")
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id).join(Submission).where(Submission.id == work["l1"]))
    response = bank_post(client, work["l1"], f"insert:{comment_id}", feedback="Good start.",
                         **{"score-participation": "2", "revision_id": revision_id, "version": 1,
                            "text": "half-written new comment"})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "\nGood start.\n\nSay who takes part.\nAnd how.</textarea>" in body.replace("\r\n", "\n")
    assert 'id="score-participation-2" name="score-participation" value="2" data-points="2" checked' in body
    assert ">half-written new comment</textarea>" in body  # the new comment's box too
    assert "The comment is added at the end of your feedback." in body
    with app.app_context():  # nothing was sent or saved
        assert db.session.get(Submission, work["l1"]).state == "submitted"
    assert len(entries(app)) == 1


def test_only_the_author_or_an_admin_edits_or_deletes(client, app, auth, bank):
    people, work = bank
    auth.login_as(people["m1"])
    bank_post(client, work["l1"], "add", text="Original", shared="1")
    comment_id = entry_id(app, "Original")
    auth.logout()

    for who, submission in (("m2", "l2"), ("l1", "l1")):
        auth.login_as(people[who])
        assert bank_post(client, work[submission], f"save:{comment_id}", **{f"text-{comment_id}": "Hijacked"}
                         ).status_code == 403
        assert bank_post(client, work[submission], f"delete:{comment_id}").status_code == 403
        auth.logout()
    assert entries(app) == {"Original": (people["m1"].id, True, entries(app)["Original"][2])}

    auth.login_as(people["m1"])
    response = bank_post(client, work["l1"], f"save:{comment_id}", **{f"text-{comment_id}": "Better"})
    assert response.status_code == 200
    assert entries(app)["Better"][:2] == (people["m1"].id, False)  # unticked: no longer shared
    auth.logout()

    auth.login_as(people["admin"])
    assert bank_post(client, work["l1"], f"delete:{comment_id}").status_code == 200
    assert entries(app) == {}


def test_bad_input_is_explained_and_kept(client, app, auth, bank):
    people, work = bank
    auth.login_as(people["m1"])
    response = bank_post(client, work["l1"], "add", text="   ", feedback="My feedback so far")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Write the comment before saving it." in body
    assert "My feedback so far</textarea>" in body
    long_text = "y" * 5001
    response = bank_post(client, work["l1"], "add", text=long_text, shared="1")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "at most 5000 characters long; this one has 5001" in body
    assert f">{long_text}</textarea>" in body and 'name="shared" value="1" form="your-review" checked' in body
    assert entries(app) == {}
    # An unknown action or a malformed id is refused, never a 500.
    assert bank_post(client, work["l1"], "explode:1").status_code == 400
    assert bank_post(client, work["l1"], "save:99999999999999").status_code == 409


def test_editing_a_comment_deleted_meanwhile(client, app, auth, bank):
    people, work = bank
    auth.login_as(people["m1"])
    bank_post(client, work["l1"], "add", text="Soon gone")
    comment_id = entry_id(app, "Soon gone")
    with app.app_context():  # deleted in another tab (or by an admin)
        db.session.delete(db.session.get(CommentBankEntry, comment_id))
        db.session.commit()
    response = bank_post(client, work["l1"], f"save:{comment_id}", feedback="Kept feedback",
                         **{f"text-{comment_id}": "My careful rewording"})
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "That comment was deleted" in body
    assert "Kept feedback</textarea>" in body and ">My careful rewording</textarea>" in body
    assert bank_post(client, work["l1"], f"delete:{comment_id}").status_code == 409
    assert bank_post(client, work["l1"], f"insert:{comment_id}").status_code == 409


def test_services_check_the_author(app, bank):
    people, work = bank
    with app.app_context():
        from app.auth.models import User

        m1, m2, m3 = (db.session.get(User, people[key].id) for key in ("m1", "m2", "m3"))
        submission = db.session.get(Submission, work["l1"])
        entry = comments.add_comment(m1, submission, "Shared", shared=True)
        with pytest.raises(AccessDenied):
            comments.add_comment(m3, submission, "Not my learner")
        with pytest.raises(AccessDenied):
            comments.edit_comment(m2, entry.id, "Mine now", shared=True)
        with pytest.raises(comments.InvalidComment):
            comments.edit_comment(m1, entry.id, "", shared=True)
        assert [e.text for e in comments.comment_bank_for(m2, db.session.get(Submission, work["l2"]))] == ["Shared"]
        assert comments.comment_bank_for(m3, db.session.get(Submission, work["l3"])) == []
        comments.delete_comment(m1, entry.id)
        with pytest.raises(comments.CommentGone):
            comments.delete_comment(m1, entry.id)
        db.session.rollback()


def test_the_bank_speaks_the_mentors_language(client, app, auth, bank):
    people, work = bank
    with app.app_context():
        from app.auth.models import User

        db.session.get(User, people["m1"].id).locale = "ru"
        db.session.commit()
    auth.login_as(people["m1"])
    response = bank_post(client, work["l1"], "add", text="")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Напишите комментарий, прежде чем сохранять его." in body
    bank_post(client, work["l1"], "add", text="Хорошо", shared="1")
    body = page(client, work["l1"])
    assert "Вставить в комментарий для участника" in body and "доступен наставникам этой группы" in body


def test_authorisation_table(client, app, auth, bank, factories):
    """Who may use the bank on l1's work: m1 (their mentor) and an admin; not l1, not m2 (a mentor
    of the cohort but not l1's), not m3 (another cohort), not a stranger, not anonymous."""
    people, work = bank
    people["stranger"] = factories.make_user(name="stranger")
    expected = {None: 302, "l1": 403, "m2": 403, "m3": 403, "stranger": 403, "m1": 200, "admin": 200}
    for who, status in expected.items():
        if who:
            auth.login_as(people[who])
        response = bank_post(client, work["l1"], "add", text=f"from {who}")
        assert response.status_code == status, who
        if who:
            auth.logout()
    assert set(entries(app)) == {"from m1", "from admin"}
