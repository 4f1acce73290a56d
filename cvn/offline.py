"""What the service worker may keep for offline reading, told by response headers.

Every page says whose it is (``X-CVN-Account``: an opaque key per account, or
``anonyme``): the service worker keeps one cache per account and drops the
others as soon as a page of another account, or of nobody, comes back. A page
is kept only when it says ``X-CVN-Offline: 1``: a patient's "Mes carnets" and
the pages of their own carnets. Professionals' pages never say it (tablets are
shared) and every page is ``no-store`` for the browser's HTTP cache.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from cvn.clock import local_now
from cvn.dates import french_date
from cvn.web import wants_fragment

#: Pages a patient may read offline once opened (their own carnets: access.py has let them in).
OFFLINE_ENDPOINTS = frozenset({"patient.home", "carnets.show", "carnets.section", "carnets.journal"})
ACCOUNT_HEADER = "X-CVN-Account"
OFFLINE_HEADER = "X-CVN-Offline"
ANONYMOUS = "anonyme"


def account_key(user_id: int) -> str:
    """Return the opaque key naming an account's offline cache (no id in clear)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"offline-cache:{user_id}".encode(), hashlib.sha256).hexdigest()[:20]


def current_account() -> str:
    """Return the key of the account logged in, or ``anonyme``."""
    return account_key(current_user.id) if current_user.is_authenticated else ANONYMOUS


def readable_offline() -> bool:
    """Tell whether the page being answered may be kept for offline reading."""
    return (request.endpoint in OFFLINE_ENDPOINTS and current_user.is_authenticated
            and not current_user.is_professional and not wants_fragment())


def offline_note() -> str:
    """Say when this copy was made, as shown offline ("… le 30 novembre 2026 à 14 h 05")."""
    moment = local_now()
    return f"Hors ligne — dernière mise à jour le {french_date(moment.date())} à {moment:%H} h {moment:%M}"


def init_app(app: Flask) -> None:
    """Mark each page with its account, and the pages that may be read offline."""

    @app.context_processor
    def offline_context():
        # Callables: a page without the header (the 503 page) never loads the user.
        return {"offline_note": lambda: offline_note() if readable_offline() else "",
                "account_key": current_account}

    @app.after_request
    def mark_page(response: Response) -> Response:
        if response.mimetype != "text/html" or response.status_code >= 500:
            return response
        authenticated = current_user.is_authenticated
        response.headers[ACCOUNT_HEADER] = current_account()
        if response.status_code == 200 and readable_offline():
            response.headers[OFFLINE_HEADER] = "1"
        if authenticated and current_user.is_professional:
            response.headers["Cache-Control"] = "no-store"
        return response
