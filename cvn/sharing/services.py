"""Hand-over and sharing: one-time invitations, the claim, ownership.

An invitation is created by someone allowed to share the carnet; its token
(256 bits) is shown once — in the e-mail, the QR code or the copied link — and
stored only as its SHA-256. Claiming it needs the holder's birth date and an
attestation; five wrong dates lock it. Every change commits once, with its
audit event (and its e-mail, through the outbox).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from cvn.access import forget_permissions, is_owner, permissions
from cvn.audit import audit
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.french import de
from cvn.models import (MAX_ATTEMPTS, Access, Carnet, Invitation, InvitationChannel, InvitationState,
                        InvitationTarget, Ownership, User)
from cvn.outbox.services import queue_mail
from cvn.tokens import hash_token, new_token
from cvn.web import absolute_url

VALIDITY = timedelta(days=30)
#: E-mailed invitations one account may send in an hour …
PER_SENDER, SENDER_WINDOW = 20, timedelta(hours=1)
#: … and one address may receive in a day (whoever sends them).
PER_RECIPIENT, RECIPIENT_WINDOW = 5, timedelta(days=1)


class ClaimError(Exception):
    """The invitation cannot be claimed; ``kind`` says why."""

    def __init__(self, kind: str, invitation: Invitation | None = None):
        super().__init__(kind)
        self.kind = kind
        self.invitation = invitation


class WrongBirthDate(ClaimError):
    """The birth date typed is not the holder's."""

    def __init__(self, invitation: Invitation):
        super().__init__("wrong_birth_date", invitation)
        self.remaining = invitation.remaining_attempts


class NotAllowed(Exception):
    """The user may not share this carnet this way."""


