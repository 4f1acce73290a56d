"""The vaccination certificate: validated doses by disease, declared ones marked, a QR to a verification page."""
import json
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from cvn.carnets import services as carnets
from cvn.validation import services as validation
from tests.conftest import log_in
from tests.html import one, parse, text, texts
from tests.test_fhir_export import rich_carnet


@pytest.fixture
def story(app, create_professional, create_patient, create_carnet):
    pro = create_professional(first_name="Claire", last_name="Martin")
    owner = create_patient()
    carnet = rich_carnet(pro, owner, create_carnet)
    client = app.test_client()
    log_in(client, owner)
    return {"pro": pro, "owner": owner, "carnet": carnet, "client": client}


def certificate(story):
    response = story["client"].get(f"/carnets/{story['carnet'].public_id}/attestation")
    assert response.status_code == 200
    return parse(response)


def verification_path(page) -> str:
    return urlsplit(one(page, "a.verify-link")["href"]).path


def test_the_certificate_lists_validated_doses_by_disease_with_their_professionals(story):
    page = certificate(story)
    assert text(one(page, "h1")) == "Attestation de vaccination"
    holder = text(one(page, ".holder"))
    assert "Éloïse DURAND" in holder and "10 février 2024" in holder
    rows = page.select("tr.dose-row")
    hexavalent = [r for r in rows if r["data-diseases"] == "diphtheria tetanus pertussis polio hib hepatitis_b"]
    assert [text(r.select("td")[0]) for r in hexavalent] == ["10/04/2024", "10/06/2024"]
    assert text(hexavalent[0].select_one("th")) == ("Diphtérie, Tétanos, Coqueluche, Poliomyélite, "
                                                    "Haemophilus influenzae b, Hépatite B")
    assert all(text(r.select("td")[-1]) == "Dr Claire Martin" for r in hexavalent)
    assert [text(r.select("td")[0]) for r in rows if r["data-diseases"] == "measles mumps rubella"] == ["11/02/2025"]
    assert len(rows) == 3  # diseases covered by the very same doses share their rows
    declared = texts(page, ".declared-row")
    assert len(declared) == 1 and "Priorix" in declared[0] and declared[0].endswith("déclarée")
    assert not any("Prevenar" in t for t in texts(page, "tr.dose-row td"))  # the rejected dose is left out
    assert "Établie le 2 mars 2026" in text(one(page, ".sheet-head"))
    assert one(page, ".qr-box svg") is not None


def test_the_qr_link_carries_no_health_data(story):
    token = verification_path(certificate(story)).rsplit("/", 1)[1]
    _valid, payload = URLSafeSerializer("any key: what anyone scanning it can read").loads_unsafe(token)
    assert set(payload) == {"c", "h", "i", "e"}
    assert payload["c"] == story["carnet"].public_id and payload["i"] == "2026-03-02"
    assert not any(word in token + json.dumps(payload) for word in ("Durand", "2024-02-10", "hexyon", "Hexyon"))


def verdict(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = parse(response)
    return text(one(page, "#verdict")), page


def test_verification_says_valid_then_no_longer_matching_then_expired(app, story, clock):
    path = verification_path(certificate(story))
    anyone = app.test_client()
    said, page = verdict(anyone, path)
    assert said == "✓ valide"
    assert (text(one(page, ".initials")), text(one(page, ".birth-year")), text(one(page, ".issued"))) == (
        "É. D.", "2024", "2 mars 2026")
    assert "DURAND" not in page.get_text() and "Hexyon" not in page.get_text()
    declared = [d for d in carnets.live_doses(story["carnet"]) if d.state.value == "declared"][0]
    validation.validate(story["pro"], story["carnet"], declared)  # a dose changes
    assert verdict(anyone, path)[0] == "✗ ne correspond plus au carnet"
    fresh = verification_path(certificate(story))
    assert verdict(anyone, fresh)[0] == "✓ valide"
    clock.advance(days=91)
    assert verdict(anyone, fresh)[0] == "◷ expiré"


def test_a_forged_or_altered_token_is_not_ours(app, story):
    path = verification_path(certificate(story))
    anyone = app.test_client()
    assert anyone.get(path[:-3] + "abc").status_code == 404
    assert anyone.get("/verifier/inconnu").status_code == 404


def test_professionals_with_access_issue_it_others_get_404(app, story, create_professional):
    url = f"/carnets/{story['carnet'].public_id}/attestation"
    pro = app.test_client()
    log_in(pro, story["pro"])
    assert pro.get(url).status_code == 200
    stranger = app.test_client()
    log_in(stranger, create_professional())
    assert stranger.get(url).status_code == 404
