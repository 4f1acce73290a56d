"""FHIR R4 export: a rich carnet's Bundle validates with the R4 models and says what each dose is."""
import json
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Access, AuditEvent, InvitationChannel, InvitationTarget
from cvn.portability import fhir
from cvn.sharing import services as sharing
from cvn.status.services import set_flags
from cvn.validation import services as validation
from tests.conftest import log_in

BIRTH = date(2024, 2, 10)
D = carnets.DoseInput


def rich_carnet(pro, owner, create_carnet):
    """A carnet with validated, declared, rejected, free-text and site/route/lot doses, owned by ``owner``."""
    carnet = create_carnet(pro, birth_date=BIRTH)
    carnets.record_dose(pro, carnet, D("Hexyon", [], date(2024, 4, 10), lot_number="HX123", dose_label="Dose 1",
                                       injection_site="thigh_left", route="im"))
    carnets.record_dose(pro, carnet, D("Hexyon", [], date(2024, 6, 10), lot_number="HX456", dose_label="Dose 2",
                                       injection_site="thigh_right", route="im"))
    carnets.record_dose(pro, carnet, D("", ["measles", "mumps", "rubella"], date(2025, 2, 11),
                                       note="Ancien carnet papier"))
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    carnets.record_dose(owner, carnet, D("Priorix", [], date(2025, 3, 12), lot_number="PX9", route="sc"))
    rejected = carnets.record_dose(owner, carnet, D("Prevenar 13", [], date(2025, 1, 5)))
    validation.reject(pro, carnet, rejected, "Dose absente du carnet papier")
    set_flags(owner, carnet, ["asplenia"])
    return carnet


@pytest.fixture
def story(create_professional, create_patient, create_carnet):
    pro = create_professional(first_name="Claire", last_name="Martin", rpps="10001234567")
    owner = create_patient()
    return {"pro": pro, "owner": owner, "carnet": rich_carnet(pro, owner, create_carnet)}


def download(app, user, url):
    client = app.test_client()
    log_in(client, user)
    return client.get(url)


def resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_owner_downloads_a_bundle_that_validates_as_fhir_r4(app, story):
    carnet = story["carnet"]
    response = download(app, story["owner"], f"/carnets/{carnet.public_id}/export.fhir.json")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="carnet-durand-eloise-')
    data = response.get_json(force=True)
    Bundle.model_validate(data)  # raises if anything is not R4
    assert data["type"] == "collection"
    patient = resources(data, "Patient")[0]
    assert (patient["birthDate"], patient["gender"], patient["name"][0]["family"]) == ("2024-02-10", "female",
                                                                                        "Durand")
    immunizations = resources(data, "Immunization")
    assert len(immunizations) == 5
    assert all(i["patient"]["reference"] == data["entry"][0]["fullUrl"] for i in immunizations)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.carnet_id == carnet.id)
                             .order_by(AuditEvent.id.desc()).limit(1)) == "carnet.export"


def by_date(immunizations):
    return {i["occurrenceDateTime"]: i for i in immunizations}


def test_each_dose_says_what_it_is_and_who_vouches_for_it(app, story):
    data = download(app, story["owner"], f"/carnets/{story['carnet'].public_id}/export.fhir.json").get_json(force=True)
    doses = by_date(resources(data, "Immunization"))
    first = doses["2024-04-10"]
    assert first["status"] == "completed" and first["primarySource"] is True
    assert first["vaccineCode"]["coding"][0] == {"system": fhir.PRODUCT_SYSTEM, "code": "hexyon", "display": "Hexyon"}
    assert [c["coding"][0]["code"] for c in first["protocolApplied"][0]["targetDisease"]] == [
        "diphtheria", "tetanus", "pertussis", "polio", "hib", "hepatitis_b"]
    assert first["protocolApplied"][0]["doseNumberString"] == "Dose 1"
    assert first["lotNumber"] == "HX123"
    assert first["site"]["coding"][0]["code"] == "LT" and first["route"]["coding"][0]["code"] == "IM"
    assert first["performer"][0]["actor"] == {"display": "Dr Claire Martin",
                                              "identifier": {"system": fhir.RPPS_SYSTEM, "value": "10001234567"}}
    assert "reportOrigin" not in first
    paper = doses["2025-02-11"]
    assert paper["vaccineCode"]["coding"][0]["system"] == fhir.ABSENT_SYSTEM
    assert paper["note"] == [{"text": "Ancien carnet papier"}]
    declared = doses["2025-03-12"]
    assert declared["primarySource"] is False and "performer" not in declared
    assert declared["reportOrigin"]["coding"][0] == {"system": fhir.ORIGIN_SYSTEM, "code": "record",
                                                     "display": "Written Record"}
    assert declared["route"]["coding"][0]["code"] == "SQ"
    rejected = doses["2025-01-05"]
    assert rejected["status"] == "entered-in-error"
    assert "Dose absente du carnet papier" in rejected["note"][0]["text"]


def test_the_forecast_travels_as_an_immunization_recommendation(app, story):
    data = download(app, story["owner"], f"/carnets/{story['carnet'].public_id}/export.fhir.json").get_json(force=True)
    (forecast,) = resources(data, "ImmunizationRecommendation")
    entries = {r["targetDisease"]["coding"][0]["code"]: r for r in forecast["recommendation"]}
    # 2 Hexyon doses at 2 and 4 months: the 11-month booster is due (calendrier des vaccinations 2025).
    diphtheria = entries["diphtheria"]
    assert diphtheria["forecastStatus"]["coding"][0]["system"] == fhir.FORECAST_SYSTEM
    assert diphtheria["forecastStatus"]["coding"][0]["code"] in ("due", "overdue")
    assert diphtheria["dateCriterion"][0]["code"]["coding"][0]["code"] == "30980-7"
    assert diphtheria["dateCriterion"][0]["value"] == "2025-01-10"
    assert all(r["forecastStatus"]["coding"][-1]["system"] == fhir.STATUS_SYSTEM for r in entries.values())


def test_a_professional_with_access_exports_too_and_others_get_404(app, story, create_professional, create_patient):
    url = f"/carnets/{story['carnet'].public_id}/export.fhir.json"
    assert download(app, story["pro"], url).status_code == 200
    assert download(app, create_professional(), url).status_code == 404
    assert download(app, create_patient(), url).status_code == 404


def test_an_archived_copy_exports_with_its_freeze_time_and_digest(app, story, create_professional, clock):
    carnet, owner = story["carnet"], story["owner"]
    other = create_professional(first_name="Inès")
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  other, BIRTH, True)
    archive = archives.end_access(owner, carnet, db.session.scalar(
        select(Access).where(Access.professional_id == other.id)))
    clock.advance(days=3)
    carnets.record_dose(owner, carnet, D("Priorix", [], date(2025, 9, 1)))  # after the freeze: not in the copy
    response = download(app, other, f"/pro/archives/{archive.id}/export.fhir.json")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    data = response.get_json(force=True)
    Bundle.model_validate(data)
    extensions = {e["url"]: e for e in data["meta"]["extension"]}
    assert extensions[fhir.SHA256_URL]["valueString"] == archive.sha256
    assert extensions[fhir.FROZEN_AT_URL]["valueDateTime"] == archive.frozen_at.isoformat()
    assert data["identifier"]["value"] == f"urn:cvn:archive:{archive.sha256}"
    assert len(resources(data, "Immunization")) == 5
    assert download(app, story["pro"], f"/pro/archives/{archive.id}/export.fhir.json").status_code == 404
    assert json.loads(db.session.get(type(archive), archive.id).content)["frozen_at"] == archive.frozen_at.isoformat()
