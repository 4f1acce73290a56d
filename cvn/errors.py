"""Error pages (400, 403, 404, 410, 422, 429, 500, 503), as a page or an htmx fragment.

``AccessLost`` (cvn.access), raised by any service, is a 404 here, once for
the whole app; a professional whose access the holder ended gets a 404 page
saying so, with a link to their archived copy.

With the database unreachable, every request gets a styled 503 page with a
``Retry-After``: it is rendered without the account or any query, so it needs
no database; the same page is the last resort when an error page itself fails.
The server-side session (``cvn.sessions``) gives it when the session cannot be
loaded or saved.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from cvn.access import AccessEnded, AccessLost
from cvn.extensions import db
from cvn.web import render

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Requête invalide"),
              _("La demande n’a pas pu être traitée. Rechargez la page puis réessayez.")),
        403: (_("Accès refusé"), _("Cette page n’est pas accessible avec votre compte.")),
        404: (_("Page introuvable"),
              _("Cette page n’existe pas ou vous n’y avez pas accès.")),
        405: (_("Action impossible"), _("Cette action n’est pas possible sur cette page.")),
        413: (_("Envoi trop volumineux"), _("Les données envoyées sont trop volumineuses.")),
        422: (_("Saisie refusée"), _("Une donnée envoyée n’est pas acceptée.")),
        429: (_("Trop de tentatives"),
              _("Vous avez fait trop de tentatives en peu de temps. Patientez une minute puis réessayez.")),
        500: (_("Erreur du service"),
              _("Une erreur est survenue de notre côté. Rien n’a été enregistré ; réessayez dans un instant.")),
        503: (_("Service momentanément indisponible"),
              _("Le carnet de vaccination ne peut pas être consulté pour le moment : "
                "notre base de données ne répond pas. Rien n’a été enregistré.")),
    }


#: Errors that mean the database cannot be reached (down, restarting, network, pool exhausted).
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


def database_down(error: BaseException | None) -> bool:
    """Tell whether an error (or the one it wraps) says the database is unreachable."""
    original = getattr(error, "original_exception", None)
    return isinstance(error, DATABASE_DOWN) or isinstance(original, DATABASE_DOWN)


def render_standalone(code: int):
    """Render an error page that needs neither the account nor the database."""
    try:
        db.session.rollback()
    except Exception:  # nosec B110  # the connection is gone: nothing to undo
        pass
    title, message = _messages()[code]
    retry_after = current_app.config.get("CVN_RETRY_AFTER", 30) if code == 503 else None
    html = current_app.jinja_env.get_template("errors/standalone.html").render(
        title=title, message=message, retry_after=retry_after, request=request)
    response = current_app.response_class(html, status=code, mimetype="text/html")
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def database_unavailable(error: BaseException | None = None):
    """Answer 503 "Service momentanément indisponible" (one warning line, no traceback)."""
    log.warning("database unreachable: %s", type(getattr(error, "original_exception", None) or error).__name__)
    return render_standalone(503)


def render_error(code: int, detail: str | None = None):
    """Render the error page (or its fragment for htmx) with the given status."""
    title, message = _messages().get(code, (_("Erreur"), _("Une erreur est survenue.")))
    return render("errors/error.html", block="error", status=code, code=code, title=title,
                  message=message, detail=detail)


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, _("Le formulaire a expiré ou n’a pas été envoyé depuis cette page. "
                                   "Rechargez la page puis réessayez."))

    @app.errorhandler(AccessLost)
    def access_lost(error: AccessLost):
        if isinstance(error, AccessEnded):
            return render("errors/access_ended.html", block="error", status=404, ended=error)
        return render_error(404)

    for error_class in DATABASE_DOWN:
        app.register_error_handler(error_class, database_unavailable)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if database_down(error):  # raised before the view ran (loading the session, say)
            return database_unavailable(error)
        detail = None
        if error.code == 429:
            description = getattr(error, "description", "") or ""
            detail = description if description and not description[0].isdigit() else None
        try:
            return render_error(error.code, detail)
        except Exception as failure:
            if database_down(failure):
                return database_unavailable(failure)
            log.exception("error page failed")
            return render_standalone(500)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        try:
            db.session.rollback()
        except Exception:  # nosec B110  # the connection is gone: the page below needs none
            pass
        if app.testing and not app.config.get("CVN_RENDER_500"):
            raise error  # let the test see the real traceback
        log.exception("unhandled error")
        try:
            return render_error(500)
        except Exception as failure:  # the error page needs the account, hence the database
            if database_down(failure):
                return database_unavailable(failure)
            log.exception("error page failed")
            return render_standalone(500)
