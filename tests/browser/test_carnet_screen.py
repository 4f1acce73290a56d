"""The carnet screen at 390 × 844 (phone) and 820 × 1180 (tablet): first screen, sections, nothing stale, focus."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.models import InvitationChannel, InvitationTarget, Sex
from cvn.sharing import services as sharing
from tests.browser.test_carnets import login

BIRTH = date(2024, 2, 10)
SIZES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 820, "height": 1180}}
SECTIONS = ("Statut", "Doses", "Partage", "Historique")


def open_context(browser, size: str, javascript: bool = True):
    return browser.new_context(viewport=SIZES[size], device_scale_factor=2, is_mobile=True, has_touch=True,
                               locale="fr-FR", timezone_id="Europe/Paris", java_script_enabled=javascript)


@pytest.fixture
def world(create_professional, create_patient, create_carnet):
    """A two-year-old's carnet with the first doses (so some series are overdue), handed over to a parent."""
    pro = create_professional(first_name="Claire", last_name="Martin")
    carnet = create_carnet(pro, first_names="Léo", last_name="Durand", birth_date=BIRTH, sex=Sex.MALE)
    for product, on in (("Hexyon", date(2024, 4, 10)), ("Prevenar 20", date(2024, 4, 10)),
                        ("Hexyon", date(2024, 6, 12)), ("Prevenar 20", date(2024, 6, 12))):
        carnets.record_dose(pro, carnet, carnets.DoseInput(product, [], on, lot_number="AB12"))
    owner = create_patient(first_name="Paula", last_name="Durand")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    carnets.record_dose(owner, carnet, carnets.DoseInput("Bexsero", [], date(2024, 5, 2)))
    return {"pro": pro, "owner": owner, "carnet": carnet}


