"""A cohort's schedule (issue 14): the services, the trainer's page, its CSV, the command, early
release for one learner, and what the dashboard makes of it."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.cohorts import schedule
from app.cohorts.cli import Operator
from app.cohorts.models import Cohort, ItemRelease
from app.core.audit import AuditEvent
from app.core.errors import Conflict
from app.extensions import db
from tests.cohorts.conftest import add_progress, add_submission
from tests.support.concurrency import client_with_session, race

START = date(2025, 3, 3)


def cohort_of(cohort_id: int) -> Cohort:
    return db.session.get_one(Cohort, cohort_id)


def dates(app, cohort_id: int) -> dict[str, tuple[date | None, date | None]]:
    """The cohort's own dates, by item slug."""
    with app.app_context():
        cohort = cohort_of(cohort_id)
        return {item.slug: (item.opens_on, item.due_on) for item in schedule.schedule_items(cohort) if item.own}


def versions(app, cohort_id: int) -> tuple[int, int]:
    with app.app_context():
        return tuple(db.session.execute(select(Cohort.schedule_version, Cohort.facts_version)
                                        .where(Cohort.id == cohort_id)).one())


def fill(app, cohort_id: int, start: date = START) -> None:
    with app.app_context():
        schedule.fill_weekly(Operator(), cohort_of(cohort_id), start)
        db.session.commit()


def item_ids(world) -> dict[str, int]:
    return {item.slug: item.id for item in world.course.items}


# -- services ------------------------------------------------------------------------------------

def test_one_module_a_week_from_the_start_date(app, world):
    before = versions(app, world.cohort_id)
    other_before = versions(app, world.other_cohort_id)
    fill(app, world.cohort_id)
    # lesson + quiz make module 1, the assignment module 2, the last lesson module 3.
    assert dates(app, world.cohort_id) == {
        "item1": (START, START + timedelta(days=6)), "item2": (START, START + timedelta(days=6)),
        "item3": (START + timedelta(days=7), START + timedelta(days=13)),
        "item4": (START + timedelta(days=14), START + timedelta(days=20))}
    after = versions(app, world.cohort_id)
    assert after[0] == before[0] + 1 and after[1] != before[1]
    assert versions(app, world.other_cohort_id) == other_before  # nobody else's cache is thrown away
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cohort_schedule_weekly"))
        assert event.target == f"Cohort:{world.cohort_id}" and event.detail["start"] == "2025-03-03"


def test_courses_run_side_by_side(app, world):
    with app.app_context():
        cohort = cohort_of(world.other_cohort_id)
        schedule.fill_weekly(Operator(), cohort, START)
        db.session.commit()
        firsts = {(item.course_id, item.slug): item.opens_on for item in schedule.schedule_items(cohort_of(
            world.other_cohort_id))}
    assert firsts[(world.course.id, "item1")] == firsts[(world.other_course.id, "item1")] == START


def test_weekly_defaults_to_the_cohorts_start_and_needs_one(app, world):
    with app.app_context():
        with pytest.raises(schedule.ScheduleError, match="start date"):
            schedule.fill_weekly(Operator(), cohort_of(world.cohort_id))
        db.session.rollback()
        cohort_of(world.cohort_id).starts_on = date(2025, 4, 7)
        db.session.commit()
        schedule.fill_weekly(Operator(), cohort_of(world.cohort_id))
        db.session.commit()
    assert dates(app, world.cohort_id)["item1"] == (date(2025, 4, 7), date(2025, 4, 13))


