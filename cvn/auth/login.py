"""The log-in sequence: password, then a second step when the account has one; log-out.

A password that matches does not log in an account with a second factor: the
session only remembers, for 10 minutes, which account is half-way
(``login_pending``). The log-in is complete — a new session id bound to the
account — after a good code, a passkey, or on a device the account remembered.
"""
from __future__ import annotations

from flask import request, session
from flask_login import login_user, logout_user

from cvn import devices, sessions
from cvn.auth import factors
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import User

#: Session keys that survive log-in and sign-up (an invitation being claimed).
KEPT_ACROSS_LOGIN = ("claim_token",)
PENDING_KEY = "login_pending"
PENDING_SECONDS = 600
REAUTH_KEY = "confirmed_at"
#: A method change needs the password (or a passkey) typed this recently.
REAUTH_SECONDS = 300


def begin(user: User, remember: bool, target: str) -> bool:
    """Start logging in after a good password; True when the log-in is complete.

    An account with a second factor is complete at once only on a device it
    remembered; otherwise the code step follows.
    """
    if factors.login_methods(user):
        device = devices.device_from_request()
        if device is not None and device.user_id == user.id:
            complete(user, "password+device", device_id=device.id)
            return True
        _restart()
        session[PENDING_KEY] = {"user_id": user.id, "remember": bool(remember), "at": utcnow().timestamp(),
                                "method": factors.login_methods(user)[0], "next": target}
        return False
    complete(user, "password", remember=remember)
    return True


def pending_user() -> User | None:
    """Return the account half-way through log-in (password typed), if still in time."""
    state = session.get(PENDING_KEY)
    if not state or utcnow().timestamp() - state.get("at", 0) > PENDING_SECONDS:
        return None
    return db.session.get(User, state["user_id"])


def pending_state() -> dict:
    return dict(session.get(PENDING_KEY) or {})


def set_pending_method(method: str) -> None:
    state = dict(session[PENDING_KEY])
    state["method"] = method
    session[PENDING_KEY] = state


def finish_pending(user: User, method: str) -> str:
    """Complete a pending log-in after its second step; return where to go next."""
    state = pending_state()
    complete(user, method, remember=state.get("remember", False))
    return state.get("next") or "/"


def _restart() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def complete(user: User, method: str, remember: bool = False, device_id: int | None = None) -> None:
    """Log the account in under a new session id; remember the device if asked (commits).

    The log-in itself proves the identity: method changes need no password again for
    :data:`REAUTH_SECONDS` (the forced second-factor set-up follows it at once).
    """
    _restart()
    confirm_identity()
    if remember and device_id is None:
        device_id = devices.remember_device(user).id
    sessions.bind(user, method, device_id)
    login_user(user)
    db.session.commit()


def log_out() -> None:
    """End this session and forget this device, so neither cookie works again (commits)."""
    device = devices.device_from_request()
    if device is not None:
        devices.forget_device(device)
    logout_user()
    sessions.destroy()
    db.session.commit()


def confirm_identity() -> None:
    """Note that the password (or a passkey) was just typed again."""
    session[REAUTH_KEY] = utcnow().timestamp()


def recently_confirmed() -> bool:
    return utcnow().timestamp() - session.get(REAUTH_KEY, 0) < REAUTH_SECONDS


def client_key() -> str:
    """Rate-limit key of the account half-way through log-in (else the client's address)."""
    state = session.get(PENDING_KEY) or {}
    return f"account:{state['user_id']}" if state.get("user_id") else f"addr:{request.remote_addr}"
