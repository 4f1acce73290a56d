"""The vaccination certificate ("Attestation de vaccination") and its verification.

The QR code carries only a signed token (itsdangerous): the carnet's public
id, a keyed digest of what the certificate shows, its date and its expiry.
No name, no date of birth, no dose. The verification page recomputes the
digest from the live carnet and says "valide", "ne correspond plus au carnet"
or "expiré"; it shows only the holder's initials, birth year and the date.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from cvn.audit import audit
from cvn.carnets.services import doses_by_disease, live_doses
from cvn.clock import today
from cvn.extensions import db
from cvn.models import Carnet, Dose, DoseState, User
from cvn.web import absolute_url

SALT = "cvn-attestation-v1"
#: How long a certificate stays verifiable (days), unless CVN_CERTIFICATE_DAYS says otherwise.
DEFAULT_DAYS = 90


@dataclass
class Certificate:
    """What the certificate page shows."""

    carnet: Carnet
    issued_on: date
    expires_on: date
    #: Validated doses under the diseases they cover; diseases with the very same doses share a row group.
    by_disease: list[tuple[list[str], list[Dose]]]
    declared: list[Dose]
    link: str


@dataclass
class Verdict:
    """What the verification page says: ``status`` is "valid", "changed" or "expired"."""

    status: str
    issued_on: date
    expires_on: date
    initials: str | None = None
    birth_year: int | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _shown(carnet: Carnet) -> list[Dose]:
    """Return the doses a certificate shows: validated and declared ones (rejected left out)."""
    return [d for d in live_doses(carnet) if d.state != DoseState.REJECTED]


def digest(carnet: Carnet) -> str:
    """Return a keyed digest of the holder and every shown dose (who validated it included)."""
    content = {"holder": [carnet.last_name, carnet.first_names, carnet.birth_date.isoformat(), carnet.sex.value],
               "doses": [{**d.snapshot(), "id": d.id, "validated_by": d.validated_by_id} for d in _shown(carnet)]}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    key = hashlib.sha256(("certificate:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def validity() -> timedelta:
    return timedelta(days=int(current_app.config.get("CVN_CERTIFICATE_DAYS") or DEFAULT_DAYS))


def token_for(carnet: Carnet, issued_on: date) -> str:
    """Return the signed token of a certificate issued on that day (no health data inside)."""
    return _serializer().dumps({"c": carnet.public_id, "h": digest(carnet), "i": issued_on.isoformat(),
                                "e": (issued_on + validity()).isoformat()})


def issue(user: User, carnet: Carnet) -> Certificate:
    """Return today's certificate of the carnet and write its issue to the audit trail."""
    issued_on = today()
    shown = _shown(carnet)
    validated = [d for d in shown if d.state == DoseState.VALIDATED]
    link = absolute_url("portability.verify", token=token_for(carnet, issued_on))
    audit(carnet, user, "certificate.issue")
    db.session.commit()
    return Certificate(carnet, issued_on, issued_on + validity(), merged(doses_by_disease(validated)),
                       [d for d in shown if d.state == DoseState.DECLARED], link)


def merged(groups: list[tuple[str, list[Dose]]]) -> list[tuple[list[str], list[Dose]]]:
    """Put diseases covered by the very same doses together (the six of a hexavalent series), in order."""
    result: dict[tuple[int, ...], tuple[list[str], list[Dose]]] = {}
    for code, doses in groups:
        result.setdefault(tuple(d.id for d in doses), ([], doses))[0].append(code)
    return list(result.values())


def initials(carnet: Carnet) -> str:
    """Return "É. D." for Éloïse Durand (first letter of the first first name and of the last name)."""
    first = (carnet.first_names.split() or ["?"])[0][:1].upper()
    last = (carnet.last_name.strip() or "?")[:1].upper()
    return f"{first}. {last}."


def verify(token: str) -> Verdict | None:
    """Check a certificate's token against the live carnet; None when the token is not ours."""
    try:
        data = _serializer().loads(token)
        issued_on, expires_on = date.fromisoformat(data["i"]), date.fromisoformat(data["e"])
        public_id, expected = str(data["c"]), str(data["h"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    carnet = db.session.scalar(select(Carnet).where(Carnet.public_id == public_id))
    if carnet is None:
        return Verdict("changed", issued_on, expires_on)
    verdict = Verdict("valid", issued_on, expires_on, initials(carnet), carnet.birth_date.year)
    if today() > expires_on:
        verdict.status = "expired"
    elif not hmac.compare_digest(digest(carnet), expected):
        verdict.status = "changed"
    return verdict