def test_set_dates_rules(app, world):
    ids = item_ids(world)
    with app.app_context():
        cohort = cohort_of(world.cohort_id)
        with pytest.raises(schedule.ScheduleError) as error:
            schedule.set_dates(Operator(), cohort, {ids["item1"]: ("2025-03-10", "2025-03-09"),
                                                    ids["item2"]: ("10/03/2025", "")}, cohort.schedule_version)
        assert set(error.value.problems) == {f"due-{ids['item1']}", f"opens-{ids['item2']}"}
        foreign = world.other_course.items[0].id
        with pytest.raises(schedule.ScheduleError, match="this cohort's courses"):
            schedule.set_dates(Operator(), cohort, {foreign: ("", "")}, None)
        with pytest.raises(Conflict):
            schedule.set_dates(Operator(), cohort, {ids["item1"]: ("2025-03-10", "")}, cohort.schedule_version + 1)
        db.session.rollback()
        assert schedule.set_dates(Operator(), cohort_of(world.cohort_id),
                                  {ids["item1"]: ("2025-03-10", "2025-03-16"), ids["item2"]: ("", "")}, 0) == 1
        db.session.commit()
    assert dates(app, world.cohort_id) == {"item1": (date(2025, 3, 10), date(2025, 3, 16))}
    assert versions(app, world.cohort_id)[0] == 1


def test_clear_removes_the_cohorts_dates(app, world):
    fill(app, world.cohort_id)
    with app.app_context():
        assert schedule.clear(Operator(), cohort_of(world.cohort_id)) == 4
        db.session.commit()
    assert dates(app, world.cohort_id) == {}


def test_a_change_of_schedule_is_seen_by_the_dashboard_at_once(app, world, client, auth):
    auth.login_as(world.trainer)
    assert client.get(f"/cohorts/{world.cohort_id}").status_code == 200  # cached
    fill(app, world.cohort_id, date.today() - timedelta(days=30))
    page = client.get(f"/cohorts/{world.cohort_id}").get_data(as_text=True)
    assert "behind schedule: 4 items overdue" in page


# -- the page -----------------------------------------------------------------------------------

def page_of(client, world) -> str:
    response = client.get(f"/cohorts/{world.cohort_id}/schedule")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_shows_every_item_with_its_dates_and_the_time_zone(app, client, auth, world):
    fill(app, world.cohort_id)
    auth.login_as(world.trainer)
    page = page_of(client, world)
    assert "Asia/Tbilisi" in page and "Item 1 en" in page and "Item 4 en" in page
    assert f'name="opens-{world.item(3).id}" value="2025-03-10"' in page
    assert f'name="due-{world.item(4).id}" value="2025-03-23"' in page
    assert 'type="date"' in page and "One module a week from" in page
    assert f'href="/cohorts/{world.cohort_id}/schedule"' in client.get(f"/cohorts/{world.cohort_id}").get_data(
        as_text=True)  # in the cohort's navigation


