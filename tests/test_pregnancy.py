"""Pregnancy with dates (issue 11 point 3): the situation form, ``flask cvn forecast``, the alert e-mail.

Sources: HAS, recommandation coqueluche chez la femme enceinte (2022): one dose in
every pregnancy between 20 and 36 weeks of amenorrhoea; HAS, Abrysvo (2024):
32 to 36 weeks during the RSV season. Term taken at 41 weeks (DECISION in
calendar.toml): a term on 1 June 2026 puts 20 weeks on 5 January 2026.
"""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cvn.alerts import services as alerts
from cvn.extensions import db
from cvn.models import AuditEvent, InvitationChannel, InvitationTarget, OutboxMessage
from cvn.schedule.forecast import forecast_command
from cvn.sharing import services as sharing
from tests.conftest import log_in
from tests.html import one, row_containing, text

BIRTH = date(1995, 4, 1)
DUE = "2026-06-01"  # the test clock is on 2 March 2026: 28 weeks of amenorrhoea


@pytest.fixture
def mother(create_professional, create_patient, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Inès", birth_date=BIRTH)
    owner = create_patient(first_name="Inès", email="ines@exemple.fr")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    return {"pro": pro, "carnet": carnet, "owner": owner}


def client_of(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def test_owner_records_the_term_and_the_pertussis_dose_of_pregnancy_gets_dates(app, mother):
    carnet = mother["carnet"]
    client = client_of(app, mother["owner"])
    response = client.post(f"/carnets/{carnet.public_id}/situation", data={"flags": ["pregnant"], "due_date": DUE})
    assert response.status_code == 303
    db.session.refresh(carnet)
    assert carnet.flags == ["pregnant"] and carnet.pregnancy_due_on == date(2026, 6, 1)
    status = one(client.get(f"/carnets/{carnet.public_id}"), "#statut")
    row = row_containing(status, ":scope > ul.status-list > li.status-row", "Coqueluche")
    assert "Dose de grossesse" in text(one(row, ".status-next"))
    assert "5 janvier 2026" in text(one(row, ".status-next"))
    assert text(one(row, ".status-badge")) == "● À faire"
    assert "pertussis_pregnancy" in text(one(row, "details.clinician"))
    assert one(status, "#due-date").get("value") == DUE


def test_professional_records_the_term_too_and_unticking_clears_it(app, mother):
    carnet = mother["carnet"]
    pro = client_of(app, mother["pro"])
    assert pro.post(f"/carnets/{carnet.public_id}/situation",
                    data={"flags": ["pregnant"], "due_date": DUE}).status_code == 303
    db.session.refresh(carnet)
    assert carnet.pregnancy_due_on == date(2026, 6, 1)
    assert pro.post(f"/carnets/{carnet.public_id}/situation", data={"flags": []}).status_code == 303
    db.session.refresh(carnet)
    assert carnet.flags == [] and carnet.pregnancy_due_on is None


@pytest.mark.parametrize("typed", ["2027-12-01", "2025-01-01", "01/06/2026"])
def test_an_impossible_term_is_refused_with_a_french_message_and_nothing_written(app, mother, typed):
    carnet = mother["carnet"]
    client = client_of(app, mother["owner"])
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post(f"/carnets/{carnet.public_id}/situation",
                           data={"flags": ["pregnant", "asplenia"], "due_date": typed})
    assert response.status_code == 422
    assert "Date prévue d'accouchement" in text(one(response, "#due-date-error"))
    db.session.refresh(carnet)
    assert carnet.flags == [] and carnet.pregnancy_due_on is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_alert_mail_announces_the_pertussis_dose_of_pregnancy(app, mother):
    from cvn.status.services import set_flags

    set_flags(mother["pro"], mother["carnet"], ["pregnant"], DUE)
    alerts.subscribe(mother["owner"], mother["carnet"], True)
    assert alerts.run_daily(date(2026, 3, 2)).messages == 1
    body = db.session.scalar(select(OutboxMessage)).body_text
    line = next(x for x in body.splitlines() if "Coqueluche" in x)
    assert "Dose de grossesse" in line and "5 janvier 2026" in line


def test_adult_sees_not_yet_not_a_green_tick(app, mother):
    status = one(client_of(app, mother["owner"]).get(f"/carnets/{mother['carnet'].public_id}"), "#statut")
    zoster = row_containing(status, ":scope > ul.status-list > li.status-row", "Zona")
    assert text(one(zoster, ".status-badge")) == "… Plus tard"
    assert "à partir de 65 ans" in text(one(zoster, ":scope > p.hint"))
    assert "status-not_yet" in zoster.get("class")


# ---------------------------------------------------------------- flask cvn forecast

def run(payload: dict):
    return CliRunner().invoke(forecast_command, input=json.dumps(payload))


def _by(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return {r["disease"]: r for r in json.loads(result.stdout)["recommendations"]}


BASE = {"birth_date": "1995-04-01", "sex": "F", "on": "2025-12-01",
        "doses": [{"date": "2024-05-01", "product": "Boostrixtetra"}]}


def test_forecast_pregnancy_due_date_dates_the_dose():
    by = _by(run({**BASE, "pregnancy": {"due_date": "2026-03-01"}}))
    assert (by["pertussis"]["status"], by["pertussis"]["next_date"]) == ("due", "2025-10-05")
    assert by["pertussis"]["rule"] == "pertussis_pregnancy"


def test_forecast_pregnancy_start_date_is_the_same_pregnancy():
    by = _by(run({**BASE, "pregnancy": {"start_date": "2025-05-18"}}))
    assert (by["pertussis"]["status"], by["pertussis"]["next_date"]) == ("due", "2025-10-05")


def test_forecast_flag_alone_counts_a_dose_of_the_last_21_weeks():
    recent = {**BASE, "flags": ["pregnant"], "doses": [{"date": "2025-07-07", "product": "Boostrixtetra"}]}
    assert _by(run(recent))["pertussis"]["status"] == "up_to_date"   # 147 days before
    old = {**recent, "doses": [{"date": "2025-07-06", "product": "Boostrixtetra"}]}
    assert (_by(run(old))["pertussis"]["status"], _by(run(old))["pertussis"]["next_date"]) == ("due", None)


@pytest.mark.parametrize("pregnancy, field", [
    ({"due_date": "2026-13-01"}, "pregnancy.due_date"),
    ({"due_date": "2026-03-01", "start_date": "2025-05-18"}, "pregnancy"),
    ({}, "pregnancy"),
    ({"term": "2026-03-01"}, "pregnancy.term"),
    ("2026-03-01", "pregnancy"),
])
def test_forecast_bad_pregnancy_exits_2_naming_the_field(pregnancy, field):
    result = run({**BASE, "pregnancy": pregnancy})
    assert result.exit_code == 2
    assert result.stderr.startswith(field)


def test_forecast_pregnancy_for_a_man_is_refused():
    result = run({**BASE, "sex": "M", "doses": [], "pregnancy": {"due_date": "2026-03-01"}})
    assert result.exit_code == 2 and result.stderr.startswith("pregnancy")


def test_the_header_shows_the_situation_and_the_term_and_refreshes_with_it(app, mother):
    """The carnet's header names what changes the recommendations: a reader sees the pregnancy and its term first."""
    carnet = mother["carnet"]
    client = client_of(app, mother["owner"])
    assert not one(client.get(f"/carnets/{carnet.public_id}"), "#carnet-header").select(".situation-line")
    client.post(f"/carnets/{carnet.public_id}/situation", data={"flags": ["pregnant", "asplenia"], "due_date": DUE})
    # the header fragment the page re-fetches after the change (htmx event carnet-changed)
    header = client.get(f"/carnets/{carnet.public_id}/resume", headers={"HX-Request": "true"})
    tags = [text(t) for t in one(header, ".situation-line").select(".tag")]
    assert tags == ["Grossesse en cours, terme prévu le 1er juin 2026",
                    "Asplénie (absence ou dysfonctionnement de la rate)"]
    client.post(f"/carnets/{carnet.public_id}/situation", data={"flags": ["pregnant"]})
    page = client.get(f"/carnets/{carnet.public_id}")
    assert [text(t) for t in one(page, "#carnet-header .situation-line").select(".tag")] == ["Grossesse en cours"]
