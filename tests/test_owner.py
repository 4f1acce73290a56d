"""Owners: declared doses, validation, sharing with professionals, stopping a share, archives."""
import json
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Access, Archive, Dose, DoseState, InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from tests.conftest import log_in
from tests.html import text

BIRTH = date(2024, 2, 10)
HTMX = {"HX-Request": "true"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def story(create_professional, create_patient, create_carnet):
    """A carnet opened by Dr A, owned by a parent; Dr B is verified but has no access."""
    pro_a = create_professional(first_name="Anne", last_name="Alpha")
    pro_b = create_professional(first_name="Bruno", last_name="Bravo")
    carnet = create_carnet(pro_a, birth_date=BIRTH)
    carnets.record_dose(pro_a, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10)))
    owner = create_patient(first_name="Paula")
    sharing.claim(sharing.create_invitation(pro_a, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    return {"pro_a": pro_a, "pro_b": pro_b, "carnet": carnet, "owner": owner}


def login(app, user):
    client = app.test_client()
    assert log_in(client, user).status_code == 303
    return client


def declare(client, carnet, product="Priorix", on="2025-02-12"):
    return client.post(f"/carnets/{carnet.public_id}/doses", data={"product": product, "administered_on": on})


def test_owner_declares_then_edits_and_deletes_own_declared_dose(app, story):
    owner, carnet = story["owner"], story["carnet"]
    client = login(app, owner)
    assert declare(client, carnet).status_code == 303
    dose = db.session.scalar(select(Dose).where(Dose.state == DoseState.DECLARED))
    page = client.get(f"/carnets/{carnet.public_id}/doses").get_data(as_text=True)
    assert "Déclarée — en attente de validation" in page
    edit = f"/carnets/{carnet.public_id}/doses/{dose.id}/modifier"
    assert client.post(edit, data={"product": "Priorix", "administered_on": "2025-02-13"}).status_code == 303
    db.session.refresh(dose)
    assert dose.administered_on == date(2025, 2, 13) and dose.state == DoseState.DECLARED
    # Not the professional's validated dose.
    hexyon = db.session.scalar(select(Dose).where(Dose.product_code == "hexyon"))
    assert client.get(f"/carnets/{carnet.public_id}/doses/{hexyon.id}/modifier").status_code == 404
    assert client.post(f"/carnets/{carnet.public_id}/doses/{hexyon.id}/supprimer",
                       data={"reason": "x"}).status_code == 404
    # Own declared dose: deleted without a reason.
    assert client.post(f"/carnets/{carnet.public_id}/doses/{dose.id}/supprimer", data={}).status_code == 303
    db.session.expire_all()
    assert carnets.get_dose(carnet, dose.id) is None


def test_owner_cannot_edit_once_validated(app, story):
    client = login(app, story["owner"])
    declare(client, story["carnet"])
    dose = db.session.scalar(select(Dose).where(Dose.state == DoseState.DECLARED))
    pro = login(app, story["pro_a"])
    assert pro.post(f"/carnets/{story['carnet'].public_id}/doses/{dose.id}/valider").status_code == 303
    assert client.get(f"/carnets/{story['carnet'].public_id}/doses/{dose.id}/modifier").status_code == 404


def test_validation_queue_and_inline_decisions(app, story, create_carnet):
    owner, carnet, pro_a = story["owner"], story["carnet"], story["pro_a"]
    client = login(app, owner)
    declare(client, carnet, "Priorix", "2025-02-12")
    declare(client, carnet, "Bexsero", "2024-05-10")
    pro = login(app, pro_a)
    queue = pro.get("/pro/a-valider").get_data(as_text=True)
    assert "Priorix" in queue and "Bexsero" in queue and carnet.full_name in queue
    priorix = db.session.scalar(select(Dose).where(Dose.product_code == "priorix"))
    bexsero = db.session.scalar(select(Dose).where(Dose.product_code == "bexsero"))
    # Validate inline: the row comes back validated.
    row = pro.post(f"/carnets/{carnet.public_id}/doses/{priorix.id}/valider", headers=HTMX)
    assert row.status_code == 200 and "✓ Validée" in row.get_data(as_text=True)
    assert "<html" not in row.get_data(as_text=True)
    db.session.refresh(priorix)
    assert priorix.state == DoseState.VALIDATED and priorix.validated_by_id == pro_a.id
    # Rejecting needs a reason.
    refused = pro.post(f"/carnets/{carnet.public_id}/doses/{bexsero.id}/refuser", data={"reason": " "}, headers=HTMX)
    assert refused.status_code == 422 and "Indiquez au patient" in refused.get_data(as_text=True)
    db.session.refresh(bexsero)
    assert bexsero.state == DoseState.DECLARED
    pro.post(f"/carnets/{carnet.public_id}/doses/{bexsero.id}/refuser",
             data={"reason": "Aucune trace dans le carnet papier"})
    db.session.refresh(bexsero)
    assert bexsero.state == DoseState.REJECTED
    # The owner sees both outcomes.
    page = client.get(f"/carnets/{carnet.public_id}/doses").get_data(as_text=True)
    assert "Aucune trace dans le carnet papier" in page and "Dr Anne Alpha" in page
    # Deciding twice is refused plainly.
    again = pro.post(f"/carnets/{carnet.public_id}/doses/{priorix.id}/valider", headers=HTMX)
    assert again.status_code == 422 and "n’est plus en attente" in again.get_data(as_text=True)
    assert "Aucune dose en attente" in pro.get("/pro/a-valider").get_data(as_text=True)


def test_validate_all(app, story):
    client = login(app, story["owner"])
    for product in ("Priorix", "Bexsero", "Prevenar 20"):
        declare(client, story["carnet"], product, "2025-01-10")
    pro = login(app, story["pro_a"])
    response = pro.post(f"/carnets/{story['carnet'].public_id}/doses/valider-tout")
    assert response.status_code == 303
    assert count(Dose, Dose.state == DoseState.DECLARED) == 0
    assert count(Dose, Dose.state == DoseState.VALIDATED) == 4


def test_owner_shares_with_a_professional_by_link(app, story):
    owner, carnet, pro_b = story["owner"], story["carnet"], story["pro_b"]
    client = login(app, owner)
    response = client.post(f"/carnets/{carnet.public_id}/invitations/code", data={"channel": "link", "target": "professional"})
    assert response.status_code == 303
    page = client.get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)
    import re

    link = re.search(r'value="http://cvn\.test(/i/[^"]+)"', page).group(1)
    pro = app.test_client()
    pro.get(link)
    welcome = pro.get("/invitation").get_data(as_text=True)
    assert "compte professionnel" in welcome and "Durand" not in welcome
    log_in(pro, pro_b)
    attest = pro.get("/invitation").get_data(as_text=True)
    assert "professionnel de santé autorisé" in attest
    done = pro.post("/invitation", data={"birth_date": "2024-02-10", "attest": "y"})
    assert done.status_code == 303
    assert carnet.full_name in pro.get("/pro/").get_data(as_text=True)
    assert "Dr Bruno Bravo" in client.get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)