def test_saving_the_table(app, client, auth, world):
    auth.login_as(world.trainer)
    item = world.item(2)
    response = client.post(f"/cohorts/{world.cohort_id}/schedule",
                           data={"version": "0", f"opens-{item.id}": "2025-05-05", f"due-{item.id}": "2025-05-11"})
    assert response.status_code == 302
    assert dates(app, world.cohort_id) == {"item2": (date(2025, 5, 5), date(2025, 5, 11))}
    assert "the dates of 1 item changed" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("opens, due, message", [
    ("2025-05-12", "2025-05-11", "The due date cannot be before the opening date."),
    ("12.05.2025", "", "Enter a date as YYYY-MM-DD"),
    ("", "2025-02-30", "Enter a date as YYYY-MM-DD"),
])
def test_bad_dates_keep_what_was_typed(app, client, auth, world, opens, due, message):
    auth.login_as(world.trainer)
    item, other = world.item(2), world.item(4)
    response = client.post(f"/cohorts/{world.cohort_id}/schedule",
                           data={"version": "0", f"opens-{item.id}": opens, f"due-{item.id}": due,
                                 f"opens-{other.id}": "2025-06-02", f"due-{other.id}": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and 'aria-invalid="true"' in page
    assert f'name="opens-{item.id}" value="{opens}"' in page and f'name="due-{item.id}" value="{due}"' in page
    assert f'name="opens-{other.id}" value="2025-06-02"' in page
    assert dates(app, world.cohort_id) == {}


def speaks(app, user, locale: str) -> None:
    from app.auth.models import User

    with app.app_context():
        db.session.get_one(User, user.id).locale = locale
        db.session.commit()


def test_bad_dates_in_georgian(app, client, auth, world):
    speaks(app, world.trainer, "ka")
    auth.login_as(world.trainer)
    item = world.item(1)
    response = client.post(f"/cohorts/{world.cohort_id}/schedule",
                           data={"version": "0", f"opens-{item.id}": "2025-05-12", f"due-{item.id}": "2025-05-11"})
    assert response.status_code == 400
    assert "ვადა არ შეიძლება იყოს გახსნის თარიღამდე." in response.get_data(as_text=True)
    assert 'value="2025-05-12"' in response.get_data(as_text=True)


def test_a_form_from_a_second_tab_is_refused_with_the_values_kept(app, client, auth, world):
    auth.login_as(world.trainer)
    first = page_of(client, world)  # tab 1 drawn at version 0
    assert 'name="version" type="hidden" value="0"' in first or 'value="0"' in first
    item = world.item(1)
    assert client.post(f"/cohorts/{world.cohort_id}/schedule/weekly",
                       data={"version": "0", "start": "2025-03-03"}).status_code == 302  # tab 2
    response = client.post(f"/cohorts/{world.cohort_id}/schedule",
                           data={"version": "0", f"opens-{item.id}": "2025-09-01", f"due-{item.id}": "2025-09-07"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "was changed (in another tab or by another trainer)" in page
    assert f'name="opens-{item.id}" value="2025-09-01"' in page
    assert "Now: 2025-03-03" in page  # the current date beside the typed one
    assert dates(app, world.cohort_id)["item1"] == (START, START + timedelta(days=6))  # nothing saved


def test_two_saves_of_one_form_at_once_keep_exactly_one(app, factories, world):
    """The version check holds under concurrency (SQLite and PostgreSQL): one 302, one 409."""
    client = app.test_client()
    assert client.post("/login", data={"email": world.trainer.email,
                                       "password": "correct horse battery"}).status_code == 302
    cookie = client.get_cookie("nergi_session").value
    item = world.item(1)
    for trial in range(6):
        version = versions(app, world.cohort_id)[0]

        def save(day: int, version: int = version, month: int = trial + 1):
            def post():
                response = client_with_session(app, cookie).post(
                    f"/cohorts/{world.cohort_id}/schedule",
                    data={"version": str(version), f"opens-{item.id}": f"2025-{month:02d}-{day:02d}",
                          f"due-{item.id}": ""})
                return response.status_code
            return post

        statuses = race(save(10), save(20))
        assert sorted(statuses) == [302, 409], statuses
        assert versions(app, world.cohort_id)[0] == version + 1
        winner = 10 if statuses[0] == 302 else 20
        assert dates(app, world.cohort_id)["item1"][0] == date(2025, trial + 1, winner)


def test_weekly_form_bad_date_keeps_the_value(app, client, auth, world):
    auth.login_as(world.trainer)
    response = client.post(f"/cohorts/{world.cohort_id}/schedule/weekly", data={"version": "0", "start": "soon"})
    assert response.status_code == 400
    assert 'value="soon"' in response.get_data(as_text=True)
    response = client.post(f"/cohorts/{world.cohort_id}/schedule/weekly", data={"version": "0", "start": ""})
    assert response.status_code == 400  # the cohort has no start date
    assert "Give a start date" in response.get_data(as_text=True)
    assert dates(app, world.cohort_id) == {}


# -- CSV ----------------------------------------------------------------------------------------

def rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def upload(client, world, text: str | bytes, version: str = ""):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(f"/cohorts/{world.cohort_id}/schedule/upload",
                       data={"version": version, "file": (io.BytesIO(data), "schedule.csv")},
                       content_type="multipart/form-data")


def test_download_edit_and_upload(app, client, auth, world):
    fill(app, world.cohort_id)
    auth.login_as(world.trainer)
    response = client.get(f"/cohorts/{world.cohort_id}/schedule.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = rows_of(response.data)
    assert list(rows[0]) == list(schedule.COLUMNS)
    assert rows[0] == {"course": world.course.slug, "item": "item1", "title": "Item 1 en", "kind": "lesson",
                       "opens_on": "2025-03-03", "due_on": "2025-03-09"}
    rows[3]["due_on"] = "2025-04-30"
    rows[2]["opens_on"], rows[2]["due_on"] = "", ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=schedule.COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    response = upload(client, world, buffer.getvalue())
    assert response.status_code == 302
    found = dates(app, world.cohort_id)
    assert found["item4"] == (date(2025, 3, 17), date(2025, 4, 30)) and found["item3"] == (None, None)
    assert found["item1"] == (START, START + timedelta(days=6))


HEADER = "course,item,opens_on,due_on\n"


@pytest.mark.parametrize("body, status, messages", [
    ("{c},item1,2025-03-01,2025-13-01\n", 400, ["Line 3: Enter a date as YYYY-MM-DD"]),
    ("{c},item1,2025-03-01,2025-03-02\n{c},item9,2025-03-01,\n", 400, ["Line 4: The course “{c}” has no item “item9”"]),
    ("nowhere,item1,2025-03-01,\n", 400, ["Line 3: “nowhere” is not a course of this cohort"]),
    ("{c},item2,2025-03-10,2025-03-01\n", 400, ["Line 3: The due date cannot be before the opening date"]),
    ("{c},item2,2025-03-10\n", 400, ["Line 3: This line has 3 cells; the header names 4."]),
    ("{c},item2,,\n{c},item2,,\n", 400, ["Line 4: The item “item2” is already on an earlier line"]),
    ("{c},item2,2025-03-10,2025-03-01\n{c},item3,x,\n", 400, ["Line 3: The due date", "Line 4: Enter a date"]),
])
def test_bad_csv_lines_change_nothing(app, client, auth, world, body, status, messages):
    auth.login_as(world.trainer)
    text = HEADER + f"{world.course.slug},item4,2025-06-01,2025-06-07\n" + body.format(c=world.course.slug)
    response = upload(client, world, text)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    for message in messages:
        assert message.format(c=world.course.slug) in page
    assert "Nothing was changed" in page
    assert dates(app, world.cohort_id) == {}


def test_bad_csv_files(app, client, auth, world, monkeypatch):
    # A small limit: a body over 500 KB would be spooled to a temporary file by the test client.
    monkeypatch.setattr(schedule, "MAX_BYTES", 4096)
    auth.login_as(world.trainer)
    response = upload(client, world, "name,email\nA,a@example.org\n")
    assert response.status_code == 400
    assert "The first line must name the columns: course, item, title, kind, opens_on, due_on" in response.get_data(
        as_text=True)
    response = upload(client, world, HEADER + "x" * schedule.MAX_BYTES)
    assert response.status_code == 413 and "larger than 4 KB" in response.get_data(as_text=True)
    response = upload(client, world, HEADER.encode() + "Bakı".encode("utf-16-le"))
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    response = client.post(f"/cohorts/{world.cohort_id}/schedule/upload", data={"version": ""})
    assert response.status_code == 400 and "Choose a CSV file." in response.get_data(as_text=True)
    assert dates(app, world.cohort_id) == {}


def test_the_limits_of_a_csv():
    assert schedule.MAX_BYTES == 1024 * 1024 and schedule.MAX_ROWS == 5000
    with pytest.raises(schedule.ScheduleTooLarge):
        schedule.decode_csv(b"x" * (schedule.MAX_BYTES + 1))


def test_too_many_rows(app, world, monkeypatch):
    monkeypatch.setattr(schedule, "MAX_ROWS", 3)
    text = HEADER + "".join(f"{world.course.slug},item{n},,\n" for n in range(1, 5))
    with app.app_context(), pytest.raises(schedule.ScheduleTooLarge, match="more than 3 rows"):
        schedule.import_csv(Operator(), cohort_of(world.cohort_id), text)


def test_csv_errors_in_russian(app, client, auth, world):
    speaks(app, world.trainer, "ru")
    auth.login_as(world.trainer)
    response = upload(client, world, HEADER + "nowhere,item1,,\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Строка 2: «nowhere» — не курс этой группы." in page


def test_a_stale_upload_is_a_conflict(app, client, auth, world):
    fill(app, world.cohort_id)
    auth.login_as(world.trainer)
    response = upload(client, world, HEADER + f"{world.course.slug},item1,,\n", version="0")
    assert response.status_code == 409
    assert dates(app, world.cohort_id)["item1"] == (START, START + timedelta(days=6))


# -- the command --------------------------------------------------------------------------------

def test_the_command(app, runner, world, tmp_path):
    result = runner.invoke(args=["cohorts", "schedule", str(world.cohort_id), "--start", "2025-03-03", "--weekly"])
    assert result.exit_code == 0, result.output
    assert "4 items changed" in result.output
    assert dates(app, world.cohort_id)["item4"] == (date(2025, 3, 17), date(2025, 3, 23))
    shown = runner.invoke(args=["cohorts", "schedule", str(world.cohort_id)])
    assert shown.exit_code == 0
    assert f"{world.course.slug}\titem3\tassignment\t2025-03-10\t2025-03-16" in shown.output
    assert "Asia/Tbilisi" in shown.output
    path = tmp_path / "s.csv"
    path.write_text(HEADER + f"{world.course.slug},item3,2025-03-12,2025-03-31\n", encoding="utf-8")
    result = runner.invoke(args=["cohorts", "schedule", str(world.cohort_id), "--csv", str(path), "--show"])
    assert result.exit_code == 0, result.output
    assert "imported: 1 items changed" in result.output and "2025-03-12\t2025-03-31" in result.output


@pytest.mark.parametrize("args, message", [
    (["--start", "2025-02-30", "--weekly"], "is not a date"),
    (["--weekly"], "Give a start date"),
    (["--start", "2025-03-03"], "--start goes with --weekly"),
    (["--weekly", "--clear", "--start", "2025-03-03"], "choose one of"),
])
def test_the_command_refuses_bad_input(app, runner, world, args, message):
    result = runner.invoke(args=["cohorts", "schedule", str(world.cohort_id), *args])
    assert result.exit_code == 1 and message in result.output
    assert dates(app, world.cohort_id) == {}


def test_the_command_refuses_a_bad_csv_with_its_lines(app, runner, world, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + f"{world.course.slug},item3,2025-03-12,2025-03-01\nnowhere,item1,,\n", encoding="utf-8")
    result = runner.invoke(args=["cohorts", "schedule", str(world.cohort_id), "--csv", str(path)])
    assert result.exit_code == 1
    assert "line 2:" in result.output and "line 3:" in result.output
    assert runner.invoke(args=["cohorts", "schedule", "999999"]).exit_code == 1
    assert dates(app, world.cohort_id) == {}


# -- authorisation ------------------------------------------------------------------------------

SCHEDULE_ROUTES = [("GET", "/cohorts/{c}/schedule", 200), ("POST", "/cohorts/{c}/schedule", 302),
                   ("POST", "/cohorts/{c}/schedule/weekly", 302), ("POST", "/cohorts/{c}/schedule/clear", 302),
                   ("GET", "/cohorts/{c}/schedule.csv", 200), ("POST", "/cohorts/{c}/schedule/upload", 302),
                   ("GET", "/cohorts/{c}/exports/schedule.csv", 200)]


@pytest.mark.parametrize("role", ["anonymous", "learner", "mentor", "other_trainer", "trainer", "admin"])
@pytest.mark.parametrize("method, path, ok", SCHEDULE_ROUTES)
def test_only_the_cohorts_trainers_and_admins(app, client, auth, world, role, method, path, ok):
    url = path.format(c=world.cohort_id)
    data = {"version": "", "start": "2025-03-03"}
    if url.endswith("upload"):
        data["file"] = (io.BytesIO((HEADER + f"{world.course.slug},item1,2025-03-03,\n").encode()), "s.csv")
    if role != "anonymous":
        auth.login_as(getattr(world, role))
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    expected = {"anonymous": 302, "trainer": ok, "admin": ok}.get(role, 404)
    assert response.status_code == expected
    if expected == 404 and method == "POST":
        assert dates(app, world.cohort_id) == {}


# -- early release ------------------------------------------------------------------------------

@pytest.fixture
def locked(app, world):
    """The cohort's last lesson opens in a month: locked for its learners."""
    item = world.item(4)
    with app.app_context():
        later = date.today() + timedelta(days=30)
        schedule.set_dates(Operator(), cohort_of(world.cohort_id), {item.id: (later.isoformat(), "")}, None)
        db.session.commit()
    return item


def test_a_trainer_releases_a_locked_item_for_one_learner(app, client, auth, world, locked):
    url = f"/courses/{world.course.slug}/{locked.slug}"
    auth.login_as(world.learner)
    assert client.get(url).status_code == 403
    auth.login_as(world.trainer)
    page = client.get(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}").get_data(as_text=True)
    assert "Locked items" in page and "Item 4 en" in page and "Release now" in page
    release = f"/cohorts/{world.cohort_id}/learners/{world.learner.id}/release"
    assert client.post(release, data={"item_id": str(locked.id)}).status_code == 302
    assert client.post(release, data={"item_id": str(locked.id)}).status_code == 302  # a double click
    with app.app_context():
        assert db.session.scalar(select(func.count(ItemRelease.id))) == 1
        row = db.session.scalar(select(ItemRelease))
        assert (row.user_id, row.item_id, row.released_by_id) == (world.learner.id, locked.id, world.trainer.id)
    page = client.get(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}").get_data(as_text=True)
    assert "Released early" in page and "Undo the release" in page
    auth.login_as(world.learner)
    assert client.get(url).status_code == 200
    auth.login_as(world.learner2)
    assert client.get(url).status_code == 403  # only for that learner
    auth.login_as(world.trainer)
    assert client.post(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}/unrelease",
                       data={"item_id": str(locked.id)}).status_code == 302
    auth.login_as(world.learner)
    assert client.get(url).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(ItemRelease.id))) == 0


def test_two_releases_at_once_make_one_row(app, world, locked):
    client = app.test_client()
    assert client.post("/login", data={"email": world.trainer.email,
                                       "password": "correct horse battery"}).status_code == 302
    cookie = client.get_cookie("nergi_session").value
    url = f"/cohorts/{world.cohort_id}/learners/{world.learner.id}/release"

    def post():
        return client_with_session(app, cookie).post(url, data={"item_id": str(locked.id)}).status_code

    assert race(post, post) == [302, 302]
    with app.app_context():
        assert db.session.scalar(select(func.count(ItemRelease.id))) == 1


@pytest.mark.parametrize("role", ["other_trainer", "mentor", "learner", "learner2"])
def test_others_cannot_release(app, client, auth, world, locked, role):
    auth.login_as(getattr(world, role))
    for action in ("release", "unrelease"):
        response = client.post(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}/{action}",
                               data={"item_id": str(locked.id)})
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(ItemRelease.id))) == 0


