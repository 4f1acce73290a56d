"""Carnet routes: forms, fragments, French errors, and the access matrix."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from cvn.carnets import services
from cvn.extensions import db
from cvn.models import Access, AuditEvent, Carnet, Dose, DoseState, Ownership
from tests.html import one, row_containing, text, texts

HTMX = {"HX-Request": "true"}


def errors(response) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def pro(create_professional):
    return create_professional(first_name="Claire", last_name="Martin")


@pytest.fixture
def carnet(create_carnet, pro):
    return create_carnet(pro)


@pytest.fixture
def logged_pro(auth, pro):
    auth.login(pro)
    return pro


def test_open_a_carnet(client, logged_pro):
    response = client.post("/pro/carnets/nouveau", data={
        "last_name": " Durand ", "first_names": "Éloïse", "birth_date": "10/02/2024", "sex": "F"})
    assert response.status_code == 303
    carnet = db.session.scalar(select(Carnet))
    assert response.headers["Location"] == f"/carnets/{carnet.public_id}"
    assert (carnet.last_name, carnet.birth_date) == ("Durand", date(2024, 2, 10))


@pytest.mark.parametrize("data, expected", [
    ({"last_name": ""}, "Saisissez le nom"),
    ({"birth_date": "31/02/2024"}, "Date invalide"),
    ({"birth_date": "2030-01-01"}, "dans le futur"),
    ({"sex": ""}, "Indiquez le sexe"),
])
def test_open_a_carnet_bad_input(client, logged_pro, data, expected):
    form = {"last_name": "Durand", "first_names": "Éloïse", "birth_date": "2024-02-10", "sex": "F", **data}
    response = client.post("/pro/carnets/nouveau", data=form)
    assert response.status_code == 422
    assert any(expected in e for e in errors(response)), errors(response)
    assert count(Carnet) == 0


def test_duplicate_warning_then_confirmation(client, logged_pro, carnet):
    form = {"last_name": "DURAND", "first_names": "eloise", "birth_date": "2024-02-10", "sex": "F"}
    warned = client.post("/pro/carnets/nouveau", data=form)
    assert warned.status_code == 409
    body = warned.get_data(as_text=True)
    assert "Vous avez déjà un carnet" in body and carnet.public_id in body
    assert count(Carnet) == 1
    confirmed = client.post("/pro/carnets/nouveau", data={**form, "confirm_duplicate": "y"})
    assert confirmed.status_code == 303 and count(Carnet) == 2


def test_carnet_page_shows_doses_and_writes_a_read_event(client, logged_pro, carnet):
    dose = services.record_dose(logged_pro, carnet, services.DoseInput("Hexyon", [], date(2024, 4, 10),
                                                                       lot_number="X9"))
    page = client.get(f"/carnets/{carnet.public_id}/doses")
    assert page.status_code == 200
    row = one(page, f"#dose-{dose.id}")
    assert text(one(row, ".dose-title")) == "Hexyon"
    assert text(one(row, ".dose-date")) == "10 avril 2024"
    # Hexyon is hexavalent: the row names the six diseases it covers, no more.
    assert texts(row, ".diseases .tag") == ["Diphtérie", "Tétanos", "Coqueluche", "Poliomyélite",
                                           "Haemophilus influenzae b", "Hépatite B"]
    facts = dict(zip(texts(row, "dt"), texts(row, "dd")))
    assert facts["Lot"] == "X9"
    assert facts["Saisie et validée"].startswith("Dr Claire Martin")
    assert "Validée" in text(one(row, ".dose-foot"))
    events = texts(client.get(f"/carnets/{carnet.public_id}/historique"), ".events li")
    assert events and events[0].endswith("Dr Claire Martin a consulté ce carnet")
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == "carnet.read"


def test_grouped_view_as_fragment(client, logged_pro, carnet):
    services.record_dose(logged_pro, carnet, services.DoseInput("Priorix", [], date(2025, 2, 10)))
    fragment = client.get(f"/carnets/{carnet.public_id}/doses?vue=maladies", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="doses-list"' in body
    assert "Rougeole" in body and "Oreillons" in body and "Rubéole" in body


def test_add_dose_by_form_post_and_by_htmx(client, logged_pro, carnet):
    url = f"/carnets/{carnet.public_id}/doses"
    plain = client.post(url, data={"product": "Hexyon", "administered_on": "2024-04-10"})
    first = db.session.scalars(select(Dose.id)).one()
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/doses#dose-{first}")
    fragment = client.post(url, data={"product": "", "diseases": ["measles", "rubella"],
                                      "administered_on": "2025-02-10"}, headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "Dose enregistrée" in body
    assert "Vaccin non précisé" in body
    assert fragment.headers["HX-Trigger"] == "carnet-changed"  # the header and the status refresh themselves
    assert count(Dose) == 2


@pytest.mark.parametrize("data, expected", [
    ({"product": "Vaccin X"}, "pas dans le catalogue"),
    ({"product": ""}, "au moins une maladie"),
    ({"administered_on": "2026-03-03"}, "dans le futur"),
    ({"administered_on": "2020-01-01"}, "précéder la date de naissance"),
    ({"administered_on": "hier"}, "Date invalide"),
    ({"administered_on": ""}, "Saisissez la date"),
])
def test_add_dose_bad_input(client, logged_pro, carnet, data, expected):
    form = {"product": "Hexyon", "administered_on": "2024-04-10", **data}
    for headers in ({}, HTMX):
        response = client.post(f"/carnets/{carnet.public_id}/doses", data=form, headers=headers)
        assert response.status_code == 422
        assert any(expected in e for e in errors(response)), errors(response)
    assert count(Dose) == 0


def test_inline_correction_returns_the_row_and_history(client, logged_pro, carnet):
    recorded = services.record_dose(logged_pro, carnet, services.DoseInput("Hexyon", [], date(2024, 4, 10)))
    url = f"/carnets/{carnet.public_id}/doses/{recorded.id}/modifier"
    form = client.get(url, headers=HTMX)
    assert "<html" not in form.get_data(as_text=True) and "Enregistrer la correction" in form.get_data(as_text=True)
    response = client.post(url, data={"product": "Hexyon", "administered_on": "2024-04-10", "lot_number": "L7"},
                           headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="dose-{recorded.id}"' in body and "L7" in body
    assert response.headers["HX-Trigger"] == "carnet-changed"
    history = client.get(f"/carnets/{carnet.public_id}/historique").get_data(as_text=True)
    assert "a corrigé" in history


def test_delete_asks_for_a_reason(client, logged_pro, carnet):
    recorded = services.record_dose(logged_pro, carnet, services.DoseInput("Hexyon", [], date(2024, 4, 10)))
    url = f"/carnets/{carnet.public_id}/doses/{recorded.id}/supprimer"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"reason": ""})
    assert refused.status_code == 422 and "Indiquez pourquoi" in refused.get_data(as_text=True)
    assert client.post(url, data={"reason": "Erreur de patient"}).status_code == 303
    page = client.get(f"/carnets/{carnet.public_id}/historique").get_data(as_text=True)
    assert "a supprimé" in page and "Erreur de patient" in page
    assert client.get(url).status_code == 404  # already deleted


def test_dose_of_another_carnet_is_404(client, logged_pro, carnet, create_carnet):
    other = create_carnet(logged_pro, last_name="Autre")
    recorded = services.record_dose(logged_pro, other, services.DoseInput("Hexyon", [], date(2024, 4, 10)))
    assert client.get(f"/carnets/{carnet.public_id}/doses/{recorded.id}/modifier").status_code == 404


def test_patientele_search_page_and_fragment(client, logged_pro, carnet, create_carnet):
    create_carnet(logged_pro, last_name="Martin", first_names="Hélène")
    page = client.get("/pro/?q=eloise")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Éloïse DURAND" in body and "Hélène" not in body
    assert text(one(row_containing(page, ".patient-row", "Éloïse DURAND"), ".badge-muted")) == (
        "Pas encore confié au patient")
    fragment = client.get("/pro/?q=HELENE", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "Hélène MARTIN" in fragment
    bad = client.get("/pro/?naissance=32/13/2020")
    assert bad.status_code == 400 and "Date invalide" in bad.get_data(as_text=True)
    assert "Éloïse" in client.get("/pro/?naissance=10/02/2024").get_data(as_text=True)


def test_losing_access_between_page_and_post_writes_nothing(client, logged_pro, carnet):
    access = db.session.scalar(select(Access))
    access.ended_at = access.granted_at
    db.session.commit()
    response = client.post(f"/carnets/{carnet.public_id}/doses",
                           data={"product": "Hexyon", "administered_on": "2024-04-10"})
    assert response.status_code == 404 and count(Dose) == 0


def test_coverage_hint(client, logged_pro):
    assert "Rougeole" in client.get("/catalogue/couverture?product=m-m-rvaxpro").get_data(as_text=True)
    assert "Hors catalogue" in client.get("/catalogue/couverture?product=zzz").get_data(as_text=True)


# --- Access matrix: every carnet route × every kind of user ---------------------

ROLES = ["anonymous", "patient", "unverified", "pro_without_access", "pro_with_access", "admin"]


@pytest.fixture
def world(create_professional, create_patient, create_admin, create_carnet):
    owner_pro = create_professional()
    carnet = create_carnet(owner_pro)
    dose = services.record_dose(owner_pro, carnet, services.DoseInput("Hexyon", [], date(2024, 4, 10)))
    unverified = create_professional(verified=False)
    db.session.add(Access(carnet_id=carnet.id, professional_id=unverified.id))  # had access, now unverified
    db.session.commit()
    # The users without access to this carnet each have carnets of their own: a check that
    # forgot which carnet it is about would let them in.
    pro_without_access = create_professional()
    create_carnet(pro_without_access)
    patient = create_patient()
    db.session.add(Ownership(carnet_id=create_carnet(pro_without_access).id, user_id=patient.id))
    db.session.commit()
    return {"carnet": carnet, "dose": dose, "pro_with_access": owner_pro, "unverified": unverified,
            "patient": patient, "pro_without_access": pro_without_access, "admin": create_admin()}


def routes(world):
    c, d = world["carnet"].public_id, world["dose"].id
    form = {"product": "Priorix", "administered_on": "2025-02-10", "reason": "test"}
    return [
        ("GET", f"/carnets/{c}", None, 200),
        ("GET", f"/carnets/{c}?vue=maladies", None, 200),
        ("GET", f"/carnets/{c}/doses?vue=maladies", None, 200),
        ("GET", f"/carnets/{c}/partage", None, 200),
        ("GET", f"/carnets/{c}/historique?page=2", None, 200),
        ("GET", f"/carnets/{c}/doses/nouvelle", None, 200),
        ("GET", f"/carnets/{c}/resume", None, 303),
        ("POST", f"/carnets/{c}/doses", form, 303),
        ("GET", f"/carnets/{c}/doses/{d}/modifier", None, 200),
        ("POST", f"/carnets/{c}/doses/{d}/modifier", form, 303),
        ("GET", f"/carnets/{c}/doses/{d}/supprimer", None, 200),
        ("POST", f"/carnets/{c}/doses/{d}/supprimer", form, 303),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_carnet_access_matrix(client, auth, world, role):
    if role != "anonymous":
        auth.login(world[role])
    for method, url, data, allowed in routes(world):
        response = client.open(url, method=method, data=data)
        if role == "anonymous":
            expected = 302
        elif role == "pro_with_access":
            expected = allowed
        else:
            expected = 404  # existence does not leak
        assert response.status_code == expected, (role, method, url)
    if role != "pro_with_access":
        assert count(Dose) == 1 and world["dose"].deleted_at is None
        assert db.session.get(Dose, world["dose"].id).state == DoseState.VALIDATED


@pytest.mark.parametrize("role, status", [
    ("anonymous", 302), ("patient", 403), ("unverified", 303), ("pro_without_access", 200),
    ("pro_with_access", 200), ("admin", 403),
])
def test_professional_pages_access(client, auth, world, role, status):
    if role != "anonymous":
        auth.login(world[role])
    assert client.get("/pro/carnets/nouveau").status_code == status
    assert client.get("/pro/").status_code == status


def test_unknown_carnet_is_404(client, auth, world):
    auth.login(world["pro_with_access"])
    assert client.get("/carnets/nexistepas").status_code == 404
