"""The holder's situations (risk flags), which change the recommendations."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cvn.access import get_carnet
from cvn.carnets import sections
from cvn.status import services
from cvn.web import SUMMARY_CHANGED, carnet_changed, see_other, wants_fragment

bp = Blueprint("status", __name__)


@bp.post("/carnets/<public_id>/situation")
@login_required
def set_flags(public_id: str):
    """Record the holder's situations (owners and professionals with access)."""
    carnet = get_carnet(public_id)
    try:
        services.set_flags(current_user, carnet, request.form.getlist("flags"), request.form.get("due_date", ""))
    except services.SituationError as error:
        return sections.show(carnet, "statut", request.args, status=422, situation_error=str(error))
    if wants_fragment():
        response = make_response(sections.show(carnet, "statut", request.args,
                                               saved=_("Situation enregistrée : le statut vaccinal en tient compte.")))
        return carnet_changed(response, SUMMARY_CHANGED)
    flash(_("Situation enregistrée : le statut vaccinal en tient compte."), "success")
    return see_other("carnets.show", public_id=carnet.public_id, _anchor="statut")
