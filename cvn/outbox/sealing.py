"""One-time links never rest in clear: outbox bodies that carry one are encrypted.

A message whose text holds an invitation or password-reset link is stored as
Fernet tokens (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF from
``CVN_OUTBOX_KEY``, or from the secret key when that is not set. Once the
message is delivered, the stored copy keeps only the text with the link
removed, in clear.
"""
from __future__ import annotations

import base64
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

#: Links that let whoever holds them act once: invitations, password reset.
ONE_TIME_LINK = re.compile(r"(/(?:i|mot-de-passe/lien)/)[A-Za-z0-9_\-]+")
REMOVED = "[lien retiré après envoi]"

__all__ = ["InvalidToken", "carries_one_time_link", "redact_links", "seal", "unseal"]


@lru_cache(maxsize=4)
def _fernet(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cvn-outbox",
               info=b"outbox bodies").derive(material.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _current() -> Fernet:
    config = current_app.config
    return _fernet(config.get("CVN_OUTBOX_KEY") or config["SECRET_KEY"])


def carries_one_time_link(text: str | None) -> bool:
    """Tell whether a body holds an invitation or password-reset link."""
    return bool(text) and ONE_TIME_LINK.search(text) is not None


def seal(text: str | None) -> str | None:
    """Encrypt a body for storage."""
    return None if text is None else _current().encrypt(text.encode("utf-8")).decode("ascii")


def unseal(token: str | None) -> str | None:
    """Decrypt a stored body (raises ``InvalidToken`` if the key changed)."""
    return None if token is None else _current().decrypt(token.encode("ascii")).decode("utf-8")


def redact_links(text: str | None) -> str | None:
    """Return the body with its one-time links cut after the path."""
    return None if text is None else ONE_TIME_LINK.sub(r"\1" + REMOVED, text)
