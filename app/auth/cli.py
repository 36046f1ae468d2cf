"""`flask --app wsgi users create|list`."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth import services
from app.auth.models import User
from app.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", prompt=True)
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", default="en", type=click.Choice(["en", "ka", "az", "hy", "ru"]))
@click.option("--admin", is_flag=True, help="Make the account a site administrator.")
def create_command(email: str, name: str, password: str, locale: str, admin: bool) -> None:
    """Create an account with a password."""
    try:
        user = services.create_user(email, name=name, password=password, locale=locale, is_admin=admin)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created {user.email}{' (admin)' if admin else ''}")


@users_cli.command("list")
def list_command() -> None:
    """List accounts."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        flags = ",".join(f for f, on in (("admin", user.is_admin), ("inactive", not user.is_active_account)) if on)
        click.echo(f"{user.email}\t{user.name}\t{user.locale}\t{flags}")
