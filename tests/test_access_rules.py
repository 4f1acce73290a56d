"""The access policy's rules one by one: who may correct which dose, and where a professional without a second factor may go.

Written against the mutants mutmut left alive in ``cvn/access.py`` (see
tests/mutation): each test breaks when one rule of the policy is changed.
"""
from datetime import date

import pytest
from flask import url_for
from flask_login import AnonymousUserMixin, login_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from cvn import access
from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Access, DoseState, Ownership
from cvn.validation import services as validation
from tests.conftest import PASSWORD

METHODS = "/compte/methodes"


def _owned(carnet, *patients):
    for patient in patients:
        db.session.add(Ownership(carnet_id=carnet.id, user_id=patient.id))
    db.session.commit()


def test_owners_correct_only_their_own_doses_until_a_professional_validates_them(
        app, create_professional, create_patient, create_carnet):
    pro, mother, father, stranger = create_professional(), create_patient(), create_patient(), create_patient()
    carnet = create_carnet(pro)
    _owned(carnet, mother, father)
    declared = carnets.record_dose(mother, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10)))
    rejected = carnets.record_dose(mother, carnet, carnets.DoseInput("Priorix", [], date(2025, 2, 10)))
    validation.reject(pro, carnet, rejected, "Pas de trace dans le dossier")
    validated = carnets.record_dose(pro, carnet, carnets.DoseInput("Prevenar 20", [], date(2024, 4, 10)))
    assert (declared.state, rejected.state, validated.state) == (DoseState.DECLARED, DoseState.REJECTED,
                                                                 DoseState.VALIDATED)

    assert access.can_edit_dose(mother, carnet, declared) and access.can_edit_dose(mother, carnet, rejected)
    assert not access.can_edit_dose(mother, carnet, validated), "a validated dose is the professional's"
    assert not access.can_edit_dose(father, carnet, declared), "a co-owner does not correct the other's dose"
    assert not access.can_edit_dose(stranger, carnet, declared), "a declared dose opens nothing to others"
    assert all(access.can_edit_dose(pro, carnet, dose) for dose in (declared, rejected, validated))


@pytest.mark.parametrize("path", ["/pro/", "/mes-carnets/", "/invitation"])
def test_a_professional_without_a_second_factor_is_led_to_enrolment_from_every_other_page(
        client, create_professional, path):
    """Before any view runs: pages outside the professional space (a patient page, the claim form) too."""
    pro = create_professional(second_factor=False)
    assert client.post("/connexion", data={"email": pro.email, "password": PASSWORD}).status_code == 303
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == METHODS


@pytest.mark.parametrize("path, status", [("/", 302), ("/hors-ligne", 200), (METHODS, 200), ("/dev/boite-mail/", 200)])
def test_a_professional_without_a_second_factor_still_opens_the_account_pages_and_the_shell(
        client, create_professional, path, status):
    """The home page, the app shell, the account (``auth.*``) and outbox pages stay open: enrolment is reachable."""
    pro = create_professional(second_factor=False)
    client.post("/connexion", data={"email": pro.email, "password": PASSWORD})
    response = client.get(path)
    assert response.status_code == status, (path, response.headers.get("Location"))
    if status == 302:  # the home page sends professionals to their space (which then asks for the factor)
        assert response.headers["Location"] == "/pro/"


def test_the_carnet_policy_itself_sends_a_professional_without_a_second_factor_to_enrolment(
        app, create_professional, create_carnet):
    """Even where the app-wide check does not run (a view called directly), get_carnet refuses first."""
    pro = create_professional(second_factor=False)
    carnet = create_carnet(pro)
    assert access.can_read(pro, carnet), "the professional has access: only the missing factor stops them"
    with app.test_request_context("/"):
        login_user(pro)
        with pytest.raises(HTTPException) as refused:
            access.get_carnet(carnet.public_id)
        assert refused.value.response.status_code == 303
        assert refused.value.response.headers["Location"] == url_for("auth.methods") == METHODS


def test_open_access_is_the_professionals_own_open_row(app, create_professional, create_patient, create_carnet):
    pro, colleague, owner = create_professional(), create_professional(), create_patient()
    carnet, other_carnet = create_carnet(pro), create_carnet(colleague)
    _owned(carnet, owner)
    row = db.session.scalar(select(Access).where(Access.carnet_id == carnet.id, Access.professional_id == pro.id))
    assert row is not None and access.open_access(pro, carnet) is row
    assert access.open_access(colleague, carnet) is None, "another professional's access is not theirs"
    assert access.open_access(pro, other_carnet) is None, "an access opens one carnet"
    assert access.open_access(owner, carnet) is None, "an owner has no access row"


def _ended(pro, carnet, owner):
    """End the professional's access to the carnet the owner holds; return the archive."""
    return archives.end_access(owner, carnet, access.open_access(pro, carnet))


