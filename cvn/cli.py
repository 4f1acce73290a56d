"""``flask cvn …`` commands: demo data, operator tasks, the job worker."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import Profession, Role, User

cvn_cli = AppGroup("cvn", help="Commandes du carnet de vaccination numérique.")

#: Demo accounts; the password is printed by `flask cvn demo`.
DEMO_PASSWORD = "demo-cvn-2026"
DEMO_ACCOUNTS = [
    dict(email="admin@demo.cvn.fr", first_name="Alice", last_name="Opératrice",
         role=Role.PATIENT, is_admin=True),
    dict(email="dr.martin@demo.cvn.fr", first_name="Claire", last_name="Martin",
         role=Role.PROFESSIONAL, profession=Profession.MEDECIN, rpps="10001234567", verified=True),
    dict(email="inf.bernard@demo.cvn.fr", first_name="Hugo", last_name="Bernard",
         role=Role.PROFESSIONAL, profession=Profession.INFIRMIER, rpps="10007654321", verified=False),
    dict(email="patient@demo.cvn.fr", first_name="Éloïse", last_name="Durand",
         role=Role.PATIENT),
]


@cvn_cli.command("demo")
def demo() -> None:
    """Load the demo accounts (idempotent) and print how to log in."""
    created = 0
    for spec in DEMO_ACCOUNTS:
        spec = dict(spec)
        verified = spec.pop("verified", False)
        if db.session.scalar(select(User).where(User.email == spec["email"])) is not None:
            continue
        user = User(auth_version=0, **{"is_admin": False, **spec})
        user.set_password(DEMO_PASSWORD)
        if verified:
            user.verified_at = utcnow()
        db.session.add(user)
        created += 1
    db.session.commit()
    click.echo(f"Données de démonstration : {created} compte(s) créé(s).")
    click.echo(f"Mot de passe de tous les comptes : {DEMO_PASSWORD}")
    for spec in DEMO_ACCOUNTS:
        kind = "administrateur" if spec.get("is_admin") else (
            "professionnel vérifié" if spec.get("verified") else
            "professionnel non vérifié" if spec["role"] == Role.PROFESSIONAL else "patient")
        click.echo(f"  {spec['email']:<28} {kind}")


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


@cvn_cli.command("worker")
def worker() -> None:
    """Run the scheduled jobs in this process until stopped."""
    from flask import current_app

    from cvn.jobs import make_scheduler

    click.echo("Tâches planifiées démarrées (Ctrl+C pour arrêter).")
    make_scheduler(current_app._get_current_object(), blocking=True).start()


def init_app(app: Flask) -> None:
    """Register the command group."""
    app.cli.add_command(cvn_cli)
