"""Health of the service for load balancers and operators: database, Redis, outbox.

No personal data: only states, counts and an age in seconds.
"""
from __future__ import annotations

import logging

import redis
from flask import current_app
from sqlalchemy import text

from cvn.errors import DATABASE_DOWN
from cvn.extensions import db
from cvn.outbox.services import state as outbox_state

log = logging.getLogger(__name__)


def database_state() -> str:
    """Return "ok" when the database answers, else "unreachable"."""
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except DATABASE_DOWN:
        db.session.rollback()
        return "unreachable"


def redis_state() -> str:
    """Return "ok", "unreachable", or "not_used" when rate limits count in memory."""
    url = current_app.config.get("RATELIMIT_STORAGE_URI", "")
    if not url.startswith(("redis://", "rediss://", "redis+unix://")):
        return "not_used"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except redis.RedisError:
        return "unreachable"


def health() -> tuple[dict, int]:
    """Return the health report and its HTTP status (503 when the database is unreachable)."""
    database = database_state()
    redis = redis_state()
    outbox = None
    if database == "ok":
        try:
            outbox = outbox_state()
        except DATABASE_DOWN:
            db.session.rollback()
            database = "unreachable"
    if database != "ok":
        status = "down"
    elif redis == "unreachable":
        status = "degraded"  # rate limits count in memory meanwhile
    else:
        status = "ok"
    report = {"status": status, "database": database, "redis": redis, "outbox": outbox,
              "mail_delivery": current_app.config.get("CVN_MAIL_DELIVERY")}
    return report, 503 if database != "ok" else 200
