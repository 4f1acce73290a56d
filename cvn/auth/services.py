"""Account rules: sign-up, log-in, password reset, e-mail change and confirmation, verification.

Each function that changes something commits once (one transaction per action);
e-mails go into the outbox inside that same transaction.

No account enumeration: signing up with an address that has an account, and
asking a reset link for an unknown address, do the same work (a password hash,
a token, a rendered message, a write) as the real thing, and each answer is
padded to the same minimum duration (:func:`even_time`).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from cvn import sessions
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import AuthToken, Profession, Role, TokenPurpose, User
from cvn.models.user import DUMMY_HASH
from cvn.outbox.services import queue_mail
from cvn.tokens import hash_token, new_token
from cvn.web import absolute_url

RESET_VALIDITY = timedelta(hours=1)
CONFIRM_VALIDITY = timedelta(days=7)
#: Sign-up and reset requests answer no faster than this (seconds), whatever the address.
EVEN_SECONDS = 0.35


@contextmanager
def even_time(seconds: float = EVEN_SECONDS):
    """Make the block last at least ``seconds`` (wall clock), so timing tells nothing."""
    start = time.monotonic()
    try:
        yield
    finally:
        left = seconds - (time.monotonic() - start)
        if left > 0:
            time.sleep(left)


class EmailTaken(Exception):
    """An account already uses this e-mail address."""


class BadPassword(Exception):
    """The current password given does not match."""


def normalize_email(email: str) -> str:
    """Return the e-mail in the form it is stored (trimmed, lower-case)."""
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    """Return the account with this e-mail, whatever its case."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def register(*, email: str, password: str, first_name: str, last_name: str, role: Role,
             profession: Profession | None = None, rpps: str | None = None) -> User | None:
    """Create an account (a professional starts unverified) and e-mail its confirmation link.

    If the address already has an account, nothing is created: its owner gets a
    notice instead, and None is returned. The caller answers the same either way.
    """
    email = normalize_email(email)
    existing = find_by_email(email)
    if existing is not None:
        generate_password_hash(password, method="scrypt")  # the same work as a new account
        new_token()
        queue_mail(existing.email, "Quelqu’un a voulu créer un compte avec votre adresse", "signup_existing",
                   user=existing, login=absolute_url("auth.login"), forgot=absolute_url("auth.forgot_password"))
        db.session.commit()
        return None
    user = User(email=email, first_name=first_name, last_name=last_name, role=role,
                profession=profession if role == Role.PROFESSIONAL else None,
                rpps=rpps if role == Role.PROFESSIONAL else None, is_admin=False, auth_version=0,
                code_failures=0)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    _queue_confirmation(user, "signup")
    if role == Role.PROFESSIONAL:
        _notify_admins_of_pending(user)
    try:
        db.session.commit()
    except Exception as exc:  # a concurrent sign-up with the same address
        db.session.rollback()
        if isinstance(exc, IntegrityError):
            return None
        raise
    return user


def _queue_confirmation(user: User, reason: str) -> None:
    """E-mail a link (valid 7 days) that confirms the account's address; caller commits."""
    raw, digest = new_token()
    now = utcnow()
    db.session.add(AuthToken(user_id=user.id, purpose=TokenPurpose.CONFIRM_EMAIL, token_hash=digest,
                             created_at=now, expires_at=now + CONFIRM_VALIDITY))
    queue_mail(user.email, "Confirmez votre adresse e-mail", "confirm_email", user=user, reason=reason,
               link=absolute_url("auth.confirm_link", token=raw), expires_at=now + CONFIRM_VALIDITY)


def resend_confirmation(user: User) -> bool:
    """Send a new confirmation link if the address is not confirmed yet."""
    if user.email_confirmed_at is not None:
        return False
    _queue_confirmation(user, "resend")
    db.session.commit()
    return True


def confirm_email(raw: str) -> User | None:
    """Confirm the address a link was sent to; None if the link is unknown, used or expired."""
    token = db.session.scalar(select(AuthToken).where(
        AuthToken.token_hash == hash_token(raw or ""), AuthToken.purpose == TokenPurpose.CONFIRM_EMAIL))
    now = utcnow()
    if token is None or not token.usable(now):
        return None
    if db.session.execute(update(AuthToken).where(AuthToken.id == token.id, AuthToken.used_at.is_(None))
                          .values(used_at=now)).rowcount != 1:
        db.session.rollback()
        return None
    user = token.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    db.session.commit()
    return user


