"""Who may enter which space, and the one policy for every carnet route.

Role mismatches answer 403 with a page that says which space it is; anonymous
visitors are sent to log in; a carnet the user may not see answers 404. A
verified professional without a second factor (or a passkey) reaches no carnet
and no professional page: every such request leads to the log-in methods page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import abort, has_request_context, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cvn.auth.factors import needs_second_factor as _needs_second_factor
from cvn.extensions import db, login_manager
from cvn.models import Access, Archive, Carnet, Dose, DoseState, Ownership
from cvn.web import redirect_url

#: Where this request keeps what it already computed (permissions, second factor).
_CACHE = "cvn.access"


def _request_cache() -> dict | None:
    """Return this request's cache, or None outside a request (CLI, jobs, service tests)."""
    if not has_request_context():
        return None
    return request.environ.setdefault(_CACHE, {})


def needs_second_factor(user) -> bool:
    """Tell whether a verified professional or an administrator still has to add a second factor (once per request)."""
    cache = _request_cache()
    if cache is None or not getattr(user, "is_authenticated", False):
        return _needs_second_factor(user)
    key = ("second_factor", user.id)
    if key not in cache:
        cache[key] = _needs_second_factor(user)
    return cache[key]

def know_second_factor(environ: dict, user, enrolled: bool) -> None:
    """Keep for this request whether the account needs a second factor, read with its session (no query)."""
    environ.setdefault(_CACHE, {})[("second_factor", user.id)] = _needs_second_factor(user, enrolled)

#: What a professional without a second factor may still open: the account pages and the app shell.
OPEN_WITHOUT_SECOND_FACTOR = {"static", "main.home", "main.manifest", "main.service_worker", "main.offline",
                              "main.health", "pro.pending", "portability.verify", "privacy.privacy",
                              "privacy.legal"}


def _to_enrolment():
    """Answer with a redirect to the log-in methods page (which says why)."""
    return redirect_url(url_for("auth.methods"))


def enforce_second_factor():
    """Before every request: lead a verified professional without a second factor to enrolment."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_WITHOUT_SECOND_FACTOR or endpoint.startswith(("auth.", "outbox.")):
        return None
    if needs_second_factor(current_user):
        return _to_enrolment()
    return None


# The role rules live in plain functions, the decorators only call them: mutation
# testing skips decorated functions (the wrappers), and must reach these rules.

def _refuse_professional():
    """Return the answer turning the current user away from a professional page, or None to let them in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_professional:
        abort(403)
    if not current_user.is_verified_professional:
        return redirect(url_for("pro.pending"), code=303)
    if needs_second_factor(current_user):
        return _to_enrolment()
    return None


def _refuse_patient():
    """Return the answer turning the current user away from a patient page, or None to let them in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_patient:
        abort(403)
    return None


def _refuse_admin():
    """Return the answer turning the current user away from an administration page, or None to let them in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    if needs_second_factor(current_user):
        return _to_enrolment()
    return None


def _guarded(view, refuse):
    """Wrap a view so that it runs only when ``refuse()`` lets the user in."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        refusal = refuse()
        return view(*args, **kwargs) if refusal is None else refusal

    return wrapper


def professional_required(view):
    """Allow verified professionals; send unverified ones to the waiting page."""
    return _guarded(view, _refuse_professional)


def patient_required(view):
    """Allow patient accounts only."""
    return _guarded(view, _refuse_patient)


def admin_required(view):
    """Allow administrators only."""
    return _guarded(view, _refuse_admin)


# --- Carnets: the one policy every carnet route goes through -----------------

class AccessLost(Exception):
    """The user may not (or may no longer) do this in this carnet; answered as 404 (cvn.errors)."""


class AccessEnded(AccessLost):
    """A professional opens a carnet whose holder ended their access; their archived copy exists."""

    def __init__(self, archive_id: int, ended_at: datetime):
        super().__init__("access ended")
        self.archive_id = archive_id
        self.ended_at = ended_at


@dataclass(frozen=True)
class Permissions:
    """What one account may do in one carnet, computed once per request.

    ``access``: the professional's open access, if any; ``owner``: the account
    owns the carnet. Everything else is derived without a query.
    """

    user_id: int | None
    access_id: int | None
    owner: bool

    # Properties made with property() rather than @property, so that mutation testing reaches them.
    def _read(self) -> bool:
        """Read the live carnet: its owners and professionals with access."""
        return self.access_id is not None or self.owner

    def _write(self) -> bool:
        """Work on it as a professional: record validated doses, correct any dose, validate."""
        return self.access_id is not None

    def _record(self) -> bool:
        """Add a dose (validated for professionals, declared for owners), set the holder's situation."""
        return self._read()

    read = property(_read)
    write = property(_write)
    record = property(_record)

    def can_edit(self, dose: Dose) -> bool:
        """Tell whether this account may correct or delete the dose.

        Professionals with access: any dose. Owners: their own declared (or
        rejected) doses, until a professional validates them.
        """
        if self.write:
            return True
        return (self.owner and dose.recorded_by_id == self.user_id
                and dose.state in (DoseState.DECLARED, DoseState.REJECTED))


