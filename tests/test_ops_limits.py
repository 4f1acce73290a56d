"""Rate limits: counted in Redis, in memory while Redis is down (never a 500), per client behind proxies;
invitation e-mails limited per sender and per address."""
import logging
import socket
import time
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from cvn.extensions import db, limiter
from cvn.models import Invitation, InvitationChannel, OutboxMessage
from tests.proxy import Forwarder
from tests.smtp import free_port

REDIS = ("127.0.0.1", 6379)
REDIS_DB = 5  # this branch's Redis database on the shared server


def redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def limited_app(make_app):
    """Return a factory of apps with rate limits on, counting where told; memory again afterwards."""

    def make(storage: str, **config):
        return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage, **config)

    yield make
    make_app(RATELIMIT_ENABLED=True)  # the limiter is one object: back to memory before the fixtures reset it
    limiter._storage_dead = False


def bad_login(client, **kwargs):
    return client.post("/connexion", data={"email": "personne@exemple.fr", "password": "mauvais mot de passe"},
                       **kwargs).status_code


def test_redis_down_counts_in_memory_with_one_warning_never_500(limited_app, caplog):
    app = limited_app(f"redis://127.0.0.1:{free_port()}/{REDIS_DB}")  # nothing listens there
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        statuses = [bad_login(client) for _ in range(11)]
        # Every rate-limited route still answers (TESTING re-raises errors: a 500 would fail here).
        assert client.post("/inscription/patient", data={}).status_code == 422
        assert client.post("/mot-de-passe/oublie", data={"email": "a@exemple.fr"}).status_code == 200
        assert client.get("/i/" + "x" * 43).status_code == 303
        assert client.post("/invitation", data={}).status_code == 404
    assert statuses == [401] * 10 + [429]  # the limit still holds, counted in memory
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.skipif(not redis_up(), reason="needs Redis at 127.0.0.1:6379")
def test_counts_live_in_redis_and_come_back_when_it_restarts(limited_app, caplog):
    import redis

    forwarder = Forwarder(REDIS).start()
    app = limited_app(f"redis://127.0.0.1:{forwarder.port}/{REDIS_DB}")
    # A client address of its own: its counters in Redis are this test's alone.
    address = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    server = redis.Redis(*REDIS, db=REDIS_DB)

    def redis_count() -> int:
        keys = list(server.scan_iter(f"*/{address}/auth.login/*"))
        return sum(int(server.get(k) or 0) for k in keys)

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    try:
        assert [bad_login(client) for _ in range(3)] == [401] * 3
        assert redis_count() == 6  # 3 in the minute window, 3 in the hour window
        forwarder.stop()  # Redis "stops"
        with caplog.at_level(logging.WARNING):
            assert [bad_login(client) for _ in range(3)] == [401] * 3
        assert redis_count() == 6  # counted in memory meanwhile
        assert sum("falling back" in r.getMessage() for r in caplog.records) == 1
        forwarder.start()  # and starts again on the same port
        deadline = time.monotonic() + 20
        while redis_count() == 6 and time.monotonic() < deadline:
            time.sleep(0.5)
            assert bad_login(client) in (401, 429)
        assert redis_count() > 6  # back to the shared counters
    finally:
        forwarder.stop()
        for key in server.scan_iter(f"*/{address}/*"):
            server.delete(key)
        server.close()


def test_behind_one_proxy_each_client_has_its_own_bucket(limited_app):
    app = limited_app("memory://", CVN_PROXY_HOPS=1)
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}  # every request reaches the app from the proxy
    first = [bad_login(client, headers={"X-Forwarded-For": "203.0.113.1"}, environ_base=proxy) for _ in range(11)]
    other = bad_login(client, headers={"X-Forwarded-For": "203.0.113.2"}, environ_base=proxy)
    assert first[-1] == 429 and other == 401


def test_without_trusted_proxy_a_forged_header_does_not_reset_the_bucket(limited_app):
    client = limited_app("memory://").test_client()
    statuses = [bad_login(client, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(11)]
    assert statuses[-1] == 429


# --- Invitation e-mails: 20 an hour per sender, 5 a day per address -----------------

BIRTH = date(2024, 2, 10)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def send(client, carnet, email):
    return client.post(f"/carnets/{carnet.public_id}/invitations/email", data={"inv-email": email})


def test_a_sender_may_email_20_invitations_an_hour(client, auth, clock, create_professional, create_carnet):
    pro = create_professional()
    carnets = [create_carnet(pro, first_names=f"Enfant{n}", birth_date=BIRTH) for n in range(3)]
    auth.login(pro)
    statuses = [send(client, carnets[n % 3], f"parent{n}@exemple.fr").status_code for n in range(20)]
    assert statuses == [303] * 20
    refused = send(client, carnets[0], "parent20@exemple.fr")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "20 invitations par e-mail en une heure" in page and "QR code" in page
    assert count(OutboxMessage) == 20 and count(Invitation) == 20
    # QR codes and links are not e-mails: still allowed.
    assert client.post(f"/carnets/{carnets[0].public_id}/invitations/code", data={"channel": "qr"}).status_code == 303
    clock.advance(hours=1, minutes=1)
    auth.login(pro)  # a professional's session ends after 30 minutes idle: logged in again
    assert send(client, carnets[0], "parent20@exemple.fr").status_code == 303


def test_an_address_receives_5_invitations_a_day_whoever_sends(client, auth, clock, create_professional,
                                                               create_carnet):
    pros = [create_professional() for _ in range(2)]
    carnets = [create_carnet(pro, birth_date=BIRTH) for pro in pros]
    statuses = []
    for n in range(6):
        auth.login(pros[n % 2])
        statuses.append(send(client, carnets[n % 2], "Cible@Exemple.fr").status_code)
        auth.logout()
    assert statuses == [303] * 5 + [429]
    assert count(OutboxMessage, OutboxMessage.recipient == "cible@exemple.fr") == 5
    auth.login(pros[0])
    page = send(client, carnets[0], "cible@exemple.fr").get_data(as_text=True)
    assert "Cette adresse a déjà reçu 5 invitations aujourd’hui" in page
    # Re-issuing an e-mailed invitation sends one too: refused, and the old link keeps working.
    last = db.session.scalar(select(Invitation).where(Invitation.created_by_id == pros[0].id)
                             .order_by(Invitation.id.desc()))
    reissued = client.post(f"/carnets/{carnets[0].public_id}/invitations/{last.id}/renouveler")
    assert reissued.status_code == 303
    db.session.refresh(last)
    assert last.revoked_at is None and count(Invitation, Invitation.channel == InvitationChannel.EMAIL) == 5
    assert "5 invitations aujourd’hui" in client.get(reissued.location).get_data(as_text=True)
    clock.advance(days=1, minutes=1)
    auth.login(pros[0])  # a professional's session ends after 30 minutes idle: logged in again
    assert send(client, carnets[0], "cible@exemple.fr").status_code == 303
