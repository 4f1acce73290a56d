"""Server-side sessions: the cookie holds a random id, the data lives in ``web_session``.

Why not Flask-Session: it stores the session id itself as the key and the data
in clear (pickled), knows nothing of accounts (so "list my sessions" or "end
every session of this account" would mean reading every row), has one lifetime
for everybody, and creates its table outside Alembic. Here:

- the cookie carries 256 random bits; the table stores only their SHA-256, so a
  copy of the table cannot be replayed as a cookie;
- the data (Flask-Login's keys, CSRF secret, an invitation being claimed, QR
  links on show, a reset token) is encrypted with AES-GCM under a key derived
  from the cookie's id, which the server never stores: the table alone reveals
  no one-time token;
- each row knows its account, device, log-in method, user agent, start, last
  activity, absolute end and allowed inactivity (professionals 30 minutes /
  12 hours, everyone else 2 hours / 12 hours), so the account page lists and
  ends sessions with one query, and log-out or a password change deletes rows;
- a remembered device ("Rester connecté", 30 days at most, revocable) is a row
  of its own with a hashed token: for a patient it opens a new session when
  none is alive; for a professional it only spares the code step, the password
  is asked again after 30 minutes of inactivity;
- a visitor's session that holds nothing but the CSRF secret (every page carries
  a token) gets no row: the secret travels in a signed cookie of its own
  (``cvn_csrf``, see ``cvn.csrf_cookie``: a signed double-submit cookie, valid
  12 hours), so anonymous pages write nothing; the first other key (a flash, a log-in, an invitation
  being claimed) makes it a normal row-backed session, token kept;
- with the database unreachable, a session that cannot be loaded or saved
  makes the answer the 503 page (``cvn.errors``), never a 500 or a 400: the
  session is opened empty and marked ``unavailable``, and the first
  ``before_request`` answers 503 before anything else (CSRF check, account,
  view) runs; a save that fails turns the answer into the same page.

The rest of the code keeps using ``flask.session`` as a dict.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, request, session
from flask.sessions import SessionInterface, SessionMixin, session_json_serializer
from sqlalchemy import delete, select, update
from werkzeug.datastructures import CallbackDict

from cvn import csrf_cookie
from cvn.access import know_second_factor
from cvn.auth.factors import enrolled_factor
from cvn.clock import utcnow
from cvn.csrf_cookie import LIGHT_KEYS, csrf_cookie_name
from cvn.devices import device_cookie_name, device_from_request, user_agent
from cvn.errors import DATABASE_DOWN, database_unavailable
from cvn.extensions import db
from cvn.models import RememberedDevice, User, WebSession
from cvn.tokens import hash_token

PRO_IDLE = timedelta(minutes=30)
PRO_ABSOLUTE = timedelta(hours=12)
IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
#: Last activity is written at most this often (the idle check is that precise).
TOUCH_EVERY = timedelta(seconds=60)


def cookie_name(app: Flask) -> str:
    """Return the session cookie's name (``__Host-`` prefixed when cookies are secure)."""
    return "__Host-cvn_session" if app.config.get("SESSION_COOKIE_SECURE") else "cvn_session"


def limits_for(user: User | None) -> tuple[timedelta, timedelta]:
    """Return (allowed inactivity, absolute lifetime) of a session of this account."""
    if user is not None and (user.is_professional or user.is_admin):
        return PRO_IDLE, PRO_ABSOLUTE
    return IDLE, ABSOLUTE


# --- Encryption of the data ---------------------------------------------------

def _cipher(raw: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"cvn-session-data\0" + raw.encode()).digest())


def _seal(raw: str, key_hash: str, data: dict) -> bytes:
    nonce = os.urandom(12)
    plain = session_json_serializer.dumps(dict(data)).encode()
    return nonce + _cipher(raw).encrypt(nonce, plain, key_hash.encode())


def _open(raw: str, key_hash: str, sealed: bytes) -> dict | None:
    try:
        plain = _cipher(raw).decrypt(sealed[:12], sealed[12:], key_hash.encode())
    except (InvalidTag, ValueError):
        return None
    return session_json_serializer.loads(plain.decode())


# --- The session object ---------------------------------------------------------

class ServerSession(CallbackDict, SessionMixin):
    """A dict whose changes are saved to ``web_session`` at the end of the request."""

    def __init__(self, initial=None, sid: int | None = None, raw: str | None = None,
                 user_id: int | None = None, stored: bool = True):
        def on_update(self):
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.sid, self.raw, self.user_id, self.stored = sid, raw, user_id, stored
        self.modified = False
        self.accessed = False
        self.new = sid is None
        self.touch = False
        #: Give the session a new id when saved (log-in, change of account).
        self.rotate = False
        #: Columns to write with the new id: user_id, method, device_id, limits.
        self.binding: dict | None = None
        #: Rows to delete when saved (this session after log-out, an expired one).
        self.drop: set[int] = set()
        self.device_cookie: tuple[str, datetime] | None = None
        self.clear_device_cookie = False
        #: The database error met while loading the session (the request then gets the 503 page).
        self.unavailable: BaseException | None = None
        #: The CSRF secret the signed cookie brought (a visitor's session without a row).
        self.light_token: str | None = None
        #: The account read with the row (see ``_load``), kept loaded for the request.
        self.account: User | None = None


