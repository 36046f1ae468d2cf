"""Certificate pages: the learner's own, downloads, public verification, keys and status."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.certificates import codes, credential, queries, services, status
from app.certificates.forms import CertificateSearch, RevokeForm
from app.certificates.models import Certificate
from app.core.authz import can, require
from app.core.texts import setting_text
from app.extensions import db, limiter

bp = Blueprint("certificates", __name__)


def _own_certificate(code: str) -> Certificate:
    certificate = services.find_by_code(code)
    if certificate is None:
        abort(404)
    require(current_user, "certificate.view", certificate, hide=True)
    return certificate


@bp.get("/certificates")
@login_required
def mine():
    return render_template("certificates/mine.html", certificates=queries.certificates_of(current_user),
                           format_code=codes.format_code)


@bp.get("/certificates/<code>")
@login_required
def show(code: str):
    certificate = _own_certificate(code)
    return render_template("certificates/show.html", certificate=certificate, format_code=codes.format_code,
                           verify_url=services.verify_url(certificate.code), form=FlaskForm(),
                           may_manage=can(current_user, "certificate.manage", certificate))


def _revoked_document(certificate: Certificate):
    """A revoked certificate's PDF and credential are not served as documents any more."""
    return render_template("certificates/revoked.html", certificate=certificate,
                           format_code=codes.format_code), 410


@bp.get("/certificates/<code>/certificate-<lang>.pdf")
@login_required
def download_pdf(code: str, lang: str):
    certificate = _own_certificate(code)
    if certificate.is_revoked:
        return _revoked_document(certificate)
    data = services.certificate_pdf(certificate, lang)
    filename = f"nergi-certificate-{certificate.course.slug}-{lang}.pdf"
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "private, no-store"})


@bp.get("/certificates/<code>/credential.jwt")
@login_required
def download_credential(code: str):
    certificate = _own_certificate(code)
    if certificate.is_revoked:
        return _revoked_document(certificate)
    filename = f"nergi-credential-{certificate.course.slug}.jwt"
    return Response(certificate.credential_jwt, mimetype="application/vc+jwt", headers={
        "Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "private, no-store"})


def _managed_certificate(code: str) -> Certificate:
    certificate = services.find_by_code(code)
    if certificate is None:
        abort(404)
    require(current_user, "certificate.manage", certificate)
    return certificate


@bp.route("/certificates/<code>/revoke", methods=["GET", "POST"])
@login_required
def revoke(code: str):
    """Asks first: the reason is required, and the learner is told it."""
    certificate = _managed_certificate(code)
    form = RevokeForm()
    error = None
    if form.validate_on_submit() and not certificate.is_revoked:
        try:
            services.revoke(current_user, certificate, form.reason.data)
        except services.RevocationError as problem:
            error = str(problem)
        else:
            db.session.commit()
            flash(_("The certificate is revoked. The learner has been told."), "success")
            return redirect(url_for("certificates.verify", code=codes.format_code(certificate.code)))
    elif request.method == "POST" and form.errors:
        error = _("Give the reason for revoking: the learner is told it.")
    return render_template("certificates/revoke.html", certificate=certificate, form=form, error=error,
                           format_code=codes.format_code), 400 if error else 200


@bp.post("/certificates/<code>/reissue")
@login_required
def reissue(code: str):
    certificate = _managed_certificate(code)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    if certificate.is_revoked:
        flash(_("This certificate is already revoked; it cannot be reissued."), "error")
        return redirect(url_for("certificates.show", code=codes.format_code(certificate.code)))
    new = services.reissue(current_user, certificate)
    db.session.commit()
    flash(_("A new certificate is issued; the old one is revoked."), "success")
    return redirect(url_for("certificates.show", code=codes.format_code(new.code)))


@bp.get("/admin/certificates")
@login_required
def admin_list():
    """Every certificate, searchable by name, e-mail, code, course or cohort, with paging."""
    require(current_user, "certificate.list")
    search = CertificateSearch(request.args)
    page = services.certificate_page(search.q, status=search.status, page=search.page)
    return render_template("certificates/admin.html", result=page, search=search,
                           format_code=codes.format_code)


@bp.get("/verify")
@limiter.limit("30 per minute")
def verify_form():
    typed = request.args.get("code", "").strip()
    if typed:
        if codes.is_valid_code(typed):
            return redirect(url_for("certificates.verify", code=codes.format_code(codes.normalise_code(typed))))
        return render_template("certificates/verify_form.html", typed=typed,
                               error=_("This is not a valid certificate code. Check it and try again.")), 400
    return render_template("certificates/verify_form.html", typed="", error=None)


@bp.get("/verify/<code>")
@limiter.limit("30 per minute")
def verify(code: str):
    certificate = services.find_by_code(code)
    if certificate is None:
        return render_template("certificates/verify.html", certificate=None, code=code), 404
    return render_template("certificates/verify.html", certificate=certificate, code=code,
                           format_code=codes.format_code,
                           course_title=certificate.course.title(certificate.lang),
                           issuer=setting_text("PROGRAMME_NAME", str(get_locale() or "en")))


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(services.public_jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/issuer")
def issuer():
    return jsonify(credential.issuer_profile(id=services.issuer_id(),
                                             name=services.current_app.config["PROGRAMME_NAME"],
                                             url=services.base_url()))


@bp.get("/certificates/status-list")
def status_list():
    max_age = int(status.STATUS_LIST_TTL.total_seconds())
    return Response(services.signed_status_list(), mimetype="application/vc+jwt",
                    headers={"Cache-Control": f"public, max-age={max_age}"})
