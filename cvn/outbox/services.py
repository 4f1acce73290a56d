"""The e-mail outbox: queue in the caller's transaction, deliver from a job.

``queue_mail`` only adds a row to the session; the caller's commit makes the
message exist together with the change that caused it. ``deliver_due`` sends
pending messages with Flask-Mail and retries failures: with exponential back-off
first (12 tries, about 20 hours), then every 6 hours for 7 more days; only then
is a message marked failed, and an administrator can send it again ("Renvoyer").
A body carrying a one-time link is stored encrypted until it is delivered, then
kept with the link removed (see ``cvn.outbox.sealing``).
"""
from __future__ import annotations

import logging
from datetime import timedelta, timezone

from flask import current_app
from flask_mail import Message
from sqlalchemy import func, select

from cvn.clock import utcnow
from cvn.extensions import db, mail
from cvn.models import OutboxMessage, OutboxStatus
from cvn.outbox.sealing import InvalidToken, carries_one_time_link, redact_links, seal

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
#: Tries with exponential back-off (1 min doubling up to 6 h: about 20 hours) …
BACKOFF_ATTEMPTS = 12
#: … then one try every 6 hours for this long, before a message is marked failed.
SLOW_RETRIES_FOR = timedelta(days=7)
#: Failed attempts after which a message is marked failed (12 + 28).
MAX_ATTEMPTS = BACKOFF_ATTEMPTS + int(SLOW_RETRIES_FOR / LONGEST_RETRY)


def queue_mail(recipient: str, subject: str, template: str, headers: dict[str, str] | None = None,
               **context) -> OutboxMessage:
    """Add a message rendered from ``templates/mail/<template>.txt|.html`` to the session.

    ``headers`` are extra e-mail headers stored with the message and sent with it.
    """
    context.setdefault("subject", subject)
    # E-mails need no request context processors (user, CSRF…): render with the
    # bare environment (filters and gettext included), which is much cheaper in bulk.
    env = current_app.jinja_env
    text = env.get_template(f"mail/{template}.txt").render(context)
    html = env.get_template(f"mail/{template}.html").render(context)
    sealed = carries_one_time_link(text) or carries_one_time_link(html)
    if sealed:
        text, html = seal(text), seal(html)
    message = OutboxMessage(recipient=recipient, subject=subject, stored_text=text, stored_html=html,
                            sealed=sealed, headers=dict(headers) if headers else None,
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
            text, html = message.body_text, message.body_html
        except InvalidToken:  # the key changed since it was queued: no retry can help
            message.status = OutboxStatus.FAILED
            message.last_error = ("InvalidToken: clé de chiffrement changée depuis la mise en file "
                                  "(CVN_OUTBOX_KEY ou CVN_SECRET_KEY)")
            counts["failed"] += 1
            log.error("outbox message %s cannot be decrypted", message.id)
            db.session.commit()
            continue
        try:
            mail.send(Message(subject=message.subject, recipients=[message.recipient], body=text, html=html,
                              extra_headers=dict(message.headers) if message.headers else None))
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
        if message.sealed:  # delivered: keep the copy, not the link
            message.stored_text, message.stored_html = redact_links(text), redact_links(html)
            message.sealed = False
        counts["sent"] += 1
        db.session.commit()
    return counts


def failed_messages(limit: int = 200) -> list[OutboxMessage]:
    """Return the messages given up on, newest first."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
                                   .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                                   .limit(limit)))


def resend(message_id: int) -> OutboxMessage | None:
    """Put a failed message back in the queue, due now, with a fresh retry budget."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED:
        return None
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.commit()
    log.info("outbox message %s queued again by an administrator", message.id)
    return message


def state() -> dict:
    """Return the outbox's counts and the age in seconds of the oldest pending message."""
    counts = {OutboxStatus(status): n for status, n in db.session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        .group_by(OutboxMessage.status)).tuples()}
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at))
                               .where(OutboxMessage.status == OutboxStatus.PENDING))
    if oldest is not None and oldest.tzinfo is None:  # aggregates skip the column type on some backends
        oldest = oldest.replace(tzinfo=timezone.utc)
    return {"pending": counts.get(OutboxStatus.PENDING, 0), "failed": counts.get(OutboxStatus.FAILED, 0),
            "oldest_pending_age_seconds": int((utcnow() - oldest).total_seconds()) if oldest else None}