def test_a_release_is_for_an_item_of_the_cohort_and_one_of_its_learners(app, client, auth, world, locked):
    auth.login_as(world.trainer)
    response = client.post(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}/release",
                           data={"item_id": str(world.other_course.items[0].id)}, follow_redirects=True)
    assert "this cohort&#39;s courses" in response.get_data(as_text=True) or "this cohort's courses" in \
        response.get_data(as_text=True)
    assert client.post(f"/cohorts/{world.cohort_id}/learners/{world.outsider.id}/release",
                       data={"item_id": str(locked.id)}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(ItemRelease.id))) == 0


# -- the dashboard ------------------------------------------------------------------------------

def test_overdue_counts_per_learner_and_per_item_and_the_export(app, client, auth, world):
    today = date.today()
    with app.app_context():
        # items 1–2 due a week ago, item 3 due yesterday, item 4 due next week
        cohort = cohort_of(world.cohort_id)
        week_ago, yesterday, later = (today - timedelta(days=7)), today - timedelta(days=1), today + timedelta(days=7)
        schedule.set_dates(Operator(), cohort, {
            world.item(1).id: ("", week_ago.isoformat()), world.item(2).id: ("", week_ago.isoformat()),
            world.item(3).id: ("", yesterday.isoformat()), world.item(4).id: ("", later.isoformat())}, None)
        db.session.commit()
    add_progress(app, world.learner.id, world.item(1).id)
    add_progress(app, world.learner.id, world.item(2).id)
    add_progress(app, world.learner2.id, world.item(1).id)
    auth.login_as(world.trainer)
    page = client.get(f"/cohorts/{world.cohort_id}").get_data(as_text=True)
    assert "behind schedule: 1 item overdue" in page  # the learner: item 3
    assert "behind schedule: 2 items overdue" in page  # learner2: items 2 and 3
    assert "Overdue items" in page and "Learners overdue" in page
    assert "Behind schedule" in page  # the explanation of the reasons
    body = client.get(f"/cohorts/{world.cohort_id}/exports/schedule.csv").data
    rows = {row["Item"]: row for row in rows_of(body)}
    assert rows["1.1"]["Learners done"] == "2" and rows["1.1"]["Learners overdue"] == "0"
    assert rows["1.2"]["Learners done"] == "1" and rows["1.2"]["Learners overdue"] == "1"
    assert rows["1.3"]["Learners overdue"] == "2" and rows["1.3"]["Due on (end of the day, Asia/Tbilisi)"] == \
        yesterday.isoformat()
    assert rows["1.4"]["Learners overdue"] == "0" and rows["1.4"]["Kind"] == "lesson"


