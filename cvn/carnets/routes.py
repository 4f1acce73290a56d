"""Carnet pages: open a carnet; its header and sections (Statut, Doses, Partage, Historique); doses.

Every section has its own URL: the full page (header, main action, section
tabs, the section) without JavaScript, the section alone for htmx. Every
change answers with the changed part plus the ``carnet-changed`` event, so the
header and the status refresh themselves.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cvn.access import get_carnet, permissions, professional_required
from cvn.audit import record_read
from cvn.carnets import sections, services
from cvn.carnets.forms import ROUTE_LABELS, SITE_LABELS, CarnetForm, DeleteDoseForm, DoseForm
from cvn.clock import today
from cvn.french import de
from cvn.models import Sex
from cvn.schedule.catalogue import disease_label, product_by_name, products
from cvn.status.services import FLAGS, STATUS_LABELS
from cvn.web import carnet_changed, push_url, render, see_other, wants_fragment

bp = Blueprint("carnets", __name__)


@bp.app_context_processor
def labels():
    """Give every template the labels of injection sites, routes, situations and status states."""
    return {"SITE_LABELS": SITE_LABELS, "ROUTE_LABELS": ROUTE_LABELS, "FLAGS": FLAGS,
            "STATUS_LABELS": STATUS_LABELS, "today_iso": today().isoformat()}


@bp.route("/pro/carnets/nouveau", methods=["GET", "POST"])
@professional_required
def create():
    """Open a carnet for a patient; warn when it looks like one the professional has."""
    form = CarnetForm()
    duplicates = []
    status = 200
    if form.validate_on_submit():
        duplicates = services.find_duplicates(current_user, form.last_name.data, form.first_names.data,
                                              form.birth_date.data)
        if duplicates and not form.confirm_duplicate.data:
            status = 409
        else:
            try:
                carnet = services.create_carnet(
                    current_user, last_name=form.last_name.data, first_names=form.first_names.data,
                    birth_date=form.birth_date.data, sex=Sex(form.sex.data))
            except services.DoseError as error:
                getattr(form, error.field).errors.append(error.message)
                status = 422
            else:
                flash(_("Carnet %(de_name)s ouvert. Enregistrez ses vaccinations.", de_name=de(carnet.full_name)),
                      "success")
                return see_other("carnets.show", public_id=carnet.public_id)
    elif request.method == "POST":
        status = 422
    return render("carnets/new.html", form=form, duplicates=duplicates, status=status)


@bp.get("/carnets/<public_id>")
@login_required
def show(public_id: str):
    """Show a carnet: its header, main action and the Statut section."""
    return section(public_id, "statut")


@bp.get("/carnets/<public_id>/<any(doses, partage, historique):section>")
@login_required
def section(public_id: str, section: str):
    """Show one section of a carnet (Doses, Partage, Historique), as a page or an htmx fragment."""
    carnet = get_carnet(public_id)
    record_read(carnet, current_user)
    return sections.show(carnet, section, request.args)


@bp.get("/carnets/<public_id>/imprimer")
@login_required
def printable(public_id: str):
    """Show the whole carnet as one record to print (identity, status, doses by disease)."""
    carnet = get_carnet(public_id)
    record_read(carnet, current_user)
    return render("carnets/print.html", **sections.printable(carnet))


@bp.get("/carnets/<public_id>/resume")
@login_required
def summary(public_id: str):
    """Answer the carnet's header alone (it refreshes itself after a change); a page gets the carnet."""
    carnet = get_carnet(public_id)
    if not wants_fragment():
        return see_other("carnets.show", public_id=carnet.public_id)
    record_read(carnet, current_user)  # a read like any other (the same consultation: no new event)
    doses = services.live_doses(carnet, people=False)
    return render("carnets/show.html", block="carnet_header", **sections.base(carnet),
                  **sections.header(carnet, doses))


def _dose_input(form: DoseForm) -> services.DoseInput:
    return services.DoseInput(
        product=form.product.data or "", diseases=list(form.diseases.data or []),
        administered_on=form.administered_on.data, lot_number=form.lot_number.data or "",
        dose_label=form.dose_label.data or "", injection_site=form.injection_site.data or "",
        route=form.route.data or "", note=form.note.data or "")


def _apply(form: DoseForm, action):
    """Validate the form and run the service; put rule errors beside their field. Return the dose or None."""
    if not form.validate_on_submit():
        return None
    try:
        return action(_dose_input(form))
    except services.DoseError as error:
        getattr(form, error.field).errors.append(error.message)
        return None


