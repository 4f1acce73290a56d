"""Second factors: authenticator app (TOTP), e-mail code, recovery codes, and the code lock.

Every code typed at log-in goes through :func:`check_code`: five wrong codes in
a row (whatever the kind) lock code entry for 15 minutes. An e-mail code also
dies after 5 tries or 10 minutes. Secrets at rest: the TOTP secret is encrypted
(AES-GCM, key derived from ``CVN_SECRET_KEY``: changing that key asks users to
add their app again); e-mail codes are kept as an HMAC, recovery codes (80
random bits) as SHA-256.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import delete, exists, func, select, update

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import EmailCode, Passkey, RecoveryCode, TotpCredential, User
from cvn.outbox.services import queue_mail

ISSUER = "CVN"
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
EMAIL_CODE_VALIDITY = timedelta(minutes=10)
EMAIL_CODE_TRIES = 5
RECOVERY_COUNT = 10
#: Crockford's base32 alphabet: no I, L, O, U to misread.
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class CodeLocked(Exception):
    """Code entry is locked until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(until)
        self.until = until


class WrongCode(Exception):
    """The code is wrong; ``remaining`` tries before the lock."""

    def __init__(self, remaining: int):
        super().__init__(remaining)
        self.remaining = remaining


# --- What an account has ---------------------------------------------------------

def has_totp(user: User) -> bool:
    return db.session.scalar(select(exists().where(TotpCredential.user_id == user.id)))


def passkeys_of(user: User) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)
                                   .order_by(Passkey.created_at, Passkey.id)))


def enrolled_factor(user_id):
    """Return the SQL test "this account has an authenticator app or a passkey" (for one query to embed)."""
    return exists().where(TotpCredential.user_id == user_id) | exists().where(Passkey.user_id == user_id)


def has_second_factor(user: User, enrolled: bool | None = None) -> bool:
    """Tell whether the account logs in with more than its password (a passkey counts).

    ``enrolled``: :func:`enrolled_factor` already read with the account (no query then).
    """
    if user.email_code_enabled_at is not None:
        return True
    if enrolled is not None:
        return enrolled
    return bool(db.session.scalar(select(enrolled_factor(user.id))))


def needs_second_factor(user, enrolled: bool | None = None) -> bool:
    """Tell whether a verified professional or an administrator still has to add a second factor (or a passkey)."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_verified_professional or user.is_admin)
                and not has_second_factor(user, enrolled))


def login_methods(user: User) -> list[str]:
    """Return the second steps this account can use at log-in, preferred first."""
    methods = []
    if has_totp(user):
        methods.append("totp")
    if passkeys_of(user):
        methods.append("passkey")
    if user.email_code_enabled_at is not None and user.email_confirmed_at is not None:
        methods.append("email")
    return methods


# --- The lock -------------------------------------------------------------------------

def locked_until(user: User) -> datetime | None:
    if user.code_locked_until is not None and utcnow() < user.code_locked_until:
        return user.code_locked_until
    return None


def check_code(user: User, verify) -> None:
    """Run ``verify()`` (True when the code is right) under the lock; commit the count.

    Raises :class:`CodeLocked` or :class:`WrongCode`; on success the count resets.
    """
    until = locked_until(user)
    if until is not None:
        raise CodeLocked(until)
    if verify():
        user.code_failures = 0
        user.code_locked_until = None
        db.session.commit()
        return
    # Counted in SQL, so concurrent wrong codes all count.
    db.session.execute(update(User).where(User.id == user.id).values(code_failures=User.code_failures + 1))
    db.session.refresh(user)
    if user.code_failures >= MAX_FAILURES:
        user.code_failures = 0
        user.code_locked_until = utcnow() + LOCK
        db.session.commit()
        raise CodeLocked(user.code_locked_until)
    remaining = MAX_FAILURES - user.code_failures
    db.session.commit()
    raise WrongCode(remaining)


def clean(code: str) -> str:
    """Keep the characters a user means: digits and letters, upper-cased."""
    return "".join(c for c in (code or "") if c.isalnum()).upper()


# --- Authenticator app (TOTP) ------------------------------------------------------

def _box() -> AESGCM:
    key = hashlib.sha256(b"cvn-totp\0" + current_app.config["SECRET_KEY"].encode()).digest()
    return AESGCM(key)


def seal_secret(secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _box().encrypt(nonce, secret.encode(), b"totp")


def open_secret(sealed: bytes) -> str | None:
    try:
        return _box().decrypt(sealed[:12], sealed[12:], b"totp").decode()
    except (InvalidTag, ValueError):
        return None


def new_totp_secret() -> str:
    """Return a fresh base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, after: int = -1) -> int | None:
    """Return the time step (now, or one step either side) whose code this is, if any."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(utcnow().timestamp())
    step = now // totp.interval
    for candidate in (step, step - 1, step + 1):
        if candidate > after and hmac.compare_digest(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def totp_step(secret: str, code: str) -> int | None:
    """Return the time step of the app's current code, or None if the code is wrong (enrolment)."""
    return _matching_step(secret, clean(code))


