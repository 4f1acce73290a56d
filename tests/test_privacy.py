"""Leaving with one's data: the ZIP download, account deletion, the privacy and legal pages."""
import io
import json
import zipfile
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import (Access, Archive, Carnet, Dose, InvitationChannel, InvitationTarget, Ownership,
                        RememberedDevice, Sex, User, WebSession)
from cvn.patient.services import create_own_carnet
from cvn.sharing import services as sharing
from tests.conftest import PASSWORD, log_in
from tests.html import one, parse, text
from tests.test_fhir_export import BIRTH, rich_carnet


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def world(app, create_professional, create_patient, create_carnet):
    """The leaving patient owns: a carnet followed by a professional (and archived by another), one shared with
    the other parent, and one nobody else follows."""
    pro, archivist, leaving, other_parent = (create_professional(), create_professional(first_name="Inès"),
                                             create_patient(), create_patient(first_name="Autre"))
    followed = rich_carnet(pro, leaving, create_carnet)
    sharing.claim(sharing.create_invitation(leaving, followed, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  archivist, BIRTH, True)
    archive = archives.end_access(leaving, followed, db.session.scalar(
        select(Access).where(Access.professional_id == archivist.id)))
    shared = create_own_carnet(leaving, last_name="Durand", first_names="Léo", birth_date=BIRTH, sex=Sex.MALE)
    sharing.claim(sharing.create_invitation(leaving, shared, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  other_parent, BIRTH, True)
    alone = create_own_carnet(leaving, last_name="Durand", first_names="Jeanne", birth_date=date(1990, 5, 1),
                              sex=Sex.FEMALE)
    carnets.record_dose(leaving, alone, carnets.DoseInput("Priorix", [], date(1991, 6, 1)))
    pending = sharing.create_invitation(leaving, followed, InvitationTarget.HOLDER, InvitationChannel.LINK)[0]
    client = app.test_client()
    log_in(client, leaving, data={"remember": "y"})
    return {"pro": pro, "archivist": archivist, "leaving": leaving, "other_parent": other_parent,
            "followed": followed, "shared": shared, "alone": alone, "archive": archive, "client": client,
            "pending": pending}


def test_the_download_holds_the_account_every_owned_carnet_as_fhir_and_their_journals(world):
    client = world["client"]
    account = parse(client.get("/compte"))
    assert one(account, "a[href='/compte/mes-donnees.zip']") and one(account, "a[href='/compte/supprimer']")
    response = client.get("/compte/mes-donnees.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="cvn-mes-donnees-2026-03-02.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = sorted(archive.namelist())
    assert names[:2] == ["LISEZMOI.txt", "carnets/01-carnet-durand-eloise-2026-03-02.fhir.json"]
    assert len([n for n in names if n.endswith(".fhir.json")]) == 3
    assert len([n for n in names if n.endswith(".journal.json")]) == 3
    account = json.loads(archive.read("compte.json"))
    assert account["compte"]["email"] == world["leaving"].email
    assert len(account["carnets_possedes"]) == 3 and account["sessions"]
    assert "scrypt" not in archive.read("compte.json").decode()
    for name in names:
        if name.endswith(".fhir.json"):
            Bundle.model_validate(json.loads(archive.read(name)))
    bundle = json.loads(archive.read("carnets/01-carnet-durand-eloise-2026-03-02.fhir.json"))
    assert len([e for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization"]) == 5
    journal = json.loads(archive.read("carnets/01-carnet-durand-eloise-2026-03-02.journal.json"))
    actions = [e["action"] for e in journal["journal"]]
    assert actions[0] == "carnet.create" and "access.end" in actions and "carnet.claim" in actions
    assert len(journal["historique_des_doses"]) >= 5


def test_a_wrong_password_or_no_confirmation_deletes_nothing(world):
    client, leaving = world["client"], world["leaving"]
    wrong = client.post("/compte/supprimer", data={"password": "pas le bon", "confirm": "y"})
    assert wrong.status_code == 422
    assert text(one(parse(wrong), "#password-erreur")) == "Mot de passe incorrect."
    unconfirmed = client.post("/compte/supprimer", data={"password": PASSWORD})
    assert unconfirmed.status_code == 422
    assert "Cochez la case" in text(one(parse(unconfirmed), "#confirm-erreur"))
    assert db.session.get(User, leaving.id) is not None and count(Ownership, Ownership.user_id == leaving.id) == 3


def test_deleting_the_account_leaves_no_ownership_or_session_and_keeps_archives(app, world):
    client, leaving = world["client"], world["leaving"]
    leaving_id, alone_id, followed_id, shared_id = leaving.id, world["alone"].id, world["followed"].id, world["shared"].id
    assert count(RememberedDevice, RememberedDevice.user_id == leaving_id) == 1
    other_session = app.test_client()
    log_in(other_session, leaving)
    response = client.post("/compte/supprimer", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 303 and response.location.endswith("/")
    db.session.expire_all()
    assert db.session.get(User, leaving_id) is None
    assert count(Ownership, Ownership.user_id == leaving_id) == 0
    assert count(WebSession, WebSession.user_id == leaving_id) == 0
    assert count(RememberedDevice, RememberedDevice.user_id == leaving_id) == 0
    # The carnet nobody else follows is gone with its doses; the others stay for their people.
    assert db.session.get(Carnet, alone_id) is None
    assert count(Dose, Dose.carnet_id == alone_id) == 0
    assert db.session.get(Carnet, followed_id) is not None
    assert db.session.get(Carnet, shared_id) is not None
    assert count(Ownership, Ownership.carnet_id == shared_id, Ownership.user_id == world["other_parent"].id) == 1
    db.session.refresh(world["pending"])
    assert world["pending"].revoked_at is not None
    # The professional's frozen copy is untouched and still verifies.
    shown = archives.open_archive(world["archivist"], world["archive"].id)
    assert shown.intact and len(shown.data["doses"]) == 5
    assert db.session.get(Archive, world["archive"].id).sha256 == world["archive"].sha256
    # Both browsers are logged out.
    assert client.get("/compte").status_code == 302
    assert other_session.get("/compte").status_code == 302
    pro = app.test_client()
    log_in(pro, world["archivist"])
    assert pro.get(f"/pro/archives/{world['archive'].id}").status_code == 200


def test_a_carnet_left_to_no_one_goes_even_after_a_professional_archived_it(app, create_professional,
                                                                            create_patient, create_carnet):
    pro, owner = create_professional(), create_patient()
    carnet = rich_carnet(pro, owner, create_carnet)
    archive = archives.end_access(owner, carnet, db.session.scalar(select(Access).where(Access.carnet_id == carnet.id)))
    carnet_id, archive_id = carnet.id, archive.id
    client = app.test_client()
    log_in(client, owner)
    assert client.post("/compte/supprimer", data={"password": PASSWORD, "confirm": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Carnet, carnet_id) is None
    kept = db.session.get(Archive, archive_id)
    assert kept.carnet_id is None and archives.open_archive(pro, archive_id).intact


def test_professionals_are_told_whom_to_ask(app, create_professional):
    pro = create_professional()
    client = app.test_client()
    log_in(client, pro)
    page = parse(client.get("/compte/supprimer"))
    assert "trace médico-légale" in text(one(page, "#suppression").parent)
    assert client.post("/compte/supprimer", data={"password": PASSWORD, "confirm": "y"}).status_code == 403
    assert db.session.get(User, pro.id) is not None


def test_privacy_and_legal_pages_are_linked_from_the_footer_and_sign_up(client):
    for path in ("/", "/inscription", "/inscription/patient"):
        page = parse(client.get(path))
        assert one(page, "footer a[href='/confidentialite']") and one(page, "footer a[href='/mentions-legales']")
    assert one(parse(client.get("/inscription/patient")), "form .signup-privacy a[href='/confidentialite']")
    privacy = parse(client.get("/confidentialite"))
    assert text(one(privacy, "h1")) == "Confidentialité et vos droits"
    rights = [text(dt) for dt in privacy.select("dl.rights dt")]
    assert rights == ["Accès", "Portabilité", "Rectification", "Effacement", "Retrait du consentement, opposition",
                      "Réclamation"]
    assert client.get("/mentions-legales").status_code == 200
