"""Fixes from the walk-through review (/work/notes/review.md): each test names its item."""
from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, timezone
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select

from cvn.auth import factors
from cvn.carnets import services as carnets
from cvn.clock import today
from cvn.demo import DOCTOR_TOTP_SECRET
from cvn.extensions import db
from cvn.french import de
from cvn.models import Carnet, InvitationChannel, InvitationTarget, OutboxMessage, Sex, User
from cvn.patient.services import create_own_carnet
from cvn.schedule.engine import evaluate
from cvn.sharing import services as sharing
from cvn.status.services import Group, grouped, overview, person_of, records_by_carnet
from tests.conftest import PASSWORD, log_in
from tests.html import one, parse, row_containing, text, texts
from tests.test_fhir_import import confirm, doses_of, upload, world  # noqa: F401  (fixture)

ON = date(2026, 11, 30)
CALENDAR = Path(__file__).resolve().parent.parent / "cvn" / "schedule" / "data" / "calendar.toml"


def group(status: str, next_date: date | None) -> Group:
    return Group(["measles"], status, next_date, None, False, "", 0)


def test_1_the_next_appointment_is_now_when_something_is_due():
    seen = overview([group("due", date(2026, 10, 15)), group("up_to_date", date(2036, 6, 14))], ON)
    assert seen.now and seen.next_date == ON
    seen = overview([group("overdue", date(2025, 1, 1)), group("not_yet", date(2027, 1, 1))], ON)
    assert seen.now and seen.next_date == ON


def test_1_the_next_appointment_is_the_earliest_future_date_when_nothing_is_due():
    seen = overview([group("up_to_date", date(2036, 6, 14)), group("not_yet", date(2027, 3, 1)),
                     group("complete", None)], ON)
    assert not seen.now and seen.next_date == date(2027, 3, 1)


@pytest.fixture
def pro(create_professional):
    return create_professional(first_name="Claire", last_name="Martin")


def test_1_the_header_says_now_when_doses_are_late(auth, client, pro, create_carnet):
    carnet = create_carnet(pro)
    auth.login(pro)
    line = text(one(client.get(f"/carnets/{carnet.public_id}"), "#status-line"))
    assert "en retard" in line
    assert line.endswith("prochain rendez-vous : dès maintenant")


def test_4_the_import_preview_names_the_file_holder(world):  # noqa: F811  (the imported fixture)
    page = upload(world["client"], world["target"], world["bundle"])
    assert page.status_code == 200
    shown = text(one(page, ".import-holder"))
    assert "Éloïse DURAND (date de naissance : 10 février 2024)" in shown


@pytest.mark.parametrize("change, why", [
    ({"birthDate": "2022-09-28"}, "date de naissance : 28 septembre 2022"),
    ({"name": [{"family": "Durand", "given": ["Lou"], "text": "Lou DURAND"}]}, "dont le prénom n’est pas"),
])
def test_4_a_file_naming_another_person_is_refused_and_nothing_is_written(world, change, why):  # noqa: F811  (the imported fixture)
    bundle = json.loads(world["bundle"])
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient.update(change)
    page = upload(world["client"], world["target"], bundle)
    assert page.status_code == 422
    refusal = text(one(page, ".import-refusal"))
    assert "pas du titulaire" in refusal or "n’est pas celui du titulaire" in refusal
    assert why in refusal
    assert doses_of(world["target"]) == []
    assert "pending" not in page.get_data(as_text=True)


def test_2_the_correction_history_shows_site_and_route_labels(auth, client, pro, create_carnet):
    carnet = create_carnet(pro)
    dose = carnets.record_dose(pro, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10)))
    carnets.update_dose(pro, carnet, dose, carnets.DoseInput("Hexyon", [], date(2024, 4, 10),
                                                              injection_site="thigh_right", route="im"))
    auth.login(pro)
    diff = one(client.get(f"/carnets/{carnet.public_id}/historique"), "table.diff")
    rows = {text(one(tr, "th")): [text(td) for td in tr.select("td")] for tr in diff.select("tbody tr")}
    assert rows["Site"] == ["—", "Cuisse droite"]
    assert rows["Voie"] == ["—", "Intramusculaire"]


@pytest.mark.parametrize("sex, born", [(Sex.FEMALE, "Née le 10 février 2024"), (Sex.MALE, "Né le 10 février 2024")])
def test_9_the_certificate_says_nee_or_ne_by_sex(auth, client, pro, create_carnet, sex, born):
    carnet = create_carnet(pro, sex=sex)
    auth.login(pro)
    holder = text(one(client.get(f"/carnets/{carnet.public_id}/attestation"), ".holder"))
    assert born in holder and "Né·e" not in holder


def test_15_a_new_carnet_has_0_dose_not_0_doses(auth, client, pro, create_carnet):
    carnet = create_carnet(pro)
    auth.login(pro)
    assert text(one(client.get(f"/carnets/{carnet.public_id}"), "#status-line .count")) == "0 dose"


