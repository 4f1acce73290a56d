"""Cross-cutting web behaviour: headers, errors, CSRF, page vs fragment, PWA files."""
import io
import json

import pytest
from flask import Blueprint
from PIL import Image

from cvn.web import render, safe_next, see_other
from tests.html import one, parse

HTMX = {"HX-Request": "true"}


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_no_inline_script_in_pages(app, client, auth, create_professional, create_patient, create_carnet):
    """Every page of every space loads scripts from files only (the CSP allows no inline script)."""
    from bs4 import BeautifulSoup

    pro = create_professional()
    carnet = create_carnet(pro)
    pages = ["/", "/connexion", "/inscription/patient", "/inscription/professionnel", "/mot-de-passe/oublie",
             "/hors-ligne"]
    auth.login(pro)
    pages += ["/pro/", "/pro/a-valider", "/pro/archives", "/pro/carnets/nouveau", f"/carnets/{carnet.public_id}",
              f"/carnets/{carnet.public_id}/doses", f"/carnets/{carnet.public_id}/doses/nouvelle",
              f"/carnets/{carnet.public_id}/partage", f"/carnets/{carnet.public_id}/historique", "/compte"]
    checked = 0
    for path in pages:
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        scripts = soup.find_all("script")
        assert scripts, path
        for script in scripts:
            assert script.get("src") and not script.string, f"inline script on {path}"
        assert not [tag for tag in soup.find_all(True) if any(a.startswith("on") for a in tag.attrs)], path
        assert not soup.find_all("style") and not soup.find_all(style=True), f"inline style on {path}"
        checked += 1
    assert checked == len(pages)
    csp = client.get("/connexion").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "script-src 'self'" in csp.replace("default-src 'self'", "script-src 'self'")


def test_html_is_french(client):
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)


def test_404_page_and_fragment(client):
    page = client.get("/nulle-part")
    assert page.status_code == 404
    assert "Page introuvable" in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
    fragment = client.get("/nulle-part", headers=HTMX)
    assert fragment.status_code == 404
    assert "Page introuvable" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    boosted = client.get("/nulle-part", headers={**HTMX, "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_500_page_says_nothing_was_saved(make_app):
    app = make_app(CVN_RENDER_500=True)
    bp = Blueprint("boom", __name__)

    @bp.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.register_blueprint(bp)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Rien n’a été enregistré" in response.get_data(as_text=True)


def test_csrf_token_is_required(make_app, create_patient):
    app = make_app()
    client = app.test_client()
    response = client.post("/connexion", data={"email": "a@exemple.fr", "password": "x" * 12}, csrf=False)
    assert response.status_code == 400
    assert "Rechargez la page" in response.get_data(as_text=True)


def test_csrf_token_in_header_is_accepted(make_app, create_patient):
    app = make_app()
    user = create_patient()
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = page.split('id="csrf-token" data-token="')[1].split('"')[0]
    response = client.post("/connexion", data={"email": user.email, "password": "correct horse battery"},
                           headers={"X-CSRFToken": token, **HTMX})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_render_helper_gives_block_only_to_plain_htmx(app):
    with app.test_request_context("/", headers=HTMX):
        body, status = render("errors/error.html", block="error", title="T", message="M", code=418)
        assert "<html" not in body and "M" in body
    with app.test_request_context("/"):
        body, _ = render("errors/error.html", block="error", title="T", message="M", code=418)
        assert "<html" in body


def test_see_other_uses_hx_redirect_for_htmx(app):
    with app.test_request_context("/", method="POST", headers=HTMX):
        response = see_other("main.home")
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"
    with app.test_request_context("/", method="POST"):
        response = see_other("main.home")
        assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target, expected", [
    ("/compte", "/compte"), ("//evil.example", None), ("https://evil.example/", None),
    ("compte", None), ("/\\evil.example", None), (None, None),
])
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_manifest(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["lang"] == "fr" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
    # Chromium's richer install dialog: a description and screenshots for a phone and a tablet.
    assert len(manifest["description"]) > 40
    assert {s["form_factor"] for s in manifest["screenshots"]} == {"narrow", "wide"}
    for shot in manifest["screenshots"]:
        width, height = (int(n) for n in shot["sizes"].split("x"))
        image = Image.open(io.BytesIO(client.get(shot["src"]).get_data()))
        assert image.size == (width, height) and shot["label"]
    assert [(s["name"], s["url"]) for s in manifest["shortcuts"]] == [("Mes carnets", "/mes-carnets/"),
                                                                     ("Patientèle", "/pro/")]


def test_apple_home_screen_tags(client):
    page = parse(client.get("/connexion"))
    icon = one(page, "link[rel=apple-touch-icon]")["href"]
    assert Image.open(io.BytesIO(client.get(icon).get_data())).size == (180, 180)
    assert one(page, "meta[name=apple-mobile-web-app-capable]")["content"] == "yes"
    assert one(page, "meta[name=apple-mobile-web-app-title]")["content"] == "Vaccins"


def test_service_worker_served_from_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "/hors-ligne" in response.get_data(as_text=True)
    assert client.get("/hors-ligne").status_code == 200


def test_health(client):
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "not_used", "mail_delivery": "outbox",
                                   "outbox": {"pending": 0, "failed": 0, "oldest_pending_age_seconds": None}}


def test_tokens_are_redacted_from_request_logs(app, caplog):
    import logging

    from cvn.logs import redact

    raw = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx"
    assert redact(f'"GET /i/{raw} HTTP/1.1" 303') == '"GET /i/[masqué] HTTP/1.1" 303'
    assert raw not in redact(f"/mot-de-passe/lien/{raw}") and raw not in redact(f"/alertes/desabonnement/{raw}")
    assert redact("/carnets/abc") == "/carnets/abc"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('127.0.0.1 - "GET /i/%s HTTP/1.1" 303 -', raw)
    assert raw not in caplog.text and "/i/[masqué]" in caplog.text


def test_french_dates():
    from datetime import date

    from cvn.dates import french_date

    assert french_date(date(2026, 4, 1)) == "1er avril 2026"
    assert french_date(date(2025, 12, 31)) == "31 décembre 2025"