def test_work_handed_in_and_waiting_for_its_review_is_not_overdue(app, client, auth, world):
    """As on the learner's pages and in the reminders: the learner did their part on time; work
    sent back for changes is theirs again, and overdue."""
    yesterday = date.today() - timedelta(days=1)
    assignment = world.item(3)
    with app.app_context():
        schedule.set_dates(Operator(), cohort_of(world.cohort_id), {assignment.id: ("", yesterday.isoformat())}, None)
        db.session.commit()
    add_submission(app, world.learner.id, assignment.id, "submitted")
    add_submission(app, world.learner2.id, assignment.id, "changes_requested")
    auth.login_as(world.trainer)
    page = client.get(f"/cohorts/{world.cohort_id}").get_data(as_text=True)
    assert page.count("behind schedule: 1 item overdue") == 1  # learner2 only
    rows = {row["Item"]: row for row in rows_of(client.get(f"/cohorts/{world.cohort_id}/exports/schedule.csv").data)}
    assert rows["1.3"]["Learners overdue"] == "1" and rows["1.3"]["Learners done"] == "0"
    assert rows["1.3"]["Handed in, waiting for review"] == "1"
    with app.app_context():
        from app.cohorts import queries

        cohort = cohort_of(world.cohort_id)
        overdue = {s.user_id: s.overdue for s in queries.learner_summaries(cohort, queries.columns_of(cohort, "en"),
                                                                           datetime.now(UTC))}
        assert overdue == {world.learner.id: 0, world.learner2.id: 1}


