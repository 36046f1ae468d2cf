"""Account rules: passwords, sign-in, reset, invitations, roles.

Functions add and flush; the caller (a route or a command) commits once.
"""
from __future__ import annotations

import gzip
import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import email_validator
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import REMINDER_PREFERENCES, AuthToken, User, normalise_email
from app.config import LANGUAGES
from app.core import audit
from app.core.authz import require
from app.core.errors import InvalidInput
from app.core.links import external_url
from app.database import utcnow
from app.extensions import db
from app.notify.services import queue_email

MIN_PASSWORD = 8
MAX_PASSWORD = 128
RESET, INVITE = "reset", "invite"


class AccountError(InvalidInput):
    """A rule about accounts was broken; str(error) is a translated message for the user."""


class WeakPassword(AccountError):
    pass


class WrongPassword(AccountError):
    pass


class InvalidToken(AccountError):
    pass


class DuplicateEmail(AccountError):
    pass


class InvalidEmail(AccountError):
    pass


class OwnAccess(AccountError):
    """An admin tried to deactivate themselves or to withdraw their own admin role."""


def check_email_address(email: str) -> None:
    """Raise InvalidEmail unless ``email`` is a syntactically valid address (the same rule as
    the forms' Email validator; no DNS look-up)."""
    try:
        email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise InvalidEmail(str(_l("Enter an e-mail address such as name@example.org."))) from error


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """19,640 common passwords (common-passwords.txt.gz, from Django: see its .LICENSE file)
    plus the regional ones of common_passwords.txt; all lower case. Read once per process."""
    folder = Path(__file__).parent
    with gzip.open(folder / "common-passwords.txt.gz", "rt", encoding="utf-8") as general:
        words = {line.strip() for line in general}
    local = (folder / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    words.update(line.strip().lower() for line in local if not line.startswith("#"))
    words.discard("")
    return frozenset(words)


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Return what is wrong with a new password (empty when it is acceptable).

    The rules follow NIST SP 800-63B and OWASP ASVS 5: at least 8 characters, at most 128,
    not a common password, not one character repeated, not the e-mail address; no composition
    rules.
    """
    problems: list[str] = []
    if len(password) < MIN_PASSWORD:
        problems.append(str(_l("Use at least %(n)d characters.", n=MIN_PASSWORD)))
    if len(password) > MAX_PASSWORD:
        problems.append(str(_l("Use at most %(n)d characters.", n=MAX_PASSWORD)))
    lowered = password.lower()
    if (lowered in _common_passwords() or len(set(lowered)) == 1
            or (email and lowered == normalise_email(email))):
        problems.append(str(_l("This password is too easy to guess. Choose another one.")))
    return problems


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def set_password(user: User, password: str) -> None:
    """Check the password against the policy, store its hash and end the user's other sessions.

    Raises WeakPassword with the reasons.
    """
    problems = password_problems(password, email=user.email, name=user.name)
    if problems:
        raise WeakPassword(" ".join(problems))
    user.password_hash = hash_password(password)
    user.end_sessions()


def check_credentials(email: str, password: str) -> tuple[int, str] | None:
    """Read the account and check the password; write nothing.

    Returns (user id, the hash checked) when the e-mail belongs to an active account with this
    password, else None. Unknown e-mails cost the same hashing work as wrong passwords, so the
    two cannot be told apart by timing. The hash check is slow on purpose (about 0.1 s of CPU),
    so it runs in a read-only transaction: on SQLite no write lock is held meanwhile.
    """
    user = User.by_email(email)
    stored = user.password_hash if user and user.password_hash else None
    ok = check_password_hash(stored or _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    if user is not None and stored and ok and user.is_active:
        return user.id, stored
    return None


def record_sign_in(email: str, checked: tuple[int, str] | None) -> User | None:
    """Record the outcome of check_credentials() in a write transaction; return the user or None.

    The account is read again: if it was deactivated, or its password changed, since the check,
    the sign-in fails. Records `login_success` or `login_failure` in the audit trail.
    """
    if checked is not None:
        user_id, stored = checked
        user = db.session.get(User, user_id)
        if user is not None and user.password_hash == stored and user.is_active:
            user.last_login_at = utcnow()
            audit.record("login_success", actor=user, target=f"User:{user.id}")
            return user
    audit.record("login_failure", target=normalise_email(email)[:200])
    return None


def change_password(user: User, current: str, new: str) -> None:
    """Change a password after checking the current one. Raises WrongPassword or WeakPassword."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        audit.record("password_change_failure", actor=user, target=f"User:{user.id}")
        raise WrongPassword(str(_l("The current password is not correct.")))
    set_password(user, new)
    audit.record("password_change", actor=user, target=f"User:{user.id}")


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, purpose: str, lifetime: timedelta) -> str:
    """Make a new single-use token (256 random bits); older unused ones of the purpose die."""
    now = utcnow()
    db.session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.purpose == purpose, AuthToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(AuthToken(user_id=user.id, purpose=purpose, token_hash=_token_hash(raw),
                             created_at=now, expires_at=now + lifetime))
    db.session.flush()
    return raw


def find_token(raw: str, purpose: str) -> AuthToken | None:
    """The usable token with this value and purpose, or None (unknown, used or expired)."""
    token = db.session.scalar(
        select(AuthToken).where(AuthToken.token_hash == _token_hash(raw or ""), AuthToken.purpose == purpose)
    )
    if token is None or not token.is_usable(utcnow()):
        return None
    return token


