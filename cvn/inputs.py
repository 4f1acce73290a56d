"""The input guard: one place that refuses or cleans what no field should hold.

- NUL and other control characters (tab and line breaks aside) in any form
  field or query string: refused with 422 and a French message, before any view.
- Zero-width and bidi control characters (Unicode "format" characters) in names
  and name searches: stripped, so "Dur\u200band" is stored, matched and
  de-duplicated as "Durand".
- Page numbers: bounded. Dates: between 1900 and 2200, on forms and in
  ``flask cvn forecast``.

The helpers are pure (no Flask), so the status engine's command can use them.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask import request
from werkzeug.datastructures import ImmutableMultiDict

from cvn.errors import render_error

#: C0 controls except tab, line feed and carriage return; DEL; C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_PAGE = 10_000
#: Fields holding a person's name (and the name search): invisible characters are stripped.
NAME_FIELD = re.compile(r"(?:^|[-_])(?:q|(?:first_|last_)?names?)\Z")

CONTROL_MESSAGE = ("Votre saisie contient des caractères de contrôle invisibles (par exemple un caractère nul), "
                   "qui ne sont pas acceptés. Retapez le texte sans copier-coller puis réessayez.")
YEAR_MESSAGE = f"l’année doit être comprise entre {MIN_YEAR} et {MAX_YEAR}"


def has_control(text: str) -> bool:
    """Tell whether ``text`` holds a control character other than tab and line breaks."""
    return CONTROL.search(text) is not None


def strip_invisible(text: str) -> str:
    """Remove zero-width, bidi and other invisible format characters (category Cf)."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def clean_name(text: str) -> str:
    """Return a name without invisible characters and with single spaces."""
    return " ".join(strip_invisible(text).split())


def year_in_range(value: date) -> bool:
    """Tell whether a date's year is between 1900 and 2200."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def page_number(raw: str | None) -> int:
    """Return a page number from a query string: 1 when missing or bad, at most 10,000."""
    try:
        page = int((raw or "1").strip()[:6])
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def _bad_values(multidict) -> bool:
    return any(has_control(key) or has_control(value) for key, value in multidict.items(multi=True))


def _strip_names(multidict):
    """Return a copy with invisible characters stripped from name fields, or None if it has none."""
    if not any(NAME_FIELD.search(key) for key in multidict):
        return None
    return ImmutableMultiDict([(key, strip_invisible(value) if NAME_FIELD.search(key) else value)
                               for key, value in multidict.items(multi=True)])


def init_app(app) -> None:
    """Check every request's query string and form before any view runs."""
    @app.before_request
    def guard_input():
        if has_control(request.path) or _bad_values(request.args) or (
                request.method in ("POST", "PUT", "PATCH") and _bad_values(request.form)):
            return render_error(422, CONTROL_MESSAGE)
        args = _strip_names(request.args)
        if args is not None:
            request.args = args
        if request.method in ("POST", "PUT", "PATCH"):
            form = _strip_names(request.form)
            if form is not None:
                request.form = form
        return None