def test_overdue_follows_the_cohorts_time_zone(app, world):
    from app.cohorts import queries

    with app.app_context():
        cohort = cohort_of(world.cohort_id)
        schedule.set_dates(Operator(), cohort, {world.item(1).id: ("", "2025-06-01")}, None)
        db.session.commit()
        cohort = cohort_of(world.cohort_id)
        columns = queries.columns_of(cohort, "en")
        # 21:00 UTC on 1 June is already 2 June in Tbilisi (UTC+4), not yet in London.
        late = datetime(2025, 6, 1, 21, 0, tzinfo=UTC)
        assert {s.user_id: s.overdue for s in queries.learner_summaries(cohort, columns, late)} == {
            world.learner.id: 1, world.learner2.id: 1}
        cohort.time_zone = "Europe/London"
        db.session.commit()
        cohort = cohort_of(world.cohort_id)
        assert all(s.overdue == 0 for s in queries.learner_summaries(cohort, columns, late))


def test_the_dashboard_does_not_query_more_with_a_schedule(app, client, auth, world, count_queries):
    auth.login_as(world.trainer)
    url = f"/cohorts/{world.cohort_id}"

    def count() -> int:
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    without = count()
    fill(app, world.cohort_id, date.today() - timedelta(days=10))
    assert count() == without