NOBODY = Permissions(None, None, False)


def _grant(user, carnet_id):
    """Return the query of what opens the carnet to the user: a professional's open access, a patient's
    open ownership (their id), or None when nothing can."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_verified_professional:
        return select(Access.id).where(Access.carnet_id == carnet_id, Access.professional_id == user.id,
                                       Access.open)
    if user.is_patient:
        return select(Ownership.id).where(Ownership.carnet_id == carnet_id, Ownership.user_id == user.id,
                                          Ownership.open)
    return None


def _permissions_from(user, granted: int | None) -> Permissions:
    """Turn what :func:`_grant` found into the user's permissions."""
    if not getattr(user, "is_authenticated", False):
        return NOBODY
    if user.is_verified_professional:
        return Permissions(user.id, granted, False)
    return Permissions(user.id, None, user.is_patient and granted is not None)


def _compute(user, carnet: Carnet) -> Permissions:
    """Ask the database once: the open access of a professional, or the open ownership of a patient."""
    grant = _grant(user, carnet.id)
    return _permissions_from(user, db.session.scalar(grant) if grant is not None else None)


def _remember(user, carnet: Carnet, perms: Permissions) -> None:
    cache = _request_cache()
    if cache is not None:
        cache[("carnet", getattr(user, "id", None), carnet.id)] = perms


def permissions(user, carnet: Carnet) -> Permissions:
    """Return what the user may do in the carnet; computed once per request (one query)."""
    cache = _request_cache()
    if cache is None:
        return _compute(user, carnet)
    key = ("carnet", getattr(user, "id", None), carnet.id)
    if key not in cache:
        cache[key] = _compute(user, carnet)
    return cache[key]


def forget_permissions() -> None:
    """Drop this request's permissions (after a claim or an ended share changed them)."""
    cache = _request_cache()
    if cache is not None:
        for key in [k for k in cache if k[0] == "carnet"]:
            del cache[key]


def open_access(user, carnet) -> Access | None:
    """Return the professional's open access to the carnet, if any."""
    access_id = permissions(user, carnet).access_id
    return db.session.get(Access, access_id) if access_id is not None else None


def is_owner(user, carnet) -> bool:
    """Tell whether the user (a patient account) owns the carnet."""
    return permissions(user, carnet).owner


def can_read(user, carnet) -> bool:
    """Tell whether the user may read the live carnet: its owners and professionals with access."""
    return permissions(user, carnet).read


def can_write(user, carnet) -> bool:
    """Tell whether the user works on the carnet as a professional: record, correct, validate."""
    return permissions(user, carnet).write


def can_record(user, carnet) -> bool:
    """Tell whether the user may record a dose (validated for professionals, declared for owners)."""
    return permissions(user, carnet).record


def can_edit_dose(user, carnet, dose) -> bool:
    """Tell whether the user may correct or delete this dose (see :meth:`Permissions.can_edit`)."""
    return permissions(user, carnet).can_edit(dose)


def _ended_for(user, carnet: Carnet) -> AccessEnded | None:
    """Return why a verified professional lost this carnet, if the holder ended their access."""
    if not getattr(user, "is_authenticated", False) or not user.is_verified_professional:
        return None
    row = db.session.execute(
        select(Archive.id, Archive.frozen_at).where(Archive.carnet_id == carnet.id,
                                                    Archive.professional_id == user.id)
        .order_by(Archive.frozen_at.desc(), Archive.id.desc()).limit(1)).first()
    return AccessEnded(row[0], row[1]) if row else None


def get_carnet(public_id: str) -> Carnet:
    """Return the carnet if the current user may read it; else 404.

    A carnet the user may not see answers 404, not 403, so its existence does
    not leak. The one exception is told only to whom it concerns: a
    professional whose access the holder ended gets a 404 page saying so, with
    a link to the archived copy they already hold. What the user may then do
    is :func:`permissions` (computed here, kept for the request).
    A verified professional without a second factor is sent to enrolment first.
    """
    if needs_second_factor(current_user):
        abort(_to_enrolment())
    # One statement: the carnet and what opens it to the user (their access or ownership).
    grant = _grant(current_user, Carnet.id)
    columns = [Carnet] if grant is None else [Carnet, grant.limit(1).scalar_subquery()]
    row = db.session.execute(select(*columns).where(Carnet.public_id == public_id)).first()
    if row is None:
        abort(404)
    carnet = row[0]
    perms = _permissions_from(current_user, row[1] if grant is not None else None)
    _remember(current_user, carnet, perms)
    if not perms.read:
        ended = _ended_for(current_user, carnet)
        if ended is not None:
            raise ended
        abort(404)
    return carnet
