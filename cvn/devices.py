"""Remembered devices ("Rester connecté", 30 days at most, revocable) and how the account page names a device.

A device is a row with a hashed token; its cookie is set with the response by
the session interface (``cvn.sessions``), which also opens a session from it.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import Flask, current_app, request, session
from sqlalchemy import delete, select

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import RememberedDevice, User, WebSession
from cvn.tokens import hash_token

#: Longest a remembered device lasts (fixed at creation, never extended).
DEVICE_LIFETIME = timedelta(days=30)
DEVICE_COOKIE = "cvn_appareil"


def device_cookie_name(app: Flask) -> str:
    """Return the device cookie's name (``__Host-`` prefixed when cookies are secure)."""
    return "__Host-" + DEVICE_COOKIE if app.config.get("SESSION_COOKIE_SECURE") else DEVICE_COOKIE


def user_agent() -> str:
    """Return the request's User-Agent, cut to what the tables keep."""
    return (request.headers.get("User-Agent", "") if request else "")[:300]


def remember_device(user: User) -> RememberedDevice:
    """Remember this browser for the account (30 days); the cookie is set with the response."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    device = RememberedDevice(user_id=user.id, token_hash=hash_token(raw), user_agent=user_agent(),
                              created_at=now, last_used_at=now, expires_at=now + DEVICE_LIFETIME)
    db.session.add(device)
    db.session.flush()
    session.device_cookie = (raw, device.expires_at)
    return device


def device_from_request(req=None) -> RememberedDevice | None:
    """Return the valid remembered device named by this browser's cookie, if any."""
    req = req or request
    raw = req.cookies.get(device_cookie_name(current_app))
    if not raw or len(raw) > 100:
        return None
    device = db.session.scalar(select(RememberedDevice).where(RememberedDevice.token_hash == hash_token(raw)))
    if device is None or utcnow() >= device.expires_at:
        return None
    return device


def forget_device(device: RememberedDevice) -> None:
    """Forget a remembered device and end the sessions it opened (caller commits)."""
    db.session.execute(delete(WebSession).where(WebSession.device_id == device.id))
    db.session.delete(device)


def devices_of(user: User) -> list[RememberedDevice]:
    """Return the account's remembered devices that have not expired, newest first."""
    return list(db.session.scalars(select(RememberedDevice).where(
        RememberedDevice.user_id == user.id, RememberedDevice.expires_at > utcnow())
        .order_by(RememberedDevice.created_at.desc(), RememberedDevice.id.desc())))


# --- What the list shows --------------------------------------------------------

_BROWSERS = [("Edg/", "Edge"), ("SamsungBrowser", "Samsung Internet"), ("OPR/", "Opera"),
             ("Firefox/", "Firefox"), ("FxiOS", "Firefox"), ("CriOS", "Chrome"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari")]
_SYSTEMS = [("iPad", "iPad"), ("iPhone", "iPhone"), ("Android", "Android"), ("CrOS", "ChromeOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux")]


def device_label(user_agent: str) -> str:
    """Name a device from its User-Agent, the way a user recognises it ("Chrome sur Android")."""
    ua = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in ua), None)
    system = next((name for marker, name in _SYSTEMS if marker in ua), None)
    if re.search(r"HeadlessChrome", ua):
        browser = "Chrome"
    if browser and system:
        return f"{browser} sur {system}"
    return browser or system or "Appareil inconnu"
