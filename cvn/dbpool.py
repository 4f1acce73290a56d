"""Pooled connections are checked before use only when they sat idle (replaces ``pool_pre_ping``).

``pool_pre_ping`` costs one round trip to the database on every request; on a
busy worker the connection was in use a few milliseconds ago and that ping
is the page's most useless statement. Here a connection idle for
``IDLE_BEFORE_PING`` seconds or more (or never used) is pinged with the
dialect's own ping; a dead one is thrown away and the pool opens another, as
``pool_pre_ping`` did, so a database restarted while the service was quiet
still costs no request an error. A connection that dies while the workers are
busy fails one request (the 503 page, ``cvn.errors``) and the pool drops every
connection made before it.
"""
from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event, exc

from cvn.extensions import db

#: A connection returned to the pool longer ago than this is pinged before use.
IDLE_BEFORE_PING = 2.0
_RETURNED = "cvn_returned_at"


def init_app(app: Flask) -> None:
    """Ping idle connections on checkout and note when each goes back to the pool."""
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy):
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned < IDLE_BEFORE_PING:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool retries with a fresh connection
            raise exc.DisconnectionError() from error
