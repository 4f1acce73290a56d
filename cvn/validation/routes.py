"""The "À valider" queue and the validate / reject actions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from cvn.access import get_carnet, professional_required
from cvn.carnets.services import DoseError, get_dose
from cvn.validation import services
from cvn.web import carnet_changed, redirect_url, render, safe_next, wants_fragment

bp = Blueprint("validation", __name__)
#: The htmx event after a decision on "À valider" (the row is gone, the carnet changed).
QUEUE_CHANGED = "carnet-changed, queue-changed"


@bp.get("/pro/a-valider")
@professional_required
def queue():
    """List the declared doses waiting for this professional's validation."""
    return render("validation/queue.html", waiting=services.queue(current_user))


def _back(carnet, dose=None):
    target = safe_next(request.form.get("next")) or url_for("carnets.section", public_id=carnet.public_id,
                                                            section="doses")
    return redirect_url(target)


def _decision(public_id: str, dose_id: int, act, done: str):
    carnet = get_carnet(public_id)
    dose = get_dose(carnet, dose_id)
    if dose is None:
        abort(404)
    try:
        act(carnet, dose)
    except DoseError as error:
        if wants_fragment():
            return render_template("carnets/_dose.html", carnet=carnet, dose=dose, view="date", editable=set(),
                                   may_validate=True, decision_error=error.message), 422
        flash(error.message, "error")
        return _back(carnet)
    if wants_fragment() and safe_next(request.form.get("next")) == url_for("validation.queue"):
        # On "À valider", a decided dose leaves the list: a one-line confirmation in its place (focus goes
        # there, screen readers hear it), and the fresh count out of band.
        return carnet_changed(make_response(render_template(
            "validation/_decided.html", waiting=services.waiting_count(current_user), done=done)), QUEUE_CHANGED)
    if wants_fragment():
        return carnet_changed(make_response(render_template(
            "carnets/_dose.html", carnet=carnet, dose=dose, view="date", editable={dose.id}, focus=True,
            may_validate=True, next=request.form.get("next"))))
    flash(done, "success")
    return _back(carnet)


@bp.post("/carnets/<public_id>/doses/<int:dose_id>/valider")
@login_required
def validate(public_id: str, dose_id: int):
    """Validate one declared dose."""
    return _decision(public_id, dose_id, lambda carnet, dose: services.validate(current_user, carnet, dose),
                     _("Dose validée."))


@bp.post("/carnets/<public_id>/doses/<int:dose_id>/refuser")
@login_required
def reject(public_id: str, dose_id: int):
    """Reject one declared dose, with a reason for the owner."""
    return _decision(public_id, dose_id,
                     lambda carnet, dose: services.reject(current_user, carnet, dose, request.form.get("reason", "")),
                     _("Dose refusée. Le patient verra votre motif."))


@bp.post("/carnets/<public_id>/doses/valider-tout")
@login_required
def validate_all(public_id: str):
    """Validate every declared dose of a carnet at once."""
    carnet = get_carnet(public_id)
    count = services.validate_all(current_user, carnet)
    flash(ngettext("%(num)s dose validée.", "%(num)s doses validées.", count), "success")
    return _back(carnet)
