"""PWA shell: Chromium's own installability check, and screens at both sizes."""
import pytest

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path


def test_chromium_finds_the_app_installable(live_server, playwright_instance, tmp_path):
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.evaluate("async () => await navigator.serviceWorker.ready")
        page.wait_for_timeout(1000)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getAppManifest")["errors"] == []
        assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
        scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
        assert scope == live_server.url + "/"
    finally:
        context.close()


def test_offline_page_is_served_by_the_service_worker(live_server, playwright_instance, tmp_path):
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.evaluate("async () => await navigator.serviceWorker.ready")
        page.reload()  # now controlled by the worker
        context.set_offline(True)
        # The offline switch reaches the service worker's own fetches a moment later than the page's
        # (seen once in a full run: the worker still fetched the live page): let it settle, try once more.
        page.wait_for_timeout(500)
        page.goto(live_server.url + "/connexion")
        if "Pas de connexion" not in page.content():
            page.wait_for_timeout(1000)
            page.goto(live_server.url + "/connexion")
        assert "Pas de connexion" in page.content()
    finally:
        context.close()


@pytest.mark.parametrize("device", ["phone", "tablet"])
def test_public_screens(live_server, request, device, screenshot, axe):
    page = request.getfixturevalue(device)
    for path, name in [("/", "home"), ("/connexion", "login"), ("/inscription", "signup"),
                       ("/inscription/patient", "signup-patient"), ("/mot-de-passe/oublie", "forgot"),
                       ("/nulle-part", "404")]:
        page.goto(live_server.url + path)
        screenshot(page, f"{device}-{name}")
        assert axe(page) == [], path
        # Nothing wider than the screen (mobile first).
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