@bp.get("/carnets/<public_id>/doses/nouvelle")
@login_required
def new_dose(public_id: str):
    """Show the form to record (professional) or declare (owner) a dose."""
    carnet = get_carnet(public_id)
    if not permissions(current_user, carnet).record:
        abort(404)
    record_read(carnet, current_user)
    return sections.page(carnet, "nouvelle", **sections.dose_form())


@bp.post("/carnets/<public_id>/doses")
@login_required
def add_dose(public_id: str):
    """Record a dose (validated at once when a professional records it, declared when an owner does)."""
    carnet = get_carnet(public_id)
    form = DoseForm()
    dose = _apply(form, lambda data: services.record_dose(current_user, carnet, data))
    if dose is None:
        return sections.page(carnet, "nouvelle", status=422, **sections.dose_form(form))
    message = _("Dose enregistrée.") if permissions(current_user, carnet).write else \
        _("Dose déclarée : elle sera validée par un professionnel de santé.")
    if wants_fragment():
        doses = services.live_doses(carnet)
        response = make_response(sections.page(carnet, "doses", loaded=doses, saved=message, new_dose=dose.id,
                                       **sections.doses_part(carnet, doses, None)))
        push_url(response, url_for("carnets.section", public_id=carnet.public_id, section="doses"))
        return carnet_changed(response)
    flash(message, "success")
    return see_other("carnets.section", public_id=carnet.public_id, section="doses", _anchor=f"dose-{dose.id}")


def _dose_or_404(carnet, dose_id):
    """Return a dose the current user may correct or delete, else 404."""
    dose = services.get_dose(carnet, dose_id)
    if dose is None or not permissions(current_user, carnet).can_edit(dose):
        abort(404)
    return dose


@bp.route("/carnets/<public_id>/doses/<int:dose_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_dose(public_id: str, dose_id: int):
    """Correct a dose; the change is kept as history."""
    carnet = get_carnet(public_id)
    dose = _dose_or_404(carnet, dose_id)
    if request.method == "GET":
        form = DoseForm(obj=dose, formdata=None)
        form.product.data = dose.product_name or ""
        form.diseases.data = [] if dose.product_code else list(dose.diseases)
        return render("carnets/dose_edit.html", block="dose_edit", dose=dose, form=form,
                      products=products().values(), **sections.base(carnet))
    form = DoseForm()
    if _apply(form, lambda data: services.update_dose(current_user, carnet, dose, data)) is not None:
        if wants_fragment():
            perms = permissions(current_user, carnet)
            row = render_template("carnets/_dose.html", carnet=carnet, dose=dose, view="date", focus=True,
                                  may_validate=perms.write, editable={dose.id} if perms.can_edit(dose) else set())
            return carnet_changed(make_response(row))
        flash(_("Dose corrigée."), "success")
        return see_other("carnets.section", public_id=carnet.public_id, section="doses", _anchor=f"dose-{dose.id}")
    return render("carnets/dose_edit.html", block="dose_edit", status=422, dose=dose,
                  form=form, products=products().values(), **sections.base(carnet))


@bp.route("/carnets/<public_id>/doses/<int:dose_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete_dose(public_id: str, dose_id: int):
    """Delete a dose (a validated one needs a reason); it stays in the history."""
    carnet = get_carnet(public_id)
    dose = _dose_or_404(carnet, dose_id)
    form = DeleteDoseForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.delete_dose(current_user, carnet, dose, form.reason.data or "")
        except services.DoseError as error:
            form.reason.errors.append(error.message)
            status = 422
        else:
            flash(_("Dose supprimée. Elle reste visible dans l’historique du carnet."), "success")
            return see_other("carnets.section", public_id=carnet.public_id, section="doses")
    elif request.method == "POST":
        status = 422
    return render("carnets/dose_delete.html", carnet=carnet, dose=dose, form=form, status=status)


@bp.get("/catalogue/couverture")
@login_required
def coverage():
    """Say which diseases the typed product covers (htmx hint beside the field)."""
    name = request.args.get("product", "")
    product = product_by_name(name) if name.strip() else None
    return render_template("carnets/_coverage.html", product=product, name=name.strip(),
                           labels=[disease_label(d) for d in product.diseases] if product else [])
