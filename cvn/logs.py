"""Logs without secrets: one filter masks tokens in every record; JSON lines in production.

Request logs (Werkzeug in development, gunicorn's access log in production)
print the path, and invitation, password-reset and unsubscribe links carry a
token there; a traceback may quote a URL or a hash. One filter,
:class:`RedactSecrets`, cleans every log record as it is made (message,
arguments, traceback), whichever logger or handler it goes to. In production
each record is one JSON object on stderr with the request id (the
``X-Request-ID`` of the proxy, or a new one), and no request body or query
string is ever logged, so no health data either.
"""
from __future__ import annotations

import logging
import re
import sys
import uuid

from flask import g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

#: Paths whose last segment is a secret.
TOKEN_PATH = re.compile(r"(/(?:i|mot-de-passe/lien|alertes/desabonnement|compte/adresse)/)[^\s/?\"'<>]+")
#: ``token=…`` in a query string or a form body.
TOKEN_PARAM = re.compile(r"((?:token|csrf_token|claim_token|reset_token)=)[^\s&\"'<>]+", re.IGNORECASE)
#: PostgreSQL's error detail quotes the row or key values ("Failing row contains (…)", "Key (email)=(…)").
DB_DETAIL = re.compile(r"(DETAIL:\s*).*")
#: Long random-looking strings: raw tokens (43 chars), password hashes, Fernet tokens.
LONG_SECRET = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{40,}(?![A-Za-z0-9_\-])")
MASK = "[masqué]"
#: A request id from the proxy is kept only if it looks like one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}\Z")


def redact(text: str) -> str:
    """Replace one-time tokens in paths, ``token=`` values, database error details and long secrets by [masqué]."""
    text = TOKEN_PATH.sub(r"\1" + MASK, text)
    text = TOKEN_PARAM.sub(r"\1" + MASK, text)
    text = DB_DETAIL.sub(r"\1" + MASK, text)
    return LONG_SECRET.sub(MASK, text)


class RedactSecrets(logging.Filter):
    """Mask secrets in a record's message and traceback; add its request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        if not hasattr(record, "request_id"):
            record.request_id = _request_id()
        return True


FILTER = RedactSecrets()


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def install_filter() -> None:
    """Run :data:`FILTER` on every record as it is created, and keep it on the root logger.

    A filter set on a logger only sees records logged on that logger, and a
    handler's filter only that handler's: running it in the record factory is
    what makes it apply to every record, whatever logger, handler or
    formatter (pytest's, gunicorn's) handles it next.
    """
    root = logging.getLogger()
    if FILTER not in root.filters:
        root.addFilter(FILTER)
    current = logging.getLogRecordFactory()
    if getattr(current, "cvn_redacts", False):
        return

    def factory(*args, **kwargs):
        record = current(*args, **kwargs)
        FILTER.filter(record)
        return record

    factory.cvn_redacts = True
    logging.setLogRecordFactory(factory)


def json_formatter():
    """Return the formatter of production logs: one JSON object per line."""
    class Formatter(JsonFormatter):
        def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
            return redact(super().formatException(ei))

    return Formatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                     rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                     json_ensure_ascii=False)


def use_json_logs() -> None:
    """Send every record to stderr as a JSON line (once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def init_app(app) -> None:
    """Install the filter, give each request an id, and log JSON lines in production."""
    install_filter()
    if app.config.get("CVN_ENV") == "production" or app.config.get("CVN_LOG_JSON"):
        use_json_logs()
        app.logger.removeHandler(default_handler)

    @app.before_request
    def assign_request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def send_request_id(response):
        if g.get("request_id"):
            response.headers.setdefault("X-Request-ID", g.request_id)
        return response
