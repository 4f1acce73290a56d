"""The professional's carnet work on a tablet: open, record, search, correct."""
import re

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def login(page, live_server, user):
    from tests.browser.conftest import log_in_ui

    log_in_ui(page, live_server, user, PASSWORD)


def add_dose(page, product="", date="", diseases=(), lot=""):
    """Open the dose form with the main action (under the header) and record a dose."""
    form = page.locator("section.add-dose form")
    if not form.is_visible():
        page.locator(".main-action").get_by_role("link", name="Enregistrer une dose").click()
    form.get_by_label("Vaccin", exact=True).fill(product)
    if diseases:
        form.locator("details.diseases-picker summary").click()
        for label in diseases:
            form.get_by_label(label, exact=True).check()
    form.get_by_label("Date de la vaccination").fill(date)
    if lot:
        form.locator("details.more-details summary").click()  # lot, site, route: under "Plus de détails"
        form.get_by_label("Numéro de lot").fill(lot)
    form.get_by_role("button", name="Enregistrer la dose").click()


def test_professional_opens_a_carnet_records_finds_and_corrects(live_server, tablet, create_professional,
                                                                 screenshot, axe):
    pro = create_professional(first_name="Claire", last_name="Martin")
    page = tablet
    login(page, live_server, pro)
    expect(page.get_by_role("heading", name="Ma patientèle")).to_be_visible()
    page.get_by_role("link", name="Nouveau carnet").click()
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Prénom(s)").fill("Éloïse")
    page.get_by_label("Date de naissance").fill("2024-02-10")
    page.get_by_label("Féminin").check()
    screenshot(page, "tablet-carnet-new")
    assert axe(page) == []
    page.get_by_role("button", name="Ouvrir le carnet").click()
    expect(page.get_by_role("heading", name="Éloïse DURAND")).to_be_visible()

    # 1. A catalogue product, with the coverage hint as you type.
    page.locator(".main-action").get_by_role("link", name="Enregistrer une dose").click()
    page.locator("section.add-dose").get_by_label("Vaccin", exact=True).fill("Hexyon")
    expect(page.locator(".coverage")).to_contain_text("Coqueluche")
    add_dose(page, "Hexyon", "2024-04-10", lot="HX123")
    expect(page.get_by_text("Dose enregistrée.")).to_be_visible()
    expect(page.locator("#doses-list li.dose")).to_have_count(1)
    # 2. Diseases only (old paper carnet).
    add_dose(page, "", "2025-02-12", diseases=["Rougeole", "Oreillons", "Rubéole"])
    expect(page.locator("#doses-list li.dose")).to_have_count(2)
    # 3. A free-text product with its diseases; first forgetting them: French error, nothing lost.
    add_dose(page, "Vivotif", "2025-06-01")
    expect(page.get_by_text("n’est pas dans le catalogue")).to_be_visible()
    expect(page.locator("section.add-dose").get_by_label("Vaccin", exact=True)).to_have_value("Vivotif")
    page.locator("section.add-dose").get_by_label("Typhoïde").check()
    page.locator("section.add-dose").get_by_role("button", name="Enregistrer la dose").click()
    expect(page.locator("#doses-list li.dose")).to_have_count(3)
    expect(page.locator("#doses-list")).to_contain_text("Vivotif")
    screenshot(page, "tablet-carnet-doses")
    assert axe(page) == []

    page.get_by_role("link", name="Par maladie").click()
    expect(page.get_by_role("heading", name=re.compile("^Rougeole"))).to_be_visible()
    expect(page).to_have_url(re.compile("vue=maladies"))
    screenshot(page, "tablet-carnet-by-disease")
    page.get_by_role("link", name="Par date").click()

    # Find it again with an accent-less search, as you type.
    page.get_by_role("link", name="Patientèle").first.click()
    # A boosted navigation: wait until htmx has wired the new search field.
    page.wait_for_function("() => { const q = document.getElementById('q'); return q && q['htmx-internal-data']; }")
    page.get_by_label("Nom ou prénom").press_sequentially("eloise", delay=30)
    expect(page.locator("#patientele")).to_contain_text("Éloïse DURAND")
    expect(page).to_have_url(re.compile(r"q=eloise"))
    screenshot(page, "tablet-patientele")
    assert axe(page) == []
    page.get_by_role("link", name="Éloïse DURAND").click()
    page.locator(".section-tabs").get_by_role("link", name="Doses").click()

    # Correct the Hexyon dose inline and see the history.
    hexyon = page.locator("#doses-list li.dose", has_text="Hexyon")
    hexyon.get_by_role("link", name=re.compile("^Corriger")).click()
    editing = page.locator("li.dose.editing")
    expect(editing).to_be_visible()
    editing.get_by_label("Numéro de lot").fill("HX124")
    editing.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.locator("#doses-list")).to_contain_text("HX124")
    page.locator(".section-tabs").get_by_role("link", name="Historique").click()
    history = page.locator("#historique")
    expect(history).to_contain_text("a corrigé")
    expect(history).to_contain_text("HX123")
    expect(history).to_contain_text("HX124")
    screenshot(page, "tablet-carnet-history")


def test_carnet_on_a_phone_without_javascript_reading(live_server, browser, playwright_instance,
                                                      create_professional, create_carnet, screenshot, axe):
    from datetime import date

    from cvn.carnets.services import DoseInput, record_dose

    pro = create_professional()
    carnet = create_carnet(pro)
    record_dose(pro, carnet, DoseInput("Priorix", [], date(2025, 2, 10), lot_number="P1"))
    options = dict(playwright_instance.devices["Pixel 7"])
    options.pop("default_browser_type", None)
    context = browser.new_context(**options, java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        login(page, live_server, pro)
        page.goto(live_server.url + f"/carnets/{carnet.public_id}")
        page.locator(".section-tabs").get_by_role("link", name="Doses").click()
        expect(page.locator("#doses-list")).to_contain_text("Priorix")
        page.get_by_role("link", name="Par maladie").click()
        expect(page.get_by_role("heading", name=re.compile("^Rubéole"))).to_be_visible()
        page.goto(live_server.url + "/pro/?q=DURAND")
        expect(page.locator("#patientele")).to_contain_text("Éloïse DURAND")
        screenshot(page, "phone-patientele-nojs")
    finally:
        context.close()