SCHEDULE_PAGE_STATEMENTS = 7  # user, header, cohort, its courses, authz, items with dates, titles


def test_the_schedule_page_runs_a_fixed_number_of_statements(app, client, auth, world, factories, count_queries):
    auth.login_as(world.trainer)
    url = f"/cohorts/{world.cohort_id}/schedule"
    fill(app, world.cohort_id)

    def count() -> int:
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = count()
    with app.app_context():
        from app.cohorts.models import CohortCourse

        for _ in range(3):
            course = factories.make_course(items=("lesson", "quiz") * 5)
            db.session.add(CohortCourse(cohort_id=world.cohort_id, course_id=course.id))
        db.session.commit()
    assert count() == small == SCHEDULE_PAGE_STATEMENTS


# -- settings -----------------------------------------------------------------------------------

def test_settings_time_zone_and_turnaround_target(app, client, auth, world):
    from tests.cohorts.test_routes import SETTINGS

    auth.login_as(world.trainer)
    url = f"/cohorts/{world.cohort_id}/settings"
    assert "Asia/Tbilisi" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={**SETTINGS, "time_zone": "Asia/Baku", "review_target_days": "5"})
    assert response.status_code == 302
    with app.app_context():
        cohort = cohort_of(world.cohort_id)
        assert (cohort.time_zone, cohort.review_target_days, cohort.schedule_version) == ("Asia/Baku", 5, 1)
    for field, value, message in (("time_zone", "Mars/Olympus", "Not a valid choice"),
                                  ("review_target_days", "61", "from 1 to 60"),
                                  ("review_target_days", "0", "from 1 to 60")):
        response = client.post(url, data={**SETTINGS, "name": "Typed", field: value})
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page and 'value="Typed"' in page
    with app.app_context():
        assert cohort_of(world.cohort_id).review_target_days == 5


def test_the_service_refuses_an_unknown_time_zone(app, world):
    from app.cohorts import services
    from app.cohorts.services import CohortError

    with app.app_context():
        cohort = cohort_of(world.cohort_id)
        with pytest.raises(CohortError, match="time zone"):
            services.update_cohort(Operator(), cohort, name="X", municipality="", language="en", starts_on=None,
                                   ends_on=None, risk_inactive_days=1, risk_failed_attempts=1, risk_unanswered_days=1,
                                   risk_behind_points=1, time_zone="posix/Asia/Tbilisi")
