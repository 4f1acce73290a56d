"""The one source of time: every "now" and "today" in CVN comes from here.

Tests (and tools) inject a clock by setting ``app.config["CVN_CLOCK"]`` to a
callable returning an aware UTC datetime, so they can move through 30-day
expiries or due dates without sleeping.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Return the current aware UTC time (the injected clock when there is one)."""
    if has_app_context():
        clock = current_app.config.get("CVN_CLOCK")
        if clock is not None:
            return clock()
    return datetime.now(timezone.utc)


def local_zone() -> ZoneInfo:
    """Return the service's time zone (Europe/Paris by default)."""
    name = current_app.config.get("CVN_TIMEZONE", "Europe/Paris") if has_app_context() else "Europe/Paris"
    return ZoneInfo(name)


def local_now() -> datetime:
    """Return the current time in the service's time zone."""
    return utcnow().astimezone(local_zone())


def today() -> date:
    """Return today's date in the service's time zone."""
    return local_now().date()