def request_password_reset(email: str) -> None:
    """Send a reset link if an active account has this e-mail; say nothing either way."""
    user = User.by_email(email)
    audit.record("password_reset_request", target=normalise_email(email)[:200], known=user is not None)
    if user is None or not user.is_active:
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    raw = issue_token(user, RESET, timedelta(minutes=minutes))
    queue_email(user.email, "password_reset", user.locale,
                name=user.display_name, link=external_url("auth.reset_password", token=raw), minutes=minutes)


def reset_password(raw: str, new_password: str) -> User:
    """Set a new password with a reset token. Raises InvalidToken or WeakPassword."""
    token = find_token(raw, RESET)
    if token is None:
        raise InvalidToken(str(_l("This link is no longer valid. Ask for a new one.")))
    set_password(token.user, new_password)
    token.used_at = utcnow()
    audit.record("password_reset", actor=token.user, target=f"User:{token.user.id}")
    return token.user


def create_user(email: str, *, name: str = "", password: str | None = None, locale: str = "en",
                is_admin: bool = False, municipality: str = "", organisation: str = "") -> User:
    """Create an account. Raises InvalidEmail, DuplicateEmail, or WeakPassword when a password
    is given."""
    email = normalise_email(email)
    check_email_address(email)
    if User.by_email(email) is not None:
        raise DuplicateEmail(str(_l("An account with this e-mail address already exists.")))
    user = User(email=email, name=(name or "").strip(), locale=locale if locale in LANGUAGES else "en",
                is_admin=is_admin, municipality=municipality, organisation=organisation,
                session_version=1, is_active_account=True)
    db.session.add(user)
    if password is not None:
        set_password(user, password)
    db.session.flush()
    return user


def invite_user(actor: User, email: str, *, name: str = "", locale: str = "en",
                is_admin: bool = False) -> User:
    """Create an account without a password and e-mail its owner a link to finish it.

    An existing account that never accepted its invitation gets a fresh link. Raises
    AccessDenied unless the actor manages users, and DuplicateEmail for a finished account.
    """
    require(actor, "admin.users")
    user = User.by_email(email)
    if user is not None and user.has_password:
        raise DuplicateEmail(str(_l("An account with this e-mail address already exists.")))
    if user is None:
        user = create_user(email, name=name, locale=locale, is_admin=is_admin)
    days = current_app.config["INVITATION_DAYS"]
    raw = issue_token(user, INVITE, timedelta(days=days))
    queue_email(user.email, "invitation", user.locale, name=user.name,
                inviter=actor.display_name, link=external_url("auth.accept_invitation", token=raw), days=days)
    audit.record("user_invite", actor=actor, target=f"User:{user.id}", is_admin=is_admin)
    return user


def accept_invitation(raw: str, *, name: str, password: str, locale: str) -> User:
    """Finish an invited account. Raises InvalidToken or WeakPassword."""
    token = find_token(raw, INVITE)
    if token is None:
        raise InvalidToken(str(_l("This invitation is no longer valid. Ask the person who invited you for a new one.")))
    user = token.user
    user.name = (name or "").strip()
    user.locale = locale if locale in LANGUAGES else "en"
    set_password(user, password)
    token.used_at = utcnow()
    audit.record("invitation_accept", actor=user, target=f"User:{user.id}")
    return user


def update_profile(user: User, *, name: str, locale: str, municipality: str, organisation: str,
                   reminders: str | None = None) -> None:
    """Save the user's own details; ``reminders`` (how reminder e-mails arrive) is kept when it
    is None or not one of REMINDER_PREFERENCES."""
    if reminders in REMINDER_PREFERENCES:
        user.reminders = reminders
    user.name = (name or "").strip()
    user.locale = locale if locale in LANGUAGES else user.locale
    user.municipality = (municipality or "").strip()
    user.organisation = (organisation or "").strip()


def refuse_own_access(actor: User, user: User) -> None:
    """Raise OwnAccess when the account is the actor's own: an admin who deactivated themselves
    or gave up their admin role could not undo it (and a site could be left without an admin)."""
    if actor.id == user.id:
        raise OwnAccess(_l("You cannot remove your own access."))


def set_admin(actor: User, user: User, is_admin: bool) -> None:
    """Grant or withdraw the site-admin flag; the user's sessions restart with the new role.
    Raises AccessDenied, or OwnAccess when an admin withdraws their own."""
    require(actor, "admin.users")
    if not is_admin:
        refuse_own_access(actor, user)
    if user.is_admin == is_admin:
        return
    user.is_admin = is_admin
    user.end_sessions()
    audit.record("role_change", actor=actor, target=f"User:{user.id}", role="admin", granted=is_admin)


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate or reactivate an account; deactivation ends its sessions at once.
    Raises AccessDenied, or OwnAccess when an admin deactivates themselves."""
    require(actor, "admin.users")
    if not active:
        refuse_own_access(actor, user)
    if user.is_active_account == active:
        return
    user.is_active_account = active
    user.end_sessions()
    audit.record("user_activate" if active else "user_deactivate", actor=actor, target=f"User:{user.id}")


def sign_out(user: User) -> None:
    """End this user's sessions everywhere: a copied cookie stops working."""
    user.end_sessions()
    audit.record("logout", actor=user, target=f"User:{user.id}")