class TooManyInvitations(Exception):
    """An e-mail limit is reached; ``message`` says which, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_email_limits(issuer: User, email: str | None) -> None:
    """Refuse a 21st e-mailed invitation in an hour from one account, or a 6th in a day to one address."""
    now = utcnow()
    by_sender = db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.created_by_id == issuer.id, Invitation.channel == InvitationChannel.EMAIL,
        Invitation.created_at > now - SENDER_WINDOW))
    if by_sender >= PER_SENDER:
        raise TooManyInvitations(
            f"Vous avez envoyé {PER_SENDER} invitations par e-mail en une heure : c’est le maximum. "
            "Réessayez un peu plus tard, ou partagez par QR code ou par lien à copier.")
    address = (email or "").strip().lower()
    to_address = db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.email == address, Invitation.channel == InvitationChannel.EMAIL,
        Invitation.created_at > now - RECIPIENT_WINDOW))
    if to_address >= PER_RECIPIENT:
        raise TooManyInvitations(
            f"Cette adresse a déjà reçu {PER_RECIPIENT} invitations aujourd’hui : c’est le maximum. "
            "Réessayez demain, ou partagez par QR code ou par lien à copier.")


def link_for(raw: str) -> str:
    """Return the absolute link carrying a token."""
    return absolute_url("sharing.open_link", token=raw)


def has_owner(carnet: Carnet) -> bool:
    """Tell whether the carnet has been handed over (it has at least one owner)."""
    return db.session.scalar(select(Ownership.id).where(
        Ownership.carnet_id == carnet.id, Ownership.open).limit(1)) is not None


def may_invite(user: User, carnet: Carnet, target: InvitationTarget) -> bool:
    """Tell whether the user may create this kind of invitation for the carnet.

    A professional with access hands the carnet to its holder only while it has
    no owner (the seed: "si le carnet n'est pas encore partagé avec le patient
    titulaire"); from then on only its owners invite another owner (the other
    parent) or a professional.
    """
    if target == InvitationTarget.HOLDER:
        perms = permissions(user, carnet)
        return perms.owner or (perms.write and not has_owner(carnet))
    return is_owner(user, carnet)


def create_invitation(issuer: User, carnet: Carnet, target: InvitationTarget,
                      channel: InvitationChannel, email: str | None = None) -> tuple[Invitation, str]:
    """Create an invitation; e-mail it on the e-mail channel. Return it and its token."""
    if not may_invite(issuer, carnet, target):
        raise NotAllowed()
    if channel == InvitationChannel.EMAIL:
        check_email_limits(issuer, email)
    raw, digest = new_token()
    now = utcnow()
    invitation = Invitation(carnet_id=carnet.id, created_by_id=issuer.id, target=target, channel=channel,
                            email=(email or "").strip().lower() or None, token_hash=digest,
                            created_at=now, expires_at=now + VALIDITY, failed_attempts=0)
    db.session.add(invitation)
    db.session.flush()
    if channel == InvitationChannel.EMAIL:
        template = "invitation_holder" if target == InvitationTarget.HOLDER else "invitation_professional"
        queue_mail(invitation.email, f"{issuer.display_name} vous confie un carnet de vaccination"
                   if target == InvitationTarget.HOLDER else
                   f"{issuer.display_name} partage un carnet de vaccination avec vous",
                   template, issuer=issuer, link=link_for(raw), expires_at=invitation.expires_at)
    audit(carnet, issuer, "invitation.create", invitation=invitation.id, target=target.value,
          channel=channel.value)
    db.session.commit()
    return invitation, raw


def find(raw: str) -> Invitation | None:
    """Return the invitation carrying this token, whatever its state."""
    if not raw or len(raw) > 100:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(raw)))


def get_for_carnet(carnet: Carnet, invitation_id: int) -> Invitation | None:
    invitation = db.session.get(Invitation, invitation_id)
    return invitation if invitation is not None and invitation.carnet_id == carnet.id else None


def revoke(user: User, invitation: Invitation) -> None:
    """Revoke a pending invitation (its link stops working at once)."""
    if not may_invite(user, invitation.carnet, invitation.target):
        raise NotAllowed()
    if invitation.state(utcnow()) in (InvitationState.PENDING, InvitationState.LOCKED):
        invitation.revoked_at = utcnow()
        audit(invitation.carnet, user, "invitation.revoke", invitation=invitation.id)
        db.session.commit()


def reissue(user: User, invitation: Invitation) -> tuple[Invitation, str]:
    """Replace an invitation by a new one on the same channel (the old link dies)."""
    if not may_invite(user, invitation.carnet, invitation.target):
        raise NotAllowed()
    if invitation.channel == InvitationChannel.EMAIL:
        check_email_limits(user, invitation.email)  # before anything changes
    if invitation.state(utcnow()) in (InvitationState.PENDING, InvitationState.LOCKED):
        invitation.revoked_at = utcnow()
    return create_invitation(user, invitation.carnet, invitation.target, invitation.channel, invitation.email)


def invitations(carnet: Carnet, target: InvitationTarget | None = None) -> list[Invitation]:
    """Return the carnet's invitations, newest first."""
    query = select(Invitation).where(Invitation.carnet_id == carnet.id)
    if target is not None:
        query = query.where(Invitation.target == target)
    return list(db.session.scalars(query.order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def check_account(invitation: Invitation, user: User) -> str | None:
    """Return why this account cannot claim the invitation, or None."""
    if invitation.target == InvitationTarget.HOLDER and not user.is_patient:
        return "professional_for_holder"
    if invitation.target == InvitationTarget.PROFESSIONAL:
        if not user.is_professional:
            return "patient_for_professional"
        if not user.is_verified_professional:
            return "unverified"
    return None


def claim(invitation: Invitation, user: User, birth_date: date, attested: bool) -> Carnet:
    """Attach the carnet to the account if the birth date matches; one transaction.

    The invitation is consumed with a conditional UPDATE, so of two concurrent
    claims only one wins. A wrong birth date counts an attempt; the fifth locks.
    """
    now = utcnow()
    state = invitation.state(now)
    if state != InvitationState.PENDING:
        raise ClaimError(state.value, invitation)
    problem = check_account(invitation, user)
    if problem:
        raise ClaimError(problem, invitation)
    if not attested:
        raise ClaimError("not_attested", invitation)
    carnet = invitation.carnet
    if invitation.target == InvitationTarget.HOLDER and has_owner(carnet) and not (
            invitation.created_by is not None and is_owner(invitation.created_by, carnet)):
        db.session.refresh(invitation)  # consumed meanwhile by a concurrent claim? then say "used"
        state = invitation.state(now)
        # else: issued by a professional before the first claim
        raise ClaimError(state.value if state != InvitationState.PENDING else "owner_consent", invitation)
    still_pending = (Invitation.id == invitation.id, Invitation.used_at.is_(None),
                     Invitation.revoked_at.is_(None), Invitation.locked_at.is_(None),
                     Invitation.expires_at > now)
    if birth_date != carnet.birth_date:
        db.session.execute(update(Invitation).where(*still_pending)
                           .values(failed_attempts=Invitation.failed_attempts + 1))
        db.session.refresh(invitation)
        audit(carnet, user, "claim.wrong_birth_date", invitation=invitation.id)
        if invitation.failed_attempts >= MAX_ATTEMPTS and invitation.locked_at is None:
            invitation.locked_at = now
            audit(carnet, user, "invitation.locked", invitation=invitation.id)
        db.session.commit()
        if invitation.locked_at is not None:
            raise ClaimError("locked", invitation)
        raise WrongBirthDate(invitation)
    consumed = db.session.execute(update(Invitation).where(*still_pending)
                                  .values(used_at=now, used_by_id=user.id)).rowcount
    if consumed != 1:
        db.session.rollback()
        db.session.refresh(invitation)
        raise ClaimError(invitation.state(utcnow()).value, invitation)
    others = [o.user for o in owners(carnet) if o.user_id != user.id]
    if invitation.target == InvitationTarget.HOLDER:
        if not is_owner(user, carnet):
            db.session.add(Ownership(carnet_id=carnet.id, user_id=user.id, since=now,
                                     invitation_id=invitation.id))
        audit(carnet, user, "carnet.claim", invitation=invitation.id)
        if not others:
            _revoke_handovers(carnet, user, now)
        _tell_owners(others, carnet, "owner_joined", user)
    else:
        if db.session.scalar(select(Access).where(Access.carnet_id == carnet.id, Access.professional_id == user.id,
                                                  Access.open)) is None:
            db.session.add(Access(carnet_id=carnet.id, professional_id=user.id, granted_at=now))
        audit(carnet, user, "access.grant", invitation=invitation.id)
        _tell_owners(others, carnet, "professional_joined", user)
    try:
        db.session.commit()
    except IntegrityError:  # the same account claimed twice at once through two links
        db.session.rollback()
        raise ClaimError("used", invitation) from None
    forget_permissions()
    return carnet


def _revoke_handovers(carnet: Carnet, first_owner: User, now: datetime) -> None:
    """At the first claim, revoke the other pending hand-overs: from now on the owner decides."""
    pending = db.session.scalars(select(Invitation).where(
        Invitation.carnet_id == carnet.id, Invitation.target == InvitationTarget.HOLDER,
        Invitation.used_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now))
    for other in pending:
        other.revoked_at = now
        audit(carnet, first_owner, "invitation.revoke", invitation=other.id, reason="owner_consent")


def _tell_owners(recipients: list[User], carnet: Carnet, kind: str, newcomer: User) -> None:
    """E-mail each other owner (at a confirmed address) that someone joined the carnet."""
    for owner in recipients:
        if owner.email_confirmed_at is None:
            continue
        subject = (f"{newcomer.display_name} a désormais accès au carnet {de(carnet.first_names)}"
                   if kind == "professional_joined" else f"Un autre titulaire a rejoint le carnet {de(carnet.first_names)}")
        queue_mail(owner.email, subject, "owner_notice", user=owner, carnet=carnet, kind=kind, newcomer=newcomer,
                   link=absolute_url("carnets.section", public_id=carnet.public_id, section="partage",
                                     _anchor="professionnels"))


def owners(carnet: Carnet) -> list[Ownership]:
    """Return the open ownerships of a carnet, oldest first."""
    return list(db.session.scalars(select(Ownership).where(
        Ownership.carnet_id == carnet.id, Ownership.open).order_by(Ownership.since)))


def owned_carnets(user: User) -> list[Carnet]:
    """Return the carnets the user owns, youngest holder first."""
    return list(db.session.scalars(
        select(Carnet).join(Ownership, Ownership.carnet_id == Carnet.id)
        .where(Ownership.user_id == user.id, Ownership.open)
        .order_by(Carnet.birth_date.desc(), Carnet.id)))
