"""The e-mail outbox: queue in the caller's transaction, deliver from a job.

``queue_mail`` only adds a row to the session; the caller's commit makes the
message exist together with the change that caused it. ``deliver_due`` sends
pending messages with Flask-Mail and retries failures with exponential back-off.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import select

from cvn.clock import utcnow
from cvn.extensions import db, mail
from cvn.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

#: After this many failed attempts a message is marked failed (about 3 days of retries).
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def queue_mail(recipient: str, subject: str, template: str, **context) -> OutboxMessage:
    """Add a message rendered from ``templates/mail/<template>.txt|.html`` to the session."""
    context.setdefault("subject", subject)
    # E-mails need no request context processors (user, CSRF…): render with the
    # bare environment (filters and gettext included), which is much cheaper in bulk.
    env = current_app.jinja_env
    text = env.get_template(f"mail/{template}.txt").render(context)
    html = env.get_template(f"mail/{template}.html").render(context)
    message = OutboxMessage(recipient=recipient, subject=subject, body_text=text, body_html=html,
                            status=OutboxStatus.PENDING, attempts=0, created_at=utcnow(),
                            next_attempt_at=utcnow())
    db.session.add(message)
    return message


def retry_delay(attempts: int) -> timedelta:
    """Return the wait before the next try after ``attempts`` failures."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def deliver_due(limit: int = 50) -> dict[str, int]:
    """Send the pending messages that are due; return counts of sent and failed.

    Rows are locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
    worker processes never send the same message twice. In ``outbox`` delivery
    mode (development without SMTP) nothing is sent: the outbox page shows them.
    """
    counts = {"sent": 0, "failed": 0}
    if current_app.config["CVN_MAIL_DELIVERY"] != "smtp":
        return counts
    for _ in range(limit):
        now = utcnow()
        # One message per transaction: its lock is held only while it is sent.
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            break
        message.attempts += 1
        try:
            mail.send(Message(subject=message.subject, recipients=[message.recipient],
                              body=message.body_text, html=message.body_html))
        except Exception as exc:  # SMTP down, refused, timeout …
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            else:
                message.next_attempt_at = now + retry_delay(message.attempts)
            counts["failed"] += 1
            log.warning("outbox message %s not delivered (attempt %s): %s",
                        message.id, message.attempts, type(exc).__name__)
            db.session.commit()
            break  # the server is probably down: the next run retries the rest
        message.status = OutboxStatus.SENT
        message.sent_at = utcnow()
        message.last_error = None
        counts["sent"] += 1
        db.session.commit()
    return counts
