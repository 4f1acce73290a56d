"""Issue 16 in a browser: a carnet the parent opens, shares and gets validated; the certificate printed to PDF;
FHIR import on a phone."""
import io
import json
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import type_app_code
from tests.browser.test_carnets import login
from tests.browser.test_owner_story import new_tablet
from tests.conftest import PASSWORD
from tests.test_fhir_export import rich_carnet


def test_a_parent_opens_a_carnet_shares_it_and_a_professional_validates_it(
        live_server, browser, playwright_instance, phone, create_patient, create_professional, screenshot, axe):
    parent, pro = create_patient(first_name="Marc"), create_professional(first_name="Anne", last_name="Alpha")
    login(phone, live_server, parent)
    phone.get_by_role("link", name="Créer un carnet").click()
    expect(phone.get_by_role("heading", name="Créer un carnet")).to_be_visible()
    phone.get_by_label(re.compile("celui de mon enfant")).check()
    phone.get_by_label("Nom", exact=True).fill("Durand")
    phone.get_by_label("Prénom(s)").fill("Léo")
    phone.get_by_label("Date de naissance").fill("2024-02-10")
    phone.get_by_label("Masculin").check()
    screenshot(phone, "phone-patient-new-carnet")
    assert axe(phone) == []
    phone.get_by_role("button", name="Créer le carnet").click()
    expect(phone.get_by_role("heading", name="Léo DURAND")).to_be_visible()
    phone.get_by_role("link", name="Déclarer une dose").click()
    phone.get_by_label("Vaccin", exact=True).fill("Hexyon")
    phone.get_by_label("Date de la vaccination").fill("2024-04-10")
    phone.get_by_role("button", name="Déclarer la dose").click()
    expect(phone.locator("#doses-list li.dose-declared")).to_contain_text("Hexyon")
    expect(phone.get_by_role("link", name="Exporter (FHIR)")).to_be_visible()
    expect(phone.get_by_role("link", name="Attestation de vaccination")).to_be_visible()
    screenshot(phone, "phone-patient-own-carnet")
    assert axe(phone) == []
    phone.locator(".section-tabs").get_by_role("link", name="Partage").click()
    phone.locator("#partage-pro").get_by_role("button", name="Lien pour un professionnel").click()
    link = phone.locator("#partage-pro input[id^=lien-]").input_value()

    context = new_tablet(browser, playwright_instance)
    tablet = context.new_page()
    tablet.goto(link)
    tablet.locator("main").get_by_role("link", name="Se connecter").click()
    tablet.get_by_label("Adresse e-mail").fill(pro.email)
    tablet.get_by_label("Mot de passe").fill(PASSWORD)
    tablet.get_by_role("button", name="Se connecter", exact=True).click()
    type_app_code(tablet, live_server.flask_app, pro.email)
    tablet.get_by_label("Date de naissance du titulaire du carnet").fill("2024-02-10")
    tablet.get_by_label(re.compile("J’atteste être un professionnel")).check()
    tablet.get_by_role("button", name="Ajouter le carnet").click()
    expect(tablet.get_by_role("heading", name="Léo DURAND")).to_be_visible()
    tablet.get_by_role("link", name="Patientèle", exact=True).click()
    expect(tablet.locator("main")).to_contain_text("Léo DURAND")
    tablet.get_by_role("link", name="À valider", exact=True).click()
    tablet.get_by_role("button", name=re.compile("^Valider")).click()
    expect(tablet.locator("li.dose")).to_have_count(0)  # a validated dose leaves "À valider"
    expect(tablet.locator("#queue-count")).to_have_text("")
    context.close()
    phone.reload()
    phone.locator(".section-tabs").get_by_role("link", name="Doses").click()
    expect(phone.locator("#doses-list")).to_contain_text("Dr Anne Alpha")
    expect(phone.locator("#doses-list li.dose-declared")).to_have_count(0)


