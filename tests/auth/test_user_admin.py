"""The admin users page: search, role and cohort columns, paging, resending an invitation,
deactivation that asks first, and no admin removing their own access."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth import services
from app.auth.models import User
from app.auth.queries import user_page
from app.cohorts.models import Cohort, Membership
from app.extensions import db
from app.notify.models import OutboxMessage


def test_search_roles_and_cohorts(client, app, auth, factories):
    learner = factories.make_user(name="Nino Beridze", email="nino@example.org")
    mentor = factories.make_user(name="Giorgi Lomidze")
    factories.link_mentor(mentor, learner)
    with app.app_context():
        cohort = Cohort(name="Marneuli autumn")
        db.session.add(cohort)
        db.session.flush()
        db.session.add(Membership(cohort_id=cohort.id, user_id=learner.id, role="learner"))
        db.session.commit()
    auth.login_as(factories.make_admin(name="Admin"))
    body = client.get("/admin/users", query_string={"q": "beridze"}).get_data(as_text=True)
    assert "nino@example.org" in body and "Giorgi" not in body
    assert "Marneuli autumn (learner)" in body and "1 account" in body
    body = client.get("/admin/users", query_string={"q": "GIORGI"}).get_data(as_text=True)
    assert "Giorgi Lomidze" in body and "Nino" not in body
    assert '<td data-label="Role">mentor</td>' in body


def test_paging(app, factories):
    for n in range(5):
        factories.make_user(name=f"Person {n}")
    with app.app_context():
        first, last = user_page(page=1, page_size=2), user_page(page=9, page_size=2)
        assert first.total == 5 and first.pages == 3 and [r.user.name for r in first.rows] == ["Person 0", "Person 1"]
        assert last.page == 3 and [r.user.name for r in last.rows] == ["Person 4"]


def test_resend_invitation(client, app, auth, factories):
    auth.login_as(factories.make_admin())
    client.post("/admin/users", data={"email": "aysel@example.org", "locale": "az"})
    with app.app_context():
        invited = User.by_email("aysel@example.org")
    response = client.post(f"/admin/users/{invited.id}", data={"action": "resend"})
    assert response.status_code == 302
    with app.app_context():
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "invitation")).all()
        assert len(mails) == 2 and all(m.locale == "az" for m in mails)
        assert mails[0].payload["link"] != mails[1].payload["link"]
    finished = factories.make_user()
    client.post(f"/admin/users/{finished.id}", data={"action": "resend"})
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_deactivation_asks_first(client, app, auth, factories):
    target = factories.make_user(name="Levan")
    auth.login_as(factories.make_admin())
    page = client.post(f"/admin/users/{target.id}", data={"action": "deactivate"})
    assert page.status_code == 200 and "Deactivate Levan?" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, target.id).is_active_account
    response = client.post(f"/admin/users/{target.id}", data={"action": "deactivate", "confirm": "yes"})
    assert response.status_code == 302
    with app.app_context():
        assert not db.session.get(User, target.id).is_active_account


def test_an_admin_cannot_remove_their_own_access(client, app, auth, factories):
    admin = factories.make_admin()
    auth.login_as(admin)
    for data in ({"action": "deactivate"}, {"action": "deactivate", "confirm": "yes"}, {"action": "revoke_admin"}):
        response = client.post(f"/admin/users/{admin.id}", data=data)
        assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users")
        assert "You cannot remove your own access." in client.get("/admin/users").get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user.is_active_account and user.is_admin


def test_the_own_access_rule_is_in_the_service(app, factories):
    admin, other = factories.make_admin(), factories.make_admin()
    with app.test_request_context():
        actor, colleague = db.session.get(User, admin.id), db.session.get(User, other.id)
        with pytest.raises(services.OwnAccess, match="your own access"):
            services.set_active(actor, actor, False)
        with pytest.raises(services.OwnAccess):
            services.set_admin(actor, actor, False)
        services.set_active(actor, actor, True)  # nothing to remove: allowed
        services.set_admin(actor, colleague, False)  # someone else's: allowed
        assert not colleague.is_admin
