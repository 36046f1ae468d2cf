"""Cohort pages over HTTP: an authorisation table over every route, the bad-input paths, the
upload → preview → confirm flow, charts, exports and CSRF."""
from __future__ import annotations

import codecs
import io
import re
import secrets

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.cohorts import announcements, enrolment
from app.cohorts.models import Announcement, AnnouncementRecipient, Cohort, Membership
from app.database import utcnow
from app.extensions import db
from tests.cohorts.conftest import add_attempts, add_progress


def preview_token(app, world, text="name,email\nNew Person,new.person@example.org\n"):
    with app.test_request_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        plan = enrolment.plan_enrolment(db.session.get(User, world.admin.id), cohort, text)
        return enrolment.preview_token(plan)


def learner2_membership(app, world):
    with app.app_context():
        return db.session.scalar(select(Membership.id).where(
            Membership.cohort_id == world.cohort_id, Membership.user_id == world.learner2.id))


def message_to_learner(app, world) -> int:
    """A trainer's message to the world's learner (for the message page's row)."""
    with app.app_context():
        message = Announcement(cohort_id=world.cohort_id, author_id=world.trainer.id, subject="Hello",
                               body_md="Hi", body_html="<p>Hi</p>", audience=f"learner:{world.learner.id}")
        db.session.add(message)
        db.session.flush()
        db.session.add(AnnouncementRecipient(announcement_id=message.id, user_id=world.learner.id))
        db.session.commit()
        return message.id


def confirmed_everyone(app, world) -> str:
    """The digest of the whole cohort, as the compose page puts it in the form."""
    with app.test_request_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        return announcements.audience_group(cohort, announcements.Audience("all"), "en", utcnow()).digest


MESSAGE = {"to": "all", "subject": "Week 3", "body": "Please read module 3.",
           "form_token": lambda app, w: secrets.token_urlsafe(24), "confirmed": confirmed_everyone}
SETTINGS = {"name": "Renamed", "municipality": "Marneuli", "language": "ka", "starts_on": "2025-03-01",
            "ends_on": "2025-11-30", "risk_inactive_days": "10", "risk_failed_attempts": "3",
            "risk_unanswered_days": "5", "risk_behind_points": "20"}

