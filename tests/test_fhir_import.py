"""FHIR import: preview, confirmation, round trip, and every refusal with nothing written."""
import io
import json

import pytest
from sqlalchemy import func, select

from cvn.extensions import db
from cvn.models import AuditEvent, Carnet, Dose, DoseState
from cvn.patient.services import create_own_carnet
from cvn.models import Sex
from tests.conftest import log_in
from tests.html import one, parse, text, texts
from tests.test_fhir_export import BIRTH, rich_carnet

URL = "/carnets/{}/import"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def upload(client, carnet, payload, name="carnet.fhir.json"):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(URL.format(carnet.public_id), data={"file": (io.BytesIO(raw), name)},
                       content_type="multipart/form-data")


def confirm(client, carnet, page):
    pending = one(parse(page), "input[name=pending]")["value"]
    return client.post(URL.format(carnet.public_id) + "/confirmer", data={"pending": pending})


@pytest.fixture
def world(app, create_professional, create_patient, create_carnet):
    pro, owner = create_professional(), create_patient()
    source = rich_carnet(pro, owner, create_carnet)
    target = create_own_carnet(owner, last_name="Durand", first_names="Éloïse", birth_date=BIRTH, sex=Sex.FEMALE)
    client = app.test_client()
    log_in(client, owner)
    exported = client.get(f"/carnets/{source.public_id}/export.fhir.json").get_data()
    return {"client": client, "source": source, "target": target, "bundle": exported, "owner": owner, "pro": pro}


def doses_of(carnet):
    return list(db.session.scalars(select(Dose).where(Dose.carnet_id == carnet.id).order_by(Dose.administered_on)))


def test_an_export_round_trips_through_import_as_declared_doses(world):
    client, source, target = world["client"], world["source"], world["target"]
    page = upload(client, target, world["bundle"])
    assert page.status_code == 200
    html = parse(page)
    assert len(texts(html, ".import-added li")) == 4
    (refused,) = texts(html, ".import-refused li")
    assert "entered-in-error" in refused  # the rejected dose does not come back
    assert count(Dose, Dose.carnet_id == target.id) == 0  # a preview writes nothing
    response = confirm(client, target, page)
    assert response.status_code == 303 and response.location.endswith(f"/carnets/{target.public_id}#doses")
    kept = [d for d in doses_of(source) if d.state != DoseState.REJECTED]
    imported = doses_of(target)
    fields = lambda d: (d.administered_on, d.diseases, d.product_code, d.product_name, d.lot_number,  # noqa: E731
                        d.dose_label, d.injection_site, d.route, d.note)
    assert [fields(d) for d in imported] == [fields(d) for d in kept]
    assert {d.state for d in imported} == {DoseState.DECLARED}
    assert {d.recorded_by_id for d in imported} == {world["owner"].id}
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.carnet_id == target.id,
                                                             AuditEvent.action == "dose.import")) == {"count": 4}


def test_doses_already_in_the_carnet_are_listed_as_duplicates(world):
    client, target = world["client"], world["target"]
    confirm(client, target, upload(client, target, world["bundle"]))
    again = parse(upload(client, target, world["bundle"]))
    assert texts(again, ".import-added li") == []
    duplicates = texts(again, ".import-duplicates li")
    assert len(duplicates) == 4 and all("déjà dans le carnet" in d for d in duplicates)
    assert one(again, ".card strong").get_text() == "Aucune dose à ajouter."


def test_a_list_of_immunizations_is_accepted_and_bad_ones_are_refused_with_why(world):
    client, target = world["client"], world["target"]
    bundle = json.loads(world["bundle"])
    good = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization"][:1]
    future = {**good[0], "occurrenceDateTime": "2031-01-01"}
    unknown = {**good[0], "occurrenceDateTime": "2024-05-01", "vaccineCode": {"text": "Vaccin X"},
               "protocolApplied": [{"doseNumberString": "1", "targetDisease": [{"text": "Maladie Y"}]}]}
    not_done = {**good[0], "status": "not-done"}
    no_patient = {k: v for k, v in good[0].items() if k != "patient"}
    page = parse(upload(client, target, [*good, future, unknown, not_done, no_patient]))
    assert len(texts(page, ".import-added li")) == 1
    refused = texts(page, ".import-refused li")
    assert "date de vaccination dans le futur" in refused[0]
    assert "vaccin et maladies couvertes non reconnus" in refused[1]
    assert "non faite" in refused[2]
    assert "champ obligatoire « patient » absent" in refused[3]


