"""The development outbox page: read the e-mails CVN would have sent.

Only in development (or tests), and only for administrators or requests from
this machine, since messages carry one-time links.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from cvn.extensions import db
from cvn.models import OutboxMessage
from cvn.web import render

bp = Blueprint("outbox", __name__, url_prefix="/dev/boite-mail")

LOCAL_ADDRESSES = {"127.0.0.1", "::1"}


@bp.before_request
def only_in_development():
    """Hide the outbox outside development, and from remote non-admins."""
    if current_app.config["CVN_ENV"] not in {"development", "testing"}:
        abort(404)
    is_admin = current_user.is_authenticated and current_user.is_admin
    if not is_admin and request.remote_addr not in LOCAL_ADDRESSES:
        abort(404)


@bp.get("/")
def index():
    """List the newest messages."""
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)).all()
    return render("outbox/index.html", messages=messages)


@bp.get("/<int:message_id>")
def show(message_id: int):
    """Show one message as text, with its links clickable."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render("outbox/show.html", message=message)