def _notify_admins_of_pending(user: User) -> None:
    """Tell administrators that a professional waits for verification."""
    for admin in db.session.scalars(select(User).where(User.is_admin.is_(True))):
        queue_mail(admin.email, "Un professionnel attend la vérification de son compte",
                   "pending_professional", admin=admin, professional=user,
                   link=absolute_url("admin.professionals"))


def authenticate(email: str, password: str) -> User | None:
    """Return the account if the credentials match; take as long either way."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


def request_password_reset(email: str, link_for) -> None:
    """Send a reset link (valid one hour) if an account has this address.

    An unknown address goes through the same steps (token, rendered message,
    database write and commit) without keeping anything.
    """
    user = find_by_email(email)
    raw, digest = new_token()
    now = utcnow()
    if user is None:
        placeholder = User(email=normalize_email(email), first_name="", last_name="", role=Role.PATIENT)
        message = queue_mail(placeholder.email, "Réinitialiser votre mot de passe", "reset_password",
                             user=placeholder, link=link_for(raw), expires_at=now + RESET_VALIDITY)
        db.session.flush()
        db.session.delete(message)
        db.session.commit()
        return
    db.session.add(AuthToken(user=user, purpose=TokenPurpose.RESET_PASSWORD, token_hash=digest,
                             created_at=now, expires_at=now + RESET_VALIDITY))
    queue_mail(user.email, "Réinitialiser votre mot de passe", "reset_password",
               user=user, link=link_for(raw), expires_at=now + RESET_VALIDITY)
    db.session.commit()


def find_reset_token(raw: str) -> AuthToken | None:
    """Return the reset token if it exists and can still be used."""
    token = db.session.scalar(select(AuthToken).where(
        AuthToken.token_hash == hash_token(raw), AuthToken.purpose == TokenPurpose.RESET_PASSWORD))
    if token is None or not token.usable(utcnow()):
        return None
    return token


def reset_password(raw: str, password: str) -> User | None:
    """Set a new password with a reset token; None if it is unknown, used or expired.

    The token is consumed with a conditional UPDATE, so two concurrent uses
    cannot both succeed.
    """
    token = find_reset_token(raw)
    if token is None:
        return None
    now = utcnow()
    consumed = db.session.execute(
        update(AuthToken)
        .where(AuthToken.id == token.id, AuthToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if consumed != 1:
        db.session.rollback()
        return None
    user = token.user
    user.set_password(password)
    sessions.end_all(user)
    if user.email_confirmed_at is None:  # the reset link proved the mailbox
        user.email_confirmed_at = now
    queue_mail(user.email, "Votre mot de passe a été modifié", "password_changed", user=user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password after checking the current one; every other session ends."""
    if not user.check_password(current):
        raise BadPassword()
    user.set_password(new)
    sessions.end_all(user, keep_current=True)
    queue_mail(user.email, "Votre mot de passe a été modifié", "password_changed", user=user)
    db.session.commit()


def change_email(user: User, password: str, new_email: str) -> None:
    """Change the e-mail address after checking the password; warn the old, confirm the new."""
    if not user.check_password(password):
        raise BadPassword()
    new_email = normalize_email(new_email)
    if new_email == user.email:
        return
    existing = find_by_email(new_email)
    if existing is not None:
        raise EmailTaken(new_email)
    old = user.email
    user.email = new_email
    user.email_confirmed_at = None  # alerts and codes wait for the new address's confirmation
    queue_mail(old, "Votre adresse e-mail a été modifiée", "email_changed", user=user, new_email=new_email)
    _queue_confirmation(user, "change")
    db.session.commit()


def verify_professional(user: User) -> bool:
    """Mark a professional as verified; False if it is not a professional."""
    if not user.is_professional:
        return False
    if user.verified_at is None:
        user.verified_at = utcnow()
        queue_mail(user.email, "Votre compte professionnel est vérifié", "professional_verified",
                   user=user, link=absolute_url("main.home"))
        db.session.commit()
    return True


def notify_methods_changed(user: User, change: str) -> None:
    """Tell the account's owner that its log-in methods changed (caller commits)."""
    queue_mail(user.email, "Vos méthodes de connexion ont changé", "methods_changed", user=user, change=change,
               link=absolute_url("auth.methods"), forgot=absolute_url("auth.forgot_password"))
