"""A course kept on a phone leaves out the items still locked for the learner, and its hash
changes when one opens (so the course page asks the phone to fetch it)."""
from __future__ import annotations

import re

from app.content.models import Item
from app.extensions import db
from app.learning.models import Progress


def test_locked_items_stay_off_the_phone_until_they_open(client, auth, factories, app):
    learner = factories.make_user()
    course = factories.make_course(items=("lesson", "lesson", "quiz"))
    with app.app_context():
        second = db.session.query(Item).filter_by(course_id=course.id, slug="item2").one()
        second.requires = ["item1"]
        first_id = db.session.query(Item).filter_by(course_id=course.id, slug="item1").one().id
        db.session.commit()
    auth.login_as(learner)
    client.post(f"/courses/{course.slug}/enrol")
    bundle = client.get(f"/offline/courses/{course.slug}.json").json
    assert f"/courses/{course.slug}/item1" in bundle["pages"] and f"/courses/{course.slug}/item3" in bundle["pages"]
    assert f"/courses/{course.slug}/item2" not in bundle["pages"]
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert re.search(r'data-hash="([0-9a-f]+)"', page).group(1) == bundle["hash"]

    with app.app_context():
        db.session.add(Progress(user_id=learner.id, item_id=first_id))
        db.session.commit()
    opened = client.get(f"/offline/courses/{course.slug}.json").json
    assert f"/courses/{course.slug}/item2" in opened["pages"]
    assert opened["hash"] != bundle["hash"]
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert re.search(r'data-hash="([0-9a-f]+)"', page).group(1) == opened["hash"]
