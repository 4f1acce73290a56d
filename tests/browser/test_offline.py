"""The installed app: updates reach it, owners read their carnets offline, nothing leaks between accounts."""
from __future__ import annotations

import shutil
import threading
import time
from datetime import date

import pytest
from playwright.sync_api import expect

from cvn.carnets import services as carnets
from cvn.config import ROOT
from cvn.models import InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from tests.browser.conftest import log_in_ui, log_out_ui

BIRTH = date(2024, 2, 10)
#: The clock of the tests (tests/conftest.py START) in Paris time, as the offline line says it.
STAMP = "Hors ligne — dernière mise à jour le"


class Server:
    """The app served on a fixed loopback port, so a restart keeps the origin (and the worker)."""

    def __init__(self, app, port: int = 0):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        app.config["CVN_BASE_URL"] = self.url
        self.flask_app = app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def controlled(page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.evaluate("async () => await navigator.serviceWorker.ready")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("() => !!navigator.serviceWorker.controller")


def cache_names(page) -> list[str]:
    return page.evaluate("async () => await caches.keys()")


def wait_caches(page, predicate, timeout: float = 10.0) -> list[str]:
    """Wait until the page's cache names satisfy ``predicate`` (the worker works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        names = cache_names(page)
        if predicate(names):
            return names
        assert time.monotonic() < deadline, names
        page.wait_for_timeout(100)


def page_caches(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("cvn-pages-")]


@pytest.fixture
def owned(create_professional, create_patient, create_carnet):
    """A patient owning a carnet with two doses, and a professional who follows it."""
    pro = create_professional(first_name="Claire", last_name="Martin")
    carnet = create_carnet(pro, first_names="Éloïse", last_name="Durand", birth_date=BIRTH)
    carnets.record_dose(pro, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10), lot_number="AB12"))
    owner = create_patient(first_name="Paula", last_name="Durand")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    return {"pro": pro, "owner": owner, "carnet": carnet}


def test_a_changed_css_file_reaches_the_installed_app_after_a_restart(make_app, browser, tmp_path):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    first = Server(make_app(CVN_STATIC_FOLDER=str(static)))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(first.url + "/connexion")
        controlled(page)
        old_css = page.locator("link[rel=stylesheet]").first.get_attribute("href")
        old_shell = [n for n in cache_names(page) if n.startswith("cvn-shell-")]
        assert old_shell == ["cvn-shell-" + first.flask_app.config["CVN_STATIC_VERSION"]]
        assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--probe')") == ""

        css = static / "css" / "cvn.css"
        css.write_text(css.read_text(encoding="utf-8") + "\n:root { --probe: changed; }\n", encoding="utf-8")
        first.stop()
        second = Server(make_app(CVN_STATIC_FOLDER=str(static)), port=first.port)
        try:
            page.reload()
            new_css = page.locator("link[rel=stylesheet]").first.get_attribute("href")
            assert new_css != old_css and new_css.startswith("/static/css/cvn.css?v=")
            probe = "getComputedStyle(document.documentElement).getPropertyValue('--probe').trim()"
            assert page.evaluate(probe) == "changed"
            # The new worker takes over and deletes the old version's cache.
            new_shell = "cvn-shell-" + second.flask_app.config["CVN_STATIC_VERSION"]
            wait_caches(page, lambda names: [n for n in names if n.startswith("cvn-shell-")] == [new_shell],
                        timeout=30)
            # The installed app now starts with the new file even offline.
            context.set_offline(True)
            page.reload()
            assert page.evaluate(probe) == "changed"
        finally:
            context.set_offline(False)
            second.stop()
    finally:
        context.close()


def _open(page, url: str):
    response = page.goto(url)
    assert response.status == 200, url
    return response


def test_an_owner_reads_an_opened_carnet_offline_with_its_last_update(live_server, phone, owned):
    page, carnet = phone, owned["carnet"]
    log_in_ui(page, live_server, owned["owner"])
    controlled(page)
    _open(page, live_server.url + "/mes-carnets/")
    response = _open(page, live_server.url + f"/carnets/{carnet.public_id}")
    assert response.headers["x-cvn-offline"] == "1"
    expect(page.locator("[data-offline-note]")).to_be_hidden()

    page.context.set_offline(True)
    page.reload()
    note = page.locator("[data-offline-note]")
    expect(note).to_be_visible()
    # tests/conftest.py's clock: Monday 2 March 2026, 09:00 in Paris.
    expect(note).to_have_text(f"{STAMP} 2 mars 2026 à 09 h 00")
    expect(page.locator("main h1").first).to_contain_text("Éloïse")
    assert page.locator("form[data-logout]").count() == 1  # still the logged-in header

    page.goto(live_server.url + "/mes-carnets/")
    expect(page.locator("main").get_by_role("link", name="Éloïse Durand")).to_be_visible()
    expect(page.locator("[data-offline-note]")).to_be_visible()

    # A page never opened: the offline page, with a retry button that works once back online.
    page.goto(live_server.url + "/compte")
    expect(page.get_by_role("heading", name="Pas de connexion")).to_be_visible()
    page.context.set_offline(False)
    page.get_by_role("link", name="Réessayer").click()
    expect(page.locator("main h1").first).not_to_have_text("Pas de connexion")


def test_after_log_out_no_carnet_is_reachable_offline(live_server, phone, owned):
    page, carnet = phone, owned["carnet"]
    log_in_ui(page, live_server, owned["owner"])
    controlled(page)
    _open(page, live_server.url + f"/carnets/{carnet.public_id}")
    wait_caches(page, page_caches)
    log_out_ui(page)
    wait_caches(page, lambda names: not page_caches(names))
    page.context.set_offline(True)
    for path in (f"/carnets/{carnet.public_id}", "/mes-carnets/", "/"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", name="Pas de connexion")).to_be_visible()
        assert "Éloïse" not in page.content()


def test_another_account_on_the_same_browser_never_sees_the_first_ones_pages(
        live_server, phone, owned, create_patient):
    page, carnet = phone, owned["carnet"]
    log_in_ui(page, live_server, owned["owner"])
    controlled(page)
    _open(page, live_server.url + f"/carnets/{carnet.public_id}")
    first = page_caches(wait_caches(page, page_caches))
    # The session ends without the log-out button (cookies gone), then someone else logs in.
    page.context.clear_cookies()
    log_in_ui(page, live_server, create_patient(first_name="Bruno", last_name="Autre"))
    wait_caches(page, lambda names: not set(first) & set(names))
    page.context.set_offline(True)
    page.goto(live_server.url + f"/carnets/{carnet.public_id}")
    expect(page.get_by_role("heading", name="Pas de connexion")).to_be_visible()
    assert "Éloïse" not in page.content()


def test_professionals_pages_are_never_kept(live_server, tablet, owned):
    page, carnet = tablet, owned["carnet"]
    log_in_ui(page, live_server, owned["pro"])
    controlled(page)
    for path in ("/pro/", f"/carnets/{carnet.public_id}"):
        response = _open(page, live_server.url + path)
        assert response.headers["cache-control"] == "no-store"
        assert "x-cvn-offline" not in response.headers
    page.wait_for_timeout(300)
    assert not page_caches(cache_names(page))
    page.context.set_offline(True)
    page.goto(live_server.url + f"/carnets/{carnet.public_id}")
    expect(page.get_by_role("heading", name="Pas de connexion")).to_be_visible()


def test_an_offline_form_keeps_its_input_and_says_nothing_was_sent(live_server, phone):
    page = phone
    page.goto(live_server.url + "/connexion")
    controlled(page)
    page.get_by_label("Adresse e-mail").fill("paula@exemple.fr")
    page.context.set_offline(True)
    button = page.get_by_role("button", name="Se connecter", exact=True)
    button.click()
    message = page.locator("form [data-offline-message]")
    expect(message).to_have_text("Pas de connexion : rien n’a été envoyé")
    # Next to the button, and what was typed is still there.
    assert message.evaluate("(el) => el.previousElementSibling.textContent.trim()") == "Se connecter"
    expect(page.get_by_label("Adresse e-mail")).to_have_value("paula@exemple.fr")


def test_a_failed_htmx_request_says_nothing_was_sent(live_server, browser):
    # The network "works" but the request fails (flaky connection): htmx's sendError.
    context = browser.new_context(service_workers="block")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/connexion")
        page.route("**/connexion", lambda route: route.abort() if route.request.method == "POST"
                   else route.continue_())
        page.get_by_label("Adresse e-mail").fill("paula@exemple.fr")
        page.get_by_label("Mot de passe").fill("un mot de passe")
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page.locator("form [data-offline-message]")).to_have_text("Pas de connexion : rien n’a été envoyé")
        expect(page.get_by_label("Adresse e-mail")).to_have_value("paula@exemple.fr")
    finally:
        context.close()



def test_the_page_says_at_once_when_the_network_drops_and_when_it_returns(live_server, phone, owned, screenshot,
                                                                           axe):
    page, carnet = phone, owned["carnet"]
    log_in_ui(page, live_server, owned["owner"])
    _open(page, live_server.url + f"/carnets/{carnet.public_id}")
    note = page.locator("#network-note")
    expect(note).to_have_count(0)
    page.context.set_offline(True)
    expect(note).to_be_visible()
    expect(note).to_have_text("Pas de connexion : cette page reste lisible ; pour enregistrer ou envoyer, "
                              "attendez le retour du réseau.")
    # At the top of the page, announced to screen readers.
    assert note.get_attribute("role") == "status"
    assert note.evaluate("(el) => el.parentElement.id") == "contenu"
    expect(page.locator("main h1").first).to_contain_text("Éloïse")
    screenshot(page, "phone-network-dropped")
    assert axe(page) == []
    page.context.set_offline(False)
    expect(note).to_have_count(0)
