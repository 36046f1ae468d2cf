"""Issuing, revoking and checking certificates; signing keys; the status list.

Issuing runs inside the transaction of the event that completes the course (a lesson marked
done, a quiz passed, an assignment approved), in a savepoint: if a concurrent event issued
the certificate first, the unique index refuses the second and the event itself still
commits.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.certificates import codes, credential, keys, offline, pdf, status
from app.certificates.completion import completion_status
from app.certificates.models import Certificate
from app.cohorts import scope
from app.content.models import ASSIGNMENT, Course, Item, ItemTranslation
from app.core import audit
from app.core.authz import policy, require
from app.core.dates import local_date
from app.core.errors import InvalidInput
from app.core.links import external_url, site_url, url_path
from app.core.texts import setting_text
from app.database import utcnow
from app.extensions import db
from app.learning import services as learning_services
from app.notify.services import queue_email, register_template


class RevocationError(InvalidInput):
    """A revocation cannot be made as asked (no reason given); the message says why."""

PDF_LABELS = {
    "heading": _l("Certificate of completion"),
    "presented_to": _l("This certifies that"),
    "completed": _l("has completed the course"),
    "date": _l("Date"),
    "code": _l("Certificate code"),
    "verify": _l("Check this certificate at"),
}


class CertificateError(InvalidInput):
    """The certificate cannot be issued or changed; str(error) says why."""


@policy("certificate.view")
def _may_view(user, certificate: Certificate) -> bool:
    return certificate.user_id == user.id


@policy("certificate.manage")
def _may_manage(user, target) -> bool:
    return False  # site admins only


@policy("certificate.list")
def _may_list(user, target) -> bool:
    return False  # site admins only


PAGE_SIZE = 25


@dataclass
class CertificatePage:
    rows: list  # (Certificate, User, Course, cohort name or None)
    total: int
    page: int
    pages: int


def certificate_page(q: str = "", *, status: str = "all", page: int = 1,
                     page_size: int = PAGE_SIZE) -> CertificatePage:
    """One page of certificates, newest first, matching ``q`` in the learner's name or e-mail, the
    code (with or without hyphens), the course's slug or title in any language, or the cohort's
    name; ``status`` is all, valid or revoked. Three queries. Raises nothing."""
    from app.auth.models import User
    from app.cohorts.models import Cohort

    query = (select(Certificate, User, Course, Cohort.name)
             .join(User, User.id == Certificate.user_id).join(Course, Course.id == Certificate.course_id)
             .outerjoin(Cohort, Cohort.id == Certificate.cohort_id))
    if status == "valid":
        query = query.where(Certificate.revoked_at.is_(None))
    elif status == "revoked":
        query = query.where(Certificate.revoked_at.is_not(None))
    if q:
        needle = q.casefold()
        like = f"%{needle}%"
        # Course titles are a JSON map per language: matched here, in Python (there are few courses).
        course_ids = [course.id for course in db.session.scalars(select(Course))
                      if needle in " ".join([course.slug, *course.titles.values()]).casefold()]
        code_part = re.sub(r"[^0-9A-Za-z]", "", q).upper()
        matches = [func.lower(Certificate.learner_name).like(like), func.lower(User.email).like(like),
                   func.lower(User.name).like(like), func.lower(Cohort.name).like(like),
                   Certificate.course_id.in_(course_ids)]
        if code_part:
            matches.append(Certificate.code.like(f"%{code_part}%"))
        query = query.where(or_(*matches))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = db.session.execute(query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
                              .limit(page_size).offset((page - 1) * page_size)).all()
    return CertificatePage(rows=list(rows), total=total, page=page, pages=pages)


def base_url() -> str:
    return site_url()


def verify_url(code: str) -> str:
    return external_url("certificates.verify", code=codes.format_code(code))


def issuer_id() -> str:
    return external_url("certificates.issuer")


def status_list_url() -> str:
    return external_url("certificates.status_list")


def signing_key():
    """The current signing key. Only development and tests make one on first use; a production
    instance without it fails loudly (see `certificates keygen`), rather than quietly signing
    with a new key that no earlier credential was signed with."""
    path = Path(current_app.config["SIGNING_KEY_PATH"])
    if current_app.config.get("DEBUG") or current_app.config.get("TESTING"):
        return keys.load_or_create_signing_key(path)
    return keys.load_signing_key(path)


def public_jwks() -> dict:
    """The current key, then every retired one: credentials signed before a rotation still verify."""
    path = Path(current_app.config["SIGNING_KEY_PATH"])
    return keys.jwks(signing_key(), *keys.retired_public_keys(path))


def _principles(course: Course) -> list[str]:
    """The working principles that the course's assignment rubrics assess."""
    rows = db.session.scalars(
        select(ItemTranslation.data).join(Item, Item.id == ItemTranslation.item_id)
        .where(Item.course_id == course.id, Item.kind == ASSIGNMENT, Item.retired_at.is_(None),
               ItemTranslation.lang == "en"))
    found: list[str] = []
    for data in rows:
        for criterion in (data or {}).get("rubric") or []:
            principle = criterion.get("principle") if isinstance(criterion, dict) else None
            if principle and principle not in found:
                found.append(principle)
    return found


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html or "").strip()


