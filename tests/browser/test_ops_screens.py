"""What an operator and a user see when things fail: the 503 page, the failed e-mails page."""
import pyotp
from playwright.sync_api import expect

from cvn import create_app
from cvn.demo import DOCTOR_TOTP_SECRET
from cvn.extensions import db
from tests.browser.conftest import open_menu
from tests.conftest import LiveServer, base_config
from tests.smtp import free_port


def test_the_503_page_at_phone_and_tablet_size(phone, tablet, screenshot, axe):
    app = create_app(base_config(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/cvn"))
    server = LiveServer(app)
    try:
        for page, name in ((phone, "phone"), (tablet, "tablet")):
            # An invitation link: its token cannot be kept for the claim (sessions live in the database).
            response = page.goto(server.url + "/i/" + "t" * 43)
            assert response.status == 503 and response.headers["retry-after"]
            expect(page.get_by_role("heading", name="Service momentanément indisponible")).to_be_visible()
            expect(page.get_by_role("link", name="Réessayer")).to_be_visible()
            screenshot(page, f"{name}-503-indisponible")
            assert axe(page) == []
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def test_failed_emails_page_at_phone_and_tablet_size(live_server, phone, tablet, screenshot, axe, create_admin,
                                                     runner, clock):
    assert runner.invoke(args=["cvn", "demo"]).exit_code == 0
    for page, name in ((phone, "phone"), (tablet, "tablet")):
        page.goto(live_server.url + "/connexion")
        page.get_by_label("Adresse e-mail").fill("admin@demo.cvn.fr")
        page.get_by_label("Mot de passe").fill("demo-cvn-2026")
        page.get_by_role("button", name="Se connecter").click()
        # The demo administrator has a second factor: the authenticator secret `make run` prints.
        expect(page.get_by_role("heading", name="Deuxième étape")).to_be_visible()
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(DOCTOR_TOTP_SECRET).at(clock()))
        page.get_by_role("button", name="Valider").click()
        clock.advance(seconds=30)  # a code serves once: the next log-in waits for the next one
        expect(page.locator("form[data-logout]")).to_have_count(1)
        open_menu(page)
        expect(page.get_by_role("link", name="Administration")).to_be_visible()
        page.goto(live_server.url + "/admin/e-mails-en-echec")
        expect(page.get_by_role("heading", name="E-mails en échec")).to_be_visible()
        screenshot(page, f"{name}-admin-e-mails-en-echec")
        assert axe(page) == []
    phone.get_by_role("button", name="Renvoyer").click()
    expect(phone.get_by_text("est remis dans la file d’envoi")).to_be_visible()
    expect(phone.get_by_text("Aucun e-mail en échec.")).to_be_visible()
    screenshot(phone, "phone-admin-e-mail-renvoye")
