"""`flask cvn …` commands."""
from sqlalchemy import func, select

from cvn.demo import ACCOUNTS as DEMO_ACCOUNTS
from cvn.demo import PASSWORD as DEMO_PASSWORD
from cvn.extensions import db
from cvn.models import User


def test_demo_is_idempotent_and_prints_credentials(runner):
    first = runner.invoke(args=["cvn", "demo"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output and "dr.martin@demo.cvn.fr" in first.output
    second = runner.invoke(args=["cvn", "demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)
    martin = db.session.scalar(select(User).where(User.email == "dr.martin@demo.cvn.fr"))
    assert martin.is_verified_professional and martin.check_password(DEMO_PASSWORD)
    # Dr Martin logs in with an authenticator app whose secret `make run` prints; the patient has none.
    import pyotp

    from cvn.auth import factors
    from cvn.demo import DOCTOR_TOTP_SECRET

    assert "DEMO CVND RMAR" in first.output and factors.login_methods(martin) == ["totp"]
    assert factors.verify_totp(martin, pyotp.TOTP(DOCTOR_TOTP_SECRET).at(factors.utcnow()))
    patient = db.session.scalar(select(User).where(User.email == "patient@demo.cvn.fr"))
    assert factors.login_methods(patient) == [] and patient.email_confirmed_at is not None
    from cvn.carnets.services import revisions
    from cvn.pro.services import patientele

    rows = patientele(martin).rows
    assert len(rows) == 4  # with Lou's carnet, which the patient opened herself and shared
    actions = {r.action for row in rows for r in revisions(row.carnet)}
    assert {"create", "update", "delete"} <= actions
    assert sum(row.pending for row in rows) == 2  # a declared dose in Éloïse's carnet, one in Lou's
    from cvn.archives.services import archives_of

    pharmacist = db.session.scalar(select(User).where(User.email == "pharma.petit@demo.cvn.fr"))
    assert len(archives_of(pharmacist)) == 1
    states = {row.carnet.first_names: row.sharing.kind for row in rows}
    assert states == {"Éloïse": "owned", "Léo": "pending", "Jérôme": "not_shared", "Lou": "owned"}


def test_verify_pro(runner, create_professional, create_patient):
    pro = create_professional(verified=False, email="Infirmier@Exemple.fr")
    result = runner.invoke(args=["cvn", "verify-pro", "INFIRMIER@exemple.fr"])
    assert result.exit_code == 0, result.output
    db.session.refresh(pro)
    assert pro.verified_at is not None


def test_verify_pro_refuses_unknown_or_patient(runner, create_patient):
    patient = create_patient()
    assert runner.invoke(args=["cvn", "verify-pro", "nobody@exemple.fr"]).exit_code == 1
    result = runner.invoke(args=["cvn", "verify-pro", patient.email])
    assert result.exit_code == 1 and "Aucun compte professionnel" in result.output


def test_make_admin(runner, create_patient):
    user = create_patient()
    assert runner.invoke(args=["cvn", "make-admin", user.email]).exit_code == 0
    db.session.refresh(user)
    assert user.is_admin