def test_every_owner_is_told_and_sees_the_co_owners(app, story, create_patient):
    from cvn.models import OutboxMessage

    owner, carnet, pro_b = story["owner"], story["carnet"], story["pro_b"]
    unconfirmed = create_patient(first_name="Sans", email_confirmed=False)
    co_owner = create_patient(first_name="Co", last_name="Parent")
    for other in (co_owner, unconfirmed):
        sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                      other, BIRTH, True)
    joined = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Un autre titulaire%")))
    assert sorted(m.recipient for m in joined) == sorted([owner.email, owner.email, co_owner.email])
    sharing.claim(sharing.create_invitation(co_owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  pro_b, BIRTH, True)
    access = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Dr Bruno Bravo a désormais%")))
    # Every owner but the unconfirmed address, the one who shared included (a trace in the mailbox).
    assert sorted(m.recipient for m in access) == sorted([owner.email, co_owner.email])
    page = login(app, owner).get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)
    assert "Titulaires du carnet" in page and "Co Parent" in page and "Sans " in page


def test_unverified_professional_waits_until_verified(app, story, create_professional):
    newcomer = create_professional(verified=False)
    invitation, raw = sharing.create_invitation(story["owner"], story["carnet"], InvitationTarget.PROFESSIONAL,
                                                InvitationChannel.LINK)
    client = login(app, newcomer)
    client.get(f"/i/{raw}")
    waiting = client.get("/invitation")
    assert waiting.status_code == 403 and "doit d’abord être vérifié" in waiting.get_data(as_text=True)
    assert db.session.get(type(invitation), invitation.id).used_at is None
    app.test_cli_runner().invoke(args=["cvn", "verify-pro", newcomer.email])
    assert client.post("/invitation", data={"birth_date": "2024-02-10", "attest": "y"}).status_code == 303
    assert count(Access, Access.professional_id == newcomer.id, Access.ended_at.is_(None)) == 1


