"""The input guard: control characters refused (422, French) on every form and query string; invisible
characters out of names; page numbers bounded; dates between 1900 and 2200, on forms and in forecast."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from cvn.pro.services import patientele
from cvn.carnets import services
from cvn.extensions import db
from cvn.models import Carnet, Dose, User
from tests.conftest import PASSWORD

MESSAGE = "caractères de contrôle invisibles"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def pro(create_professional):
    return create_professional()


@pytest.fixture
def logged_pro(client, auth, pro):
    auth.login(pro)
    return pro


@pytest.mark.parametrize("query", ["q=dur%00and", "q=%07", "naissance=2024%0002", "page=1%00", "%00=x",
                                   "q=a%7Fb", "q=a%C2%85b"])
def test_control_characters_in_a_query_string_are_refused(client, logged_pro, query):
    response = client.get(f"/pro/?{query}")
    assert response.status_code == 422
    assert MESSAGE in response.get_data(as_text=True)


def test_nul_in_any_form_is_refused_and_nothing_is_written(client, auth, logged_pro, create_carnet):
    carnet = create_carnet(logged_pro)
    posts = [
        ("/pro/carnets/nouveau", {"last_name": "Dur\x00and", "first_names": "Léa", "birth_date": "2024-02-10",
                                  "sex": "F"}),
        (f"/carnets/{carnet.public_id}/doses", {"product": "Hexyon", "administered_on": "2024-04-10",
                                                "note": "rappel\x00"}),
        ("/connexion", {"email": "a\x00@exemple.fr", "password": "x"}),
        ("/inscription/patient", {"first_name": "Léa\x00", "last_name": "X", "email": "l@exemple.fr",
                                  "password": "y" * 12}),
        ("/mot-de-passe/oublie", {"email": "\x00"}),
        (f"/carnets/{carnet.public_id}/invitations/email", {"inv-email": "p@exemple.fr\x1b"}),
    ]
    before = (count(Carnet), count(Dose), count(User))
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code == 422, url
        assert MESSAGE in response.get_data(as_text=True), url
    assert (count(Carnet), count(Dose), count(User)) == before


def test_tabs_and_line_breaks_are_ordinary_text(client, logged_pro, create_carnet):
    carnet = create_carnet(logged_pro)
    response = client.post(f"/carnets/{carnet.public_id}/doses", data={
        "product": "Hexyon", "administered_on": "2024-04-10", "note": "ligne 1\r\nligne 2\tfin"})
    assert response.status_code == 303
    assert db.session.scalar(select(Dose.note)) == "ligne 1\r\nligne 2\tfin"


@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999999", "-3", "abc", "0", ""])
def test_any_page_number_gets_a_page(client, logged_pro, create_carnet, page):
    create_carnet(logged_pro)
    assert client.get(f"/pro/?page={page}").status_code == 200


def test_zero_width_and_bidi_characters_are_stripped_from_names(client, logged_pro):
    response = client.post("/pro/carnets/nouveau", data={
        "last_name": "Dur\u200band\u202e", "first_names": "\u2066Élo\u200dïse\ufeff", "birth_date": "2024-02-10",
        "sex": "F"})
    assert response.status_code == 303
    carnet = db.session.scalar(select(Carnet))
    assert (carnet.last_name, carnet.first_names, carnet.search_name) == ("Durand", "Éloïse", "durand eloise")
    # Search finds it, typed plainly or with the same invisible characters.
    for q in ("durand", "eloise dur", "dur\u200band"):
        assert carnet.public_id in client.get("/pro/", query_string={"q": q}).get_data(as_text=True), q
    # The duplicate check sees the same person.
    again = client.post("/pro/carnets/nouveau", data={
        "last_name": "Durand", "first_names": "Éloïse", "birth_date": "2024-02-10", "sex": "F"})
    assert again.status_code == 409 and count(Carnet) == 1


def test_the_services_strip_invisible_characters_too(pro):
    carnet = services.create_carnet(pro, last_name="Mar\u200btin", first_names="Jo\u200ee", birth_date=date(2020, 1, 1),
                                    sex="F")
    assert (carnet.last_name, carnet.first_names) == ("Martin", "Joe")
    assert services.find_duplicates(pro, "Martin", "Joe", date(2020, 1, 1)) == [carnet]
    assert [r.carnet for r in patientele(pro, "mar\u200btin").rows] == [carnet]


def test_signup_names_are_stored_without_invisible_characters(client):
    response = client.post("/inscription/patient", data={
        "first_name": "L\u200béa", "last_name": "\u202eMoreau", "email": "lea@exemple.fr",
        "password": PASSWORD})
    # Sign-up answers the same "check your mail" page for a new or a taken address (no enumeration).
    assert response.status_code == 200 and "Vérifiez votre boîte mail" in response.get_data(as_text=True)
    user = db.session.scalar(select(User))
    assert (user.first_name, user.last_name) == ("Léa", "Moreau")


@pytest.mark.parametrize("field, value", [("birth_date", "2999-01-01"), ("birth_date", "1750-06-01"),
                                          ("birth_date", "01/01/1899")])
def test_dates_outside_1900_2200_are_refused_on_forms(client, logged_pro, field, value):
    form = {"last_name": "Durand", "first_names": "Léa", "birth_date": "2024-02-10", "sex": "F", field: value}
    response = client.post("/pro/carnets/nouveau", data=form)
    assert response.status_code == 422
    assert "l’année doit être comprise entre 1900 et 2200" in response.get_data(as_text=True)
    assert count(Carnet) == 0


def test_dose_date_in_2999_is_refused(client, logged_pro, create_carnet):
    carnet = create_carnet(logged_pro)
    response = client.post(f"/carnets/{carnet.public_id}/doses",
                           data={"product": "Hexyon", "administered_on": "2999-04-10"})
    assert response.status_code == 422 and count(Dose) == 0
    assert "entre 1900 et 2200" in response.get_data(as_text=True)


def test_search_by_a_birth_date_out_of_range_says_so(client, logged_pro):
    assert client.get("/pro/?naissance=2999-01-01").status_code == 400


@pytest.mark.parametrize("data, field", [
    ({"birth_date": "2024-02-10", "sex": "F", "on": "2999-06-01"}, "on:"),
    ({"birth_date": "1750-02-10", "sex": "F", "on": "2025-01-01"}, "birth_date:"),
    ({"birth_date": "2024-02-10", "sex": "F", "doses": [{"date": "2201-01-01", "product": "Hexyon"}]},
     "doses[0].date:"),
])
def test_forecast_refuses_years_out_of_range_naming_the_field(runner, data, field):
    result = runner.invoke(args=["cvn", "forecast"], input=json.dumps(data))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()  # (stderr is mixed in by the runner)
    assert len(lines) == 1 and lines[0].startswith(field) and "entre 1900 et 2200" in lines[0]
