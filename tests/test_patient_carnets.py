"""Carnets that patients open themselves: owned at once, doses declared, shared and validated like any other."""
from datetime import date

from sqlalchemy import func, select

from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Access, Carnet, Dose, DoseState, InvitationChannel, InvitationTarget, Ownership
from cvn.sharing import services as sharing
from tests.conftest import log_in
from tests.html import one, parse, text, texts

FORM = {"relation": "child", "last_name": "Durand", "first_names": "Léo", "birth_date": "2024-02-10", "sex": "M"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_patient_opens_a_carnet_for_a_child_and_owns_it(client, auth, create_patient):
    parent = create_patient()
    auth.login(parent)
    home = parse(client.get("/mes-carnets/"))
    assert one(home, "a[href='/mes-carnets/nouveau']")
    response = client.post("/mes-carnets/nouveau", data=FORM)
    assert response.status_code == 303
    carnet = db.session.scalar(select(Carnet).where(Carnet.first_names == "Léo"))
    assert response.location.endswith(f"/carnets/{carnet.public_id}")
    assert (carnet.last_name, carnet.birth_date, carnet.sex.value) == ("Durand", date(2024, 2, 10), "M")
    assert count(Ownership, Ownership.carnet_id == carnet.id, Ownership.user_id == parent.id) == 1
    assert count(Access, Access.carnet_id == carnet.id) == 0
    assert "Léo DURAND" in texts(parse(client.get("/mes-carnets/")), ".patient-name")


def test_declared_doses_wait_for_a_professional(client, auth, create_patient):
    parent = create_patient()
    auth.login(parent)
    client.post("/mes-carnets/nouveau", data=FORM)
    carnet = db.session.scalar(select(Carnet).where(Carnet.first_names == "Léo"))
    response = client.post(f"/carnets/{carnet.public_id}/doses",
                           data={"product": "Hexyon", "administered_on": "2024-04-10"})
    assert response.status_code == 303
    dose = db.session.scalar(select(Dose).where(Dose.carnet_id == carnet.id))
    assert dose.state == DoseState.DECLARED and dose.validated_by_id is None


def test_bad_input_writes_nothing(client, auth, create_patient):
    auth.login(create_patient())
    response = client.post("/mes-carnets/nouveau", data={**FORM, "birth_date": "2099-01-01"})
    assert response.status_code == 422
    assert "futur" in text(one(parse(response), ".error"))
    assert client.post("/mes-carnets/nouveau", data={**FORM, "last_name": ""}).status_code == 422
    assert count(Carnet) == 0


def test_a_second_carnet_with_the_same_name_and_birth_date_asks_first(client, auth, create_patient):
    auth.login(create_patient())
    client.post("/mes-carnets/nouveau", data=FORM)
    again = client.post("/mes-carnets/nouveau", data=FORM)
    assert again.status_code == 409
    assert count(Carnet) == 1
    assert client.post("/mes-carnets/nouveau", data={**FORM, "confirm_duplicate": "y"}).status_code == 303
    assert count(Carnet) == 2


def test_professionals_cannot_use_the_patient_form(client, auth, create_professional):
    auth.login(create_professional())
    assert client.post("/mes-carnets/nouveau", data=FORM).status_code == 403
    assert count(Carnet) == 0


def test_shared_with_a_professional_it_joins_the_patientele_and_gets_validated(app, create_patient,
                                                                               create_professional):
    parent, pro = create_patient(), create_professional(last_name="Pédiatre")
    parent_client = app.test_client()
    log_in(parent_client, parent)
    parent_client.post("/mes-carnets/nouveau", data=FORM)
    carnet = db.session.scalar(select(Carnet).where(Carnet.first_names == "Léo"))
    dose = carnets.record_dose(parent, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10)))
    invitation, _raw = sharing.create_invitation(parent, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.LINK)
    sharing.claim(invitation, pro, date(2024, 2, 10), True)
    pro_client = app.test_client()
    log_in(pro_client, pro)
    patientele = parse(pro_client.get("/pro/"))
    assert any("Léo" in name for name in texts(patientele, ".patient-name"))
    queue = parse(pro_client.get("/pro/a-valider"))
    assert text(one(queue, f"#c-{carnet.public_id}")).startswith("Léo DURAND")
    assert pro_client.post(f"/carnets/{carnet.public_id}/doses/{dose.id}/valider").status_code == 303
    db.session.refresh(dose)
    assert dose.state == DoseState.VALIDATED and dose.validated_by_id == pro.id


def test_the_demo_shows_a_patient_created_carnet_with_its_export_link_and_a_certificate(app, runner, client, auth):
    from cvn.models import User

    result = runner.invoke(args=["cvn", "demo"])
    assert result.exit_code == 0, result.output
    patient = db.session.scalar(select(User).where(User.email == "patient@demo.cvn.fr"))
    lou = db.session.scalar(select(Carnet).where(Carnet.first_names == "Lou"))
    assert lou.created_by_id == patient.id
    assert {d.state for d in carnets.live_doses(lou)} == {DoseState.VALIDATED, DoseState.DECLARED}
    verify = next(line for line in result.output.splitlines() if "/verifier/" in line).split(" : ", 1)[1]
    from cvn.demo import PASSWORD as DEMO_PASSWORD

    auth.login(patient, DEMO_PASSWORD)
    page = parse(client.get(f"/carnets/{lou.public_id}"))
    links = {text(a): a["href"] for a in page.select(".portability-links a")}
    assert links["Exporter (FHIR)"] == f"/carnets/{lou.public_id}/export.fhir.json"
    assert client.get(links["Attestation de vaccination"]).status_code == 200
    assert client.get(links["Importer (FHIR)"]).status_code == 200
    assert text(one(parse(client.get(verify.replace("http://cvn.test", ""))), "#verdict")) == "✓ valide"