def test_co_owner_invitation(app, story, create_patient):
    other_parent = create_patient(first_name="Pierre")
    _inv, raw = sharing.create_invitation(story["owner"], story["carnet"], InvitationTarget.HOLDER,
                                          InvitationChannel.EMAIL, other_parent.email)
    client = login(app, other_parent)
    client.get(f"/i/{raw}")
    assert client.post("/invitation", data={"birth_date": "2024-02-10", "attest": "y"}).status_code == 303
    assert len(sharing.owners(story["carnet"])) == 2


def test_stop_sharing_freezes_an_archive(app, story):
    owner, carnet, pro_a, pro_b = story["owner"], story["carnet"], story["pro_a"], story["pro_b"]
    db.session.add(Access(carnet_id=carnet.id, professional_id=pro_b.id))
    db.session.commit()
    client = login(app, owner)
    declare(client, carnet, "Priorix", "2025-02-12")
    access_a = db.session.scalar(select(Access).where(Access.professional_id == pro_a.id))
    confirm = client.get(f"/carnets/{carnet.public_id}/acces/{access_a.id}/arreter")
    assert confirm.status_code == 200 and "copie figée" in confirm.get_data(as_text=True)
    assert client.post(f"/carnets/{carnet.public_id}/acces/{access_a.id}/arreter").status_code == 303
    archive = db.session.scalar(select(Archive))
    frozen = json.loads(archive.content)
    assert archive.professional_id == pro_a.id and archive.sha256 == archives.digest(archive.content)
    # The journal names whom the sharing stopped with (the name as it was then).
    journal = [text(li) for li in BeautifulSoup(client.get(f"/carnets/{carnet.public_id}/historique").data,
                                                "html.parser").select("#journal .events li")]
    assert any(f"a arrêté le partage avec {pro_a.display_name}" in line for line in journal), journal
    assert not any(pro_b.display_name in line and "arrêté" in line for line in journal)
    assert [d["product_name"] for d in frozen["doses"]] == ["Hexyon", "Priorix"]
    assert frozen["doses"][1]["state"] == "declared"

    a = login(app, pro_a)
    assert a.get(f"/carnets/{carnet.public_id}").status_code == 404
    assert carnet.full_name not in a.get("/pro/").get_data(as_text=True)
    listing = a.get("/pro/archives").get_data(as_text=True)
    assert "Éloïse DURAND" in listing and "Figé le" in listing
    shown = a.get(f"/pro/archives/{archive.id}").get_data(as_text=True)
    assert "Intégrité vérifiée" in shown and "Priorix" in shown

    # Later changes by anyone do not reach the archive.
    declare(client, carnet, "Bexsero", "2024-06-10")
    b = login(app, pro_b)
    b.post(f"/carnets/{carnet.public_id}/doses/valider-tout")
    hexyon = db.session.scalar(select(Dose).where(Dose.product_code == "hexyon"))
    carnets.delete_dose(pro_b, carnet, hexyon, "Erreur de saisie")
    db.session.refresh(archive)
    assert json.loads(archive.content) == frozen and archive.sha256 == archives.digest(archive.content)
    assert "Bexsero" not in a.get(f"/pro/archives/{archive.id}").get_data(as_text=True)
    assert "Bexsero" in b.get(f"/carnets/{carnet.public_id}/doses").get_data(as_text=True)


def test_archives_cannot_be_updated_and_tampering_shows(app, story):
    carnet, owner, pro_a = story["carnet"], story["owner"], story["pro_a"]
    access = db.session.scalar(select(Access))
    archive = archives.end_access(owner, carnet, access)
    archive.content = archive.content.replace("Hexyon", "Autre")
    with pytest.raises(RuntimeError, match="frozen"):
        db.session.commit()
    db.session.rollback()
    # Tampering behind the ORM's back is detected when shown.
    db.session.execute(Archive.__table__.update().values(content=archive.content.replace("Hexyon", "Autre")))
    db.session.commit()
    page = login(app, pro_a).get(f"/pro/archives/{archive.id}").get_data(as_text=True)
    assert "Alerte d’intégrité" in page


def test_sharing_again_starts_a_new_access_and_keeps_the_old_archive(app, story):
    carnet, owner, pro_a = story["carnet"], story["owner"], story["pro_a"]
    archives.end_access(owner, carnet, db.session.scalar(select(Access)))
    invitation, _raw = sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)
    sharing.claim(invitation, pro_a, BIRTH, True)
    assert count(Access, Access.professional_id == pro_a.id) == 2
    assert count(Access, Access.professional_id == pro_a.id, Access.ended_at.is_(None)) == 1
    assert count(Archive) == 1
    assert login(app, pro_a).get(f"/carnets/{carnet.public_id}").status_code == 200


