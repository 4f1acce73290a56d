"""Every main screen, for each kind of account, at phone and tablet size: shot, and checked by axe.

The screenshots land in tests/screenshots/ as ``<device>-<screen>.png``; look
at them after a change to a screen. Each screen must also show its heading
(so a screenshot of an error page cannot pass for the screen).
"""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Access, Archive, InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from tests.browser.conftest import log_out_ui
from tests.browser.test_carnets import login

BIRTH = date(2024, 2, 10)


@pytest.fixture
def world(create_professional, create_patient, create_carnet, create_admin):
    """A patientèle with a handed-over carnet, a declared dose, an archive and a pending invitation."""
    pro = create_professional(first_name="Claire", last_name="Martin")
    other = create_professional(first_name="Paul", last_name="Petit")
    carnet = create_carnet(pro, birth_date=BIRTH)
    for product, on in (("Hexyon", date(2024, 4, 10)), ("Prevenar 20", date(2024, 4, 10)),
                        ("Hexyon", date(2024, 6, 12))):
        carnets.record_dose(pro, carnet, carnets.DoseInput(product, [], on, lot_number="AB12"))
    owner = create_patient(first_name="Paula", last_name="Durand")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    carnets.record_dose(owner, carnet, carnets.DoseInput("Priorix", [], date(2025, 2, 12)))
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL,
                                            InvitationChannel.QR)[0], other, BIRTH, True)
    access = db.session.scalar(select(Access).where(Access.professional_id == other.id))
    archives.end_access(owner, carnet, access)
    archive = db.session.scalar(select(Archive))
    second = create_carnet(pro, first_names="Léo", last_name="Bernard", birth_date=date(2025, 12, 20))
    sharing.create_invitation(pro, second, InvitationTarget.HOLDER, InvitationChannel.EMAIL,
                              email="parent@exemple.fr")
    return {"pro": pro, "other": other, "owner": owner, "admin": create_admin(),
            "waiting": create_professional(verified=False), "carnet": carnet, "archive": archive}


#: (account, screen name, path template, heading the screen must show)
SCREENS = [
    (None, "accueil", "/", None),
    (None, "connexion", "/connexion", "Se connecter"),
    (None, "inscription", "/inscription/patient", None),
    (None, "inscription-pro", "/inscription/professionnel", None),
    (None, "mot-de-passe-oublie", "/mot-de-passe/oublie", None),
    (None, "hors-ligne", "/hors-ligne", None),
    ("pro", "patientele", "/pro/", "Ma patientèle"),
    ("pro", "nouveau-carnet", "/pro/carnets/nouveau", None),
    ("pro", "carnet-pro", "/carnets/{public_id}", None),
    ("pro", "carnet-pro-doses", "/carnets/{public_id}/doses", None),
    ("pro", "carnet-pro-nouvelle-dose", "/carnets/{public_id}/doses/nouvelle", None),
    ("pro", "carnet-pro-partage", "/carnets/{public_id}/partage", None),
    ("pro", "carnet-pro-historique", "/carnets/{public_id}/historique", None),
    ("pro", "a-valider", "/pro/a-valider", None),
    ("pro", "compte", "/compte", None),
    ("other", "archives", "/pro/archives", None),
    ("other", "archive", "/pro/archives/{archive_id}", None),
    ("owner", "mes-carnets", "/mes-carnets/", None),
    ("owner", "carnet-titulaire", "/carnets/{public_id}", None),
    ("owner", "carnet-titulaire-doses", "/carnets/{public_id}/doses", None),
    ("owner", "carnet-titulaire-declarer", "/carnets/{public_id}/doses/nouvelle", None),
    ("owner", "carnet-titulaire-partage", "/carnets/{public_id}/partage", None),
    ("owner", "carnet-titulaire-historique", "/carnets/{public_id}/historique", None),
    ("waiting", "pro-en-attente", "/pro/en-attente", None),
    ("admin", "administration", "/admin/professionnels", None),
]


@pytest.mark.parametrize("device", ["phone", "tablet"])
def test_every_main_screen(request, device, live_server, world, screenshot, axe):
    page = request.getfixturevalue(device)
    values = {"public_id": world["carnet"].public_id, "archive_id": world["archive"].id}
    shot, current = [], "nobody"
    for who, name, path, heading in SCREENS:
        if who != current:
            if current != "nobody" and current is not None:
                log_out_ui(page)
                expect(page.locator(".main-nav a", has_text="Se connecter")).to_have_count(1)
            if who is not None:
                login(page, live_server, world[who])
            current = who
        response = page.goto(live_server.url + path.format(**values))
        assert response.status == 200, f"{name}: {response.status}"
        h1 = page.locator("main h1").first
        expect(h1).to_be_visible()
        if heading:
            expect(h1).to_have_text(heading)
        screenshot(page, f"{device}-{name}")
        violations = axe(page)
        assert violations == [], f"{name} on {device}: {violations}"
        shot.append(name)
    assert len(shot) == len(SCREENS)
