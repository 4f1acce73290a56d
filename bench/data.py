"""Synthetic data for the benchmarks: many carnets, bulk-inserted."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert

from cvn.carnets.services import search_key
from cvn.extensions import db
from cvn.models import Access, Carnet, Dose, Profession, Role, User
from cvn.models.carnet import new_public_id

LAST = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
        "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
        "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
        "Müller", "Nguyen", "Da Silva", "Benali", "Hoarau", "Le Gall", "Ménard", "Chevalier"]
FIRST = ["Éloïse", "Léa", "Chloé", "Inès", "Zoé", "Jade", "Louise", "Hélène", "Gabriel", "Léo",
         "Raphaël", "Noé", "Jules", "Adam", "Lucas", "Maël", "Anaïs", "Agnès", "Loïc", "Jérôme",
         "François", "Amélie", "Cécile", "Éric", "Noémie", "Thaïs"]


def make_professional(n: int) -> User:
    user = User(email=f"bench-pro{n}@exemple.fr", first_name="Pro", last_name=f"Bench{n}",
                role=Role.PROFESSIONAL, profession=Profession.MEDECIN, rpps=f"{10000000000 + n}",
                is_admin=False, auth_version=1, password_hash="x",
                verified_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    db.session.add(user)
    db.session.flush()
    return user


def populate(total: int, owners: dict[int, int], seed: int = 7, doses_per_carnet: int = 3) -> None:
    """Insert ``total`` carnets; ``owners`` maps professional id → how many are theirs.

    The remaining carnets go to a crowd of other professionals (100 each).
    """
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    assigned = [pid for pid, n in owners.items() for _ in range(n)]
    crowd = []
    while len(assigned) + len(crowd) < total:
        crowd.append(make_professional(10_000 + len(crowd) // 100).id if len(crowd) % 100 == 0 else crowd[-1])
    assigned += crowd
    rng.shuffle(assigned)
    batch = 5000
    for offset in range(0, total, batch):
        carnets, accesses, doses = [], [], []
        for i in range(offset, min(offset + batch, total)):
            last, first = rng.choice(LAST), rng.choice(FIRST)
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30_000))
            carnets.append(dict(id=i + 1, public_id=new_public_id(), last_name=last, first_names=first,
                                birth_date=birth, sex=rng.choice(["F", "M"]),
                                search_name=search_key(last, first), created_at=start,
                                last_activity_at=start + timedelta(minutes=i)))
            accesses.append(dict(carnet_id=i + 1, professional_id=assigned[i],
                                 granted_at=start))
            for k in range(doses_per_carnet):
                doses.append(dict(carnet_id=i + 1, product_name="Hexyon", product_code="hexyon",
                                  diseases=["diphtheria", "tetanus"], administered_on=birth + timedelta(days=60 * (k + 1)),
                                  state="declared" if rng.random() < 0.05 else "validated",
                                  recorded_at=start))
        db.session.execute(insert(Carnet.__table__), carnets)
        db.session.execute(insert(Access.__table__), accesses)
        db.session.execute(insert(Dose.__table__), doses)
        db.session.commit()


def on_each_backend(run) -> None:
    """Call ``run(url, label)`` on a temporary SQLite file, then on CVN_BENCH_DATABASE_URL if set."""
    import os
    import tempfile

    from cvn.config import normalize_database_url

    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.sqlite3", "SQLite")
    url = os.environ.get("CVN_BENCH_DATABASE_URL")
    if url:
        run(normalize_database_url(url), "PostgreSQL")