# --- Access matrix: every new route × nine kinds of user -----------------------

ROLES = ["anonymous", "owner", "co_owner", "other_patient", "pro_with_access", "pro_access_ended",
         "pro_without_access", "unverified", "admin"]


@pytest.fixture
def world(story, create_patient, create_professional, create_admin, create_carnet):
    carnet, owner, pro_a = story["carnet"], story["owner"], story["pro_a"]
    co_owner = create_patient(first_name="Co")
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  co_owner, BIRTH, True)
    ended = create_professional(first_name="Ended")
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  ended, BIRTH, True)
    archive = archives.end_access(owner, carnet, db.session.scalar(
        select(Access).where(Access.professional_id == ended.id)))
    b_access_owner = create_professional(first_name="Gone")  # access to end in the matrix
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  b_access_owner, BIRTH, True)
    declared = carnets.record_dose(owner, carnet, carnets.DoseInput("Priorix", [], date(2025, 2, 12)))
    # Users kept out of this carnet own or follow other carnets, so a check that forgets
    # which carnet it is about lets them in and fails the matrix.
    other_patient, pro_without_access = create_patient(), create_professional()
    elsewhere = create_carnet(pro_without_access, first_names="Autre", birth_date=BIRTH)
    sharing.claim(sharing.create_invitation(pro_without_access, elsewhere, InvitationTarget.HOLDER,
                                            InvitationChannel.QR)[0], other_patient, BIRTH, True)
    return {**story, "co_owner": co_owner, "pro_with_access": pro_a, "pro_access_ended": ended,
            "other_patient": other_patient, "pro_without_access": pro_without_access,
            "unverified": create_professional(verified=False), "admin": create_admin(), "archive": archive,
            "declared": declared,
            "open_access": db.session.scalar(select(Access).where(Access.professional_id == b_access_owner.id))}


def matrix_routes(w):
    c, d, a = w["carnet"].public_id, w["declared"].id, w["open_access"].id
    return [
        # (method, url, data, roles allowed, status when allowed)
        ("GET", f"/carnets/{c}", None, {"owner", "co_owner", "pro_with_access"}, 200),
        ("POST", f"/carnets/{c}/doses", {"product": "Hexyon", "administered_on": "2024-06-10"},
         {"owner", "co_owner", "pro_with_access"}, 303),
        ("GET", "/pro/a-valider", None, {"pro_with_access", "pro_access_ended", "pro_without_access"}, 200),
        ("POST", f"/carnets/{c}/doses/{d}/refuser", {"reason": "non"}, {"pro_with_access"}, 303),
        ("POST", f"/carnets/{c}/doses/valider-tout", None, {"pro_with_access"}, 303),
        ("POST", f"/carnets/{c}/invitations/code", {"channel": "link", "target": "professional"},
         {"owner", "co_owner"}, 303),
        ("GET", f"/carnets/{c}/acces/{a}/arreter", None, {"owner", "co_owner"}, 200),
        ("GET", "/pro/archives", None, {"pro_with_access", "pro_access_ended", "pro_without_access"}, 200),
        ("GET", f"/pro/archives/{w['archive'].id}", None, {"pro_access_ended"}, 200),
        ("POST", f"/carnets/{c}/acces/{a}/arreter", None, {"owner", "co_owner"}, 303),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_owner_routes_access_matrix(app, client, auth, world, role):
    if role != "anonymous":
        auth.login(world[role])
    archive_before = (world["archive"].content, world["archive"].sha256)
    for method, url, data, allowed, ok in matrix_routes(world):
        status = client.open(url, method=method, data=data).status_code
        if role == "anonymous":
            expected = 302
        elif role in allowed:
            expected = ok
        elif url.startswith("/pro/") and not world[role].is_professional:
            expected = 403  # a space, not a carnet: says so
        elif url.startswith("/pro/") and role == "unverified":
            expected = 303  # to the waiting page
        else:
            expected = 404  # a carnet or an archive you may not see does not exist
        assert status == expected, (role, method, url, status)
    db.session.refresh(world["archive"])
    assert (world["archive"].content, world["archive"].sha256) == archive_before
    if role not in ("pro_with_access",):
        assert db.session.get(Dose, world["declared"].id).state == DoseState.DECLARED
