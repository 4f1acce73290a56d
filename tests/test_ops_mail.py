"""Mail is never lost: 7 days of retries, then "E-mails en échec" with "Renvoyer"; the health route
tells the age of the oldest pending message; alert e-mails unsubscribe in one click (RFC 8058)."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cvn.alerts import services as alerts
from cvn.extensions import db
from cvn.models import AlertSubscription, InvitationChannel, InvitationTarget, OutboxMessage, OutboxStatus
from cvn.outbox.services import MAX_ATTEMPTS, deliver_due, queue_mail
from cvn.sharing import services as sharing


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def smtp_app(make_app, smtp):
    app = make_app(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        yield app


def queue_one(to="lea@exemple.fr"):
    queue_mail(to, "Votre mot de passe a été modifié", "password_changed",
               user=type("U", (), {"first_name": "Léa"})())
    db.session.commit()


def run_for(app, clock, hours: int) -> None:
    """Run the delivery job (of the app delivering by SMTP) every 20 minutes of simulated time."""
    with app.app_context():
        for _ in range(hours * 3):
            deliver_due()
            clock.advance(minutes=20)


def test_smtp_down_for_3_days_then_the_message_goes_out_once(smtp_app, smtp, clock):
    smtp.stop()
    queue_one()
    run_for(smtp_app, clock, 72)
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.PENDING  # still trying after 3 days
    assert 12 < message.attempts < MAX_ATTEMPTS  # back-off done, then every 6 hours
    smtp.start()
    run_for(smtp_app, clock, 7)  # within the next 6-hour slot
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT and len(smtp.messages) == 1


def test_after_7_days_of_retries_the_administrator_sees_it_and_resends(smtp_app, smtp, clock, client, auth,
                                                                      create_admin, create_patient):
    smtp.stop()
    queue_one()
    first_try = clock()
    while count(OutboxMessage, OutboxMessage.status == OutboxStatus.FAILED) == 0:
        run_for(smtp_app, clock, 1)
        assert clock() - first_try < timedelta(days=10)
    # About 20 hours of back-off, then 28 tries 6 hours apart: 7 days (plus this simulation's 20-minute ticks).
    given_up_after = clock() - first_try
    assert timedelta(days=7, hours=20) < given_up_after < timedelta(days=8, hours=12)
    message = db.session.scalar(select(OutboxMessage))
    assert message.attempts == MAX_ATTEMPTS == 40

    auth.login(create_patient())
    assert client.get("/admin/e-mails-en-echec").status_code == 403
    assert client.post(f"/admin/e-mails-en-echec/{message.id}/renvoyer").status_code == 403
    auth.logout()
    auth.login(create_admin())
    page = client.get("/admin/e-mails-en-echec").get_data(as_text=True)
    assert "E-mails en échec" in page and "lea@exemple.fr" in page and "Renvoyer" in page
    assert "Votre mot de passe a été modifié" in page and "ConnectionRefusedError" in page
    smtp.start()
    done = client.post(f"/admin/e-mails-en-echec/{message.id}/renvoyer")
    assert done.status_code == 303
    db.session.refresh(message)
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert "Aucun e-mail en échec" in client.get(done.location).get_data(as_text=True)
    with smtp_app.app_context():
        assert deliver_due() == {"sent": 1, "failed": 0} and len(smtp.messages) == 1
    assert client.post(f"/admin/e-mails-en-echec/{message.id}/renvoyer").status_code == 404  # sent: nothing to do


def test_health_reports_the_age_of_the_oldest_pending_message(client, clock):
    queue_one()
    clock.advance(hours=2)
    queue_one("autre@exemple.fr")
    clock.advance(minutes=30)
    report = client.get("/sante").get_json()
    assert report["outbox"] == {"pending": 2, "failed": 0, "oldest_pending_age_seconds": 9000}
    assert "lea@exemple.fr" not in client.get("/sante").get_data(as_text=True)  # no personal data


# --- One-click unsubscribe (RFC 8058) ---------------------------------------------

BIRTH = date(2025, 12, 20)


@pytest.fixture
def subscribed(create_professional, create_patient, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Léo", birth_date=BIRTH)
    owner = create_patient(email="paula@exemple.fr")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    alerts.subscribe(owner, carnet, True)
    return carnet, owner


def test_alert_mails_carry_list_unsubscribe_headers(make_app, smtp, subscribed):
    carnet, owner = subscribed
    assert alerts.run_daily(date(2026, 3, 2)).messages == 1
    message = db.session.scalar(select(OutboxMessage))
    token = alerts.unsubscribe_token(carnet.id, owner.id)
    link = f"http://cvn.test/alertes/desabonnement/{token}"
    assert message.headers == {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with make_app(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                  MAIL_SUPPRESS_SEND=False).app_context():
        assert deliver_due()["sent"] == 1
    received = smtp.messages[0]["message"]
    assert received["List-Unsubscribe"].strip() == f"<{link}>"  # (folded: a long line starts with a space)
    assert received["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"


def test_a_mail_client_unsubscribes_in_one_click_without_csrf_token(make_app, subscribed):
    carnet, owner = subscribed
    client = make_app().test_client()  # CSRF on, as shipped
    url = f"/alertes/desabonnement/{alerts.unsubscribe_token(carnet.id, owner.id)}"
    done = client.post(url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded",
                       csrf=False)
    assert done.status_code == 200 and count(AlertSubscription) == 0


def test_any_other_post_to_unsubscribe_needs_the_csrf_token(make_app, subscribed):
    carnet, owner = subscribed
    client = make_app().test_client()
    url = f"/alertes/desabonnement/{alerts.unsubscribe_token(carnet.id, owner.id)}"
    assert client.post(url, csrf=False).status_code == 400
    assert client.post(url, data={"List-Unsubscribe": "autre chose"}, csrf=False).status_code == 400
    assert count(AlertSubscription) == 1
    page = client.get(url).get_data(as_text=True)  # the page's button carries the token
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    assert count(AlertSubscription) == 0