# (method, path, form data) with {c} the cohort, {l} its learner, {m} a membership; each data
# value may be a function of (app, world). Then the expected status per role.
ROUTES = [
    ("GET", "/cohorts", None, dict(learner=403, mentor=403, trainer=200, other_trainer=200, admin=200)),
    ("GET", "/admin/cohorts", None, dict(learner=403, mentor=403, trainer=403, other_trainer=403, admin=200)),
    ("POST", "/admin/cohorts", {"name": "New cohort", "language": "en"},
     dict(learner=403, mentor=403, trainer=403, other_trainer=403, admin=302)),
    ("GET", "/cohorts/{c}", None, {}),
    ("GET", "/cohorts/{c}?course=1&state=failed&sort=completion&order=desc&page=2&risk=y", None, {}),
    ("GET", "/cohorts/{c}/learners/{l}", None, {}),
    ("POST", "/cohorts/{c}/learners/{l}/mentor", {"mentor_id": lambda app, w: str(w.mentor.id)}, dict(ok=302)),
    ("GET", "/cohorts/{c}/charts/completion", None, {}),
    ("GET", "/cohorts/{c}/charts/completion.svg", None, {}),
    ("GET", "/cohorts/{c}/charts/scores.svg", None, {}),
    ("GET", "/cohorts/{c}/exports/progress.csv", None, {}),
    ("GET", "/cohorts/{c}/exports/quizzes.csv", None, {}),
    ("GET", "/cohorts/{c}/exports/rubric.csv", None, {}),
    ("GET", "/cohorts/{c}/exports/certificates.csv", None, {}),
    ("GET", "/cohorts/{c}/settings", None, {}),
    ("POST", "/cohorts/{c}/settings", SETTINGS, dict(ok=302)),
    ("POST", "/cohorts/{c}/trainers", {"email": lambda app, w: w.learner.email},
     dict(trainer=403, admin=400)),  # admin: the learner holds another role here
    ("POST", "/cohorts/{c}/members/{m}/remove", {}, dict(ok=302)),
    ("GET", "/cohorts/{c}/enrol", None, {}),
    ("POST", "/cohorts/{c}/enrol", {"text": "name,email\nA,a@example.org\n"}, {}),
    ("POST", "/cohorts/{c}/enrol/confirm", {"token": preview_token}, dict(ok=302)),
    ("GET", "/cohorts/{c}/mentors", None, {}),
    ("POST", "/cohorts/{c}/mentors", {"learner_email": lambda app, w: w.learner.email,
                                      "mentor_id": lambda app, w: str(w.mentor2.id)}, dict(ok=302)),
    ("POST", "/cohorts/{c}/mentors/balance", {"cap": "5"}, dict(ok=302)),
    ("GET", "/cohorts/{c}/messages", None, {}),
    ("GET", "/cohorts/{c}/messages/new?to=at_risk", None, {}),
    ("POST", "/cohorts/{c}/messages/new", MESSAGE, dict(ok=302)),
    # A message to the learner: they, the cohort's trainer and admins read it (tests/cohorts/test_announcements.py).
    ("GET", "/messages/{a}", None, dict(learner=200)),
    ("GET", "/cohorts/{c}/exports/schedule.csv", None, {}),
    ("GET", "/cohorts/{c}/schedule", None, {}),
    ("POST", "/cohorts/{c}/schedule", {"version": "0"}, dict(ok=302)),
    ("POST", "/cohorts/{c}/schedule/weekly", {"start": "2025-03-03"}, dict(ok=302)),
    ("POST", "/cohorts/{c}/schedule/clear", {}, dict(ok=302)),
    ("GET", "/cohorts/{c}/schedule.csv", None, {}),
    ("POST", "/cohorts/{c}/schedule/upload", {"file": lambda app, w: (io.BytesIO(b"course,item,opens_on,due_on\n"),
                                                                       "s.csv")}, dict(ok=302)),
    ("POST", "/cohorts/{c}/learners/{l}/release", {"item_id": lambda app, w: str(w.item(4).id)}, dict(ok=302)),
    ("POST", "/cohorts/{c}/learners/{l}/unrelease", {"item_id": lambda app, w: str(w.item(4).id)}, dict(ok=302)),
]
ROLES = ("anonymous", "learner", "mentor", "trainer", "other_trainer", "admin")


def expected_status(role: str, expected: dict) -> int:
    if role == "anonymous":
        return 302
    if role in expected:
        return expected[role]
    # A cohort's pages: its trainer and admins get the page (or its redirect); anybody else
    # gets 404, so that the cohort's existence is not revealed.
    return expected.get("ok", 200) if role in ("trainer", "admin") else 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, data, expected", ROUTES,
                         ids=[f"{method} {path.split('?')[0]}" for method, path, _d, _e in ROUTES])
def test_authorisation_table(app, client, auth, world, role, method, path, data, expected):
    url = path.format(c=world.cohort_id, l=world.learner.id, m=learner2_membership(app, world),
                      a=message_to_learner(app, world) if "{a}" in path else 0)
    form = {key: value(app, world) if callable(value) else value for key, value in (data or {}).items()}
    if role != "anonymous":
        auth.login_as(getattr(world, role))
    response = client.get(url) if method == "GET" else client.post(url, data=form)
    assert response.status_code == expected_status(role, expected), response.get_data(as_text=True)[:2000]
    if role == "anonymous":
        assert "/login" in response.headers["Location"]


def test_every_cohort_route_is_in_the_table(app):
    tested = {re.sub(r"\?.*", "", path) for _m, path, _d, _e in ROUTES}
    rules = {rule.rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(("cohorts.", "cohort_admin.")) and rule.endpoint != "cohorts.asset"}
    normalised = {re.sub(r"<int:cohort_id>", "{c}", re.sub(r"<int:user_id>", "{l}", re.sub(
        r"<int:membership_id>", "{m}", re.sub(r"<kind>", "KIND", re.sub(r"<int:announcement_id>", "{a}", rule)))))
        for rule in rules}
    tested = {re.sub(r"/(completion|scores|progress|quizzes|rubric|certificates)\b", "/KIND", path) for path in tested}
    tested = {re.sub(r"/exports/schedule\.csv", "/exports/KIND.csv", path) for path in tested}
    assert normalised == tested


