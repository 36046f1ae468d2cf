"""The shape of the certificate administration's input."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

STATUSES = ("all", "valid", "revoked")


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking (the learner is told it)"),
                           validators=[DataRequired(), Length(max=200)])


@dataclass
class CertificateSearch:
    """The admin list's query string, read forgivingly (a bad page number is page 1)."""
    q: str = ""
    status: str = "all"
    page: int = 1

    def __init__(self, args) -> None:
        self.q = (args.get("q") or "").strip()[:100]
        self.status = args.get("status") if args.get("status") in STATUSES else "all"
        try:
            self.page = max(1, int(args.get("page", 1)))
        except ValueError:
            self.page = 1
