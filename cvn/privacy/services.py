"""Leaving with one's data: the account's data as a ZIP, and deleting the account.

Deleting an account ends its sessions and remembered devices, its ownerships
and its pending invitations, and deletes every carnet left with no other owner
and no professional with access, in one transaction. Professionals' frozen
archives stay as they are (their ``carnet_id`` becomes empty, their content and
digest are untouched): they are the professionals' medico-legal record.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from cvn import devices, sessions
from cvn.archives.services import accesses
from cvn.audit import audit, audit_trail
from cvn.carnets.services import revisions
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import AlertSubscription, Carnet, Invitation, Ownership, Passkey, User
from cvn.portability import services as portability
from cvn.sharing.services import owned_carnets, owners

README = """Vos données CVN (carnet de vaccination numérique)

compte.json            votre compte : identité, adresse, connexions, carnets possédés, alertes
carnets/*.fhir.json    chaque carnet dont vous êtes titulaire, au format standard FHIR R4
                       (Bundle : Patient, Immunization, ImmunizationRecommendation)
carnets/*.journal.json le journal des accès et l’historique des doses de chaque carnet

Un fichier .fhir.json peut être importé dans un autre carnet numérique ou logiciel de santé
qui lit FHIR R4, ou de nouveau dans CVN (« Importer (FHIR) » sur la page d’un carnet).
"""


class BadPassword(Exception):
    """The password typed is not the account's."""


class NotAllowed(Exception):
    """Professional accounts are closed by the operator (their archives are medico-legal records)."""


@dataclass
class Deletion:
    deleted: int  # carnets deleted with the account
    kept: int     # carnets kept for their other owners or professionals


def _iso(value):
    return value.isoformat() if value is not None else None


def account_data(user: User) -> dict:
    """Return what the service keeps about the account itself (no password hash, no secrets)."""
    subscriptions = db.session.scalars(select(AlertSubscription).where(AlertSubscription.user_id == user.id))
    return {
        "compte": {"email": user.email, "prenom": user.first_name, "nom": user.last_name, "role": user.role.value,
                   "profession": user.profession.value if user.profession else None, "rpps": user.rpps,
                   "cree_le": _iso(user.created_at), "adresse_confirmee_le": _iso(user.email_confirmed_at),
                   "verifie_le": _iso(user.verified_at), "administrateur": bool(user.is_admin),
                   "code_par_email": user.email_code_enabled_at is not None},
        "carnets_possedes": [{"identifiant": c.public_id, "titulaire": c.full_name,
                              "date_de_naissance": c.birth_date.isoformat()} for c in owned_carnets(user)],
        "alertes": [{"carnet": s.carnet.public_id, "depuis": _iso(s.created_at)} for s in subscriptions],
        "sessions": [{"ouverte_le": _iso(s.created_at), "vue_le": _iso(s.last_seen_at), "navigateur": s.user_agent,
                      "methode": s.method} for s in sessions.sessions_of(user)],
        "appareils_memorises": [{"depuis": _iso(d.created_at), "navigateur": d.user_agent,
                                 "expire_le": _iso(d.expires_at)} for d in devices.devices_of(user)],
        "cles_d_acces": [{"nom": p.name, "creee_le": _iso(p.created_at), "utilisee_le": _iso(p.last_used_at)}
                         for p in db.session.scalars(select(Passkey).where(Passkey.user_id == user.id))],
        "exporte_le": _iso(utcnow()),
    }


def journal_of(carnet: Carnet) -> dict:
    """Return a carnet's audit trail and dose history as plain data."""
    def who(user):
        return user.display_name if user else "compte supprimé"

    return {
        "journal": [{"le": _iso(e.at), "par": who(e.actor), "action": e.action, "detail": e.detail}
                    for e in reversed(audit_trail(carnet, limit=None))],
        "historique_des_doses": [{"le": _iso(r.changed_at), "par": who(r.changed_by), "action": r.action,
                                  "avant": r.before, "apres": r.after, "motif": r.reason}
                                 for r in reversed(revisions(carnet))],
    }


def data_zip(user: User) -> bytes:
    """Return the account's data as a ZIP and write each carnet's export to its audit trail."""
    account = account_data(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LISEZMOI.txt", README)
        archive.writestr("compte.json", json.dumps(account, ensure_ascii=False, indent=2))
        for n, carnet in enumerate(owned_carnets(user), start=1):
            stem = portability.filename(carnet.last_name, carnet.first_names, utcnow().date(), "x")[:-2]
            name = f"carnets/{n:02d}-{stem}"
            archive.writestr(f"{name}.fhir.json", json.dumps(portability.carnet_bundle(carnet), ensure_ascii=False,
                                                             indent=2))
            archive.writestr(f"{name}.journal.json", json.dumps(journal_of(carnet), ensure_ascii=False, indent=2))
            audit(carnet, user, "carnet.export", format="zip")
    db.session.commit()
    return buffer.getvalue()


def delete_account(user: User, password: str) -> Deletion:
    """Delete the account after checking its password (see the module's docstring); one transaction."""
    if user.is_professional:
        raise NotAllowed()
    if not user.check_password(password or ""):
        raise BadPassword()
    now, deleted, kept = utcnow(), [], 0
    for carnet in owned_carnets(user):
        if any(o.user_id != user.id for o in owners(carnet)) or accesses(carnet):
            audit(carnet, user, "owner.leave")
            kept += 1
        else:
            deleted.append(carnet.id)
    db.session.execute(update(Invitation).where(
        Invitation.created_by_id == user.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now))
    db.session.execute(delete(Ownership).where(Ownership.user_id == user.id))
    if deleted:
        db.session.execute(delete(Carnet).where(Carnet.id.in_(deleted)))
    sessions.end_all(user)
    user_id = user.id
    db.session.expunge(user)
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.commit()
    return Deletion(len(deleted), kept)
