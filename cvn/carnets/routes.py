"""Carnet pages: open a carnet, read it, record, correct and delete doses."""
from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cvn.access import get_carnet, professional_required
from cvn.carnets import services
from cvn.carnets.forms import CarnetForm, DeleteDoseForm, DoseForm
from cvn.clock import today, utcnow
from cvn.models import DoseState, InvitationState, InvitationTarget, Sex
from cvn.schedule.catalogue import disease_label, product_by_name, products
from cvn.web import render, see_other, wants_fragment

bp = Blueprint("carnets", __name__)

VIEWS = {"date", "maladies"}


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
                flash(_("Carnet de %(name)s ouvert. Enregistrez ses vaccinations.", name=carnet.full_name),
                      "success")
                return see_other("carnets.show", public_id=carnet.public_id)
    elif request.method == "POST":
        status = 422
    return render("carnets/new.html", form=form, duplicates=duplicates, status=status)


def _page_context(carnet, form=None, view=None, **overrides) -> dict:
    """Return everything the carnet page and its fragments show, for the current user."""
    from cvn.access import can_write, is_owner
    from cvn.sharing import services as sharing
    from cvn.sharing.forms import EmailInviteForm
    from cvn.sharing.qr import qr_svg
    from cvn.sharing.routes import SHOWN_KEY

    from cvn.access import can_edit_dose
    from cvn.archives.services import accesses

    view = view if view in VIEWS else "date"
    doses = services.live_doses(carnet)
    owner = is_owner(current_user, carnet)
    may_share = sharing.may_invite(current_user, carnet, InvitationTarget.HOLDER)
    invitations = {target.value: sharing.invitations(carnet, target)
                   if sharing.may_invite(current_user, carnet, target) else []
                   for target in InvitationTarget}
    shown = session.get(SHOWN_KEY, {})
    codes = {}
    for invitation in invitations["holder"] + invitations["professional"]:
        raw = shown.get(str(invitation.id))
        if raw and invitation.state(utcnow()) == InvitationState.PENDING:
            link = sharing.link_for(raw)
            codes[invitation.id] = {"link": link, "svg": qr_svg(link, _("QR code du lien d’invitation"))}
    context = dict(
        carnet=carnet, doses=doses, view=view,
        groups=services.doses_by_disease(doses) if view == "maladies" else [],
        form=form or DoseForm(formdata=None), products=products().values(),
        revisions=services.revisions(carnet), events=services.audit_trail(carnet),
        pending=sum(1 for d in doses if d.state == DoseState.DECLARED),
        may_write=can_write(current_user, carnet), may_record=can_write(current_user, carnet) or owner,
        may_validate=can_write(current_user, carnet), owner=owner,
        editable={d.id for d in doses if can_edit_dose(current_user, carnet, d)},
        may_share=may_share, invitations=invitations, codes=codes, now=utcnow(),
        owners=sharing.owners(carnet), accesses=accesses(carnet) if owner else [], notice={},
        email_forms={t.value: EmailInviteForm.for_target(t.value, formdata=None) for t in InvitationTarget})
    from cvn.alerts.services import is_subscribed
    from cvn.status.services import grouped, status_of

    context["recommendations"] = grouped(status_of(carnet))
    context["today_date"] = today()
    context["subscribed"] = owner and is_subscribed(current_user, carnet)
    context.update(overrides)
    return context


def carnet_page(carnet, block: str | None = None, status: int = 200, form=None, view=None, **overrides):
    """Render the carnet page (or one of its blocks for htmx) for the current user."""
    return render("carnets/show.html", block=block, status=status,
                  **_page_context(carnet, form=form, view=view, **overrides))


@bp.get("/carnets/<public_id>")
@login_required
def show(public_id: str):
    """Show a carnet: identity, doses (by date or by disease), history, audit trail."""
    carnet = get_carnet(public_id)
    services.record_read(carnet, current_user)
    return carnet_page(carnet, block="doses_list", view=request.args.get("vue"))


def _dose_input(form: DoseForm) -> services.DoseInput:
    return services.DoseInput(
        product=form.product.data or "", diseases=list(form.diseases.data or []),
        administered_on=form.administered_on.data, lot_number=form.lot_number.data or "",
        dose_label=form.dose_label.data or "", injection_site=form.injection_site.data or "",
        route=form.route.data or "", note=form.note.data or "")


def _apply(form: DoseForm, action) -> bool:
    """Validate the form and run the service; put rule errors beside their field."""
    if not form.validate_on_submit():
        return False
    try:
        action(_dose_input(form))
    except services.DoseError as error:
        getattr(form, error.field).errors.append(error.message)
        return False
    except services.AccessLost:
        abort(404)
    return True


@bp.post("/carnets/<public_id>/doses")
@login_required
def add_dose(public_id: str):
    """Record a dose (validated at once when a professional records it)."""
    carnet = get_carnet(public_id)
    form = DoseForm()
    if _apply(form, lambda data: services.record_dose(current_user, carnet, data)):
        if wants_fragment():
            return carnet_page(carnet, block="doses_section", saved=True, view=request.args.get("vue"))
        flash(_("Dose enregistrée."), "success")
        return see_other("carnets.show", public_id=carnet.public_id, _anchor="doses")
    return carnet_page(carnet, block="doses_section", status=422, form=form, view=request.args.get("vue"))


def _dose_or_404(carnet, dose_id):
    """Return a dose the current user may correct or delete, else 404."""
    from cvn.access import can_edit_dose

    dose = services.get_dose(carnet, dose_id)
    if dose is None or not can_edit_dose(current_user, carnet, dose):
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
        return render("carnets/dose_edit.html", block="dose_edit", carnet=carnet, dose=dose, form=form,
                      products=products().values())
    form = DoseForm()
    if _apply(form, lambda data: services.update_dose(current_user, carnet, dose, data)):
        if wants_fragment():
            from cvn.access import can_edit_dose, can_write

            row = render_template("carnets/_dose.html", carnet=carnet, dose=dose, view="date",
                                  may_validate=can_write(current_user, carnet),
                                  editable={dose.id} if can_edit_dose(current_user, carnet, dose) else set())
            history = render_template("carnets/_history.html", carnet=carnet,
                                      revisions=services.revisions(carnet), oob=True)
            return row + history
        flash(_("Dose corrigée."), "success")
        return see_other("carnets.show", public_id=carnet.public_id, _anchor=f"dose-{dose.id}")
    return render("carnets/dose_edit.html", block="dose_edit", status=422, carnet=carnet, dose=dose,
                  form=form, products=products().values())


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
        except services.AccessLost:
            abort(404)
        else:
            flash(_("Dose supprimée. Elle reste visible dans l’historique du carnet."), "success")
            return see_other("carnets.show", public_id=carnet.public_id, _anchor="doses")
    elif request.method == "POST":
        status = 422
    return render("carnets/dose_delete.html", carnet=carnet, dose=dose, form=form, status=status)


@bp.get("/carnets/<public_id>/journal")
@login_required
def journal(public_id: str):
    """Show the whole audit trail of a carnet."""
    carnet = get_carnet(public_id)
    services.record_read(carnet, current_user)
    return render("carnets/journal.html", carnet=carnet, events=services.audit_trail(carnet, limit=None))


@bp.get("/catalogue/couverture")
@login_required
def coverage():
    """Say which diseases the typed product covers (htmx hint beside the field)."""
    name = request.args.get("product", "")
    product = product_by_name(name) if name.strip() else None
    return render_template("carnets/_coverage.html", product=product, name=name.strip(),
                           labels=[disease_label(d) for d in product.diseases] if product else [])
