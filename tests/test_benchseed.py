"""`flask cvn bench-seed`: the benchmark dataset, at a small scale, on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib

import pyotp

from sqlalchemy import func, select

from cvn.backup import check_archives
from cvn.benchseed.services import PASSWORD, TOTP_SECRET
from cvn.extensions import db
from cvn.models import (Access, AlertSubscription, Archive, Base, Carnet, Dose, DoseState, Ownership, Role,
                        User)

SCALE = "0.01"  # 1,000 carnets, 3 professionals … in a second or two


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fingerprint() -> str:
    """Return a digest of every seeded row, in id order (password hashes aside: scrypt salts them)."""
    h = hashlib.sha256()
    for model in (User, Carnet, Access, Dose, Ownership, AlertSubscription, Archive):
        columns = [c for c in model.__table__.c if c.name != "password_hash"]
        for row in db.session.execute(select(*columns).order_by(model.__table__.c.id)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def wipe() -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def test_bench_seed_writes_the_regional_shape_at_a_small_scale(runner):
    result = runner.invoke(args=["cvn", "bench-seed", "--scale", SCALE])
    assert result.exit_code == 0, result.output
    assert count(Carnet) == 1000
    assert count(User, User.role == "professional") == 3
    doses = count(Dose)
    assert 13_000 <= doses <= 17_000  # 5 to 25 a carnet, 15 on average
    assert count(Dose, Dose.carnet_id == 1) == 20  # the carnet the web benchmark opens
    pro = db.session.scalar(select(User).where(User.email == "bench-pro1@exemple.fr"))
    assert count(Access, Access.professional_id == pro.id, Access.ended_at.is_(None)) == 20
    assert count(Dose, Dose.state == DoseState.DECLARED) > 0
    assert count(Ownership) > 500 and count(AlertSubscription) > 0
    ended = count(Access, Access.ended_at.is_not(None))
    assert ended > 0 and count(Archive) == ended
    check = check_archives()
    assert check.total == ended and check.intact == ended
    owner = db.session.scalar(select(User).where(User.email == "bench-owner1@exemple.fr"))
    assert owner.role == Role.PATIENT and owner.check_password(PASSWORD)
    assert db.session.scalar(select(Ownership.carnet_id).where(Ownership.user_id == owner.id).limit(1)) == 1
    # A second run refuses: the dataset goes into an empty database only.
    again = runner.invoke(args=["cvn", "bench-seed", "--scale", SCALE])
    assert again.exit_code != 0 and "déjà des carnets" in again.output


def test_bench_seed_is_deterministic_and_the_app_reads_it(runner, client, clock):
    assert runner.invoke(args=["cvn", "bench-seed", "--scale", SCALE]).exit_code == 0
    first = fingerprint()
    wipe()
    assert runner.invoke(args=["cvn", "bench-seed", "--scale", SCALE]).exit_code == 0
    assert fingerprint() == first
    # The seeded professional logs in with the published password and opens carnet 1 (20 doses).
    step = client.post("/connexion", data={"email": "bench-pro1@exemple.fr", "password": PASSWORD})
    assert step.headers["Location"].endswith("/connexion/code")
    code = client.post("/connexion/code", data={"code": pyotp.TOTP(TOTP_SECRET).at(clock.now)})
    assert code.status_code == 303
    public_id = db.session.scalar(select(Carnet.public_id).where(Carnet.id == 1))
    page = client.get(f"/carnets/{public_id}")
    assert page.status_code == 200
    # New rows after the seed get fresh ids (the sequences moved past the explicit ones).
    assert client.get("/pro/?q=dur").status_code == 200
