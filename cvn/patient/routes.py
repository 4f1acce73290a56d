"""The patient space: "Mes carnets", and opening a carnet of one's own."""
from __future__ import annotations

from flask import Blueprint, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from cvn.access import patient_required
from cvn.carnets.services import DoseError
from cvn.french import de
from cvn.models import Sex
from cvn.patient import services
from cvn.patient.forms import OwnCarnetForm
from cvn.sharing.services import owned_carnets
from cvn.status.services import summaries
from cvn.web import render, see_other

bp = Blueprint("patient", __name__, url_prefix="/mes-carnets")


@bp.get("/")
@patient_required
def home():
    """List the carnets the patient owns."""
    carnets = owned_carnets(current_user)
    return render("patient/home.html", carnets=carnets, summaries=summaries(carnets))


@bp.route("/nouveau", methods=["GET", "POST"])
@patient_required
def new_carnet():
    """Open a carnet for oneself or a child; its doses stay declared until a professional validates them."""
    form = OwnCarnetForm()
    duplicates, status = [], 200
    if form.validate_on_submit():
        duplicates = services.find_own_duplicates(current_user, form.last_name.data, form.first_names.data,
                                                  form.birth_date.data)
        if duplicates and not form.confirm_duplicate.data:
            status = 409
        else:
            try:
                carnet = services.create_own_carnet(
                    current_user, last_name=form.last_name.data, first_names=form.first_names.data,
                    birth_date=form.birth_date.data, sex=Sex(form.sex.data), relation=form.relation.data)
            except DoseError as error:
                getattr(form, error.field).errors.append(error.message)
                status = 422
            else:
                flash(_("Carnet %(de_name)s créé. Déclarez ses vaccinations à partir du carnet papier : "
                        "elles seront validées par un professionnel de santé avec qui vous le partagerez.",
                        de_name=de(carnet.full_name)), "success")
                return see_other("carnets.show", public_id=carnet.public_id)
    elif request.method == "POST":
        status = 422
    return render("patient/new.html", form=form, duplicates=duplicates, status=status)
