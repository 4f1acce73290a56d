"""Random one-time tokens: 256 bits, given out once, stored only as SHA-256."""
from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """Return a fresh token and the hash to store."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