def bind(user: User, method: str, device_id: int | None = None) -> None:
    """Attach the current session to an account under a new id (no fixation)."""
    idle, absolute = limits_for(user)
    session.rotate = True
    session.user_id = user.id
    session.binding = {"user_id": user.id, "method": method, "device_id": device_id,
                       "idle_seconds": int(idle.total_seconds()), "absolute": absolute}
    session.modified = True


def destroy() -> None:
    """End the current session: its row goes, its data is cleared, a new id is used if needed."""
    if session.sid is not None:
        session.drop.add(session.sid)
    session.clear()
    session.sid = None
    session.user_id = None
    session.binding = None
    session.rotate = True
    session.clear_device_cookie = True


def alive(row, now: datetime) -> bool:
    """Tell whether a session row is still valid at ``now``."""
    return now < row.expires_at and now < row.last_seen_at + timedelta(seconds=row.idle_seconds)


class ServerSessionInterface(SessionInterface):
    """Open and save :class:`ServerSession` objects (see the module's docstring)."""

    def open_session(self, app: Flask, req) -> ServerSession:
        if req.path.startswith((app.static_url_path or "/static") + "/"):
            return ServerSession(stored=False)
        try:
            return self._load(app, req)
        except DATABASE_DOWN as error:
            _rollback_quietly()
            unavailable = ServerSession(stored=False)
            unavailable.unavailable = error
            return unavailable

    def _load(self, app: Flask, req) -> ServerSession:
        raw = req.cookies.get(cookie_name(app))
        now = utcnow()
        expired = None
        if raw and len(raw) <= 100:
            key_hash = hash_token(raw)
            # One statement: the row, its account (Flask-Login then finds it loaded) and
            # whether that account has a second factor (the access policy asks every request).
            row = db.session.execute(
                select(WebSession.__table__, User, enrolled_factor(WebSession.user_id).label("enrolled"))
                .outerjoin(User, User.id == WebSession.user_id)
                .where(WebSession.key_hash == key_hash)).first()
            if row is not None and alive(row, now):
                data = _open(raw, key_hash, row.data)
                if data is not None:
                    if row.User is not None:
                        know_second_factor(req.environ, row.User, bool(row.enrolled))
                    opened = ServerSession(data, sid=row.id, raw=raw, user_id=row.user_id)
                    opened.touch = now - row.last_seen_at >= TOUCH_EVERY
                    #: Held so the identity map keeps it for Flask-Login's loader (weakly referenced there).
                    opened.account = row.User
                    return opened
            expired = row.id if row is not None else None
        light = csrf_cookie.read(app, req)
        fresh = ServerSession(light)
        fresh.light_token = light.get("csrf_token")
        if expired is not None:
            fresh.drop.add(expired)
        _restore_from_device(fresh, req, now)
        return fresh

    def save_session(self, app: Flask, sess: ServerSession, response) -> None:
        if not sess.stored:
            return
        try:
            self._save(app, sess, response)
        except DATABASE_DOWN as error:
            # The answer cannot stand without its session (a form's CSRF token, a hand-over
            # token, a log-in): it becomes the 503 page, and no cookie names a row never written.
            _rollback_quietly()
            _become_unavailable(response, error)

    def _save(self, app: Flask, sess: ServerSession, response) -> None:
        name = cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        secure, samesite = self.get_cookie_secure(app), self.get_cookie_samesite(app)
        # Changes a view left uncommitted are discarded (as teardown would do), so
        # saving the session never commits half an action.
        db.session.rollback()
        now = utcnow()
        if sess.drop:
            db.session.execute(delete(WebSession).where(WebSession.id.in_(sess.drop)))
        if sess.accessed:
            response.vary.add("Cookie")
        light = csrf_cookie_name(app)
        # Cookies are deleted only by the request that ended the session (log-out, change of
        # account). A request that merely carried a stale cookie leaves them alone: its answer
        # may reach the browser after a log-in answered meanwhile, whose new cookie it would delete.
        if sess.rotate or sess.sid is None:
            if sess.sid is not None:
                db.session.execute(delete(WebSession).where(WebSession.id == sess.sid))
                sess.sid = None
            data = dict(sess)
            light_only = not sess.binding and set(data) <= LIGHT_KEYS
            if light_only and "csrf_token" in data:
                # Only the CSRF secret: no row, a signed cookie (rewritten only when it changes).
                if data["csrf_token"] != sess.light_token or sess.rotate:
                    response.set_cookie(light, csrf_cookie.sign(app, data["csrf_token"]), httponly=True,
                                        secure=secure, samesite=samesite, path="/")
                if sess.rotate and name in request.cookies:
                    response.delete_cookie(name, domain=domain, path=path, secure=secure, samesite=samesite)
            elif not light_only:
                raw = secrets.token_urlsafe(32)
                key_hash = hash_token(raw)
                binding = dict(sess.binding or {})
                idle, absolute = limits_for(None)
                absolute = binding.pop("absolute", absolute)
                binding.setdefault("idle_seconds", int(idle.total_seconds()))
                db.session.add(WebSession(key_hash=key_hash, data=_seal(raw, key_hash, sess),
                                          user_agent=user_agent(), created_at=now, last_seen_at=now,
                                          expires_at=now + absolute, **binding))
                if binding.get("method") == "device":
                    db.session.execute(update(RememberedDevice).where(
                        RememberedDevice.id == binding["device_id"]).values(last_used_at=now))
                response.set_cookie(name, raw, httponly=True, secure=secure, samesite=samesite,
                                    domain=domain, path=path)
                if light in request.cookies:
                    response.delete_cookie(light, path="/", secure=secure, samesite=samesite)
            elif sess.rotate:
                for gone in (name, light):
                    if gone in request.cookies:
                        response.delete_cookie(gone, path=path if gone == name else "/", domain=domain
                                               if gone == name else None, secure=secure, samesite=samesite)
        else:
            values = {}
            if sess.modified:
                values["data"] = _seal(sess.raw, hash_token(sess.raw), sess)
            if sess.touch:
                values["last_seen_at"] = now
            if values:
                db.session.execute(update(WebSession).where(WebSession.id == sess.sid).values(**values))
        device = device_cookie_name(app)
        if sess.device_cookie is not None:
            raw, expires = sess.device_cookie
            # Max-Age, not Expires: the browser counts from its own clock.
            response.set_cookie(device, raw, max_age=int((expires - now).total_seconds()), httponly=True,
                                secure=secure, samesite=samesite, path="/")
        elif sess.clear_device_cookie and device in request.cookies:
            response.delete_cookie(device, path="/", secure=secure, samesite=samesite)
        db.session.commit()


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # nosec B110  # the connection is gone: nothing to undo
        pass


