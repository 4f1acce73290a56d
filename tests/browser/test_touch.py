"""Touch first: 44 × 44 px targets and no sideways scrolling on every main screen at 320, 390 and 820 px.

320 CSS px is also what a 640 px wide window shows at 200 % zoom.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, log_out_ui
from tests.browser.test_carnets import login
from tests.browser.test_screens import SCREENS, world  # noqa: F401  (fixture)

#: Every control smaller than 44 × 44 px, except links inside running text (WCAG 2.5.8's inline case).
SMALL_TARGETS = """() => {
  const found = [];
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('.visually-hidden, [hidden], noscript, .skip-link')) continue;
    const target = el.matches('input[type=checkbox], input[type=radio]') ? (el.closest('label') || el) : el;
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown (a closed menu or details)
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline'
        && el.parentElement.textContent.trim() !== el.textContent.trim()) continue;
    if (box.width < 43.5 || box.height < 43.5) {
      found.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}" `
                 + `${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return found;
}"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _context(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    return context


@pytest.mark.parametrize("width", [320, 390, 820])
def test_every_main_screen_has_44px_targets_and_no_sideways_scroll(browser, live_server, world, width):  # noqa: F811
    context = _context(browser, width)
    page = context.new_page()
    values = {"public_id": world["carnet"].public_id, "archive_id": world["archive"].id}
    problems, current = {}, "nobody"
    try:
        for who, name, path, _heading in SCREENS:
            if who != current:
                if current not in ("nobody", None):
                    log_out_ui(page)
                if who is not None:
                    login(page, live_server, world[who])
                current = who
            page.goto(live_server.url + path.format(**values))
            expect(page.locator("main h1").first).to_be_visible()
            small = page.evaluate(SMALL_TARGETS)
            overflow = page.evaluate(OVERFLOW)
            if small or overflow > 0:
                problems[name] = {"small": small, "overflow": overflow}
                page.screenshot(path=str(SCREENSHOTS / f"touch-{width}-{name}.png"), full_page=True)
            # The menu, opened, is made of targets as large.
            if page.locator(".nav-menu > summary").is_visible():
                page.locator(".nav-menu > summary").click()
                small = page.evaluate(SMALL_TARGETS)
                if small:
                    problems[name + " (menu)"] = {"small": small}
                page.keyboard.press("Escape")
        assert problems == {}
    finally:
        context.close()


def test_phone_header_is_one_row_with_log_out_in_the_menu(browser, live_server, world):  # noqa: F811
    context = _context(browser, 390)
    try:
        page = context.new_page()
        login(page, live_server, world["owner"])
        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= 64, header
        log_out = page.get_by_role("button", name="Se déconnecter")
        expect(log_out).to_be_hidden()
        page.get_by_text("Menu").click()
        expect(log_out).to_be_visible()
        page.keyboard.press("Escape")
        expect(log_out).to_be_hidden()
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    finally:
        context.close()


@pytest.mark.parametrize("who, path", [("pro", "/pro/"), ("owner", "/mes-carnets/")])
def test_a_whole_row_opens_its_carnet(browser, live_server, world, who, path):  # noqa: F811
    context = _context(browser, 390)
    try:
        page = context.new_page()
        login(page, live_server, world[who])
        page.goto(live_server.url + path)
        row = page.locator(".patient-row").first
        href = row.locator("a.patient-name").get_attribute("href")
        box = row.bounding_box()
        # Tap near the row's bottom right corner, away from the name.
        page.mouse.click(box["x"] + box["width"] - 8, box["y"] + box["height"] - 8)
        expect(page).to_have_url(live_server.url + href)
        assert href.startswith("/carnets/")
    finally:
        context.close()


def test_tablet_landscape_uses_the_width(browser, live_server, world):  # noqa: F811
    context = browser.new_context(viewport={"width": 1180, "height": 820}, locale="fr-FR")
    try:
        page = context.new_page()
        login(page, live_server, world["pro"])
        for path, name in (("/pro/", "patientele"), ("/pro/a-valider", "a-valider")):
            page.goto(live_server.url + path)
            assert page.locator("main").bounding_box()["width"] >= 1150 or \
                page.locator("main").bounding_box()["width"] >= 80 * 16 - 1
            page.screenshot(path=str(SCREENSHOTS / f"tablet-landscape-{name}.png"), full_page=True)
        page.goto(live_server.url + "/pro/")
        rows = page.locator(".patient-row")
        if rows.count() >= 2:
            first, second = rows.nth(0).bounding_box(), rows.nth(1).bounding_box()
            assert abs(first["y"] - second["y"]) < 1, "two rows side by side"
    finally:
        context.close()
