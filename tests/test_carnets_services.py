"""Carnet services: creation, patientèle search, doses, history, audit."""
from datetime import date

import pytest
from sqlalchemy import func, select

from cvn.audit import audit_trail
from cvn.pro.services import patientele
from cvn.access import AccessLost
from cvn.carnets import services
from cvn.carnets.services import DoseError, DoseInput
from cvn.extensions import db
from cvn.models import Access, AuditEvent, Dose, DoseRevision, DoseState, Sex


def dose(product="Hexyon", on=date(2024, 4, 10), diseases=(), **kw) -> DoseInput:
    return DoseInput(product=product, diseases=list(diseases), administered_on=on, **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_creating_a_carnet_grants_access_and_audits(create_professional, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro, last_name="Lefèvre", first_names="Zoé")
    access = db.session.scalar(select(Access))
    assert (access.carnet_id, access.professional_id, access.ended_at) == (carnet.id, pro.id, None)
    assert carnet.search_name == "lefevre zoe"
    assert len(carnet.public_id) >= 22
    assert [e.action for e in audit_trail(carnet)] == ["carnet.create"]


def test_unverified_professional_cannot_open_a_carnet(create_professional):
    with pytest.raises(PermissionError):
        services.create_carnet(create_professional(verified=False), last_name="A", first_names="B",
                               birth_date=date(2020, 1, 1), sex=Sex.MALE)


def test_birth_date_in_the_future_is_refused(create_professional, clock):
    with pytest.raises(DoseError) as error:
        services.create_carnet(create_professional(), last_name="A", first_names="B",
                               birth_date=date(2026, 3, 3), sex=Sex.MALE)
    assert error.value.field == "birth_date"


def test_duplicates_are_found_within_the_patientele(create_professional, create_carnet):
    pro, other = create_professional(), create_professional()
    create_carnet(pro, last_name="DURAND", first_names="eloise")
    assert services.find_duplicates(pro, "Durand", "Éloïse", date(2024, 2, 10))
    assert not services.find_duplicates(pro, "Durand", "Éloïse", date(2024, 2, 11))
    assert not services.find_duplicates(other, "Durand", "Éloïse", date(2024, 2, 10))


def test_patientele_search_ignores_case_and_accents(create_professional, create_carnet, clock):
    pro = create_professional()
    eloise = create_carnet(pro, last_name="Durand", first_names="Éloïse")
    clock.advance(minutes=1)
    create_carnet(pro, last_name="Martin", first_names="Hélène", birth_date=date(1990, 5, 1))
    create_carnet(create_professional(), last_name="Durand", first_names="Éloïse")  # someone else's

    def names(**kw):
        return [r.carnet.first_names for r in patientele(pro, **kw).rows]

    assert names() == ["Hélène", "Éloïse"]  # newest activity first
    assert names(query="eloise") == ["Éloïse"]
    assert names(query="ELOÏSE dur") == ["Éloïse"]
    assert names(query="helene") == ["Hélène"]
    assert names(query="lene") == []  # words match from their start
    assert names(query="%") == []
    assert names(birth_date=date(1990, 5, 1)) == ["Hélène"]
    assert names(query="durand", birth_date=date(1990, 5, 1)) == []
    clock.advance(minutes=1)
    services.record_dose(pro, eloise, dose())
    assert names() == ["Éloïse", "Hélène"]  # activity moves it up


def test_patientele_pages_and_pending_counts(create_professional, create_carnet, create_patient):
    pro = create_professional()
    carnets = [create_carnet(pro, last_name=f"Nom{i}") for i in range(5)]
    first = patientele(pro, per_page=2)
    assert len(first.rows) == 2 and first.has_next and not first.has_prev
    last = patientele(pro, page=3, per_page=2)
    assert len(last.rows) == 1 and not last.has_next
    # A declared dose (issue 5 gives owners the form; the row already exists here).
    db.session.add(Dose(carnet_id=carnets[0].id, diseases=["measles"], administered_on=date(2025, 1, 1),
                        state=DoseState.DECLARED))
    db.session.commit()
    rows = {r.carnet.id: r.pending for r in patientele(pro).rows}
    assert rows[carnets[0].id] == 1 and rows[carnets[1].id] == 0


def test_professional_dose_is_validated_by_them(create_professional, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro)
    recorded = services.record_dose(pro, carnet, dose(lot_number=" ab12 ", product="infanrix HEXA"))
    assert recorded.state == DoseState.VALIDATED
    assert recorded.validated_by_id == pro.id and recorded.validated_at is not None
    assert recorded.product_code == "infanrix_hexa" and recorded.product_name == "Infanrix Hexa"
    assert recorded.diseases == ["diphtheria", "tetanus", "pertussis", "polio", "hib", "hepatitis_b"]
    assert recorded.lot_number == "ab12"
    assert count(DoseRevision) == 1
    assert audit_trail(carnet)[0].action == "dose.create"


def test_dose_by_diseases_only_and_free_text(create_professional, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro)
    paper = services.record_dose(pro, carnet, dose(product="", diseases=["rubella", "measles"]))
    assert (paper.product_code, paper.product_name, paper.diseases) == (None, None, ["measles", "rubella"])
    free = services.record_dose(pro, carnet, dose(product="Vaccin étranger", diseases=["typhoid"]))
    assert (free.product_code, free.product_name, free.diseases) == (None, "Vaccin étranger", ["typhoid"])


@pytest.mark.parametrize("data, field, words", [
    (dose(on=date(2026, 3, 3)), "administered_on", "futur"),
    (dose(on=date(2024, 2, 9)), "administered_on", "précéder la date de naissance"),
    (dose(product="Inconnu"), "diseases", "pas dans le catalogue"),
    (dose(product=""), "product", "au moins une maladie"),
    (dose(product="", diseases=["scurvy"]), "diseases", "inconnue"),
])
def test_bad_doses_are_refused_and_nothing_written(create_professional, create_carnet, data, field, words):
    pro = create_professional()
    carnet = create_carnet(pro)
    events = count(AuditEvent)
    with pytest.raises(DoseError) as error:
        services.record_dose(pro, carnet, data)
    assert error.value.field == field and words in error.value.message
    db.session.rollback()
    assert count(Dose) == 0 and count(DoseRevision) == 0 and count(AuditEvent) == events


def test_dose_for_a_carnet_without_access_is_refused(create_professional, create_carnet):
    carnet = create_carnet()
    with pytest.raises(AccessLost):
        services.record_dose(create_professional(), carnet, dose())
    assert count(Dose) == 0


def test_correction_keeps_before_and_after(create_professional, create_carnet):
    pro, colleague = create_professional(), create_professional()
    carnet = create_carnet(pro)
    db.session.add(Access(carnet_id=carnet.id, professional_id=colleague.id))
    db.session.commit()
    recorded = services.record_dose(pro, carnet, dose(lot_number="A1"))
    services.update_dose(colleague, carnet, recorded, dose(on=date(2024, 4, 12), lot_number="A2"))
    revision = services.revisions(carnet)[0]
    assert revision.action == "update" and revision.changed_by_id == colleague.id
    assert revision.before["lot_number"] == "A1" and revision.after["lot_number"] == "A2"
    assert revision.before["administered_on"] == "2024-04-10"
    assert recorded.validated_by_id == colleague.id
    # An unchanged resubmission writes nothing.
    services.update_dose(colleague, carnet, recorded, dose(on=date(2024, 4, 12), lot_number="A2"))
    assert len(services.revisions(carnet)) == 2


def test_deleting_a_validated_dose_needs_a_reason_and_stays_in_history(create_professional, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro)
    recorded = services.record_dose(pro, carnet, dose())
    with pytest.raises(DoseError):
        services.delete_dose(pro, carnet, recorded, "   ")
    db.session.rollback()
    services.delete_dose(pro, carnet, recorded, "Doublon de saisie")
    assert services.live_doses(carnet) == []
    assert services.get_dose(carnet, recorded.id) is None
    revision = services.revisions(carnet)[0]
    assert revision.action == "delete" and revision.reason == "Doublon de saisie"
    assert revision.before["product_name"] == "Hexyon"
    assert db.session.get(Dose, recorded.id) is not None  # never lost


def test_grouping_by_disease(create_professional, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro)
    services.record_dose(pro, carnet, dose(product="Priorix", on=date(2025, 2, 10)))
    services.record_dose(pro, carnet, dose(product="Hexyon"))
    groups = dict(services.doses_by_disease(services.live_doses(carnet)))
    assert list(groups)[:2] == ["diphtheria", "tetanus"]
    assert [d.product_name for d in groups["measles"]] == ["Priorix"]
    assert len(groups) == 9


def test_audit_events_cannot_be_changed_or_deleted(create_carnet):
    carnet = create_carnet()
    event = audit_trail(carnet)[0]
    event.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(audit_trail(carnet)[0])
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
