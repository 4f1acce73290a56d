"""Hand a carnet over (e-mail, QR code, copied link) and claim it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from cvn.access import get_carnet, permissions
from cvn.clock import local_zone, utcnow
from cvn.dates import french_date
from cvn.extensions import limiter
from cvn.french import de
from cvn.models import InvitationChannel, InvitationState, InvitationTarget
from cvn.sharing import services
from cvn.sharing.forms import ClaimForm, CodeInviteForm, EmailInviteForm
from cvn.sharing.panel import ANCHORS, panel, remember
from cvn.web import carnet_changed, render, see_other, wants_fragment

bp = Blueprint("sharing", __name__)

#: Session key holding the token of the invitation being claimed.
CLAIM_KEY = "claim_token"


def _target() -> InvitationTarget:
    try:
        return InvitationTarget(request.form.get("target", "holder"))
    except ValueError:
        abort(400)


def _sharing_carnet(public_id: str, target: InvitationTarget):
    carnet = get_carnet(public_id)
    if not services.may_invite(current_user, carnet, target):
        abort(404)
    return carnet


def _panel_page(carnet, target: InvitationTarget, status: int = 200, **kwargs):
    """Render the panel alone: the fragment for htmx, a small page otherwise (a form error without JS)."""
    shown = panel(current_user, carnet, target, **kwargs)
    if shown is None:  # the change took the right away (cannot happen today; say so plainly)
        abort(404)
    response = make_response(render("sharing/panel.html", block="panel", status=status, carnet=carnet, panel=shown))
    if status < 400:
        carnet_changed(response)
    return response


def _after_change(carnet, target: InvitationTarget, message: str | None = None, anchor: str | None = None):
    """Answer a change in a sharing panel: the panel for htmx, a redirect otherwise."""
    if wants_fragment():
        return _panel_page(carnet, target, notice=message)
    if message:
        flash(message, "success")
    return see_other("carnets.section", public_id=carnet.public_id, section="partage",
                     _anchor=anchor or ANCHORS[target])


@bp.post("/carnets/<public_id>/invitations/email")
@login_required
def invite_by_email(public_id: str):
    """E-mail a link valid 30 days (to the holder or another owner, or to a professional)."""
    target = _target()
    carnet = _sharing_carnet(public_id, target)
    form = EmailInviteForm.for_target(target.value, by_owner=permissions(current_user, carnet).owner)
    if not form.validate_on_submit():
        return _panel_page(carnet, target, status=422, email_form=form)
    try:
        invitation, _raw = services.create_invitation(current_user, carnet, target,
                                                      InvitationChannel.EMAIL, form.email.data)
    except services.TooManyInvitations as error:
        form.email.errors.append(error.message)
        return _panel_page(carnet, target, status=429, email_form=form)
    return _after_change(carnet, target, _("Invitation envoyée à %(email)s. Le lien est valable jusqu’au %(d)s.",
                                   email=invitation.email, d=french_date(invitation.expires_at.astimezone(local_zone()).date())))


@bp.post("/carnets/<public_id>/invitations/code")
@login_required
def invite_by_code(public_id: str):
    """Create an invitation shown as a QR code or as a link to copy."""
    target = _target()
    carnet = _sharing_carnet(public_id, target)
    form = CodeInviteForm()
    if not form.validate_on_submit():
        abort(400)
    invitation, raw = services.create_invitation(current_user, carnet, target,
                                                 InvitationChannel(form.channel.data))
    remember(invitation.id, raw)
    return _after_change(carnet, target, anchor=f"invitation-{invitation.id}")


def _managed_invitation(public_id: str, invitation_id: int):
    """Return the carnet and one of its invitations the current user may manage, else 404."""
    carnet = get_carnet(public_id)
    invitation = services.get_for_carnet(carnet, invitation_id)
    if invitation is None or not services.may_invite(current_user, carnet, invitation.target):
        abort(404)
    return carnet, invitation


@bp.post("/carnets/<public_id>/invitations/<int:invitation_id>/revoquer")
@login_required
def revoke(public_id: str, invitation_id: int):
    """Revoke an invitation: its link stops working at once."""
    carnet, invitation = _managed_invitation(public_id, invitation_id)
    services.revoke(current_user, invitation)
    return _after_change(carnet, invitation.target, _("Invitation annulée : son lien ne fonctionne plus."))


@bp.post("/carnets/<public_id>/invitations/<int:invitation_id>/renouveler")
@login_required
def reissue(public_id: str, invitation_id: int):
    """Replace an invitation (expired, locked or lost) by a new one on the same channel."""
    carnet, invitation = _managed_invitation(public_id, invitation_id)
    try:
        new, raw = services.reissue(current_user, invitation)
    except services.TooManyInvitations as error:
        if wants_fragment():
            return _panel_page(carnet, invitation.target, status=429, notice=error.message)
        flash(error.message, "error")
        return see_other("carnets.section", public_id=carnet.public_id, section="partage",
                         _anchor=ANCHORS[invitation.target])
    message = None
    if new.channel == InvitationChannel.EMAIL:
        message = _("Nouvelle invitation envoyée à %(email)s.", email=new.email)
    else:
        remember(new.id, raw)
    return _after_change(carnet, new.target, message, anchor=f"invitation-{new.id}")


@bp.get("/i/<token>")
@limiter.limit("30 per minute", error_message="Trop de liens ouverts depuis cette adresse.")
def open_link(token: str):
    """Take the token out of the URL (history, Referer) into the session."""
    session[CLAIM_KEY] = token[:100]
    return redirect(url_for("sharing.claim"), code=303)


def _state_page(kind: str, invitation=None, status: int = 410):
    return render("sharing/claim_state.html", kind=kind, invitation=invitation, status=status)


@bp.route("/invitation", methods=["GET", "POST"])
@limiter.limit("10 per minute;50 per hour", methods=["POST"],
               error_message="Trop d’essais de date de naissance depuis cette adresse.")
def claim():
    """Claim the invitation held in the session: account, birth date, attestation."""
    raw = session.get(CLAIM_KEY)
    invitation = services.find(raw) if raw else None
    if invitation is None:
        session.pop(CLAIM_KEY, None)
        return _state_page("unknown", status=404)
    state = invitation.state(utcnow())
    if state != InvitationState.PENDING:
        if not (state == InvitationState.USED and current_user.is_authenticated
                and invitation.used_by_id == current_user.id):
            session.pop(CLAIM_KEY, None)
        return _state_page(state.value, invitation, status=423 if state == InvitationState.LOCKED else 410)
    if not current_user.is_authenticated:
        return render("sharing/claim_welcome.html", invitation=invitation)
    problem = services.check_account(invitation, current_user)
    if problem:
        return _state_page(problem, invitation, status=403)
    form = ClaimForm()
    status = 200
    if form.validate_on_submit():
        try:
            carnet = services.claim(invitation, current_user, form.birth_date.data, form.attest.data)
        except services.WrongBirthDate as error:
            form.birth_date.errors.append(
                ngettext("Cette date ne correspond pas à celle du titulaire du carnet. Il vous reste %(num)s essai.",
                         "Cette date ne correspond pas à celle du titulaire du carnet. Il vous reste %(num)s essais.",
                         error.remaining))
            status = 422
        except services.ClaimError as error:
            session.pop(CLAIM_KEY, None)
            return _state_page(error.kind, invitation, status=423 if error.kind == "locked" else 410)
        else:
            session.pop(CLAIM_KEY, None)
            if invitation.target == InvitationTarget.HOLDER:
                flash(_("Le carnet %(de_name)s est maintenant dans vos carnets.", de_name=de(carnet.full_name)), "success")
            else:
                flash(_("Le carnet %(de_name)s est maintenant dans votre patientèle.", de_name=de(carnet.full_name)),
                      "success")
            return see_other("carnets.show", public_id=carnet.public_id)
    elif request.method == "POST":
        status = 422
    return render("sharing/claim.html", form=form, invitation=invitation, status=status)
