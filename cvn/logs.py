"""Keep secrets out of logs: one-time tokens in request paths are redacted.

Request logs (Werkzeug in development, gunicorn's access log in production)
print the path; invitation, password-reset and unsubscribe links carry a token
there. Health data never appears in a URL.
"""
from __future__ import annotations

import logging
import re

#: Paths whose last segment is a secret.
TOKEN_PATH = re.compile(r"(/(?:i|mot-de-passe/lien|alertes/desabonnement|compte/adresse)/)[^\s/?\"']+")


def redact(text: str) -> str:
    """Replace the token of any secret-bearing path by [masqué]."""
    return TOKEN_PATH.sub(r"\1[masqué]", text)


class RedactTokens(logging.Filter):
    """A logging filter applying :func:`redact` to the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def init_app(app) -> None:
    """Attach the filter to the request loggers."""
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
