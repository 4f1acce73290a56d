"""Passkeys (WebAuthn, with the ``webauthn`` library): register, name, remove, log in.

The relying party is ``CVN_BASE_URL``: its host is the RP id and its origin the
only origin accepted, so a page served under another name (or a bare IP
address, which WebAuthn does not allow) cannot use them. User verification
(Face ID, fingerprint, PIN) is required, which makes a passkey two factors on
its own. Each challenge lives in the server-side session for 5 minutes and
serves once.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from urllib.parse import urlsplit

from flask import current_app, session
from sqlalchemy import select
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, AuthenticatorTransport,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import Passkey, User

CHALLENGE_KEY = "webauthn_challenge"
CHALLENGE_SECONDS = 300
NAME_MAX = 60


class PasskeyError(Exception):
    """A passkey could not be registered or used; the message is French, for the user."""


def relying_party() -> tuple[str, str]:
    """Return (RP id, origin) from ``CVN_BASE_URL``."""
    parts = urlsplit(current_app.config["CVN_BASE_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def available() -> bool:
    """Tell whether passkeys can work here (WebAuthn refuses an IP address as RP id)."""
    host = relying_party()[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


def _user_handle(user: User) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"webauthn-user:{user.id}".encode(), hashlib.sha256).digest()


def _remember_challenge(purpose: str, challenge: bytes, user_id: int | None) -> None:
    session[CHALLENGE_KEY] = {"purpose": purpose, "challenge": bytes_to_base64url(challenge),
                              "user_id": user_id, "at": utcnow().timestamp()}


def _take_challenge(purpose: str) -> dict:
    state = session.pop(CHALLENGE_KEY, None)
    too_old = utcnow().timestamp() - (state or {}).get("at", 0) > CHALLENGE_SECONDS
    if not state or state.get("purpose") != purpose or too_old:
        raise PasskeyError("La demande a expiré. Réessayez.") from None
    return state


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in filter(None, passkey.transports.split(",")):
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id), transports=transports or None)


def registration_options(user: User) -> str:
    """Return the JSON options for ``navigator.credentials.create`` and remember the challenge."""
    rp_id, _origin = relying_party()
    existing = db.session.scalars(select(Passkey).where(Passkey.user_id == user.id))
    options = generate_registration_options(
        rp_id=rp_id, rp_name="Carnet de vaccination", user_name=user.email, user_id=_user_handle(user),
        user_display_name=f"{user.first_name} {user.last_name}",
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[_descriptor(p) for p in existing])
    _remember_challenge("register", options.challenge, user.id)
    return options_to_json(options)


def register(user: User, credential: str, name: str) -> Passkey:
    """Verify the browser's answer and store the passkey (caller commits)."""
    state = _take_challenge("register")
    if state.get("user_id") != user.id:
        raise PasskeyError("La demande a expiré. Réessayez.") from None
    name = " ".join((name or "").split())[:NAME_MAX] or "Clé d’accès"
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id, expected_origin=origin, require_user_verification=True)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
        raise PasskeyError("Cette clé d’accès n’a pas pu être vérifiée. Réessayez.") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise PasskeyError("Cette clé d’accès est déjà enregistrée.") from None
    try:
        transports = ",".join(str(t) for t in json.loads(credential).get("response", {}).get("transports", []))[:100]
    except (ValueError, AttributeError):
        transports = ""
    passkey = Passkey(user_id=user.id, credential_id=credential_id, public_key=verified.credential_public_key,
                      sign_count=verified.sign_count, name=name, transports=transports, created_at=utcnow())
    db.session.add(passkey)
    return passkey


def authentication_options(user: User | None = None) -> str:
    """Return the JSON options for ``navigator.credentials.get``.

    Without an account (log-in with a passkey alone) the browser offers the
    passkeys it holds for this site; with one (second step, confirmation) only
    that account's.
    """
    rp_id, _origin = relying_party()
    allowed = [_descriptor(p) for p in db.session.scalars(select(Passkey).where(Passkey.user_id == user.id))] \
        if user is not None else []
    options = generate_authentication_options(rp_id=rp_id, allow_credentials=allowed,
                                              user_verification=UserVerificationRequirement.REQUIRED)
    _remember_challenge("authenticate", options.challenge, user.id if user else None)
    return options_to_json(options)


def authenticate(credential: str, user: User | None = None) -> User:
    """Verify the browser's assertion; return the passkey's account (caller commits)."""
    state = _take_challenge("authenticate")
    try:
        raw_id = json.loads(credential)["rawId"]
    except (ValueError, KeyError, TypeError):
        raise PasskeyError("Réponse de la clé d’accès illisible. Réessayez.") from None
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == str(raw_id)))
    expected_user = user.id if user is not None else state.get("user_id")
    if passkey is None or (expected_user is not None and passkey.user_id != expected_user):
        raise PasskeyError("Cette clé d’accès n’est pas reconnue. Elle a peut-être été retirée du compte.") from None
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id, expected_origin=origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        raise PasskeyError("Cette clé d’accès n’a pas pu être vérifiée. Réessayez.") from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    return db.session.get(User, passkey.user_id)
