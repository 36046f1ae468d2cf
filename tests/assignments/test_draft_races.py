"""A learner's draft saved from two tabs, or twice by a double click (docs/security.md DATA-3, DATA-4).

On SQLite and on PostgreSQL: exactly one save is taken, the other answers the conflict page
(409) with the learner's text kept in the form and the saved draft shown under it; never a
500, never two drafts. The races are repeated, since one run may happen to serialise.
"""
from __future__ import annotations

import html
import io
import re

from sqlalchemy import func, select

from app.assignments.models import SUBMITTED, Attachment, Submission
from app.extensions import db
from tests.assignments.test_assignments import PDF, count, save, submit, work_url
from tests.support.concurrency import client_with_session, race

TRIALS = 10
CONFLICT = "while you were writing, so your text was not saved"
FILES_AGAIN = "The files you chose were not attached"


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code == 302
    return client, client.get_cookie("nergi_session").value


def page_version(page: str) -> int:
    """The draft version that the page's form carries (what a tab sends back on saving)."""
    return int(re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page).group(1))


def form_text(page: str) -> str:
    """The text in the page's answer field (or, once submitted, in its read-only copy)."""
    match = re.search(r'<textarea[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(match.group(1)).strip()


def post_work(client, course, body, version, files=()):
    data = {"body": body, "action": "save"}
    if version is not None:
        data["version"] = str(version)
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    response = client.post(work_url(course) + "/work", data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def tab(app, cookie, course, body, version):
    """A save to be sent by race() from another tab of the same browser."""
    return lambda: post_work(client_with_session(app, cookie), course, body, version)


def drafts_of(app, user) -> list[Submission]:
    with app.app_context():
        rows = db.session.scalars(select(Submission).where(Submission.user_id == user.id)).all()
        db.session.expunge_all()
        return rows


def test_two_tabs_saving_one_draft_keep_one_and_hand_the_other_back(app, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    for trial in range(TRIALS):
        learner = factories.make_user()
        client, cookie = signed_in(app, learner)
        assert save(client, course, "Before the tabs").status_code == 302
        version = page_version(client.get(work_url(course)).get_data(as_text=True))
        texts = (f"Tab A wrote this {trial}", f"Tab B wrote this {trial}")
        results = race(*(tab(app, cookie, course, text, version) for text in texts))
        statuses = [status for status, _page in results]
        assert sorted(statuses) == [302, 409]
        won = statuses.index(302)
        lost_text, lost_page = texts[1 - won], results[1 - won][1]
        assert CONFLICT in lost_page and FILES_AGAIN not in lost_page
        assert form_text(lost_page) == lost_text  # the learner's words stay in the form
        assert texts[won] in lost_page  # and the saved draft is shown under it
        [draft] = drafts_of(app, learner)
        assert draft.draft_body == texts[won] and draft.version == version + 1
        assert page_version(lost_page) == draft.version  # saving again is a deliberate choice


def test_a_double_click_on_the_first_save_makes_one_draft(app, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    for trial in range(TRIALS):
        learner = factories.make_user()
        client, cookie = signed_in(app, learner)
        assert page_version(client.get(work_url(course)).get_data(as_text=True)) == 0  # no draft yet
        text = f"My first words {trial}"
        results = race(tab(app, cookie, course, text, 0), tab(app, cookie, course, text, 0))
        statuses = [status for status, _page in results]
        assert sorted(statuses) == [302, 409]
        lost_page = results[statuses.index(409)][1]
        assert CONFLICT in lost_page and form_text(lost_page) == text
        [draft] = drafts_of(app, learner)
        assert draft.draft_body == text


def test_first_saves_from_an_old_form_never_fail(app, factories):
    """A form without a version (a page loaded before it had one): the last save wins, and two
    first saves at once still make one draft and answer no 500."""
    course = factories.make_course(items=("lesson", "assignment"))
    for trial in range(TRIALS):
        learner = factories.make_user()
        _client, cookie = signed_in(app, learner)
        texts = (f"Old form A {trial}", f"Old form B {trial}")
        results = race(*(tab(app, cookie, course, text, None) for text in texts))
        statuses = [status for status, _page in results]
        assert 302 in statuses and set(statuses) <= {302, 409}
        for status, page in results:
            if status == 409:
                assert CONFLICT in page and form_text(page) in texts
        [draft] = drafts_of(app, learner)
        assert draft.draft_body in texts


def test_a_save_from_an_older_tab_is_handed_back_with_its_text(app, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    learner = factories.make_user()
    client, _cookie = signed_in(app, learner)
    save(client, course, "Start")
    opened = page_version(client.get(work_url(course)).get_data(as_text=True))  # both tabs show this
    assert post_work(client, course, "Written in tab A", opened)[0] == 302
    status, page = post_work(client, course, "Written in tab B", opened, files=[("plan.pdf", PDF)])
    assert status == 409 and CONFLICT in page and FILES_AGAIN in page
    assert form_text(page) == "Written in tab B" and "Written in tab A" in page
    assert count(app, Attachment) == 0
    # Saving again from the conflict page is taken: the learner chose to keep tab B's text.
    assert post_work(client, course, form_text(page), page_version(page))[0] == 302
    [draft] = drafts_of(app, learner)
    assert draft.draft_body == "Written in tab B"
    # A preview answers a page whose form carries the new version, so the next save is taken.
    response = client.post(work_url(course) + "/work", data={"body": "Previewed", "action": "preview",
                                                             "version": str(draft.version)},
                           content_type="multipart/form-data")
    status, preview = response.status_code, response.get_data(as_text=True)
    assert status == 200 and page_version(preview) == drafts_of(app, learner)[0].version
    assert post_work(client, course, "After the preview", page_version(preview))[0] == 302


def test_a_save_after_the_other_tab_submitted_keeps_the_text_on_the_page(app, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    learner = factories.make_user()
    client, _cookie = signed_in(app, learner)
    save(client, course, "Ready")
    opened = page_version(client.get(work_url(course)).get_data(as_text=True))
    submit(client, app, course, "Ready")  # tab A saves and submits
    status, page = post_work(client, course, "More words from tab B", opened)
    assert status == 409 and "was submitted from another tab or window" in page
    assert form_text(page) == "More words from tab B"
    with app.app_context():
        assert db.session.scalar(select(func.count(Submission.id))) == 1
        assert db.session.scalar(select(Submission.state)) == SUBMITTED


def test_the_conflict_page_speaks_the_learners_language(app, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    learner = factories.make_user(locale="ru")
    client, _cookie = signed_in(app, learner)
    assert post_work(client, course, "Первый вариант", 0)[0] == 302
    status, page = post_work(client, course, "Второй вариант", 0, files=[("plan.pdf", PDF)])
    assert status == 409 and form_text(page) == "Второй вариант"
    assert "этот черновик был сохранён из другой вкладки или окна" in page
    assert "Выбранные файлы не прикреплены" in page and "Сохранённый черновик" in page
