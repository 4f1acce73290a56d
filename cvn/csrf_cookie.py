"""A visitor's CSRF secret in a signed cookie of its own, so anonymous pages write no session row.

Every page carries a CSRF token, so every visitor's session holds a secret. While
that secret is all it holds (plus Flask-Login's ``_fresh`` mark), ``cvn.sessions``
keeps it here instead of in ``web_session``: the cookie ``cvn_csrf`` (``__Host-``
prefixed when cookies are secure) carries the secret signed with the app's key
and dated, valid 12 hours — a signed double-submit cookie.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from itsdangerous import BadSignature, URLSafeTimedSerializer

CSRF_COOKIE = "cvn_csrf"
#: Session keys a visitor's session may hold and still live in this cookie alone (Flask-Login
#: marks a visitor's non-empty session not fresh; only the CSRF secret is kept).
LIGHT_KEYS = frozenset({"csrf_token", "_fresh"})
#: A secret older than this is ignored (a new one is made), as an anonymous session's end.
LIFETIME = timedelta(hours=12)


def csrf_cookie_name(app: Flask) -> str:
    """Return the cookie's name (``__Host-`` prefixed when cookies are secure)."""
    return "__Host-" + CSRF_COOKIE if app.config.get("SESSION_COOKIE_SECURE") else CSRF_COOKIE


def _signer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret_key, salt="cvn-csrf-cookie")


def sign(app: Flask, secret: str) -> str:
    """Return the cookie value carrying ``secret``."""
    return _signer(app).dumps(secret)


def read(app: Flask, req) -> dict:
    """Return ``{"csrf_token": secret}`` from the request's cookie ({} when absent, forged or too old)."""
    raw = req.cookies.get(csrf_cookie_name(app))
    if not raw or len(raw) > 200:
        return {}
    try:
        secret = _signer(app).loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return {}
    return {"csrf_token": secret} if isinstance(secret, str) else {}