def test_another_cohorts_trainer_sees_only_their_cohorts(app, client, auth, world):
    auth.login_as(world.other_trainer)
    page = client.get("/cohorts").get_data(as_text=True)
    assert "YPP 2025 — Dmanisi" in page and "YPP 2025 — Marneuli" not in page
    assert client.get(f"/cohorts/{world.other_cohort_id}").status_code == 200
    assert client.get(f"/cohorts/{world.cohort_id}/exports/progress.csv").status_code == 404


# -- bad input keeps what was typed and says what is wrong ----------------------------------

def test_creating_a_cohort_with_bad_input(client, auth, world):
    auth.login_as(world.admin)
    response = client.post("/admin/cohorts", data={"name": "", "municipality": "Tetritskaro", "language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Fill in this field." in page and 'value="Tetritskaro"' in page
    response = client.post("/admin/cohorts", data={"name": "Late", "language": "en", "starts_on": "2025-05-01",
                                                   "ends_on": "2025-04-01"})
    assert response.status_code == 400
    assert "cannot end before it starts" in response.get_data(as_text=True)
    assert 'value="Late"' in response.get_data(as_text=True)


def test_settings_with_bad_input(app, client, auth, world):
    auth.login_as(world.trainer)
    response = client.post(f"/cohorts/{world.cohort_id}/settings",
                           data={**SETTINGS, "name": "Typed name", "risk_inactive_days": "many"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Typed name"' in page and 'value="many"' in page
    # A trainer cannot change the courses: the field is not even shown.
    assert 'name="courses"' not in page
    with app.app_context():
        assert db.session.get(Cohort, world.cohort_id).name == "YPP 2025 — Marneuli"


def test_appointing_an_unknown_trainer(client, auth, world):
    auth.login_as(world.admin)
    response = client.post(f"/cohorts/{world.cohort_id}/trainers", data={"email": "nobody@example.org"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is no account with this e-mail address" in page and 'value="nobody@example.org"' in page


def test_assigning_a_mentor_with_bad_input(client, auth, world):
    auth.login_as(world.trainer)
    response = client.post(f"/cohorts/{world.cohort_id}/mentors",
                           data={"learner_email": world.outsider.email, "mentor_id": str(world.mentor.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "not a learner in this cohort" in page and f'value="{world.outsider.email}"' in page
    response = client.post(f"/cohorts/{world.cohort_id}/mentors/balance", data={"cap": "0"})
    assert response.status_code == 400 and 'value="0"' in response.get_data(as_text=True)


@pytest.mark.parametrize("payload, message", [
    ({"text": "name,organisation\nNino,CSO\n"}, "Missing: email."),
    ({"text": "   "}, "Choose a CSV file, or paste the rows into the box."),
    ({"file": ("name;email\r\nАнна;anna@example.org\r\n".encode("cp1251"), "roster.csv")}, "not in UTF-8"),
    ({"file": (b"PK\x03\x04rest", "roster.xlsx")}, "spreadsheet workbook"),
])
def test_unusable_uploads_are_explained_on_the_page(client, auth, world, payload, message):
    auth.login_as(world.trainer)
    data = {key: (io.BytesIO(value[0]), value[1]) if key == "file" else value
            for key, value in payload.items()}
    response = client.post(f"/cohorts/{world.cohort_id}/enrol", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if "text" in payload and payload["text"].strip():
        assert "name,organisation\nNino,CSO" in page  # what was typed is still in the box


# -- upload, preview, confirm -----------------------------------------------------------------

def test_upload_preview_confirm_and_see_the_learners(app, client, auth, world):
    auth.login_as(world.trainer)
    csv_bytes = codecs.BOM_UTF8 + (
        "name;email;language;municipality;organisation;role\r\n"
        "ნინო ბერიძე;nino.b@example.org;ka;Marneuli;;\r\n"
        "Արմեն Սարգսյան;armen@example.org;hy;Tsalka;;learner\r\n"
        "=1+2;formula@example.org;;;;\r\n"
        "Bad;bad-address;;;;\r\n").encode("utf-8")
    response = client.post(f"/cohorts/{world.cohort_id}/enrol", data={"file": (io.BytesIO(csv_bytes), "r.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ნინო ბერიძე" in page and "Արմեն Սարգսյան" in page and "not a valid e-mail address" in page
    with app.app_context():
        assert User.by_email("nino.b@example.org") is None  # nothing written before confirm
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/cohorts/{world.cohort_id}/enrol/confirm", data={"token": token})
    assert response.status_code == 302
    dashboard = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 people invited." in dashboard and "1 row skipped." in dashboard
    assert "ნინო ბერიძე" in dashboard and "Արմեն Սարգսյան" in dashboard and "=1+2" in dashboard
    # The same preview confirmed twice (a double click) changes nothing more.
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    client.post(f"/cohorts/{world.cohort_id}/enrol/confirm", data={"token": token})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_a_tampered_preview_is_refused(client, auth, world, app):
    auth.login_as(world.trainer)
    response = client.post(f"/cohorts/{world.cohort_id}/enrol/confirm", data={"token": "x" + preview_token(app, world)})
    assert response.status_code == 400 and "Upload the file again" in response.get_data(as_text=True)


# -- charts, exports, headers ------------------------------------------------------------------

def test_charts_are_svg_cached_by_their_data(app, client, auth, world):
    add_progress(app, world.learner.id, world.item(1).id)
    add_attempts(app, world.learner.id, world.item(2).id, [True])
    auth.login_as(world.trainer)
    dashboard = client.get(f"/cohorts/{world.cohort_id}").get_data(as_text=True)
    assert f'src="/cohorts/{world.cohort_id}/charts/completion.svg"' in dashboard
    assert f'href="/cohorts/{world.cohort_id}/charts/completion"' in dashboard
    # The chart's page: the text alternative, and the image under a URL that carries its data's key.
    page = client.get(f"/cohorts/{world.cohort_id}/charts/completion").get_data(as_text=True)
    assert "the learners had done 12.5% of all their required items" in page and "Week by week" in page
    src = re.search(r'src="(/cohorts/\d+/charts/completion\.svg\?v=(\w+))"', page)
    response = client.get(src.group(1))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data and b"<script" not in response.data
    assert response.headers["ETag"] == f'"{src.group(2)}"'
    assert "max-age=86400" in response.headers["Cache-Control"]
    # Without the key (as the dashboard links it): revalidated each time, 304 while unchanged.
    plain = client.get(f"/cohorts/{world.cohort_id}/charts/completion.svg")
    assert plain.headers["Cache-Control"] == "private, no-cache"
    assert client.get(f"/cohorts/{world.cohort_id}/charts/completion.svg",
                      headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    # New data, new key.
    add_progress(app, world.learner2.id, world.item(1).id)
    assert client.get(f"/cohorts/{world.cohort_id}/charts/completion.svg",
                      headers={"If-None-Match": plain.headers["ETag"]}).status_code == 200
    assert src.group(1) not in client.get(f"/cohorts/{world.cohort_id}/charts/completion").get_data(as_text=True)
    scores = client.get(f"/cohorts/{world.cohort_id}/charts/scores").get_data(as_text=True)
    assert "1 best score of a learner at a quiz." in scores and "<td>90–100</td><td>1</td>" in scores
    for bad in ("other", "other.svg"):
        assert client.get(f"/cohorts/{world.cohort_id}/charts/{bad}").status_code == 404


def test_exports_are_attachments(client, auth, world):
    auth.login_as(world.trainer)
    response = client.get(f"/cohorts/{world.cohort_id}/exports/progress.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(r'attachment; filename="cohort-\d+-progress-\d{4}-\d\d-\d\d\.csv"',
                    response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data.startswith(codecs.BOM_UTF8)
    assert client.get(f"/cohorts/{world.cohort_id}/exports/other.csv").status_code == 404


def test_the_dashboard_has_no_inline_script_or_style(client, auth, world):
    auth.login_as(world.trainer)
    response = client.get(f"/cohorts/{world.cohort_id}")
    page = response.get_data(as_text=True)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "<script" not in page and "<style" not in page and " style=" not in page
    # One stylesheet for the whole site: the dashboard adds none of its own.
    assert page.count('rel="stylesheet"') == 1 and "/static/nergi.css?v=" in page


def test_assets_need_a_sign_in_and_are_cached_by_their_hash(client, auth, world):
    assert client.get("/cohorts/assets/continue.js").status_code == 302
    auth.login_as(world.learner)  # any signed-in person: the file is no secret
    script = client.get("/cohorts/assets/continue.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert "max-age=31536000" not in script.headers["Cache-Control"]
    script.close()
    assert client.get("/cohorts/assets/cohorts.css").status_code == 404
    for bad in ("../routes.py", "nope.css", "..%2Froutes.py"):
        assert client.get(f"/cohorts/assets/{bad}").status_code == 404


def test_posts_need_the_csrf_token(make_app, world):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.post("/login", data={"email": world.trainer.email, "password": "correct horse battery"})
    for url, data in ((f"/cohorts/{world.cohort_id}/enrol", {"text": "name,email\nA,a@example.org\n"}),
                      (f"/cohorts/{world.cohort_id}/mentors/balance", {}),
                      (f"/cohorts/{world.cohort_id}/settings", SETTINGS)):
        assert client.post(url, data=data).status_code == 400
    with app.app_context():
        assert User.by_email("a@example.org") is None
        assert db.session.get(Cohort, world.cohort_id).name == "YPP 2025 — Marneuli"


def test_learner_page_and_removing_a_learner(app, client, auth, world):
    add_attempts(app, world.learner.id, world.item(2).id, [False, True], percents=[40.0, 95.0])
    auth.login_as(world.trainer)
    page = client.get(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}").get_data(as_text=True)
    assert "Nino Learner" in page and "95%" in page and "passed" in page
    assert client.get(f"/cohorts/{world.cohort_id}/learners/{world.outsider.id}").status_code == 404
    assert client.get(f"/cohorts/{world.cohort_id}/learners/{world.mentor.id}").status_code == 404
    membership = learner2_membership(app, world)
    assert client.post(f"/cohorts/{world.other_cohort_id}/members/{membership}/remove").status_code == 404
    assert client.post(f"/cohorts/{world.cohort_id}/members/{membership}/remove").status_code == 302
    assert client.get(f"/cohorts/{world.cohort_id}/learners/{world.learner2.id}").status_code == 404


def test_a_large_roster_is_confirmed_in_parts(app, client, auth, world, monkeypatch):
    monkeypatch.setattr(enrolment, "CONFIRM_BATCH", 2)
    auth.login_as(world.trainer)
    text = "name,email\n" + "".join(f"P{n},p{n}@example.org\n" for n in range(5)) + "Bad,bad\n"
    page = client.post(f"/cohorts/{world.cohort_id}/enrol", data={"text": text}).get_data(as_text=True)
    form = {"token": re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)}
    parts = 0
    while True:
        response = client.post(f"/cohorts/{world.cohort_id}/enrol/confirm", data=form)
        parts += 1
        if response.status_code == 302:
            break
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "more to go" in page and "data-autocontinue" in page
        assert "/cohorts/assets/continue.js?v=" in page
        form = {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)
                for name in ("token", "invited", "added")}
    assert parts == 3
    dashboard = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "5 people invited. 0 existing accounts added. 1 row skipped." in dashboard


@pytest.mark.parametrize("query, matches", [
    ("course=abc&mentor=zz&page=-5&sort=evil&state=nope&order=up", True),
    ("page=99999999999999999999", True), ("cohort_id=3&page=2", True), ("course=999999", True),
    ("municipality=%00&risk=maybe", False),  # an unknown municipality matches nobody
])
def test_odd_filter_values_are_ignored(client, auth, world, query, matches):
    auth.login_as(world.trainer)
    response = client.get(f"/cohorts/{world.cohort_id}?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("Nino Learner" in page) is matches and ("No learner matches these filters." in page) is not matches
