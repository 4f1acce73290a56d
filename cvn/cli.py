"""``flask cvn …`` commands: demo data, operator tasks, the job worker."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from cvn.extensions import db

cvn_cli = AppGroup("cvn", help="Commandes du carnet de vaccination numérique.")


@cvn_cli.command("demo")
def demo() -> None:
    """Load the demo accounts and carnets (idempotent) and print how to log in."""
    from flask import current_app

    from cvn import demo as demo_data

    if current_app.config.get("CVN_ENV") == "production":
        raise click.ClickException("Refusé en production : les données de démonstration créent des comptes "
                                   "(dont un administrateur) au mot de passe publié.")

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
@click.option("--scheduled", is_flag=True, help="As the scheduler runs it: skip if it already ran that day.")
def run_alerts(on: str | None, scheduled: bool) -> None:
    """Announce newly due doses to opted-in owners (the daily job, run once)."""
    from datetime import date

    from cvn.alerts.services import run_daily
    from cvn.inputs import YEAR_MESSAGE, year_in_range

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise click.BadParameter(f"date invalide « {on} » (attendu AAAA-MM-JJ)", param_hint="--on") from None
    if day is not None and not year_in_range(day):
        raise click.BadParameter(f"date hors limites « {on} » ({YEAR_MESSAGE})", param_hint="--on")
    stats = run_daily(day, once_a_day=scheduled)
    if stats.skipped:
        click.echo("Un autre processus exécute les alertes, ou elles ont déjà été envoyées ce jour-là.")
    click.echo(f"{stats.carnets} carnet(s) suivis, {stats.announced} échéance(s) annoncée(s), "
               f"{stats.messages} message(s).")


@cvn_cli.command("worker")
def worker() -> None:
    """Run the scheduled jobs in this process until stopped."""
    from flask import current_app

    from cvn.jobs import make_scheduler

    click.echo("Tâches planifiées démarrées (Ctrl+C pour arrêter).")
    make_scheduler(current_app._get_current_object(), blocking=True).start()


@cvn_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Write a backup of the whole database to PATH (SQLite online backup, or pg_dump -Fc)."""
    from cvn import backup as backups

    try:
        written = backups.backup(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Sauvegarde écrite : {written} ({written.stat().st_size} octets, "
               f"SHA-256 {backups.file_digest(written)}).")


@cvn_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(path: Path, yes: bool) -> None:
    """Replace the whole database by the backup at PATH, then check every archive's SHA-256."""
    from cvn import backup as backups

    if not yes:
        click.confirm("Remplacer tout le contenu de la base par cette sauvegarde ?", abort=True)
    try:
        backups.restore(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    check = backups.check_archives()
    click.echo(f"Base restaurée depuis {path}. Archives : {check.intact}/{check.total} intactes (SHA-256).")
    if check.intact != check.total:
        raise click.ClickException(f"{check.total - check.intact} archive(s) ne correspondent plus à leur SHA-256.")


def init_app(app: Flask) -> None:
    """Register the command group."""
    from cvn.schedule.forecast import forecast_command
    from cvn.schedule.review import calendar_command

    cvn_cli.add_command(forecast_command, "forecast")
    cvn_cli.add_command(calendar_command, "calendar")
    app.cli.add_command(cvn_cli)