def issue_certificate(user, course: Course, *, cohort_id: int | None = None, actor=None) -> Certificate:
    """Issue the user's certificate for the course (or return the active one).

    Does not check the completion rule: the caller does (see maybe_issue_certificate).
    Raises CertificateError when a name cannot be printed.
    """
    existing = active_certificate(user.id, course.id)
    if existing is not None:
        return existing
    now = utcnow()
    code = codes.new_code()
    salt = secrets.token_hex(16)
    index = status.new_status_index()
    while db.session.scalar(select(Certificate.id).where(Certificate.status_index == index)) is not None:
        index = status.new_status_index()
    key = signing_key()
    name = user.name or user.email
    vc = credential.build_credential(
        code=code, verify_url=verify_url(code),
        issuer={"id": issuer_id(), "name": current_app.config["PROGRAMME_NAME"], "url": base_url()},
        learner_name=name, email=user.email, salt=salt,
        course={"slug": course.slug, "title": course.title("en"),
                "url": external_url("learning.course", slug=course.slug),
                "description": _plain(course.summary("en")) or course.title("en"),
                "criteria": "Complete the required lessons, pass the required quizzes and have the "
                            "required assignments approved by a mentor."},
        principles=_principles(course), issued_at=now, status_list_url=status_list_url(), status_index=index)
    certificate = Certificate(
        code=code, user_id=user.id, course_id=course.id, cohort_id=cohort_id, lang=user.locale or "en",
        learner_name=name, issued_at=now, status_index=index, salt=salt,
        credential_jwt=credential.sign_credential(vc, key),
        offline_token=offline.make_offline_token(code=code, learner_name=name, course=course.slug,
                                                 issued_on=local_date(now), issuer_id=issuer_id(), key=key))
    savepoint = db.session.begin_nested()
    try:
        db.session.add(certificate)
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()  # a concurrent completion issued it first
        winner = active_certificate(user.id, course.id)
        if winner is None:  # not that: another constraint failed
            raise
        return winner
    audit.record("certificate_issue", actor=actor or user, target=f"Certificate:{certificate.id}",
                 course=course.slug)
    queue_email(user.email, "certificate_issued", user.locale, name=name, course=course.title(user.locale),
                link=external_url("certificates.show", code=codes.format_code(code)))
    return certificate


def maybe_issue_certificate(user, course: Course) -> Certificate | None:
    """Issue the certificate when the completion rule now holds (called after each completion)."""
    if active_certificate(user.id, course.id) is not None:
        return None
    if not completion_status(user.id, course).complete:
        return None
    # Earned in a cohort: the certificate names it (the cohort the learner's work belongs to).
    return issue_certificate(user, course, cohort_id=scope.cohort_of_work(user.id, course.id))


def _issue_when_complete(user, item) -> None:
    maybe_issue_certificate(user, item.course)


def register() -> None:
    """Called by create_app: the e-mails this package sends, and the completion hook that issues
    a certificate when a learner completes a course."""
    register_template("certificate_issued", _l("Your certificate is ready"))
    register_template("certificate_revoked", _l("Your certificate was revoked"))
    learning_services.register_completion_hook(_issue_when_complete)


