"""The sharing panel's context: one kind of invitation (holder or professional) of one carnet.

The panel builds only its own context (no status, no doses), so the panel's
POSTs and the carnet's "Partage" section both pay only for it. The tokens the
issuer may still display (QR code, link to copy) live in the session under a
key that only this module reads and writes.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import session
from flask_babel import gettext as _

from cvn.access import permissions
from cvn.clock import utcnow
from cvn.models import Carnet, Invitation, InvitationState, InvitationTarget, User
from cvn.sharing import services
from cvn.sharing.forms import EmailInviteForm
from cvn.sharing.qr import qr_svg

#: Session key holding the tokens the issuer may still display (QR / link), by invitation id.
SHOWN_KEY = "shown_invitations"
#: Form prefix, page anchor of each kind of invitation panel.
ANCHORS = {InvitationTarget.HOLDER: "partage", InvitationTarget.PROFESSIONAL: "partage-pro"}


def remember(invitation_id: int, raw: str) -> None:
    """Keep a fresh token in the session so the issuer sees its QR code and link (last 10 only)."""
    shown = dict(session.get(SHOWN_KEY, {}))
    shown[str(invitation_id)] = raw
    session[SHOWN_KEY] = dict(list(shown.items())[-10:])  # keep the cookie small


@dataclass
class Panel:
    """What one sharing panel shows."""

    target: str
    anchor: str
    by_owner: bool
    invitations: list[Invitation]
    codes: dict[int, dict]
    email_form: EmailInviteForm
    now: object
    notice: str | None = None


def panel(user: User, carnet: Carnet, target: InvitationTarget, notice: str | None = None,
          email_form: EmailInviteForm | None = None) -> Panel | None:
    """Return the panel of this kind for the user, or None when the user may not invite this way."""
    if not services.may_invite(user, carnet, target):
        return None
    by_owner = permissions(user, carnet).owner
    invitations = services.invitations(carnet, target)
    shown = session.get(SHOWN_KEY, {})
    now = utcnow()
    codes = {}
    for invitation in invitations:
        raw = shown.get(str(invitation.id))
        if raw and invitation.state(now) == InvitationState.PENDING:
            link = services.link_for(raw)
            codes[invitation.id] = {"link": link, "svg": qr_svg(link, _("QR code du lien d’invitation"))}
    return Panel(target.value, ANCHORS[target], by_owner, invitations, codes,
                 email_form or EmailInviteForm.for_target(target.value, by_owner=by_owner, formdata=None),
                 now, notice)
