"""Log-in methods and sessions in a real Chromium: log-out that logs out, passkeys, codes, the session list."""
import re

import pyotp
import pytest
from playwright.sync_api import expect

from cvn.auth import factors
from cvn.extensions import db
from tests.browser.conftest import _context, fill_login, log_in_ui, log_out_ui, type_app_code
from tests.conftest import PASSWORD


def logged_out(page):
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()


def test_stay_logged_in_then_log_out_really_logs_out(live_server, phone, create_patient):
    user = create_patient()
    log_in_ui(phone, live_server, user, remember=True)
    assert {c["name"] for c in phone.context.cookies()} >= {"cvn_session", "cvn_appareil"}
    log_out_ui(phone)
    expect(phone.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    phone.reload()
    expect(phone.get_by_role("link", name="Se connecter").first).to_be_visible()
    phone.goto(live_server.url + "/compte")
    logged_out(phone)
    assert "cvn_appareil" not in {c["name"] for c in phone.context.cookies()}


def test_cookies_saved_before_log_out_and_replayed_after_open_nothing(live_server, phone, create_patient):
    log_in_ui(phone, live_server, create_patient(), remember=True)
    saved = phone.context.cookies()
    log_out_ui(phone)
    expect(phone.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    phone.context.clear_cookies()
    phone.context.add_cookies(saved)  # the session and the remembered-device cookies, as copied
    phone.goto(live_server.url + "/compte")
    logged_out(phone)
    expect(phone).to_have_url(re.compile(r"/connexion"))


@pytest.fixture
def localhost_server(live_server_factory):
    """A live server whose CVN_BASE_URL is http://localhost:PORT (WebAuthn refuses an IP address)."""
    server = live_server_factory()
    server.url = server.url.replace("127.0.0.1", "localhost")
    server.flask_app.config["CVN_BASE_URL"] = server.url
    return server


def virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    return cdp


def test_passkey_registered_then_used_alone(localhost_server, phone, create_patient, screenshot, axe):
    server, page = localhost_server, phone
    user = create_patient()
    virtual_authenticator(page)
    log_in_ui(page, server, user)
    page.goto(server.url + "/compte/methodes")
    screenshot(page, "phone-methods")
    assert axe(page) == []
    page.goto(server.url + "/compte/confirmer?next=/compte/methodes")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Confirmer", exact=True).click()
    expect(page.get_by_role("heading", name="Choix de la méthode de connexion")).to_be_visible()
    page.get_by_label("Nom de la clé d’accès").fill("Téléphone de Jeanne")
    page.get_by_role("button", name="Ajouter une clé d’accès").click()
    expect(page.get_by_role("heading", name="Vos 10 codes de secours")).to_be_visible()
    page.get_by_role("link", name="Je les ai notés").click()
    # The methods page lists it (a bare text match also hit the flash of the page before: a race).
    expect(page.get_by_role("button", name="Retirer Téléphone de Jeanne")).to_be_visible()
    expect(page.locator("li.session-row strong")).to_have_text(["Téléphone de Jeanne"])
    screenshot(page, "phone-methods-passkey")


    log_out_ui(page)
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.goto(server.url + "/connexion")
    page.get_by_role("button", name="Se connecter avec une clé d’accès").click()
    expect(page.get_by_role("heading", name="Mes carnets")).to_be_visible()
    passkey = factors.passkeys_of(user)[0]
    assert passkey.name == "Téléphone de Jeanne" and passkey.last_used_at is not None


def test_app_enrolment_then_log_in_with_a_code_from_pyotp(live_server, tablet, create_professional, create_carnet,
                                                          screenshot, axe):
    page = tablet
    pro = create_professional(second_factor=False)
    carnet = create_carnet(pro)
    page.goto(live_server.url + "/connexion")
    fill_login(page, pro.email, PASSWORD)
    expect(page.get_by_role("heading", name="Choix de la méthode de connexion")).to_be_visible()
    # No carnet URL opens before a second factor.
    for path in (f"/carnets/{carnet.public_id}", "/pro/", f"/carnets/{carnet.public_id}/journal"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", name="Choix de la méthode de connexion")).to_be_visible()
        assert carnet.first_names not in page.content()
    screenshot(page, "tablet-methods-required")
    assert axe(page) == []
    page.get_by_role("link", name="Configurer une application").click()
    # The log-in just proved the password: the set-up does not ask for it again.
    expect(page.get_by_role("heading", name="Configurer une application d’authentification")).to_be_visible()
    secret = page.locator("#cle-secrete code").inner_text().replace(" ", "")
    screenshot(page, "tablet-totp-enrolment")
    assert axe(page) == []
    clock = live_server.flask_app.config["CVN_CLOCK"]
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).at(clock()))
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", name="Vos 10 codes de secours")).to_be_visible()
    page.get_by_role("link", name="Je les ai notés").click()
    screenshot(page, "tablet-methods")
    log_out_ui(page)
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()

    page.goto(live_server.url + "/connexion")
    fill_login(page, pro.email, PASSWORD)
    expect(page.get_by_role("heading", name="Deuxième étape")).to_be_visible()
    screenshot(page, "tablet-login-code")
    assert axe(page) == []
    clock.advance(seconds=30)  # the next code of the app
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).at(clock()))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Ma patientèle")).to_be_visible()
    page.goto(live_server.url + f"/carnets/{carnet.public_id}")
    expect(page.get_by_role("heading", name=re.compile(carnet.first_names))).to_be_visible()