def test_a_professional_whose_access_ended_learns_of_the_newest_archive_only_they_hold(
        app, create_professional, create_patient, create_carnet, clock):
    pro, colleague, owner = create_professional(), create_professional(), create_patient()
    carnet = create_carnet(pro)
    _owned(carnet, owner)
    first = _ended(pro, carnet, owner)
    db.session.add(Access(carnet_id=carnet.id, professional_id=pro.id))
    db.session.commit()
    clock.advance(days=3)
    latest = _ended(pro, carnet, owner)
    ended = access._ended_for(pro, carnet)
    assert isinstance(ended, access.AccessEnded) and isinstance(ended, access.AccessLost)
    assert (ended.archive_id, ended.ended_at) == (latest.id, latest.frozen_at) and latest.id != first.id
    assert str(ended) == "access ended"
    # Nobody else learns that the carnet exists or was shared.
    assert access._ended_for(colleague, carnet) is None
    assert access._ended_for(owner, carnet) is None
    assert access._ended_for(AnonymousUserMixin(), carnet) is None
    pro.verified_at = None
    db.session.commit()
    assert access._ended_for(pro, carnet) is None, "an unverified professional learns nothing"


def test_get_carnet_tells_a_professional_their_access_ended_and_others_get_a_plain_404(
        app, create_professional, create_patient, create_carnet):
    pro, colleague, owner = create_professional(), create_professional(), create_patient()
    carnet = create_carnet(pro)
    _owned(carnet, owner)
    archive = _ended(pro, carnet, owner)
    with app.test_request_context():
        login_user(pro)
        with pytest.raises(access.AccessEnded) as raised:
            access.get_carnet(carnet.public_id)
        assert raised.value.archive_id == archive.id
    with app.test_request_context():
        login_user(colleague)
        with pytest.raises(HTTPException) as plain:
            access.get_carnet(carnet.public_id)
        assert plain.value.code == 404 and not isinstance(plain.value, access.AccessLost)
        with pytest.raises(HTTPException) as missing:
            access.get_carnet("no-such-carnet")
        assert missing.value.code == 404


def test_permissions_are_kept_for_the_request_and_forgotten_when_a_share_ends(
        app, create_professional, create_patient, create_carnet):
    """Within one request: computed once when asked first, dropped when an owner ends the access."""
    pro, owner = create_professional(), create_patient()
    carnet = create_carnet(pro)
    _owned(carnet, owner)
    with app.test_request_context():
        login_user(pro)
        first = access.permissions(pro, carnet)
        assert first.read and first.write and first.access_id == access.open_access(pro, carnet).id
        assert access.permissions(pro, carnet) is first, "kept for the request"
        assert access.permissions(owner, carnet).owner and not access.permissions(owner, carnet).write
        archives.end_access(owner, carnet, access.open_access(pro, carnet))  # forgets this request's permissions
        after = access.permissions(pro, carnet)
        assert not after.read and not after.write and access.open_access(pro, carnet) is None
        assert access.needs_second_factor(pro) is False, "the second-factor state is kept, not forgotten"


def test_outside_a_request_the_second_factor_rule_still_holds(app, create_professional, create_patient):
    """Jobs and the CLI ask too: a professional without a second factor needs one, a patient does not."""
    assert access.needs_second_factor(create_professional(second_factor=False)) is True
    assert access.needs_second_factor(create_professional()) is False
    assert access.needs_second_factor(create_patient()) is False


def test_the_access_ended_page_points_to_the_archive_of_this_carnet(
        app, create_professional, create_patient, create_carnet, clock):
    pro, owner = create_professional(), create_patient()
    carnet, other = create_carnet(pro), create_carnet(pro, first_names="Jade")
    _owned(carnet, owner)
    _owned(other, owner)
    this = _ended(pro, carnet, owner)
    clock.advance(days=1)
    _ended(pro, other, owner)  # newer, but of another carnet
    assert access._ended_for(pro, carnet).archive_id == this.id


def _answer(app, gate, user):
    """Return what a view wrapped by the gate answers to this user, the app-wide checks left out: (status, Location)."""
    view = gate(lambda: "la page")
    with app.test_request_context("/"):
        if user is not None:
            login_user(user)
        try:
            answer = view()
        except HTTPException as refused:
            return refused.code, None
        if answer == "la page":
            return 200, None
        return answer.status_code, answer.headers["Location"]


def test_each_role_gate_holds_on_its_own(app, create_professional, create_patient, create_admin):
    """The decorators are a second line behind the app-wide second-factor check: each refuses by itself.

    The gates are applied here, inside the test, so that mutation testing reaches
    them too (a gate applied when the views were imported is out of its reach).
    """
    pro, patient, admin = create_professional(), create_patient(), create_admin()
    unverified, pro_1f, admin_1f = (create_professional(verified=False), create_professional(second_factor=False),
                                    create_admin(second_factor=False))
    login, pending = _url(app, "auth.login"), _url(app, "pro.pending")
    expected = {
        access.professional_required: {None: (302, login), pro: (200, None), patient: (403, None), admin: (403, None),
                                       unverified: (303, pending), pro_1f: (303, METHODS)},
        access.patient_required: {None: (302, login), patient: (200, None), pro: (403, None),
                                   admin: (200, None)},  # an administrator is a patient account with a role
        access.admin_required: {None: (302, login), admin: (200, None), pro: (403, None), patient: (403, None),
                                admin_1f: (303, METHODS)},
    }
    for gate, answers in expected.items():
        for user, (status, location) in answers.items():
            got = _answer(app, gate, user)
            assert got[0] == status and (location is None or got[1].startswith(location)), (gate.__name__, user, got)


def _url(app, endpoint: str) -> str:
    """Return the path of a page by its endpoint."""
    with app.test_request_context("/"):
        return url_for(endpoint)