def active_certificate(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.course_id == course_id, Certificate.revoked_at.is_(None)))


def find_by_code(text: str) -> Certificate | None:
    """The certificate with this code, typed in any case, with or without hyphens; with its course
    (every page that shows a certificate names the course)."""
    if not codes.is_valid_code(text or ""):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == codes.normalise_code(text))
                             .options(joinedload(Certificate.course)))


def revoke(actor, certificate: Certificate, reason: str, *, tell_learner: bool = True) -> None:
    """Revoke the certificate: its pages say so, its PDF and credential are no longer served,
    its credential's status bit is set, and the learner gets a notice and an e-mail with the
    reason. Revoking a revoked certificate changes nothing.

    Raises AccessDenied (not an admin), RevocationError (no reason).
    """
    require(actor, "certificate.manage", certificate)
    reason = (reason or "").strip()
    if not reason:
        raise RevocationError(str(_l("Give the reason for revoking: the learner is told it.")))
    if certificate.revoked_at is not None:
        return
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason[:200]
    audit.record("certificate_revoke", actor=actor, target=f"Certificate:{certificate.id}", reason=reason)
    if tell_learner and certificate.user is not None:
        from app.notify.services import notify

        user = certificate.user
        code = codes.format_code(certificate.code)
        notify(user, "certificate_revoked", url_path("certificates.show", code=code),
               course=certificate.course.title(user.locale), reason=certificate.revoked_reason)
        queue_email(user.email, "certificate_revoked", user.locale, name=certificate.learner_name,
                    course=certificate.course.title(user.locale), reason=certificate.revoked_reason,
                    link=external_url("certificates.show", code=code))


def reissue(actor, certificate: Certificate) -> Certificate:
    """Revoke the certificate and issue a new one (new code) for the same learner and course,
    for example after a correction of the learner's name."""
    require(actor, "certificate.manage", certificate)
    # The learner hears of the new certificate (its "ready" e-mail), not of a revocation.
    revoke(actor, certificate, "reissued", tell_learner=False)
    db.session.flush()
    return issue_certificate(certificate.user, certificate.course, cohort_id=certificate.cohort_id, actor=actor)


def signed_status_list() -> str:
    """The Bitstring Status List credential of all revocations, signed (a VC-JWT), valid for
    STATUS_LIST_VALIDITY from now: a verifier must fetch it again after that."""
    revoked = db.session.scalars(select(Certificate.status_index).where(Certificate.revoked_at.is_not(None)))
    now = utcnow()
    unsigned = status.build_status_list_credential(list_url=status_list_url(), issuer_id=issuer_id(),
                                                   revoked=list(revoked), valid_from=now,
                                                   valid_until=now + status.STATUS_LIST_VALIDITY,
                                                   ttl=status.STATUS_LIST_TTL)
    return credential.sign_credential(unsigned, signing_key())


def certificate_pdf(certificate: Certificate, lang: str) -> bytes:
    """The PDF in the given language (cached on disk by the content of its inputs)."""
    course = certificate.course
    lang = lang if lang in (course.languages or ["en"]) else "en"
    with force_locale(lang):
        labels = {key: str(label) for key, label in PDF_LABELS.items()}
    text = pdf.CertificateText(
        learner_name=certificate.learner_name, course_title=course.title(lang),
        issued_on=local_date(certificate.issued_at or utcnow()), locale=lang,
        programme=setting_text("PROGRAMME_NAME", lang),
        signatory_name=setting_text("CERTIFICATE_SIGNATORY_NAME", lang),
        signatory_title=setting_text("CERTIFICATE_SIGNATORY_TITLE", lang),
        code=codes.format_code(certificate.code),
        verify_url=offline.qr_content(verify_url(certificate.code), certificate.offline_token),
        labels=labels)
    folder = Path(current_app.config["CERTIFICATE_CACHE"])
    cached = folder / f"{pdf.cache_key(text)}.pdf"
    if cached.is_file():
        return cached.read_bytes()
    data = pdf.render_certificate_pdf(text)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = cached.with_suffix(f".{secrets.token_hex(4)}.part")
    temporary.write_bytes(data)
    temporary.replace(cached)
    return data
