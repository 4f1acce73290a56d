"""Accessibility beyond the screens test: every screen without JavaScript, and focus after htmx swaps."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from cvn.extensions import db
from cvn.models import Dose
from tests.browser.conftest import SCREENSHOTS, log_out_ui
from tests.browser.test_carnets import login
from tests.browser.test_screens import SCREENS, world  # noqa: F401  (fixture)


def _as_without_javascript(html: str) -> str:
    """Return the page as a browser without JavaScript shows it: no scripts, <noscript> content shown."""
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S)
    return re.sub(r"</?noscript>", "", html)


def _serve(html: str):
    """Return a route handler answering with ``html``."""
    def handler(route):
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
    return handler


def test_every_screen_without_javascript_has_no_serious_axe_violation(
        browser, playwright_instance, live_server, world, axe):  # noqa: F811
    options = dict(playwright_instance.devices["Pixel 7"])
    options.pop("default_browser_type", None)
    context = browser.new_context(**options, java_script_enabled=False, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    # axe needs timers, which a page without JavaScript does not run: each page as served to the
    # JavaScript-less browser is checked in a second page, its scripts removed.
    checker_context = browser.new_context(**options, service_workers="block", locale="fr-FR")
    checker = checker_context.new_page()
    values = {"public_id": world["carnet"].public_id, "archive_id": world["archive"].id}
    dose = db.session.scalars(select(Dose).where(Dose.carnet_id == world["carnet"].id)).first()
    screens = SCREENS + [("pro", "correction", f"/carnets/{{public_id}}/doses/{dose.id}/modifier", None)]
    found, current = {}, "nobody"
    try:
        for who, name, path, _heading in screens:
            if who != current:
                if current not in ("nobody", None):
                    log_out_ui(page)
                if who is not None:
                    login(page, live_server, world[who])
                current = who
            response = page.goto(live_server.url + path.format(**values))
            assert response.status == 200, name
            expect(page.locator("main h1, main h2").first).to_be_visible()
            html = _as_without_javascript(page.content())
            checker.route(page.url, _serve(html))
            checker.goto(page.url)
            checker.unroute(page.url)
            violations = axe(checker)
            if violations:
                found[name] = violations
                page.screenshot(path=str(SCREENSHOTS / f"nojs-{name}.png"), full_page=True)
        assert found == {}
    finally:
        checker_context.close()
        context.close()


def test_focus_moves_into_the_fragment_an_htmx_swap_brings(browser, live_server, world):  # noqa: F811
    context = browser.new_context(viewport={"width": 820, "height": 1180}, locale="fr-FR")
    try:
        page = context.new_page()
        login(page, live_server, world["pro"])
        page.goto(live_server.url + "/pro/a-valider")
        button = page.get_by_role("button", name="Valider la dose du 12 février 2025")
        button.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Valider la dose du 12 février 2025")).to_have_count(0)
        # The button is gone with its row: focus is on the confirmation in its place, not lost on <body>.
        expect(page.locator("li.decided")).to_be_focused()
        focused = page.evaluate("document.activeElement.closest('li.decided') !== null")
        assert focused, page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    finally:
        context.close()
