"""No secret at rest: one-time links sealed in the outbox and cut once delivered; logs without tokens,
SQL parameters or health data; JSON lines with a request id in production."""
import io
import json
import logging
from datetime import date

import pytest
from sqlalchemy import select, text

from cvn.extensions import db
from cvn.models import InvitationChannel, InvitationTarget, OutboxMessage, OutboxStatus
from cvn.outbox.services import deliver_due
from cvn.sharing import services as sharing
from tests.conftest import outbox_links

BIRTH = date(2024, 2, 10)


def stored_row(message_id: int) -> str:
    """Return everything the outbox row holds, as the database has it."""
    row = db.session.execute(text("SELECT * FROM outbox_message WHERE id = :id"), {"id": message_id}).one()
    return " ".join(str(value) for value in row)


@pytest.fixture
def invitation_mail(create_professional, create_carnet):
    pro = create_professional(first_name="Claire", last_name="Martin")
    carnet = create_carnet(pro, birth_date=BIRTH)
    _invitation, raw = sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.EMAIL,
                                                 "parent@exemple.fr")
    return db.session.scalar(select(OutboxMessage)), raw


def test_one_time_links_rest_encrypted_until_delivered(make_app, smtp, invitation_mail):
    message, raw = invitation_mail
    assert message.sealed and raw not in stored_row(message.id)
    assert raw in message.body_text and raw in message.body_html  # decrypted for delivery and the dev page
    smtp_app = make_app(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with smtp_app.app_context():
        assert deliver_due() == {"sent": 1, "failed": 0}
    assert raw in smtp.messages[0]["text"]  # the recipient gets the link …
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    row = stored_row(message.id)
    assert message.status == OutboxStatus.SENT and not message.sealed
    assert raw not in row and "/i/[lien retiré après envoi]" in message.body_text  # … the database keeps none
    assert "Dr Claire Martin" in message.body_text  # the rest of the copy stays readable


def test_reset_links_are_sealed(client, create_patient):
    user = create_patient()
    client.post("/mot-de-passe/oublie", data={"email": user.email})
    message = db.session.scalar(select(OutboxMessage))
    raw = outbox_links(message)[0].rsplit("/", 1)[1]
    assert message.sealed and raw not in stored_row(message.id)


def test_the_development_outbox_page_shows_the_link_until_delivery(client, invitation_mail):
    message, raw = invitation_mail
    page = client.get(f"/dev/boite-mail/{message.id}")
    assert page.status_code == 200 and f"/i/{raw}" in page.get_data(as_text=True)


def test_key_from_cvn_outbox_key_survives_a_new_secret_key(make_app, smtp):
    first = make_app(CVN_OUTBOX_KEY="cle-de-la-boite-d-envoi-0123456789abcdef")
    with first.app_context():
        from cvn.outbox.services import queue_mail

        queue_mail("a@exemple.fr", "Lien", "reset_password", user=type("U", (), {"first_name": "A"})(),
                   link="http://cvn.test/mot-de-passe/lien/" + "t" * 43, expires_at=None)
        db.session.commit()
    rotated = make_app(SECRET_KEY="une-toute-autre-cle-secrete-0123456789abcdef",
                       CVN_OUTBOX_KEY="cle-de-la-boite-d-envoi-0123456789abcdef",
                       CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with rotated.app_context():
        assert deliver_due()["sent"] == 1
    assert "t" * 43 in smtp.messages[0]["text"]


def test_a_message_sealed_under_another_key_fails_plainly(make_app, smtp, invitation_mail):
    other = make_app(CVN_OUTBOX_KEY="une-autre-cle", CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1",
                     MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with other.app_context():
        assert deliver_due() == {"sent": 0, "failed": 1}
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == OutboxStatus.FAILED and "clé de chiffrement" in message.last_error
    assert smtp.messages == []


# --- Logs ----------------------------------------------------------------------

RAW = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx"


def test_every_logger_masks_tokens_hashes_and_one_time_paths(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("cvn.anything").info("opened /mot-de-passe/lien/%s?x=1", RAW)
        logging.getLogger("sqlalchemy.engine").warning("token=%s&b=2", RAW)
        logging.getLogger("some.library").warning("hash scrypt:32768:8:1$%s$%s", "s" * 16, "ab" * 64)
        logging.getLogger().error("/alertes/desabonnement/WzEsMl0.abc-DEF_ghi")
    assert RAW not in caplog.text and "ab" * 64 not in caplog.text and "WzEsMl0" not in caplog.text
    assert "/mot-de-passe/lien/[masqué]" in caplog.text and "token=[masqué]" in caplog.text


def test_an_error_inside_the_error_handler_does_not_log_the_reset_url(make_app, create_patient, caplog,
                                                                        monkeypatch):
    import cvn.auth.routes
    import cvn.errors

    app = make_app(CVN_RENDER_500=True)

    def broken(*args, **kwargs):
        from flask import request

        raise RuntimeError(f"token check failed for {request.url}")

    monkeypatch.setattr(cvn.auth.routes.services, "find_reset_token", broken)
    monkeypatch.setattr(cvn.errors, "render_error", broken)  # and the error page fails too
    with caplog.at_level(logging.INFO):
        response = app.test_client().get(f"/mot-de-passe/lien/{RAW}")
    assert response.status_code == 500
    assert caplog.records and RAW not in caplog.text
    assert "/mot-de-passe/lien/[masqué]" in caplog.text


def test_database_errors_never_log_their_parameters(make_app, caplog):
    app = make_app(CVN_RENDER_500=True)

    @app.get("/_ecrire")
    def write():
        # No birth date, no sex: refused by the NOT NULL constraints (an IntegrityError).
        db.session.execute(text("INSERT INTO carnet (public_id, last_name, first_names, search_name) "
                                "VALUES (:p, :n, :f, :note)"),
                           {"p": "x", "n": "Durand", "f": "Éloïse 2024-02-10", "note": "allergie à l’œuf"})

    with caplog.at_level(logging.INFO):
        assert app.test_client().get("/_ecrire").status_code == 500
    assert "IntegrityError" in caplog.text  # the error is logged …
    for secret in ("Éloïse", "2024-02-10", "allergie"):
        assert secret not in caplog.text  # … without what was being written


@pytest.fixture
def json_logs():
    """Capture what the production JSON handler writes; remove it afterwards."""
    from pythonjsonlogger.json import JsonFormatter

    root = logging.getLogger()
    before = list(root.handlers)
    stream = io.StringIO()
    yield stream
    for handler in root.handlers:
        if handler not in before:
            root.removeHandler(handler)
    assert not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)


def test_production_logs_are_json_lines_with_a_request_id(make_app, json_logs, create_patient):
    from pythonjsonlogger.json import JsonFormatter

    app = make_app(CVN_ENV="production")
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    handler.setStream(json_logs)

    @app.get("/_journal")
    def journal():
        logging.getLogger("cvn.test").warning("reset link %s sent", f"http://x/mot-de-passe/lien/{RAW}")
        return "ok"

    client = app.test_client()
    response = client.get("/_journal")
    given = client.get("/_journal", headers={"X-Request-ID": "proxy-id-42"})
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    ours = [line for line in lines if line["logger"] == "cvn.test"]
    assert len(ours) == 2
    assert ours[0]["request_id"] == response.headers["X-Request-ID"] and len(ours[0]["request_id"]) == 32
    assert ours[1]["request_id"] == given.headers["X-Request-ID"] == "proxy-id-42"
    assert ours[0]["level"] == "WARNING" and "time" in ours[0]
    assert RAW not in json_logs.getvalue() and "/mot-de-passe/lien/[masqué]" in ours[0]["message"]
    # A forged id cannot inject anything into the logs.
    forged = client.get("/_journal", headers={"X-Request-ID": 'a"}, {"level": "x'})
    assert len(forged.headers["X-Request-ID"]) == 32