def in_first_screen(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


@pytest.mark.parametrize("size", ["phone", "tablet"])
@pytest.mark.parametrize("who, action", [("pro", "Enregistrer une dose"), ("owner", "Déclarer une dose")])
def test_first_screen_and_every_section(browser, live_server, world, screenshot, axe, size, who, action):
    context = open_context(browser, size)
    page = context.new_page()
    login(page, live_server, world[who])
    url = f"{live_server.url}/carnets/{world['carnet'].public_id}"
    page.goto(url)
    header = page.locator("#carnet-header")
    expect(header.get_by_role("heading", name="Léo DURAND")).to_be_visible()
    expect(header.locator(".born")).to_contain_text("Né le 10 février 2024")
    expect(header.locator("#status-line")).to_contain_text(re.compile(r"5 doses · .*en retard"))
    main = page.get_by_role("link", name=action)
    expect(main).to_be_visible()
    assert in_first_screen(page, header) and in_first_screen(page, main), f"{who} on {size}"
    page.screenshot(path=str(screenshot(page, f"{size}-carnet-{who}-statut").with_name(
        f"{size}-carnet-{who}-first-screen.png")))  # the first screen alone, as the user sees it
    assert axe(page) == []
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
    for name in SECTIONS[1:] + SECTIONS[:1]:
        page.locator(".section-tabs").get_by_role("link", name=name).click()
        expect(page.locator('.section-tabs a[aria-current="page"]')).to_have_text(name)
        slug = {"Statut": "", "Doses": "/doses", "Partage": "/partage", "Historique": "/historique"}[name]
        expect(page).to_have_url(url + slug)
        assert page.evaluate("window.__sameDocument === true"), "htmx swaps the section, no reload"
        screenshot(page, f"{size}-carnet-{who}-{name.lower()}")
        assert axe(page) == [], name
    page.go_back()  # Back returns to the previous section
    expect(page).to_have_url(url + "/historique")
    expect(page.locator('.section-tabs a[aria-current="page"]')).to_have_text("Historique")
    context.close()


def test_each_section_works_without_javascript(browser, live_server, world, screenshot):
    context = open_context(browser, "phone", javascript=False)
    page = context.new_page()
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(world["owner"].email)
    page.get_by_label("Mot de passe", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server.url}/carnets/{world['carnet'].public_id}")
    for name in SECTIONS[1:]:
        page.locator(".section-tabs").get_by_role("link", name=name).click()
        expect(page.locator('.section-tabs a[aria-current="page"]')).to_have_text(name)
        expect(page.locator("#carnet-header")).to_be_visible()
    screenshot(page, "phone-carnet-owner-historique-nojs")
    page.get_by_role("link", name="Déclarer une dose").click()
    page.get_by_label("Vaccin", exact=True).fill("Priorix")
    page.get_by_role("button", name="Déclarer la dose").click()
    expect(page.locator(".flashes")).to_contain_text("Dose déclarée")
    expect(page.locator("#doses-list")).to_contain_text("Priorix")
    context.close()


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_recording_a_dose_refreshes_header_and_status_without_reload(browser, live_server, world, screenshot,
                                                                     size):
    """ROR is overdue at two years; one dose today settles it until the second: the page says so at once."""
    context = open_context(browser, size)
    page = context.new_page()
    login(page, live_server, world["pro"])
    url = f"{live_server.url}/carnets/{world['carnet'].public_id}"
    page.goto(url)
    ror = page.locator(".status-row", has_text="Rougeole")
    expect(ror).to_contain_text("En retard")
    line = page.locator("#status-line")
    before = line.inner_text()
    overdue_before = int(re.search(r"(\d+) en retard", before).group(1))
    expect(page.locator("#carnet-header")).to_contain_text("1 dose déclarée à valider")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Enregistrer une dose").click()
    form = page.locator("form.dose-form")
    expect(form.get_by_label("Date de la vaccination")).to_have_value("2026-03-02")  # today by default
    form.get_by_label("Vaccin", exact=True).fill("Priorix")
    expect(form.locator(".coverage")).to_contain_text("Rougeole")
    screenshot(page, f"{size}-carnet-pro-nouvelle-dose")
    form.get_by_role("button", name="Enregistrer la dose").click()

    new_row = page.locator("#doses-list li.dose", has_text="Priorix")
    expect(new_row).to_be_visible()
    expect(new_row).to_be_focused()  # focus moves to the new row
    expect(page.locator(".section-tabs a[aria-current='page']")).to_have_text("Doses")
    expect(line).to_contain_text("6 doses")  # the header refreshed itself
    expect(line).to_contain_text(f"{overdue_before - 1} en retard")
    screenshot(page, f"{size}-carnet-pro-dose-recorded")

    page.locator(".section-tabs").get_by_role("link", name="Statut").click()
    expect(page.locator(".status-row", has_text="Rougeole")).not_to_contain_text("En retard")
    assert page.evaluate("window.__sameDocument === true")  # all of it without a reload
    context.close()


def test_the_status_section_refreshes_itself_on_carnet_changed(browser, live_server, world, app):
    context = open_context(browser, "tablet")
    page = context.new_page()
    login(page, live_server, world["pro"])
    page.goto(f"{live_server.url}/carnets/{world['carnet'].public_id}")
    ror = page.locator(".status-row", has_text="Rougeole")
    expect(ror).to_contain_text("En retard")
    page.evaluate("window.__sameDocument = true")
    carnets.record_dose(world["pro"], world["carnet"], carnets.DoseInput("Priorix", [], date(2026, 3, 1)))
    page.evaluate("document.body.dispatchEvent(new CustomEvent('carnet-changed'))")
    expect(page.locator(".status-row", has_text="Rougeole")).not_to_contain_text("En retard")
    expect(page.locator("#status-line")).to_contain_text("6 doses")
    assert page.evaluate("window.__sameDocument === true")
    context.close()


def test_focus_after_a_correction_and_after_a_declaration(browser, live_server, world):
    context = open_context(browser, "phone")
    page = context.new_page()
    login(page, live_server, world["owner"])
    page.goto(f"{live_server.url}/carnets/{world['carnet'].public_id}/doses")
    bexsero = page.locator("#doses-list li.dose", has_text="Bexsero")
    bexsero.get_by_role("link", name=re.compile("Corriger")).click()
    heading = page.get_by_role("heading", name=re.compile("Corriger la dose"))
    expect(heading).to_be_focused()
    page.locator("form.dose-form").get_by_role("button", name="Déclarer la dose").click()
    row = page.locator("#doses-list li.dose", has_text="Bexsero")
    expect(row).to_be_focused()
    context.close()


def test_ended_access_page_points_to_the_archive(browser, live_server, world, screenshot, axe):
    carnet = world["carnet"]
    access = archives.accesses(carnet)[0]
    archive = archives.end_access(world["owner"], carnet, access)
    for size in ("phone", "tablet"):
        context = open_context(browser, size)
        page = context.new_page()
        login(page, live_server, world["pro"])
        response = page.goto(f"{live_server.url}/carnets/{carnet.public_id}")
        assert response.status == 404
        box = page.locator("#acces-termine")
        expect(box).to_contain_text("Son titulaire a arrêté le partage avec vous le 2 mars 2026")
        expect(page.locator(".main-nav")).to_contain_text("Carnets archivés")
        screenshot(page, f"{size}-carnet-acces-termine")
        assert axe(page) == []
        box.get_by_role("link", name="Ouvrir la copie archivée").click()
        expect(page).to_have_url(f"{live_server.url}/pro/archives/{archive.id}")
        expect(page.locator("main h1")).to_have_text("Léo DURAND")
        context.close()
