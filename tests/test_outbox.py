"""E-mail outbox: written with the change, delivered by the job, retried, kept."""
import pytest
from sqlalchemy import select

from cvn.extensions import db
from cvn.models import OutboxMessage, OutboxStatus
from cvn.outbox.services import MAX_ATTEMPTS, deliver_due, queue_mail, retry_delay


@pytest.fixture
def smtp_app(make_app, smtp):
    app = make_app(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                   MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        yield app


def queue_one(to="lea@exemple.fr"):
    queue_mail(to, "Votre mot de passe a été modifié", "password_changed",
               user=type("U", (), {"first_name": "Léa"})())


def test_message_exists_only_if_the_transaction_commits(app):
    queue_one()
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == []
    queue_one()
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == OutboxStatus.PENDING and "Léa" in message.body_text and message.body_html


def test_delivery_through_a_real_smtp_server(smtp_app, smtp):
    queue_one()
    db.session.commit()
    assert deliver_due() == {"sent": 1, "failed": 0}
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received["to"] == ["lea@exemple.fr"]
    assert received["subject"] == "Votre mot de passe a été modifié"
    assert "Léa" in received["text"]
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    assert deliver_due() == {"sent": 0, "failed": 0}  # never twice
    assert len(smtp.messages) == 1


def test_smtp_down_then_up_delivers_once_with_back_off(smtp_app, smtp, clock):
    smtp.stop()
    queue_one()
    db.session.commit()
    assert deliver_due() == {"sent": 0, "failed": 1}
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert message.last_error and "lea@" not in message.last_error
    assert message.next_attempt_at == clock() + retry_delay(1)
    smtp.start()
    assert deliver_due() == {"sent": 0, "failed": 0}  # not due yet
    clock.advance(minutes=1, seconds=1)
    assert deliver_due() == {"sent": 1, "failed": 0}
    assert len(smtp.messages) == 1
    assert deliver_due() == {"sent": 0, "failed": 0}


def test_back_off_grows_and_is_capped():
    delays = [retry_delay(n).total_seconds() for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == 6 * 3600 and delays == sorted(delays)


def test_gives_up_after_max_attempts(smtp_app, smtp, clock):
    smtp.stop()
    queue_one()
    db.session.commit()
    for _ in range(MAX_ATTEMPTS):
        deliver_due()
        clock.advance(hours=7)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == OutboxStatus.FAILED and message.attempts == MAX_ATTEMPTS


def test_outbox_mode_keeps_messages(app):
    queue_one()
    db.session.commit()
    assert deliver_due() == {"sent": 0, "failed": 0}
    assert db.session.scalars(select(OutboxMessage)).one().status == OutboxStatus.PENDING


def test_cli_deliver_mail(smtp_app, smtp):
    queue_one()
    db.session.commit()
    result = smtp_app.test_cli_runner().invoke(args=["cvn", "deliver-mail"])
    assert result.exit_code == 0 and "1 envoyé" in result.output
    assert len(smtp.messages) == 1


def test_outbox_page_for_localhost_in_development(client):
    queue_one()
    db.session.commit()
    page = client.get("/dev/boite-mail/")
    assert page.status_code == 200 and "Votre mot de passe a été modifié" in page.get_data(as_text=True)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert client.get(f"/dev/boite-mail/{message.id}").status_code == 200


def test_outbox_page_hidden_from_remote_visitors(client, auth, create_admin):
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/dev/boite-mail/", environ_base=remote).status_code == 404
    auth.login(create_admin())
    assert client.get("/dev/boite-mail/", environ_base=remote).status_code == 200


def test_outbox_page_absent_in_production(make_app):
    app = make_app(CVN_ENV="production")
    assert app.test_client().get("/dev/boite-mail/").status_code == 404
