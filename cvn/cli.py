"""``flask cvn …`` commands: demo data, operator tasks, the job worker."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from cvn.extensions import db

cvn_cli = AppGroup("cvn", help="Commandes du carnet de vaccination numérique.")


@cvn_cli.command("demo")
def demo() -> None:
    """Load the demo accounts and carnets (idempotent) and print how to log in."""
    from cvn import demo as demo_data

    for line in demo_data.load():
        click.echo(line)


@cvn_cli.command("verify-pro")
@click.argument("email")
def verify_pro(email: str) -> None:
    """Verify the professional account with this EMAIL."""
    from cvn.auth.services import find_by_email, verify_professional

    user = find_by_email(email)
    if user is None or not user.is_professional:
        raise click.ClickException(f"Aucun compte professionnel pour {email}.")
    verify_professional(user)
    click.echo(f"Compte professionnel vérifié : {user.email}")


@cvn_cli.command("make-admin")
@click.argument("email")
def make_admin(email: str) -> None:
    """Give the account with this EMAIL the administrator flag."""
    from cvn.auth.services import find_by_email

    user = find_by_email(email)
    if user is None:
        raise click.ClickException(f"Aucun compte pour {email}.")
    user.is_admin = True
    db.session.commit()
    click.echo(f"{user.email} est administrateur.")


@cvn_cli.command("deliver-mail")
def deliver_mail() -> None:
    """Send the pending e-mails of the outbox once."""
    from cvn.outbox.services import deliver_due

    counts = deliver_due(limit=1000)
    click.echo(f"{counts['sent']} envoyé(s), {counts['failed']} en échec.")


@cvn_cli.command("run-alerts")
@click.option("--on", "on", default=None, help="Date to run for (AAAA-MM-JJ), today by default.")
def run_alerts(on: str | None) -> None:
    """Announce newly due doses to opted-in owners (the daily job, run once)."""
    from datetime import date

    from cvn.alerts.services import run_daily

    stats = run_daily(date.fromisoformat(on) if on else None)
    if stats.skipped:
        click.echo("Un autre processus exécute déjà les alertes.")
    click.echo(f"{stats.carnets} carnet(s) suivis, {stats.announced} échéance(s) annoncée(s), "
               f"{stats.messages} message(s).")


@cvn_cli.command("worker")
def worker() -> None:
    """Run the scheduled jobs in this process until stopped."""
    from flask import current_app

    from cvn.jobs import make_scheduler

    click.echo("Tâches planifiées démarrées (Ctrl+C pour arrêter).")
    make_scheduler(current_app._get_current_object(), blocking=True).start()


def init_app(app: Flask) -> None:
    """Register the command group."""
    from cvn.schedule.forecast import forecast_command

    cvn_cli.add_command(forecast_command, "forecast")
    app.cli.add_command(cvn_cli)
