"""One time zone for every date a person sees, formats that name the month, and the programme's
texts (footer, certificate) in the reader's language."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from app.certificates.models import Certificate
from app.cohorts import charts
from app.config import from_environment
from app.core.dates import local_date, show_date, show_datetime
from app.core.texts import setting_text
from app.extensions import db

# 03:26 on 5 December in Tbilisi (UTC+4) is still 4 December in UTC.
LATE_NIGHT = datetime(2026, 12, 4, 23, 26, tzinfo=timezone.utc)


@pytest.fixture
def late_certificate(client, auth, factories, app):
    """A certificate issued at 03:26 Tbilisi time on 5 December; returns (user, code)."""
    course = factories.make_course(items=("lesson",), languages=("en", "ka"))
    user = factories.make_user(name="ნინო ბერიძე")
    auth.login_as(user)
    client.post(f"/courses/{course.slug}/item1/done")
    with app.app_context():
        db.session.execute(update(Certificate).values(issued_at=LATE_NIGHT))
        db.session.commit()
        code = db.session.scalar(select(Certificate.code))
    return user, code


def test_dates_follow_the_programme_time_zone_and_name_the_month(app):
    with app.app_context():
        assert local_date(LATE_NIGHT).isoformat() == "2026-12-05"
        assert show_date(LATE_NIGHT, "short", "en") == "Dec 5, 2026"  # never 12/5/26
        assert show_datetime(LATE_NIGHT, "short", "en") == "Dec 5, 2026, 03:26"
        assert show_date(LATE_NIGHT, "long", "ka") == "5 დეკემბერი, 2026"
        assert show_datetime(LATE_NIGHT, "short", "ru") == "5 дек. 2026\u202fг., 03:26"
        assert show_date(None) == ""
    with app.app_context():
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
        try:
            assert local_date(LATE_NIGHT).isoformat() == "2026-12-04"
        finally:
            app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Tbilisi"


def test_the_time_zone_is_configurable_from_the_environment():
    assert from_environment({"TIMEZONE": "Asia/Baku"})["BABEL_DEFAULT_TIMEZONE"] == "Asia/Baku"
    found = from_environment({"PROGRAMME_NAME_KA": "პროგრამა"})
    assert found["PROGRAMME_NAME_KA"] == "პროგრამა"


def test_certificate_day_is_the_same_on_the_pdf_the_page_and_verify(late_certificate, client, make_app):
    _user, code = late_certificate
    page = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert "December 5, 2026" in page and "December 4" not in page
    public = make_app().test_client()
    verify = public.get(f"/verify/{code}").get_data(as_text=True)
    assert "December 5, 2026" in verify and "December 4" not in verify
    if shutil.which("pdftotext"):
        pdf = client.get(f"/certificates/{code}/certificate-en.pdf").data
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert "December 5, 2026" in text and "December 4" not in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) not installed")
def test_georgian_certificate_has_no_english_programme_texts(late_certificate, client):
    _user, code = late_certificate
    pdf = client.get(f"/certificates/{code}/certificate-ka.pdf").data
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                                   check=True).stdout.decode().split())
    assert "Civil Society Development Project" not in text and "Programme Coordinator" not in text
    assert "სამოქალაქო საზოგადოების განვითარების პროექტი" in text
    assert "პროგრამის კოორდინატორი" in text
    assert "5 დეკემბერი, 2026" in text


def test_footer_texts_are_in_the_readers_language(client, auth, factories):
    auth.login_as(factories.make_user(locale="az"))
    body = client.get("/").get_data(as_text=True)
    footer = body[body.index('<footer class="site">'):]
    assert "Vətəndaş Cəmiyyətinin İnkişafı Layihəsi" in footer and "Avropa İttifaqının" in footer
    assert "Civil Society" not in footer and "European Union" not in footer


def test_programme_texts_are_configurable_per_language(make_app, factories):
    app = make_app(PROGRAMME_NAME="Young Professionals Programme", PROGRAMME_NAME_RU="Программа молодых специалистов",
                   FUNDER_NOTICE={"en": "Funded by us.", "ka": "დაფინანსებულია ჩვენ მიერ."})
    with app.app_context():
        assert setting_text("PROGRAMME_NAME", "ru") == "Программа молодых специалистов"
        # A changed English name without a Georgian one stays as given, not the built-in Georgian.
        assert setting_text("PROGRAMME_NAME", "ka") == "Young Professionals Programme"
        assert setting_text("FUNDER_NOTICE", "ka") == "დაფინანსებულია ჩვენ მიერ."
        assert setting_text("FUNDER_NOTICE", "hy") == "Funded by us."


def test_chart_month_labels_are_in_the_readers_language(app):
    series = [(datetime(2026, 11, 3).date(), 10.0), (datetime(2026, 12, 20).date(), 40.0)]
    svg = charts.completion_svg(series, {"y": "%", "empty": "", "locale": "ru"}).decode()
    assert "дек" in svg or "нояб" in svg
    assert ">Dec<" not in svg and "Nov" not in svg


def test_completion_series_counts_programme_days(app, factories):
    from app.cohorts import reports
    from app.cohorts.models import Cohort, Membership
    from app.cohorts.queries import columns_of
    from app.content.models import Course, Item
    from app.learning.models import Progress

    course = factories.make_course(items=("lesson",))
    learner = factories.make_user()
    with app.app_context():
        cohort = Cohort(name="Late")
        cohort.courses.append(db.session.get(Course, course.id))
        db.session.add(cohort)
        db.session.flush()
        db.session.add(Membership(cohort_id=cohort.id, user_id=learner.id, role="learner"))
        item = db.session.scalar(select(Item).where(Item.course_id == course.id))
        db.session.add(Progress(user_id=learner.id, item_id=item.id, completed_at=LATE_NIGHT))
        db.session.commit()
        series = reports.completion_series(cohort, columns_of(cohort, "en"), learners=1)
        assert [day.isoformat() for day, _value in series] == ["2026-12-05"]


def test_csv_file_name_uses_the_programme_day(app):
    from app.core.dates import file_stamp

    with app.app_context():
        assert file_stamp(LATE_NIGHT) == "2026-12-05"
