"""Carnets that patients open themselves, for themselves or for a child.

Such a carnet belongs to the account that opens it (an ownership, as after a
claim); every dose its owner records is only *declared* until a professional
who was given access validates it. From then on it is a carnet like any other.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from cvn.audit import audit
from cvn.carnets.services import DoseError, search_key
from cvn.clock import today, utcnow
from cvn.extensions import db
from cvn.inputs import clean_name
from cvn.models import Carnet, Ownership, Sex, User

#: Who the carnet is for, as the patient says it (kept in the audit trail).
RELATIONS = {"self": "moi-même", "child": "mon enfant (ou une personne dont j’ai la charge)"}


def find_own_duplicates(user: User, last_name: str, first_names: str, birth_date: date) -> list[Carnet]:
    """Return the carnets the patient already owns with the same name and birth date."""
    return list(db.session.scalars(
        select(Carnet).join(Ownership, Ownership.carnet_id == Carnet.id)
        .where(Ownership.user_id == user.id, Ownership.ended_at.is_(None),
               Carnet.search_name == search_key(last_name, first_names), Carnet.birth_date == birth_date)))


def create_own_carnet(user: User, *, last_name: str, first_names: str, birth_date: date, sex: Sex,
                      relation: str = "self") -> Carnet:
    """Open a carnet owned by the patient who creates it (one transaction)."""
    if not user.is_patient:
        raise PermissionError("only patient accounts open their own carnets")
    if birth_date > today():
        raise DoseError("birth_date", "La date de naissance ne peut pas être dans le futur.")
    now = utcnow()
    last_name, first_names = clean_name(last_name), clean_name(first_names)
    carnet = Carnet(last_name=last_name, first_names=first_names, birth_date=birth_date, sex=sex,
                    search_name=search_key(last_name, first_names), created_at=now, created_by_id=user.id,
                    last_activity_at=now, flags=[])
    db.session.add(carnet)
    db.session.flush()
    db.session.add(Ownership(carnet_id=carnet.id, user_id=user.id, since=now))
    audit(carnet, user, "carnet.create", by="patient", relation=relation if relation in RELATIONS else "self")
    db.session.commit()
    return carnet
