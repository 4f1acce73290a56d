"""The access policy's rules one by one: who may correct which dose, and where a professional without a second factor may go.

Written against the mutants mutmut left alive in ``cvn/access.py`` (see
tests/mutation): each test breaks when one rule of the policy is changed.
"""
from datetime import date

import pytest
from flask import url_for
from flask_login import login_user
from werkzeug.exceptions import HTTPException

from cvn import access
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import DoseState, Ownership
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
