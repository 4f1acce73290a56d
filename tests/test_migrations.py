"""The schema comes only from Alembic revisions, and they match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from cvn.extensions import db
from cvn.models import Base


def test_models_match_the_migrations(app):
    """A model change without its revision makes this diff non-empty."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrations_go_down_and_up_again(app):
    db.session.remove()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


SPREAD = "c9398a624a83"  # 0007: spread weekly alert re-checks over the seven days


def _revision_below(revision: str) -> str:
    """Return the revision just below ``revision`` in the chain (whatever the chain becomes)."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    return script.get_revision(revision).down_revision


def test_spread_migration_moves_weekly_rechecks_to_each_carnets_weekday(app, create_patient, create_carnet):
    """Revision 0007: same-day re-checks are spread over the week, never moved later, and kept to the head.

    The rows are written as the schema stood just below 0007; revisions above it
    (sessions, ops) go down first and up again afterwards, and must keep them.
    """
    from datetime import date

    from sqlalchemy import select, text

    from cvn.models import AlertSubscription

    user = create_patient()
    carnet_ids = [create_carnet().id for _ in range(14)]
    user_id = user.id
    db.session.remove()
    downgrade(revision=_revision_below(SPREAD))
    same_day = date(2026, 3, 9)
    with db.engine.begin() as conn:
        for carnet_id in carnet_ids:
            conn.execute(text("INSERT INTO alert_subscription (carnet_id, user_id, created_at, next_check_on) "
                              "VALUES (:c, :u, :t, :n)"),
                         {"c": carnet_id, "u": user_id, "t": "2026-03-02 08:00:00", "n": same_day})
    upgrade(revision=SPREAD)
    with db.engine.connect() as conn:
        moved = dict(conn.execute(text("SELECT carnet_id, next_check_on FROM alert_subscription")).all())
    moved = {carnet_id: date.fromisoformat(str(day)[:10]) for carnet_id, day in moved.items()}
    assert len(moved) == 14
    for carnet_id, day in moved.items():
        assert same_day - date.resolution * 6 <= day <= same_day
        assert day.toordinal() % 7 == carnet_id % 7
    assert len(set(moved.values())) == 7, "two weeks of carnets land on seven different days"
    upgrade()  # the later revisions rebuild tables (user_account on SQLite): nothing pointing at them is lost
    at_head = dict(db.session.execute(select(AlertSubscription.carnet_id, AlertSubscription.next_check_on)).all())
    assert at_head == moved
    if db.engine.dialect.name == "sqlite":  # migrations turn foreign keys off on their connection, then on again
        db.session.remove()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