def _become_unavailable(response, error: BaseException) -> None:
    """Turn a response whose session could not be saved into the 503 page, in place."""
    page = database_unavailable(error)
    request_id = response.headers.get("X-Request-ID")
    response.status_code = page.status_code
    response.headers = page.headers.copy()
    if request_id:
        response.headers["X-Request-ID"] = request_id
    response.set_data(page.get_data())


def refuse_when_unavailable():
    """Before every request: answer 503 when the session could not be loaded (database down)."""
    error = getattr(session, "unavailable", None)
    if error is not None:
        return database_unavailable(error)
    return None


# --- Remembered devices ---------------------------------------------------------

def _restore_from_device(fresh: ServerSession, req, now: datetime) -> None:
    """Open a new session for a patient whose device is remembered (professionals log in again)."""
    device = device_from_request(req)
    if device is None:
        return
    user = db.session.get(User, device.user_id)
    if user is None or user.is_professional or user.is_admin:
        return
    idle, absolute = limits_for(user)
    fresh.update({"_user_id": user.get_id(), "_fresh": False})
    fresh.user_id = user.id
    fresh.binding = {"user_id": user.id, "method": "device", "device_id": device.id,
                     "idle_seconds": int(idle.total_seconds()), "absolute": absolute}
    fresh.modified = True


# --- Listing and ending ---------------------------------------------------------

def sessions_of(user: User) -> list[WebSession]:
    """Return the account's live sessions, most recently active first."""
    now = utcnow()
    rows = db.session.scalars(select(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at > now)
                              .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc()))
    return [row for row in rows if alive(row, now)]


def end_all(user: User, keep_current: bool = False) -> None:
    """End every session and forget every device of the account (caller commits).

    With ``keep_current`` the session making the request survives under a new id.
    """
    query = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_current and session.sid is not None:
        query = query.where(WebSession.id != session.sid)
        session.rotate = True
        session.binding = None
        row = db.session.get(WebSession, session.sid)
        if row is not None:
            session.binding = {"user_id": user.id, "method": row.method, "device_id": None,
                               "idle_seconds": row.idle_seconds,
                               "absolute": max(row.expires_at - utcnow(), timedelta(0))}
    db.session.execute(query)
    db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user.id))
    session.clear_device_cookie = True


def purge() -> int:
    """Delete sessions and devices past their absolute end; return how many rows went."""
    now = utcnow()
    gone = db.session.execute(delete(WebSession).where(WebSession.expires_at <= now)).rowcount
    gone += db.session.execute(delete(RememberedDevice).where(RememberedDevice.expires_at <= now)).rowcount
    db.session.commit()
    return gone


def init_app(app: Flask) -> None:
    """Use server-side sessions for the app; a session the database could not load answers 503 first."""
    app.session_interface = ServerSessionInterface()
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_when_unavailable)
