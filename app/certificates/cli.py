"""`flask --app wsgi certificates issue|revoke|reissue|verify`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import User
from app.certificates import codes, credential, keys, services
from app.certificates.models import Certificate
from app.content.models import Course
from app.database import utcnow
from app.extensions import db

certificates_cli = AppGroup("certificates", help="Issue, revoke and check certificates.")


class _Admin:
    """The command line acts with an administrator's rights."""

    id = None
    is_admin = True
    is_authenticated = True


def _certificate(code: str) -> Certificate:
    certificate = services.find_by_code(code)
    if certificate is None:
        raise click.ClickException(f"no certificate with code {code}")
    return certificate


@certificates_cli.command("issue")
@click.option("--email", required=True)
@click.option("--course", "slug", required=True)
def issue_command(email: str, slug: str) -> None:
    """Issue a certificate now (without checking the completion rule); prints its code."""
    user = User.by_email(email)
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if user is None or course is None:
        raise click.ClickException("unknown e-mail address or course")
    certificate = services.issue_certificate(user, course, actor=_Admin())
    db.session.commit()
    click.echo(codes.format_code(certificate.code))


@certificates_cli.command("revoke")
@click.argument("code")
@click.option("--reason", default="revoked by an administrator", show_default=True)
def revoke_command(code: str, reason: str) -> None:
    """Revoke a certificate."""
    services.revoke(_Admin(), _certificate(code), reason)
    db.session.commit()
    click.echo("revoked")


@certificates_cli.command("reissue")
@click.argument("code")
def reissue_command(code: str) -> None:
    """Revoke a certificate and issue a new one (new code) to the same learner; prints it."""
    new = services.reissue(_Admin(), _certificate(code))
    db.session.commit()
    click.echo(codes.format_code(new.code))


@certificates_cli.command("keygen")
def keygen_command() -> None:
    """Create the certificate signing key (once per deployment; mode 0600). Back it up."""
    path = Path(current_app.config["SIGNING_KEY_PATH"])
    try:
        key = keys.create_signing_key(path)
    except keys.KeyFileError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {path} (key id {keys.key_thumbprint(key)}); keep a copy with the backups")


@certificates_cli.command("rotate-key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def rotate_key_command(yes: bool) -> None:
    """Retire the signing key and make a new one; the retired public key stays published."""
    path = Path(current_app.config["SIGNING_KEY_PATH"])
    if not yes:
        click.confirm("New certificates will be signed with a new key. Continue?", abort=True)
    try:
        old_kid, new_kid = keys.rotate_signing_key(path)
    except keys.KeyFileError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"retired {old_kid} (still published for verification); signing now with {new_kid}")
    click.echo("copy the new key, and the folder of retired keys, to every host and to the backups")


@certificates_cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify_command(path: str) -> None:
    """Check a .jwt credential: signature, dates and revocation status. Exit 1 unless valid."""
    token = Path(path).read_text(encoding="utf-8").strip()
    try:
        services.public_jwks()  # never creates a key: a host without one says so
    except keys.KeyFileError as error:
        raise click.ClickException(str(error)) from error
    status_list = services.signed_status_list()
    lookup = credential.status_list_lookup(lambda url: status_list if url == services.status_list_url() else None,
                                           services.public_jwks(), now=utcnow())
    result = credential.verify_credential_jwt(token, services.public_jwks(), now=utcnow(), status_lookup=lookup)
    click.echo(result.status + (f": {result.reason}" if result.reason else ""))
    if not result.is_valid:
        raise SystemExit(1)
