"""Pooled connections: pinged before use only after sitting idle; a dead idle one is replaced unseen."""
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cvn import dbpool
from cvn.extensions import db


def _pings(monkeypatch) -> list:
    seen: list = []
    original = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: seen.append(conn) or original(conn))
    return seen


def test_a_connection_back_from_a_request_is_not_pinged_an_idle_one_is(app, monkeypatch):
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()  # back to the pool, just now
        pings = _pings(monkeypatch)
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert pings == []  # a busy worker's next request pays no ping
        monkeypatch.setattr(dbpool, "IDLE_BEFORE_PING", 0.0)
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert len(pings) == 1


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(app, monkeypatch):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs a server that drops connections (PostgreSQL)")
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
        url = make_url(db.engine.url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        monkeypatch.setattr(dbpool, "IDLE_BEFORE_PING", 0.0)  # as if it sat idle
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        db.session.remove()
