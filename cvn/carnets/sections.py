"""The carnet screen's parts: header, Statut, Doses, Partage, Historique — each builds only its own context.

A full page composes the header with one section; an htmx request gets one
part alone and pays only for it (the sharing panel evaluates no status, the
history loads no doses). Permissions come from ``cvn.access.permissions``,
computed once per request.
"""
from __future__ import annotations

from flask_login import current_user

from cvn.access import permissions
from cvn.alerts.services import is_subscribed
from cvn.archives.services import accesses
from cvn.audit import trail_page
from cvn.carnets import services
from cvn.carnets.forms import DoseForm
from cvn.clock import today
from cvn.inputs import page_number
from cvn.models import Carnet, Dose, DoseState, InvitationTarget
from cvn.schedule.catalogue import products
from cvn.sharing.panel import panel
from cvn.sharing.services import owners
from cvn.status.services import grouped, overview, status_from_doses
from cvn.web import render, wants_fragment

#: The sections, in the order of the tabs: URL slug → French label.
SECTIONS = {"statut": "Statut", "doses": "Doses", "partage": "Partage", "historique": "Historique"}
VIEWS = {"date", "maladies"}


def base(carnet: Carnet) -> dict:
    """Return what every part needs: the carnet and what the current user may do in it."""
    perms = permissions(current_user, carnet)
    return dict(carnet=carnet, perms=perms, owner=perms.owner, may_write=perms.write,
                may_record=perms.record, may_validate=perms.write, sections=SECTIONS)


def header(carnet: Carnet, doses: list[Dose], recommendations=None) -> dict:
    """Return the header's context: age, the status line (overdue, due, next date), pending doses."""
    groups = grouped(recommendations if recommendations is not None else status_from_doses(carnet, doses))
    return dict(overview=overview(groups), dose_count=len(doses),
                pending=sum(1 for d in doses if d.state == DoseState.DECLARED))


def status_part(carnet: Carnet, doses: list[Dose]) -> tuple[dict, list]:
    """Return the Statut section's context (and the recommendations, for the header)."""
    recommendations = status_from_doses(carnet, doses)
    perms = permissions(current_user, carnet)
    return dict(recommendations=grouped(recommendations), today_date=today(),
                subscribed=perms.owner and is_subscribed(current_user, carnet)), recommendations


def doses_part(carnet: Carnet, doses: list[Dose], view: str | None) -> dict:
    """Return the Doses section's context: the list by date or by disease and who may act on each."""
    view = view if view in VIEWS else "date"
    perms = permissions(current_user, carnet)
    return dict(doses=doses, view=view, groups=services.doses_by_disease(doses) if view == "maladies" else [],
                editable={d.id for d in doses if perms.can_edit(d)},
                pending=sum(1 for d in doses if d.state == DoseState.DECLARED))


def dose_form(form: DoseForm | None = None) -> dict:
    """Return the dose form's context (record or declare)."""
    if form is None:
        form = DoseForm(formdata=None)
        form.administered_on.data = today()
    return dict(form=form, products=products().values())


def sharing(carnet: Carnet) -> dict:
    """Return the Partage section's context: owners, professionals with access, the invitation panels."""
    perms = permissions(current_user, carnet)
    if perms.owner:
        return dict(owners=owners(carnet), accesses=accesses(carnet),
                    panels=[panel(current_user, carnet, InvitationTarget.PROFESSIONAL),
                            panel(current_user, carnet, InvitationTarget.HOLDER)])
    holder_panel = panel(current_user, carnet, InvitationTarget.HOLDER)
    return dict(owners=[] if holder_panel else owners(carnet), accesses=[],
                panels=[holder_panel] if holder_panel else [])


def history(carnet: Carnet, page: int) -> dict:
    """Return the Historique section's context: dose corrections and one page of the audit trail."""
    return dict(revisions=services.revisions(carnet), trail=trail_page(carnet, page))


def printable(carnet: Carnet) -> dict:
    """Return the print view's context: header, status and doses by disease, read-only, from one load of the doses."""
    doses = services.live_doses(carnet)
    context, recommendations = status_part(carnet, doses)
    return {**base(carnet), **header(carnet, doses, recommendations), **context,
            **doses_part(carnet, doses, "maladies"), "section": "imprimer", "editable": set(),
            "may_validate": False}


def page(carnet: Carnet, section: str, status: int = 200, loaded: list[Dose] | None = None, **context):
    """Render a section: the full page (header, main action, tabs, section) or, for htmx, the section alone."""
    recommendations = context.pop("_recommendations", None)
    context = {**base(carnet), "section": section, **context}
    if not wants_fragment():
        doses = services.live_doses(carnet, people=False) if loaded is None else loaded
        context.update(header(carnet, doses, recommendations))
    return render("carnets/show.html", block="carnet_body", status=status, **context)


def show(carnet: Carnet, section: str, args, status: int = 200, **extra):
    """Build one section's own context and render it (the header reuses the doses it loaded)."""
    doses = None
    if section == "statut":
        doses = services.live_doses(carnet, people=False)  # the status counts doses, names nobody
        context, recommendations = status_part(carnet, doses)
        context["_recommendations"] = recommendations
    elif section == "doses":
        doses = services.live_doses(carnet)
        context = doses_part(carnet, doses, args.get("vue"))
    elif section == "partage":
        context = sharing(carnet)
    else:
        context = history(carnet, page_number(args.get("page")))
    return page(carnet, section, status=status, loaded=doses, **context, **extra)
