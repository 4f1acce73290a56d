"""Scheduled jobs (APScheduler): e-mail delivery every 20 s, due-dose alerts daily at 08:00,
ended sessions purged hourly.

In development the scheduler runs inside the web process (``CVN_SCHEDULER=1``,
set by ``make run``). In production it runs in its own process,
``flask cvn worker``; jobs are safe to run in several processes at once
(row locks with SKIP LOCKED for the outbox; for the alerts, a job lock and the
date of the last completed run, so several schedulers run it once a day).
"""
from __future__ import annotations

import logging
import os

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from cvn.alerts.services import run_daily
from cvn.outbox.services import deliver_due
from cvn.sessions import purge

log = logging.getLogger(__name__)

#: How often the outbox is drained, in seconds.
OUTBOX_INTERVAL = 20
#: Local hour of the daily alerts job.
ALERTS_HOUR = 8


def _deliver_outbox(app: Flask) -> None:
    with app.app_context():
        counts = deliver_due()
        if counts["sent"] or counts["failed"]:
            log.info("outbox: %(sent)s sent, %(failed)s failed", counts)


def _send_alerts(app: Flask) -> None:
    with app.app_context():
        stats = run_daily(once_a_day=True)
        log.info("alerts: %s carnets, %s announcements, %s messages%s", stats.carnets, stats.announced,
                 stats.messages, " (skipped: another process holds the lock or ran today)" if stats.skipped else "")


def _purge_sessions(app: Flask) -> None:
    with app.app_context():
        purge()


def make_scheduler(app: Flask, blocking: bool = False):
    """Build a scheduler holding CVN's jobs, bound to ``app``."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=app.config["CVN_TIMEZONE"])
    scheduler.add_job(_deliver_outbox, "interval", seconds=OUTBOX_INTERVAL, args=[app],
                      id="deliver_outbox", max_instances=1, coalesce=True)
    # Every day at 08:00 Paris time; a missed run (process down) runs on the next start-up.
    scheduler.add_job(_send_alerts, "cron", hour=ALERTS_HOUR, minute=0, args=[app], id="alerts",
                      max_instances=1, coalesce=True, misfire_grace_time=12 * 3600)
    scheduler.add_job(_purge_sessions, "interval", hours=1, args=[app], id="purge_sessions",
                      max_instances=1, coalesce=True)
    return scheduler


def init_app(app: Flask) -> None:
    """Start the in-process scheduler when asked (development server)."""
    if not app.config.get("CVN_SCHEDULER"):
        return
    # Under the reloader, only the child process serving requests runs jobs.
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return
    scheduler = make_scheduler(app)
    scheduler.start()
    app.extensions["cvn_scheduler"] = scheduler
