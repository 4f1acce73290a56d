"""Playwright fixtures: a Chromium, phone and tablet pages, screenshots, axe-core.

Chromium: ``CVN_CHROMIUM`` if set, else Debian's ``/usr/bin/chromium``, else
Playwright's own build (``make test`` installs it only when no other exists).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
#: Flags for a headless Chromium run as root on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """Return the Chromium to drive, or None for Playwright's own."""
    explicit = os.environ.get("CVN_CHROMIUM")
    if explicit:
        return explicit
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=chromium_path(), headless=True,
                                                  args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _context(playwright_instance, browser, device: str):
    options = dict(playwright_instance.devices[device])
    options.pop("default_browser_type", None)
    context = browser.new_context(**options, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def phone(playwright_instance, browser):
    """A page in a Pixel 7 context (the patient's device)."""
    context = _context(playwright_instance, browser, "Pixel 7")
    yield context.new_page()
    context.close()


@pytest.fixture
def tablet(playwright_instance, browser):
    """A page in an iPad context (the professional's device)."""
    context = _context(playwright_instance, browser, "iPad (gen 7)")
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page PNG under tests/screenshots/ (look at them)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture
def axe():
    """Run axe-core in the page; return the serious and critical violations."""

    def check(page) -> list[dict]:
        # The page's CSP forbids injected scripts: evaluate the library's source instead.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;window.__axe_loaded = true;")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in result["violations"] if v["impact"] in ("serious", "critical")]

    return check


def type_app_code(page, app, email: str) -> None:
    """On the code step, type the code the account's authenticator app shows (``TOTP_SECRET``)."""
    from playwright.sync_api import expect

    from tests.conftest import totp_code

    expect(page.get_by_role("heading", name="Deuxième étape")).to_be_visible()
    page.get_by_label("Code à 6 chiffres").fill(totp_code(app, email))
    page.get_by_role("button", name="Valider").click()


def log_in_ui(page, live_server, user, password: str | None = None, remember: bool = False) -> None:
    """Log in through the form; type the app's code when the code step comes."""
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    page.goto(live_server.url + "/connexion")
    fill_login(page, user.email, password or PASSWORD, remember)
    code_step = page.get_by_role("heading", name="Deuxième étape")
    page.wait_for_selector("h1:has-text('Deuxième étape'), form[data-logout]", state="attached")
    if code_step.is_visible():
        type_app_code(page, live_server.flask_app, user.email)
    expect(page.locator("form[data-logout]")).to_have_count(1)


def open_menu(page) -> None:
    """Open the header's menu when it is a button (phone width); on wider screens the links show."""
    button = page.locator(".nav-menu > summary")
    if button.is_visible() and page.locator(".nav-menu[open]").count() == 0:
        button.click()


def log_out_ui(page) -> None:
    """Log out with the header's button (inside the menu on a phone)."""
    from playwright.sync_api import expect

    open_menu(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.locator("form[data-logout]")).to_have_count(0)


def fill_login(page, email: str, password: str, remember: bool = False) -> None:
    """Fill and send the log-in form already on screen."""
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    if remember:
        page.get_by_label("Rester connecté sur cet appareil").check()
    page.get_by_role("button", name="Se connecter", exact=True).click()
