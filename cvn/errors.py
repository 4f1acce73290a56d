"""Error pages (400, 403, 404, 410, 429, 500), as a page or an htmx fragment."""
from __future__ import annotations

import logging

from flask import Flask
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
        429: (_("Trop de tentatives"),
              _("Vous avez fait trop de tentatives en peu de temps. Patientez une minute puis réessayez.")),
        500: (_("Erreur du service"),
              _("Une erreur est survenue de notre côté. Rien n’a été enregistré ; réessayez dans un instant.")),
    }


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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        detail = None
        if error.code == 429:
            description = getattr(error, "description", "") or ""
            detail = description if description and not description[0].isdigit() else None
        return render_error(error.code, detail)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        if app.testing and not app.config.get("CVN_RENDER_500"):
            raise error  # let the test see the real traceback
        log.exception("unhandled error")
        return render_error(500)