def verify_totp(user: User, code: str) -> bool:
    """Check a code from the account's app; a code (time step) is accepted only once."""
    credential = db.session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))
    if credential is None:
        return False
    secret = open_secret(credential.secret)
    step = _matching_step(secret, clean(code), after=credential.last_step) if secret else None
    if step is None:
        return False
    # Conditional update: two requests with the same code cannot both pass.
    won = db.session.execute(update(TotpCredential).where(
        TotpCredential.id == credential.id, TotpCredential.last_step < step).values(last_step=step)).rowcount
    return won == 1


def enrol_totp(user: User, secret: str, step: int) -> TotpCredential:
    """Store the app's secret (replacing a previous app); caller commits.

    ``step`` is the time step of the code typed to enrol: that code is spent.
    """
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    credential = TotpCredential(user_id=user.id, secret=seal_secret(secret), created_at=utcnow(),
                                last_step=step)
    db.session.add(credential)
    return credential


# --- E-mail code ----------------------------------------------------------------------

def _code_hmac(user_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"email-code:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def send_email_code(user: User) -> bool:
    """E-mail a fresh 6-digit code (valid 10 minutes); False if the address is not confirmed.

    Earlier codes stop working: only the newest one counts.
    """
    if user.email_confirmed_at is None:
        return False
    code = f"{secrets.randbelow(10 ** 6):06d}"
    now = utcnow()
    db.session.execute(update(EmailCode).where(EmailCode.user_id == user.id, EmailCode.used_at.is_(None))
                       .values(used_at=now))
    db.session.add(EmailCode(user_id=user.id, code_hash=_code_hmac(user.id, code), created_at=now,
                             expires_at=now + EMAIL_CODE_VALIDITY, attempts=0))
    queue_mail(user.email, f"Votre code de connexion : {code}", "login_code", user=user, code=code,
               minutes=int(EMAIL_CODE_VALIDITY.total_seconds() // 60))
    db.session.commit()
    return True


def verify_email_code(user: User, code: str) -> bool:
    """Check the newest e-mailed code: unused, under 10 minutes old, fewer than 5 tries."""
    now = utcnow()
    current = db.session.scalar(select(EmailCode).where(
        EmailCode.user_id == user.id, EmailCode.used_at.is_(None), EmailCode.expires_at > now,
        EmailCode.attempts < EMAIL_CODE_TRIES).order_by(EmailCode.id.desc()).limit(1))
    if current is None:
        return False
    code = clean(code)
    if hmac.compare_digest(current.code_hash, _code_hmac(user.id, code)):
        won = db.session.execute(update(EmailCode).where(EmailCode.id == current.id, EmailCode.used_at.is_(None))
                                 .values(used_at=now)).rowcount
        return won == 1
    db.session.execute(update(EmailCode).where(EmailCode.id == current.id)
                       .values(attempts=EmailCode.attempts + 1))
    return False


# --- Recovery codes ---------------------------------------------------------------------

def _recovery_hash(code: str) -> str:
    return hashlib.sha256(f"cvn-recovery:{clean(code)}".encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes by ten new ones; return them (shown once). Caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw), created_at=utcnow()))
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one recovery code (conditional UPDATE: it works once)."""
    return db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(code),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow())).rowcount == 1
