"""The owner's whole story: phone for the owner, tablets for professionals A and B."""
import re
from datetime import date

from playwright.sync_api import expect

from tests.browser.conftest import type_app_code

from cvn.carnets.services import DoseInput, record_dose
from cvn.models import InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from tests.browser.test_carnets import login

BIRTH = date(2024, 2, 10)


def new_tablet(browser, playwright_instance):
    options = dict(playwright_instance.devices["iPad (gen 7)"])
    options.pop("default_browser_type", None)
    return browser.new_context(**options, locale="fr-FR", permissions=["clipboard-read", "clipboard-write"])


def test_owner_story(live_server, browser, playwright_instance, phone, tablet, create_professional,
                     create_patient, create_carnet, screenshot, axe):
    base = live_server.url
    pro_a = create_professional(first_name="Anne", last_name="Alpha")
    pro_b = create_professional(first_name="Bruno", last_name="Bravo", profession="pharmacien")
    carnet = create_carnet(pro_a, birth_date=BIRTH)
    record_dose(pro_a, carnet, DoseInput("Hexyon", [], date(2024, 4, 10)))
    owner = create_patient(first_name="Paula", email="paula@exemple.fr")
    sharing.claim(sharing.create_invitation(pro_a, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    page_url = f"{base}/carnets/{carnet.public_id}"

    # 1. The owner declares a dose on the phone.
    login(phone, live_server, owner)
    phone.goto(page_url)
    phone.locator(".main-action").get_by_role("link", name="Déclarer une dose").click()
    form = phone.locator("section.add-dose")
    form.get_by_label("Vaccin", exact=True).fill("Priorix")
    form.get_by_label("Date de la vaccination").fill("2025-02-12")
    form.get_by_role("button", name="Déclarer la dose").click()
    expect(phone.get_by_text("Dose déclarée : elle sera validée")).to_be_visible()
    expect(phone.locator("#doses-list li.dose-declared")).to_contain_text("Priorix")
    screenshot(phone, "phone-owner-declared")
    assert axe(phone) == []

    # 2. Professional A validates it from the queue.
    login(tablet, live_server, pro_a)
    tablet.get_by_role("link", name="À valider").click()
    expect(tablet.get_by_role("heading", name="Doses à valider")).to_be_visible()
    screenshot(tablet, "tablet-validation-queue")
    assert axe(tablet) == []
    tablet.get_by_role("button", name=re.compile("^Valider")).click()
    expect(tablet.locator("li.dose")).to_have_count(0)  # a validated dose leaves "À valider"
    expect(tablet.locator("#queue-count")).to_have_text("")
    phone.reload()
    expect(phone.locator("#doses-list")).to_contain_text("Dr Anne Alpha")
    expect(phone.locator("#doses-list li.dose-declared")).to_have_count(0)

    # 3. The owner shares with professional B by link.
    phone.locator(".section-tabs").get_by_role("link", name="Partage").click()
    panel = phone.locator("#partage-pro")
    panel.get_by_role("button", name="Lien pour un professionnel").click()
    link = phone.locator("#partage-pro input[id^=lien-]").input_value()
    assert "/i/" in link
    screenshot(phone, "phone-owner-share-pro")
    assert axe(phone) == []

    # 4. B opens it on a tablet, logs in, types the birth date and attests.
    b_context = new_tablet(browser, playwright_instance)
    b = b_context.new_page()
    b.goto(link)
    expect(b.get_by_role("heading", name="Un carnet de vaccination est partagé avec vous")).to_be_visible()
    b.locator("main").get_by_role("link", name="Se connecter").click()
    b.get_by_label("Adresse e-mail").fill(pro_b.email)
    b.get_by_label("Mot de passe").fill("correct horse battery")
    b.get_by_role("button", name="Se connecter", exact=True).click()
    type_app_code(b, live_server.flask_app, pro_b.email)
    b.get_by_label("Date de naissance du titulaire du carnet").fill("2024-02-10")
    b.get_by_label(re.compile("J’atteste être un professionnel")).check()
    b.get_by_role("button", name="Ajouter le carnet").click()
    expect(b.get_by_role("heading", name="Éloïse DURAND")).to_be_visible()

    # 5. The owner stops A's access, after a confirmation.
    phone.reload()
    professionals = phone.locator("#professionnels")
    expect(professionals).to_contain_text("Dr Anne Alpha")
    expect(professionals).to_contain_text("Bruno Bravo")
    professionals.get_by_role("link", name=re.compile("Arrêter le partage avec Dr Anne Alpha")).click()
    expect(phone.get_by_role("heading", name=re.compile("Arrêter le partage avec Dr Anne Alpha"))).to_be_visible()
    screenshot(phone, "phone-owner-stop-confirm")
    phone.get_by_role("button", name="Arrêter le partage").click()
    expect(phone.get_by_text("Partage arrêté")).to_be_visible()

    # 6. A no longer sees the live carnet but has the archive, frozen.
    tablet.goto(page_url)
    expect(tablet.get_by_role("heading", name="Vous n’avez plus accès à ce carnet")).to_be_visible()
    tablet.get_by_role("link", name="Carnets archivés").first.click()
    tablet.get_by_role("link", name="Éloïse DURAND").click()
    expect(tablet.get_by_text("Carnet archivé — figé le")).to_be_visible()
    expect(tablet.get_by_text("Intégrité vérifiée")).to_be_visible()
    archive_url = tablet.url
    doses_before = tablet.locator("li.dose").all_inner_texts()
    assert len(doses_before) == 2
    screenshot(tablet, "tablet-archive")
    assert axe(tablet) == []

    # 7. The owner adds a dose: A's archive is unchanged, B sees it.
    phone.locator(".main-action").get_by_role("link", name="Déclarer une dose").click()
    form = phone.locator("section.add-dose")
    form.get_by_label("Vaccin", exact=True).fill("Bexsero")
    form.get_by_label("Date de la vaccination").fill("2024-05-10")
    form.get_by_role("button", name="Déclarer la dose").click()
    expect(phone.locator("#doses-list")).to_contain_text("Bexsero")
    tablet.goto(archive_url)
    assert tablet.locator("li.dose").all_inner_texts() == doses_before
    b.goto(page_url + "/doses")
    expect(b.locator("#doses-list")).to_contain_text("Bexsero")
    expect(b.get_by_text("1 dose déclarée par le patient attend votre validation.")).to_be_visible()
    screenshot(b, "tablet-pro-b-carnet")
    b_context.close()