def test_email_code_read_from_a_real_smtp_server(live_server_factory, smtp, phone, create_patient, screenshot, axe):
    server = live_server_factory(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                                 MAIL_SUPPRESS_SEND=False)
    user = create_patient(email_code_enabled_at=factors.utcnow())
    phone.goto(server.url + "/connexion")
    fill_login(phone, user.email, PASSWORD)
    expect(phone.get_by_role("heading", name="Deuxième étape")).to_be_visible()
    expect(phone.get_by_text(f"Nous l’avons envoyé à {user.email}")).to_be_visible()
    screenshot(phone, "phone-login-code")
    assert axe(phone) == []
    with server.flask_app.app_context():  # what the worker does every 20 seconds
        from cvn.outbox.services import deliver_due

        assert deliver_due()["sent"] == 1
    message = smtp.messages[-1]
    assert message["to"] == [user.email]
    code = re.search(r"code de connexion à CVN : (\d{6})", message["text"]).group(1)
    phone.get_by_label("Code à 6 chiffres").fill(code)
    phone.get_by_role("button", name="Valider").click()
    expect(phone.get_by_role("heading", name="Mes carnets")).to_be_visible()


def test_a_recovery_code_works_once(live_server, phone, create_professional):
    pro = create_professional()
    codes = factors.new_recovery_codes(pro)
    db.session.commit()
    for attempt in range(2):
        phone.goto(live_server.url + "/connexion")
        fill_login(phone, pro.email, PASSWORD)
        phone.get_by_role("link", name="Un code de secours").click()
        phone.get_by_label("Code de secours").fill(codes[3])
        phone.get_by_role("button", name="Valider").click()
        if attempt == 0:
            expect(phone.get_by_text("Code de secours accepté. Il vous en reste 9")).to_be_visible()
            log_out_ui(phone)
            expect(phone.get_by_text("Vous êtes déconnecté.")).to_be_visible()
        else:
            expect(phone.get_by_text("Code incorrect. Il vous reste 4 essais")).to_be_visible()
            expect(phone.get_by_role("button", name="Se déconnecter")).to_have_count(0)


def test_the_session_list_ends_a_session_of_another_browser(live_server, playwright_instance, browser, phone,
                                                            create_patient, screenshot, axe):
    user = create_patient()
    other_context = _context(playwright_instance, browser, "iPad (gen 7)")
    other = other_context.new_page()
    try:
        log_in_ui(other, live_server, user)
        log_in_ui(phone, live_server, user, remember=True)
        phone.goto(live_server.url + "/compte/sessions")
        rows = phone.locator("#sessions li")
        expect(rows).to_have_count(2)
        screenshot(phone, "phone-sessions")
        assert axe(phone) == []
        ipad = rows.filter(has_text="iPad")
        ipad.get_by_role("button", name=re.compile("Terminer")).click()
        expect(phone.get_by_text("Session terminée")).to_be_visible()
        expect(phone.locator("#sessions li")).to_have_count(1)
        other.goto(live_server.url + "/compte")
        logged_out(other)
        other.set_viewport_size({"width": 820, "height": 1180})
        log_in_ui(other, live_server, user)
        other.goto(live_server.url + "/compte/sessions")
        screenshot(other, "tablet-sessions")
        assert axe(other) == []
    finally:
        other_context.close()


def test_code_step_on_a_phone_for_a_professional(live_server, phone, create_professional, screenshot):
    pro = create_professional()
    phone.goto(live_server.url + "/connexion")
    fill_login(phone, pro.email, PASSWORD)
    expect(phone.get_by_role("heading", name="Deuxième étape")).to_be_visible()
    screenshot(phone, "phone-login-code-app")
    type_app_code(phone, live_server.flask_app, pro.email)
    expect(phone.get_by_role("heading", name="Ma patientèle")).to_be_visible()