def test_15_deleting_an_account_says_its_counts_in_french_plurals(app, create_patient):
    leaving = create_patient()
    create_own_carnet(leaving, last_name="Durand", first_names="Lou", birth_date=date(2022, 9, 28), sex=Sex.FEMALE)
    client = app.test_client()
    log_in(client, leaving)
    page = client.post("/compte/supprimer", data={"password": PASSWORD, "confirm": "y"}, follow_redirects=True)
    assert text(one(page, ".flash-success")) == (
        "Votre compte est supprimé. 1 carnet supprimé, 0 conservé pour ses autres titulaires ou professionnels.")


def test_15_one_imported_dose_is_said_in_the_singular(world):  # noqa: F811  (the imported fixture)
    client, target = world["client"], world["target"]
    bundle = json.loads(world["bundle"])
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Immunization"] + [
        next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization")]
    page = upload(client, target, bundle)
    assert text(one(page, "#ajoutees")) == "1 dose sera ajoutée"
    assert text(one(page, ".import-added + .hint")).startswith("Elle sera « déclarée » jusqu’à sa validation")
    done = confirm(client, target, page)
    flashed = text(one(client.get(done.location), ".flashes .flash-success"))
    assert flashed == "1 dose importée, déclarée en attente de validation par un professionnel de santé."


@pytest.mark.parametrize("name, said", [("Éloïse", "d’Éloïse"), ("Lou", "de Lou"), ("Hugo", "d’Hugo"),
                                        ("Inès Petit", "d’Inès Petit"), ("Dr Claire Martin", "de Dr Claire Martin")])
def test_14_de_elides_before_a_vowel_or_a_mute_h(name, said):
    assert de(name) == said


