"""Hand a carnet over by e-mail (real SMTP), QR code and copied link, on a phone."""
import io
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from cvn.carnets.services import DoseInput, record_dose
from cvn.outbox.services import deliver_due
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: F401  (same browser settings)
from tests.browser.test_carnets import login
from tests.conftest import PASSWORD


@pytest.fixture
def doctor_carnet(create_professional, create_carnet):
    pro = create_professional(first_name="Claire", last_name="Martin")
    carnet = create_carnet(pro, birth_date=date(2024, 2, 10))
    record_dose(pro, carnet, DoseInput("Hexyon", [], date(2024, 4, 10)))
    return pro, carnet


def claim_on_phone(phone, link, screenshot, axe, new_account=True, email="parent@exemple.fr"):
    phone.goto(link)
    expect(phone).to_have_url(re.compile(r"/invitation$"))  # the token left the address bar
    expect(phone.get_by_role("heading", name="Un carnet de vaccination vous attend")).to_be_visible()
    expect(phone.get_by_text("Dr Claire Martin vous confie")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text("Durand")
    if new_account:
        screenshot(phone, "phone-claim-welcome")
        assert axe(phone) == []
        phone.locator("main").get_by_role("link", name="Créer un compte").click()
        phone.get_by_label("Prénom").fill("Marc")
        phone.get_by_label("Nom", exact=True).fill("Durand")
        phone.get_by_label("Adresse e-mail").fill(email)
        phone.get_by_label("Mot de passe").fill(PASSWORD)
        phone.get_by_role("button", name="Créer mon compte").click()
        expect(phone.get_by_role("heading", name="Vérifiez votre boîte mail")).to_be_visible()
        phone.get_by_role("link", name="Continuer").click()  # the claim does not wait for the confirmation
    else:
        phone.locator("main").get_by_role("link", name="Se connecter").click()
        phone.get_by_label("Adresse e-mail").fill(email)
        phone.get_by_label("Mot de passe").fill(PASSWORD)
        phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_role("heading", name="Ajouter le carnet à votre compte")).to_be_visible()
    phone.get_by_label("Date de naissance du titulaire du carnet").fill("2024-02-11")
    phone.get_by_label(re.compile("J’atteste être le titulaire")).check()
    phone.get_by_role("button", name="Ajouter le carnet").click()
    expect(phone.get_by_text("Il vous reste 4 essais")).to_be_visible()
    screenshot(phone, "phone-claim-wrong-date")
    assert axe(phone) == []
    phone.get_by_label("Date de naissance du titulaire du carnet").fill("2024-02-10")
    phone.get_by_label(re.compile("J’atteste être le titulaire")).check()
    phone.get_by_role("button", name="Ajouter le carnet").click()
    expect(phone.get_by_role("heading", name="Éloïse DURAND")).to_be_visible()
    phone.locator(".section-tabs").get_by_role("link", name="Doses").click()
    expect(phone.locator("#doses-list")).to_contain_text("Hexyon")
    screenshot(phone, "phone-carnet-owner")
    assert axe(phone) == []


def test_handover_by_email_through_a_real_smtp_server(live_server_factory, smtp, tablet, phone, doctor_carnet,
                                                      screenshot, axe):
    server = live_server_factory(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                                 MAIL_SUPPRESS_SEND=False)
    pro, carnet = doctor_carnet
    login(tablet, server, pro)
    tablet.goto(server.url + f"/carnets/{carnet.public_id}/partage")
    panel = tablet.locator("#partage")
    panel.get_by_label("Adresse e-mail du patient").fill("parent@exemple.fr")
    panel.get_by_role("button", name="Envoyer l’invitation").click()
    expect(panel.get_by_text("Invitation envoyée à parent@exemple.fr")).to_be_visible()
    expect(panel.get_by_text("En attente jusqu’au 1er avril 2026")).to_be_visible()
    screenshot(tablet, "tablet-share-panel")
    assert axe(tablet) == []

    with server.flask_app.app_context():
        assert deliver_due()["sent"] == 1
    message = smtp.messages[0]
    assert message["to"] == ["parent@exemple.fr"] and "Dr Claire Martin" in message["subject"]
    link = re.search(r"http://127\.0\.0\.1:\d+/i/\S+", message["text"]).group(0)
    claim_on_phone(phone, link, screenshot, axe)
    phone.get_by_role("link", name="Mes carnets").first.click()
    expect(phone.locator("main")).to_contain_text("Éloïse DURAND")
    screenshot(phone, "phone-mes-carnets-owned")

    tablet.goto(server.url + "/pro/")
    expect(tablet.locator("#patientele")).to_contain_text("Confié au patient")


def test_handover_by_qr_code(live_server, tablet, phone, doctor_carnet, create_patient, screenshot, axe):
    import zxingcpp
    from PIL import Image

    pro, carnet = doctor_carnet
    create_patient(email="parent@exemple.fr")
    login(tablet, live_server, pro)
    tablet.goto(live_server.url + f"/carnets/{carnet.public_id}/partage")
    tablet.get_by_role("button", name="QR code pour le patient").click()
    qr = tablet.locator("svg.qr")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 250  # scannable at arm's length on a tablet
    shown_link = tablet.locator("input[id^=lien-]").input_value()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert decoded and decoded[0].text == shown_link
    assert shown_link.startswith(live_server.url + "/i/")
    screenshot(tablet, "tablet-share-qr")
    assert axe(tablet) == []
    claim_on_phone(phone, shown_link, screenshot, axe, new_account=False)


def test_handover_by_copied_link(live_server, browser, playwright_instance, phone, doctor_carnet, create_patient,
                                 screenshot, axe):
    pro, carnet = doctor_carnet
    create_patient(email="parent@exemple.fr")
    options = dict(playwright_instance.devices["iPad (gen 7)"])
    options.pop("default_browser_type", None)
    context = browser.new_context(**options, locale="fr-FR", permissions=["clipboard-read", "clipboard-write"])
    tablet = context.new_page()
    try:
        login(tablet, live_server, pro)
        tablet.goto(live_server.url + f"/carnets/{carnet.public_id}/partage")
        tablet.get_by_role("button", name="Lien pour le patient").click()
        field = tablet.locator("input[id^=lien-]")
        expect(field).to_be_visible()
        tablet.get_by_role("button", name="Copier le lien", exact=True).click()
        expect(tablet.get_by_text("Lien copié")).to_be_visible()
        copied = tablet.evaluate("navigator.clipboard.readText()")
        assert copied == field.input_value()
        assert tablet.locator("svg.qr").count() == 0
    finally:
        context.close()
    claim_on_phone(phone, copied, screenshot, axe, new_account=False)
