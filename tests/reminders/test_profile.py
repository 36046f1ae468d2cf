"""The profile's choice of how reminder e-mails arrive (User.reminders)."""
from __future__ import annotations

from app.auth.models import User
from app.extensions import db


def _stored(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).reminders


def test_the_profile_shows_and_saves_the_choice(client, factories, auth, app):
    user = factories.make_user(name="Nino")
    auth.login_as(user)
    page = client.get("/profile").get_data(as_text=True)
    assert "E-mails about reminders" in page and '<option selected value="immediate">' in page
    response = client.post("/profile", data={"name": "Nino", "locale": "en", "municipality": "", "organisation": "",
                                              "reminders": "daily"})
    assert response.status_code == 302 and _stored(app, user.id) == "daily"
    assert '<option selected value="daily">' in client.get("/profile").get_data(as_text=True)
    client.post("/profile", data={"name": "Nino", "locale": "en", "reminders": "none"})
    assert _stored(app, user.id) == "none"


def test_an_unknown_choice_says_what_to_fix_and_keeps_the_rest(client, factories, auth, app):
    user = factories.make_user(name="Nino", locale="ka")
    auth.login_as(user)
    body = client.post("/profile", data={"name": "Nino Beridze", "locale": "ka", "municipality": "Marneuli",
                                          "organisation": "CSO", "reminders": "weekly"}).get_data(as_text=True)
    with app.test_request_context():
        from flask_babel import force_locale, gettext

        with force_locale("ka"):
            message = gettext("Choose one of the three ways to receive reminders.")
    assert message != "Choose one of the three ways to receive reminders." and message in body
    assert 'value="Nino Beridze"' in body and 'value="Marneuli"' in body and 'value="CSO"' in body
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.name, saved.reminders) == ("Nino", "immediate")  # nothing saved
