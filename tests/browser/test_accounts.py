"""Accounts in a real Chromium at phone size: sign up, log out, log in, verification."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import log_out_ui
from tests.conftest import PASSWORD


def signup_patient(page, base):
    page.goto(base + "/")
    page.get_by_role("link", name="Créer un compte").first.click()
    page.get_by_role("link", name=re.compile("Patient ou parent")).click()
    page.get_by_label("Prénom").fill("Éloïse")
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Adresse e-mail").fill("eloise@exemple.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Vérifiez votre boîte mail")).to_be_visible()
    page.get_by_role("link", name="Continuer").click()


def test_patient_signs_up_logs_out_and_logs_in(live_server, phone, screenshot, axe):
    base = live_server.url
    phone.goto(base + "/")
    screenshot(phone, "phone-home")
    assert axe(phone) == []
    signup_patient(phone, base)
    expect(phone.get_by_role("heading", name="Mes carnets")).to_be_visible()
    screenshot(phone, "phone-mes-carnets")
    assert axe(phone) == []

    log_out_ui(phone)
    expect(phone.get_by_text("Vous êtes déconnecté.")).to_be_visible()

    phone.get_by_role("link", name="Se connecter").first.click()
    expect(phone).to_have_url(re.compile("/connexion"))
    phone.get_by_label("Adresse e-mail").fill("ELOISE@exemple.fr")
    phone.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_text("Adresse e-mail ou mot de passe incorrect.")).to_be_visible()
    screenshot(phone, "phone-login-error")
    assert axe(phone) == []
    phone.get_by_label("Mot de passe").fill(PASSWORD)
    phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_role("heading", name="Mes carnets")).to_be_visible()


def test_signup_errors_are_shown_beside_the_fields(live_server, phone, screenshot, axe):
    phone.goto(live_server.url + "/inscription/professionnel")
    phone.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    phone.get_by_label("Mot de passe").fill("court")
    phone.get_by_label("Numéro RPPS").fill("123")
    phone.get_by_role("button", name="Créer mon compte").click()
    expect(phone.get_by_text("exactement 11 chiffres")).to_be_visible()
    expect(phone.get_by_text("Le mot de passe doit compter au moins 12 caractères")).to_be_visible()
    rpps = phone.get_by_label("Numéro RPPS")
    expect(rpps).to_have_attribute("aria-invalid", "true")
    screenshot(phone, "phone-signup-pro-errors")
    assert axe(phone) == []


def test_professional_waits_then_is_verified_by_the_cli(live_server, phone, tablet, screenshot, axe):
    base = live_server.url
    page = tablet
    page.goto(base + "/inscription/professionnel")
    page.get_by_label("Prénom").fill("Hugo")
    page.get_by_label("Nom", exact=True).fill("Bernard")
    page.get_by_label("Adresse e-mail").fill("hugo.bernard@exemple.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Profession").select_option("infirmier")
    page.get_by_label("Numéro RPPS").fill("10012345678")
    screenshot(page, "tablet-signup-pro")
    page.get_by_role("button", name="Créer mon compte").click()
    page.get_by_role("link", name="Continuer").click()
    expect(page.get_by_role("heading", name="Compte en attente de vérification")).to_be_visible()
    screenshot(page, "tablet-pro-pending")
    assert axe(page) == []
    page.goto(base + "/pro/")
    expect(page.get_by_role("heading", name="Compte en attente de vérification")).to_be_visible()

    result = live_server.flask_app.test_cli_runner().invoke(
        args=["cvn", "verify-pro", "hugo.bernard@exemple.fr"])
    assert result.exit_code == 0, result.output
    page.reload()
    # Verified, but no second factor yet: led to enrolment, no patientèle.
    expect(page.get_by_role("heading", name="Choix de la méthode de connexion")).to_be_visible()
    expect(page.get_by_text("Étape obligatoire pour les professionnels de santé.")).to_be_visible()
    page.goto(base + "/pro/")
    expect(page.get_by_role("heading", name="Choix de la méthode de connexion")).to_be_visible()


def test_htmx_requests_carry_the_csrf_token(live_server, phone, create_patient):
    user = create_patient()
    phone.goto(live_server.url + "/connexion")
    phone.get_by_label("Adresse e-mail").fill(user.email)
    phone.get_by_label("Mot de passe").fill(PASSWORD)
    phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_role("heading", name="Mes carnets")).to_be_visible()

    # Without the token, a POST is refused.
    status = phone.evaluate("async () => (await fetch('/deconnexion', {method: 'POST'})).status")
    assert status == 400
    # Through htmx, the header set by app.js carries it: the log-out goes through.
    with phone.expect_response(lambda r: r.url.endswith("/deconnexion")) as info:
        phone.evaluate("() => htmx.ajax('POST', '/deconnexion', {target: 'body'})")
    response = info.value
    assert response.status == 204
    assert response.request.headers.get("x-csrftoken")
    expect(phone.get_by_role("link", name="Se connecter").first).to_be_visible()