def test_the_certificate_prints_to_pdf_with_every_validated_dose_and_its_qr_verifies(
        live_server, browser, playwright_instance, phone, create_patient, create_professional, create_carnet,
        screenshot, axe):
    pro, owner = create_professional(first_name="Claire", last_name="Martin"), create_patient()
    carnet = rich_carnet(pro, owner, create_carnet)
    login(phone, live_server, owner)
    phone.goto(f"{live_server.url}/carnets/{carnet.public_id}")
    phone.get_by_role("link", name="Attestation de vaccination").click()
    expect(phone.get_by_role("heading", name="Attestation de vaccination")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # On a phone each dose is a card: the table region never scrolls sideways.
    assert phone.evaluate("(() => { const r = document.querySelector('.table-scroll');"
                          " return r.scrollWidth <= r.clientWidth; })()")
    expect(phone.locator("tr.dose-row td[data-label='Lot']").first).to_be_visible()
    screenshot(phone, "phone-certificate")
    assert axe(phone) == []
    # The QR code, read off the screen as a phone camera would, leads to the verification page.
    png = phone.locator(".qr-box svg").screenshot()
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert code.text == phone.locator("a.verify-link").get_attribute("href")
    context = new_tablet(browser, playwright_instance)
    checker = context.new_page()
    checker.goto(code.text)
    expect(checker.locator("#verdict")).to_have_text("✓ valide")
    expect(checker.locator(".initials")).to_have_text("É. D.")
    screenshot(checker, "tablet-certificate-verified")
    assert axe(checker) == []
    context.close()
    # Printed to PDF (A4) by Chromium: every validated dose is there, in black on white.
    phone.emulate_media(media="print")
    pdf = phone.pdf(format="A4", print_background=False)
    printed = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Attestation de vaccination" in printed and "Éloïse DURAND" in printed
    for day in ("10/04/2024", "10/06/2024", "11/02/2025"):
        assert day in printed
    assert printed.count("Dr Claire Martin") == 3
    for disease in ("Diphtérie", "Tétanos", "Coqueluche", "Poliomyélite", "Hépatite B", "Rougeole", "Oreillons",
                    "Rubéole"):
        assert disease in printed
    assert "HX123" in printed and "HX456" in printed
    assert "Priorix" in printed and "déclarée" in printed
    assert "Prevenar" not in printed
    assert "Imprimer ou enregistrer en PDF" not in printed  # the screen-only bar is not printed
    assert len(PdfReader(io.BytesIO(pdf)).pages) <= 2


def test_an_owner_imports_a_fhir_file_on_a_phone(live_server, phone, create_patient, create_professional,
                                                  create_carnet, screenshot, axe, tmp_path):
    pro, owner = create_professional(), create_patient()
    source = rich_carnet(pro, owner, create_carnet)
    login(phone, live_server, owner)
    with phone.expect_download() as download:
        phone.goto(f"{live_server.url}/carnets/{source.public_id}")
        phone.get_by_role("link", name="Exporter (FHIR)").click()
    path = tmp_path / "export.fhir.json"
    download.value.save_as(path)
    assert json.loads(path.read_text())["resourceType"] == "Bundle"
    phone.goto(f"{live_server.url}/mes-carnets/nouveau")
    phone.get_by_label("Nom", exact=True).fill("Durand")
    phone.get_by_label("Prénom(s)").fill("Éloïse")
    phone.get_by_label("Date de naissance").fill("2024-02-10")
    phone.get_by_label("Féminin").check()
    phone.get_by_role("button", name="Créer le carnet").click()
    expect(phone.get_by_text("Vous avez déjà un carnet à ce nom")).to_be_visible()  # the exported one
    phone.get_by_label("Je confirme : c’est une autre personne").check()
    phone.get_by_role("button", name="Créer le carnet").click()
    phone.get_by_role("link", name="Importer (FHIR)").click()
    phone.get_by_label("Fichier FHIR (.json)").set_input_files(str(path))
    phone.get_by_role("button", name="Voir l’aperçu").click()
    expect(phone.get_by_role("heading", name="4 doses seront ajoutées")).to_be_visible()
    assert "?" not in phone.url  # nothing of the file in the address
    screenshot(phone, "phone-import-preview")
    assert axe(phone) == []
    phone.get_by_role("button", name="Importer 4 doses").click()
    expect(phone.locator("#doses-list li.dose-declared")).to_have_count(4)



def test_leaving_screens_are_accessible(live_server, tablet, phone, create_patient, screenshot, axe):
    patient = create_patient()
    login(tablet, live_server, patient)
    tablet.get_by_role("link", name="Mon compte").click()
    expect(tablet.get_by_role("heading", name="Mes données")).to_be_visible()
    screenshot(tablet, "tablet-account-my-data")
    assert axe(tablet) == []
    tablet.get_by_role("link", name="Supprimer mon compte").click()
    tablet.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(tablet.get_by_text("Cochez la case pour confirmer la suppression.")).to_be_visible()
    screenshot(tablet, "tablet-delete-account-refused")
    assert axe(tablet) == []
    phone.goto(live_server.url + "/inscription/patient")
    phone.locator("footer").get_by_role("link", name="Confidentialité").click()
    expect(phone.get_by_role("heading", name="Confidentialité et vos droits")).to_be_visible()
    screenshot(phone, "phone-privacy")
    assert axe(phone) == []