def test_14_the_owner_is_told_with_an_elided_de(app, create_patient, create_professional):
    owner, pro = create_patient(), create_professional(first_name="Inès", last_name="Petit")
    carnet = create_own_carnet(owner, last_name="Durand", first_names="Éloïse", birth_date=date(1991, 6, 14),
                               sex=Sex.FEMALE)
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.LINK)[0],
                  pro, carnet.birth_date, True)
    second = create_patient(first_name="Autre")
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.HOLDER, InvitationChannel.LINK)[0],
                  second, carnet.birth_date, True)
    third = create_professional(first_name="Hugo", last_name="Bernard")
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.LINK)[0],
                  third, carnet.birth_date, True)
    subjects = [m.subject for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    told = [s for s in subjects if "Éloïse" in s]
    assert told and all("carnet d’Éloïse" in s for s in told), subjects
    body = next(m.body_text for m in db.session.scalars(select(OutboxMessage)) if "Bernard" in m.subject)
    assert "carnet de vaccination d’Éloïse" in body


def test_18_the_patientele_badge_says_not_yet_handed_to_the_patient(auth, client, pro, create_carnet):
    create_carnet(pro)
    auth.login(pro)
    row = row_containing(client.get("/pro/"), ".patient-row", "Éloïse DURAND")
    assert text(one(row, ".badge-muted")) == "Pas encore confié au patient"


def test_20_disease_chips_read_as_a_list(auth, client, pro, create_carnet):
    carnet = create_carnet(pro)
    carnets.record_dose(pro, carnet, carnets.DoseInput("Priorix", [], date(2025, 2, 11)))
    auth.login(pro)
    chips = one(client.get(f"/carnets/{carnet.public_id}/doses"), ".dose .diseases")
    assert chips.get_text() == "Rougeole, Oreillons, Rubéole"
    assert [t.get_text() for t in chips.select(".tag")] == ["Rougeole", "Oreillons", "Rubéole"]


def test_21_an_administrator_without_second_factor_is_led_to_enrolment(app, auth, client, create_admin):
    admin = create_admin(second_factor=False)
    auth.login(admin)
    page = client.get("/admin/professionnels")
    assert page.status_code in (302, 303) and page.location.endswith("/compte/methodes")
    methods = client.get(page.location)
    assert "Étape obligatoire pour les administrateurs." in text(one(methods, ".alert-warn"))


def test_21_an_administrator_logs_in_with_a_code(app, client, create_admin):
    admin = create_admin()
    response = client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 303 and response.location.endswith("/connexion/code")
    assert client.get("/admin/professionnels").status_code in (302, 303)  # not yet logged in
    log_in(client, admin)
    assert client.get("/admin/professionnels").status_code == 200


def test_21_the_verify_button_names_the_whole_person(auth, client, create_admin, create_professional):
    create_professional(verified=False, first_name="Hugo", last_name="Bernard")
    auth.login(create_admin())
    row = row_containing(client.get("/admin/professionnels"), "tbody tr", "Bernard")
    assert text(one(row, "button")) == "Vérifier le compte d’Hugo Bernard"


def test_10_the_forced_set_up_right_after_log_in_does_not_ask_the_password_again(app, client, clock,
                                                                                   create_professional):
    pro = create_professional(second_factor=False, first_name="Inès", last_name="Petit")
    assert log_in(client, pro).location.endswith("/")
    page = client.get("/compte/methodes/application")
    assert page.status_code == 200 and one(page, "#cle-secrete")
    clock.advance(minutes=6)
    assert client.get("/compte/methodes/application").location.startswith("/compte/confirmer")


def test_10_the_nav_during_the_mandatory_set_up_offers_no_dead_ends(app, client, create_professional):
    pro = create_professional(second_factor=False)
    log_in(client, pro)
    page = client.get("/compte/methodes")
    assert texts(page, ".main-nav a, .main-nav button") == ["Mon compte", "Se déconnecter"]
    assert text(one(page, "main p.back a")) == "← Mon compte"
    enrolled = create_professional()
    other = app.test_client()
    log_in(other, enrolled)
    assert texts(other.get("/compte/methodes"), ".main-nav a")[:3] == ["Patientèle", "À valider", "Carnets archivés"]


def test_16_calendar_texts_use_typographic_apostrophes():
    data = tomllib.loads(CALENDAR.read_text(encoding="utf-8"))
    shown = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("name", "source", "who", "reason", "note", "label") and isinstance(value, str):
                    shown.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    assert shown and not [s for s in shown if "'" in s]
    assert any("Rappels de l’enfant" in s for s in shown)


def test_19_a_dose_validated_on_the_queue_leaves_it_and_the_nav_counts_down(app, client, create_patient,
                                                                            create_professional):
    pro, owner = create_professional(), create_patient()
    carnet = create_own_carnet(owner, last_name="Durand", first_names="Lou", birth_date=date(2022, 9, 28),
                               sex=Sex.FEMALE)
    first = carnets.record_dose(owner, carnet, carnets.DoseInput("Priorix", [], date(2023, 10, 1)))
    carnets.record_dose(owner, carnet, carnets.DoseInput("Priorix", [], date(2024, 1, 10)))
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.LINK)[0],
                  pro, carnet.birth_date, True)
    log_in(client, pro)
    page = client.get("/pro/a-valider")
    assert text(one(page, "#queue-count")) == "2 doses en attente"
    assert len(page_rows := parse(page).select(".queue-group .dose")) == 2 and page_rows
    answer = client.post(f"/carnets/{carnet.public_id}/doses/{first.id}/valider",
                         data={"next": "/pro/a-valider"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "queue-changed" in answer.headers["HX-Trigger"]
    body = parse(answer)
    assert body.select(".dose") == []  # the row is swapped for nothing: it leaves the list
    assert one(body, "#queue-count")["hx-swap-oob"] == "outerHTML"
    assert text(one(body, "#queue-count")) == "1 dose en attente"
    assert len(parse(client.get("/pro/a-valider")).select(".queue-group .dose")) == 1


def test_17_patientele_and_queue_show_long_french_dates(auth, client, pro, create_carnet):
    create_carnet(pro)
    create_carnet(pro, first_names="Léo", sex=Sex.MALE)
    auth.login(pro)
    page = client.get("/pro/")
    assert text(one(row_containing(page, ".patient-row", "Éloïse"), ".patient-birth")).startswith(
        "Née le 10 février 2024 ·")
    assert text(one(row_containing(page, ".patient-row", "Léo"), ".patient-birth")).startswith(
        "Né le 10 février 2024 ·")


def test_17_the_invitation_flash_gives_a_long_date(auth, client, pro, create_carnet):
    carnet = create_carnet(pro)
    auth.login(pro)
    client.post(f"/carnets/{carnet.public_id}/invitations/email", data={"inv-email": "parent@exemple.fr"})
    flashed = text(one(client.get(f"/carnets/{carnet.public_id}/partage"), ".flashes .flash-success"))
    assert flashed.endswith("Le lien est valable jusqu’au 1er avril 2026.")


def test_17_times_read_16_h_02(app):
    with app.test_request_context():
        shown = app.jinja_env.filters["datetime_fr"](datetime(2026, 3, 2, 15, 2, tzinfo=timezone.utc))
    assert shown == "2 mars 2026 à 16 h 02"


def test_22_23_the_demo_counts_from_its_data_and_leo_shows_a_mix(runner):
    output = runner.invoke(args=["cvn", "demo"]).output
    carnets_in_all = db.session.scalar(select(func.count()).select_from(Carnet))
    assert output.splitlines()[0] == (f"Données de démonstration : 5 comptes et {carnets_in_all} carnets ; "
                                      "patientèle de Dr Martin : 4 carnets, 2 doses déclarées à valider.")
    assert "déclarée(s)" not in output and "3 doses validées, 1 déclarée ;" in output
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.cvn.fr"))
    assert factors.verify_totp(admin, pyotp.TOTP(DOCTOR_TOTP_SECRET).at(factors.utcnow()))
    leo = db.session.scalar(select(Carnet).where(Carnet.first_names == "Léo"))
    groups = grouped(evaluate(person_of(leo), records_by_carnet([leo.id])[leo.id], today()))
    late = {d for g in groups if g.status == "overdue" for d in g.diseases}
    assert late == {"diphtheria", "tetanus", "pertussis", "polio", "hib", "hepatitis_b"}  # the 11-month booster
    assert {"measles", "pneumococcus", "meningococcus_b", "rotavirus"} <= {
        d for g in groups if g.status in ("up_to_date", "complete") for d in g.diseases}
