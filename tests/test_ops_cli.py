"""Operator commands: no demo data in production; backups that restore with every archive intact."""
import os
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select, text

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Access, Archive, Carnet, Dose, InvitationChannel, InvitationTarget, User
from cvn.sharing import services as sharing

BIRTH = date(2024, 2, 10)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_refuses_to_run_in_production(make_app):
    app = make_app(CVN_ENV="production")
    result = app.test_cli_runner().invoke(args=["cvn", "demo"])
    assert result.exit_code == 1
    assert "Refusé en production" in result.output and "demo-cvn-2026" not in result.output
    with app.app_context():
        assert count(User) == 0


@pytest.fixture
def archived(create_professional, create_patient, create_carnet):
    """A carnet with doses, owned by a patient who ended two professionals' access (two archives)."""
    pro = create_professional()
    carnet = create_carnet(pro, birth_date=BIRTH)
    carnets.record_dose(pro, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10), note="bien toléré"))
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    for _ in range(2):
        other = create_professional()
        sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL,
                                                InvitationChannel.QR)[0], other, BIRTH, True)
        archives.end_access(owner, carnet, db.session.scalar(
            select(Access).where(Access.professional_id == other.id)))
    return carnet


def release_connections(app):
    """Close this test's own connections, as an operator stops the app before a restore."""
    db.session.remove()
    db.engine.dispose()


@pytest.mark.skipif(shutil.which("pg_dump") is None and os.environ.get("CVN_TEST_DATABASE_URL", "").startswith(
    "postgres"), reason="pg_dump is not installed")
def test_backup_then_restore_brings_everything_back_with_intact_archives(app, runner, archived, tmp_path):
    before = {m.__name__: count(m) for m in (User, Carnet, Dose, Archive)}
    digests = {i: h for i, h in db.session.execute(select(Archive.id, Archive.sha256))}
    path = tmp_path / "sauvegardes" / "cvn.dump"
    result = runner.invoke(args=["cvn", "backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.output and "SHA-256" in result.output
    magic = path.read_bytes()[:16]
    assert magic.startswith(b"PGDMP") if db.engine.dialect.name == "postgresql" else magic == b"SQLite format 3\x00"
    assert path.stat().st_mode & 0o077 == 0  # health data: readable by its owner only

    # Disaster: the archives and carnets are gone, a stray account appeared.
    db.session.execute(text("DELETE FROM archive"))
    db.session.execute(text("DELETE FROM carnet"))
    db.session.add(User(email="apres@exemple.fr", first_name="A", last_name="B", role="patient", auth_version=0,
                        password_hash="x"))
    db.session.commit()
    assert count(Archive) == 0
    release_connections(app)

    refused = runner.invoke(args=["cvn", "restore", str(path)], input="n\n")
    assert refused.exit_code == 1 and count(Archive) == 0  # asks first
    release_connections(app)
    result = runner.invoke(args=["cvn", "restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Archives : 2/2 intactes" in result.output
    db.session.remove()
    assert {m.__name__: count(m) for m in (User, Carnet, Dose, Archive)} == before
    assert {i: h for i, h in db.session.execute(select(Archive.id, Archive.sha256))} == digests
    for archive in db.session.scalars(select(Archive)):
        assert archives.digest(archive.content) == archive.sha256
    assert db.session.scalar(select(Dose.note)) == "bien toléré"


def test_restore_refuses_what_is_not_a_backup(app, runner, tmp_path):
    bogus = tmp_path / "pas-une-sauvegarde.dump"
    bogus.write_text("bonjour")
    release_connections(app)
    result = runner.invoke(args=["cvn", "restore", str(bogus), "--yes"])
    assert result.exit_code == 1 and "Error:" in result.output
    assert count(User) == 0  # the database is still there and usable


def test_demo_shows_a_failed_email_to_the_administrator(runner, client, auth):
    from cvn.models import OutboxMessage, OutboxStatus

    for _ in range(2):  # idempotent
        assert runner.invoke(args=["cvn", "demo"]).exit_code == 0
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).all()
    assert len(failed) == 1
    # The demo administrator logs in like the demo doctor: password, then the code of the printed secret.
    import pyotp

    from cvn.demo import DOCTOR_TOTP_SECRET

    step = client.post("/connexion", data={"email": "admin@demo.cvn.fr", "password": "demo-cvn-2026"})
    assert step.status_code == 303 and step.headers["Location"].endswith("/connexion/code")
    clock = client.application.config["CVN_CLOCK"]
    assert client.post("/connexion/code", data={"code": pyotp.TOTP(DOCTOR_TOTP_SECRET).at(clock())}).status_code == 303
    page = client.get("/admin/e-mails-en-echec").get_data(as_text=True)
    assert "cabinet.ferme@demo.cvn.fr" in page and "Renvoyer" in page
