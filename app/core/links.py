"""Links that services build (e-mails, notices, credentials): from the routes, never by hand.

`external_url` is what `url_for(endpoint, _external=True)` would give if the request came to
BASE_URL, with two differences that matter here: the host never comes from the request's Host
header (a forged header must not reach an e-mailed reset link), and it works outside a request
(the worker, commands) without SERVER_NAME, which would also make Flask match routes by host.
"""
from __future__ import annotations

from typing import Any

from flask import current_app


def url_path(endpoint: str, **values: Any) -> str:
    """The route's path for these values, e.g. ``/review/7`` (what notices store)."""
    current_app.inject_url_defaults(endpoint, values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute link to the route under BASE_URL, e.g. ``https://nergi.example/review/7``."""
    return site_url() + url_path(endpoint, **values)


def site_url() -> str:
    """BASE_URL without its trailing slash: the site's own address."""
    return current_app.config["BASE_URL"].rstrip("/")