def stu3():
    return {"resourceType": "Immunization", "status": "completed", "notGiven": False, "date": "2024-04-10",
            "vaccineCode": {"text": "Hexyon"}, "patient": {"reference": "Patient/1"}, "primarySource": True}


def r5():
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "Hexyon"},
        "patient": {"reference": "Patient/1"}, "occurrenceDateTime": "2024-04-10",
        "informationSource": {"concept": {"text": "dossier"}}}}]}


def many(n):
    one_dose = {"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "Hexyon"},
                "patient": {"reference": "Patient/1"}, "occurrenceDateTime": "2024-04-10"}
    return [one_dose] * n


REFUSALS = [
    ("malformed", b'{"resourceType": "Bundle", "entry": [', 422, "pas un JSON valide"),
    ("not utf-8", b"\xff\xfe\x00binary", 422, "pas un texte JSON"),
    ("not fhir", {"patient": "Durand", "vaccins": ["Hexyon"]}, 422, "pas du FHIR"),
    ("list of other things", [{"name": "x"}], 422, "pas du FHIR"),
    ("another resource", {"resourceType": "Observation", "status": "final"}, 422, "« Observation »"),
    ("stu3", stu3(), 422, "FHIR STU3"),
    ("r5", r5(), 422, "FHIR R5"),
    ("declared version", {"resourceType": "Bundle", "type": "collection", "fhirVersion": "5.0.0", "entry": []},
     422, "FHIR 5.0.0"),
    ("too many", many(501), 422, "501 vaccinations"),
    ("just over 1 MB", b" " * 1_000_100 + b"[]", 422, "1 Mo au plus"),
    ("well over 1 MB", b" " * 1_300_000 + b"[]", 413, "1 Mo au plus"),
]


@pytest.mark.parametrize("payload,status,message", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusals_say_why_in_french_and_write_nothing(world, payload, status, message):
    client, target = world["client"], world["target"]
    doses, events = count(Dose), count(AuditEvent)
    response = upload(client, target, payload)
    assert response.status_code == status
    page = parse(response)
    shown = text(one(page, ".import-refusal")) if status == 422 else text(one(page, ".error-page"))
    assert message in shown
    assert (count(Dose), count(AuditEvent)) == (doses, events)
    assert client.post(URL.format(target.public_id) + "/confirmer", data={"pending": "x"}).status_code == 303
    assert count(Dose) == doses


def test_500_immunizations_are_accepted(world):
    page = parse(upload(world["client"], world["target"], many(500)))
    assert len(texts(page, ".import-added li")) == 1
    assert len(texts(page, ".import-duplicates li")) == 499


def test_the_preview_keeps_health_data_out_of_urls_and_confirms_only_its_own_import(world, create_patient):
    client, target = world["client"], world["target"]
    page = upload(client, target, world["bundle"])
    form = one(parse(page), "form[action$='/confirmer']")
    assert form["action"] == URL.format(target.public_id) + "/confirmer"
    assert sorted(i["name"] for i in form.select("input")) == ["csrf_token", "pending"]
    wrong = client.post(URL.format(target.public_id) + "/confirmer", data={"pending": "autre"})
    assert wrong.status_code == 303 and wrong.location.endswith(URL.format(target.public_id))
    other = create_own_carnet(world["owner"], last_name="Autre", first_names="Léa", birth_date=BIRTH, sex=Sex.FEMALE)
    pending = one(parse(page), "input[name=pending]")["value"]
    assert client.post(URL.format(other.public_id) + "/confirmer", data={"pending": pending}).status_code == 303
    assert count(Dose, Dose.carnet_id.in_([target.id, other.id])) == 0
    assert confirm(client, target, page).status_code == 303
    assert count(Dose, Dose.carnet_id == target.id) == 4
    assert confirm(client, target, page).status_code == 303  # a second confirmation adds nothing
    assert count(Dose, Dose.carnet_id == target.id) == 4


def test_only_owners_import(app, world):
    pro_client = app.test_client()
    log_in(pro_client, world["pro"])
    assert upload(pro_client, world["source"], world["bundle"]).status_code == 404
    assert count(Carnet) == 2
