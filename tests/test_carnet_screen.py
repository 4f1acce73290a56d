"""The carnet screen: sections, what each request pays (SQL statements), permissions once, nothing stale."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from cvn import access as access_policy
from cvn.archives import services as archives
from cvn.carnets import services
from cvn.extensions import db
from cvn.models import AuditEvent, InvitationChannel, InvitationTarget, Sex
from cvn.sharing import services as sharing
from cvn.status import services as status_services
from tests.html import one, text, texts

HTMX = {"HX-Request": "true"}
BIRTH = date(2024, 2, 10)


@contextmanager
def statements(app=None):
    """Collect the SQL statements run meanwhile on the served app's engine (or the test's own)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    if app is None:
        engine = db.engine
    else:
        with app.app_context():
            engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def hexyon_series(pro, carnet, n: int) -> None:
    """Record ``n`` doses, one a week from two months of age (enough to make any list long)."""
    for i in range(n):
        services.record_dose(pro, carnet, services.DoseInput("Hexyon", [], BIRTH + timedelta(days=60 + 7 * i)))


@pytest.fixture
def pro(create_professional):
    return create_professional(first_name="Claire", last_name="Martin")


@pytest.fixture
def carnet(create_carnet, pro):
    return create_carnet(pro)


def statements_of(client, url: str, headers=None, commits: list | None = None) -> list[str]:
    client.get(url, headers=headers)  # warm up: the read event of the first visit, caches
    with client.application.app_context():
        engine = db.engine
    seen: list[str] = []
    # Each commit notes how many statements ran before it.
    count_commit = lambda conn: commits.append(len(seen)) if commits is not None else None  # noqa: E731
    event.listen(engine, "commit", count_commit)
    try:
        with statements(client.application) as seen:
            assert client.get(url, headers=headers).status_code == 200
    finally:
        event.remove(engine, "commit", count_commit)
    return [s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]


def tables_read(statements: list[str]) -> list[str]:
    """Return, for each SELECT, the table of its first column (``SELECT dose.id, …`` → ``dose``)."""
    return [s.split()[1].split(".")[0] for s in statements if s.lstrip().upper().startswith("SELECT")]


@pytest.mark.parametrize("who", ["pro", "owner"])
@pytest.mark.parametrize("path", ["", "/doses"])
def test_the_carnet_page_runs_the_same_few_statements_for_5_and_50_doses(app, auth, client, pro, create_carnet,
                                                                           create_patient, path, who):
    small, large = create_carnet(pro, last_name="Petit"), create_carnet(pro, last_name="Grand")
    hexyon_series(pro, small, 5)
    hexyon_series(pro, large, 50)
    reader = pro
    if who == "owner":
        reader = create_patient()
        for carnet in (small, large):
            sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                          reader, BIRTH, True)
    auth.login(reader)
    few = statements_of(client, f"/carnets/{small.public_id}{path}")
    commits: list = []
    many = statements_of(client, f"/carnets/{large.public_id}{path}", commits=commits)
    assert few and len(few) == len(many), (few, many)
    assert len(many) <= 8, "\n".join(many)
    # Read once each: the session row brings the account and its second factor, the carnet comes
    # with the reader's access or ownership, the doses once for the header and the section.
    tables = tables_read(many)
    assert sorted(set(tables)) == sorted(tables), "\n".join(many)
    assert set(tables) <= {"web_session", "carnet", "dose", "alert_subscription"}, "\n".join(many)
    # One transaction: the read event commits once the page is built, after all of its reads.
    assert sum(s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT") for s in many) == 1
    assert len(commits) == 1 and commits[0] >= len(many), (commits, many)


def test_a_section_fragment_pays_only_for_itself(auth, client, pro, carnet, monkeypatch):
    hexyon_series(pro, carnet, 3)
    auth.login(pro)
    evaluations = []
    monkeypatch.setattr("cvn.carnets.sections.status_from_doses",
                        lambda *a, **k: evaluations.append(a) or status_services.status_from_doses(*a, **k))
    for section in ("partage", "historique"):
        response = client.get(f"/carnets/{carnet.public_id}/{section}", headers=HTMX)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in body and 'id="carnet-body"' in body
        assert 'id="carnet-header"' not in body
    assert evaluations == []  # neither the sharing section nor the history evaluates the status
    page = client.get(f"/carnets/{carnet.public_id}/partage")  # the full page has the header: it does
    assert one(page, "#carnet-header") and len(evaluations) == 1


def test_the_sharing_panel_post_runs_no_status_evaluation(auth, client, pro, carnet, monkeypatch):
    hexyon_series(pro, carnet, 3)
    auth.login(pro)
    calls = []
    monkeypatch.setattr("cvn.status.services.evaluate", lambda *a, **k: calls.append(a) or [])
    monkeypatch.setattr("cvn.carnets.sections.status_from_doses", lambda *a, **k: calls.append(a) or [])
    with statements(client.application) as seen:
        response = client.post(f"/carnets/{carnet.public_id}/invitations/code", data={"channel": "qr"}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="partage"' in body and "<svg" in body
    assert response.headers["HX-Trigger"] == "carnet-changed"
    assert calls == []
    assert seen and not any("FROM dose" in s for s in seen)  # nor loads the doses


def test_permissions_are_computed_once_per_request(auth, client, pro, carnet, monkeypatch):
    hexyon_series(pro, carnet, 4)
    auth.login(pro)
    computed = []
    original = access_policy._permissions_from  # read with the carnet (get_carnet) or alone (_compute)
    monkeypatch.setattr(access_policy, "_permissions_from",
                        lambda user, granted: computed.append(user.id) or original(user, granted))
    for url in (f"/carnets/{carnet.public_id}", f"/carnets/{carnet.public_id}/doses",
                f"/carnets/{carnet.public_id}/partage"):
        computed.clear()
        assert client.get(url).status_code == 200
        assert computed == [pro.id], url
    computed.clear()
    client.post(f"/carnets/{carnet.public_id}/doses", data={"product": "Priorix", "administered_on": "2025-02-10"},
                headers=HTMX)
    assert computed == [pro.id]


def test_permissions_answer_each_role_without_a_query(app, pro, carnet, create_patient, create_professional):
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    declared = services.record_dose(owner, carnet, services.DoseInput("Priorix", [], date(2025, 2, 10)))
    validated = services.record_dose(pro, carnet, services.DoseInput("Hexyon", [], date(2024, 4, 10)))
    as_pro = access_policy.permissions(pro, carnet)
    as_owner = access_policy.permissions(owner, carnet)
    stranger = access_policy.permissions(create_professional(), carnet)
    assert declared.state and validated.state  # loaded before counting
    with statements() as seen:
        assert (as_pro.read, as_pro.write, as_pro.record, as_pro.owner) == (True, True, True, False)
        assert (as_owner.read, as_owner.write, as_owner.record, as_owner.owner) == (True, False, True, True)
        assert (stranger.read, stranger.write, stranger.record) == (False, False, False)
        assert as_pro.can_edit(declared) and as_pro.can_edit(validated)
        assert as_owner.can_edit(declared) and not as_owner.can_edit(validated)
        assert not stranger.can_edit(declared)
    assert seen == []


def test_header_says_who_what_is_due_and_the_main_action(auth, client, pro, create_carnet, clock):
    boy = create_carnet(pro, first_names="Léo", sex=Sex.MALE)
    girl = create_carnet(pro)
    auth.login(pro)
    header = one(client.get(f"/carnets/{boy.public_id}"), "#carnet-header")
    assert text(one(header, ".born")).startswith("Né le 10 février 2024")
    line = text(one(header, "#status-line"))
    assert line.startswith("0 dose") and "en retard" in line
    page = client.get(f"/carnets/{girl.public_id}")
    assert text(one(page, "#carnet-header .born")).startswith("Née le 10 février 2024")
    action = one(page, ".main-action #action-dose")
    assert text(action) == "Enregistrer une dose" and action["href"].endswith("/doses/nouvelle")
    tabs = texts(page, ".section-tabs a")
    assert tabs == ["Statut", "Doses", "Partage", "Historique"]
    assert text(one(page, '.section-tabs a[aria-current="page"]')) == "Statut"


def test_each_section_is_a_page_without_javascript_and_a_fragment_with_htmx(auth, client, pro, carnet):
    auth.login(pro)
    for slug, heading in (("doses", "#doses-titre"), ("partage", "#partage-titre"),
                          ("historique", "#journal-titre")):
        page = client.get(f"/carnets/{carnet.public_id}/{slug}")
        assert one(page, "#carnet-header") and one(page, heading)
        assert one(page, '.section-tabs a[aria-current="page"]')["href"].endswith(f"/{slug}")
        fragment = client.get(f"/carnets/{carnet.public_id}/{slug}", headers=HTMX)
        assert "<html" not in fragment.get_data(as_text=True) and one(fragment, heading)
        # htmx pushes the section's address, so Back works
        assert one(fragment, f'.section-tabs a[href$="/{slug}"]')["hx-push-url"] == "true"


def test_the_audit_trail_is_paginated(auth, client, pro, carnet, clock):
    hexyon_series(pro, carnet, 25)  # 25 dose events + the opening
    auth.login(pro)
    first = client.get(f"/carnets/{carnet.public_id}/historique")
    assert len(texts(first, "#journal .events li")) == 20
    assert one(first, '#journal a[rel="next"]') and not one(first, "#journal .pager").select('a[rel="prev"]')
    second = client.get(f"/carnets/{carnet.public_id}/historique?page=2")
    events = texts(second, "#journal .events li")
    assert len(events) == 7 and events[-1].endswith("Dr Claire Martin a ouvert ce carnet")


def test_reads_are_one_event_per_consultation(auth, client, pro, carnet, clock):
    auth.login(pro)
    for slug in ("", "/doses", "/partage", "/historique"):
        client.get(f"/carnets/{carnet.public_id}{slug}")
    reads = lambda: db.session.scalar(select(func.count()).select_from(AuditEvent).where(  # noqa: E731
        AuditEvent.action == "carnet.read"))
    assert reads() == 1  # four sections read within five minutes: one consultation
    clock.advance(minutes=6)
    client.get(f"/carnets/{carnet.public_id}/doses")
    assert reads() == 2


def test_every_change_answers_its_fragment_and_announces_it(auth, client, pro, carnet, create_patient):
    auth.login(pro)
    added = client.post(f"/carnets/{carnet.public_id}/doses",
                        data={"product": "Hexyon", "administered_on": "2024-04-10"}, headers=HTMX)
    assert added.headers["HX-Trigger"] == "carnet-changed"
    assert added.headers["HX-Push-Url"] == f"/carnets/{carnet.public_id}/doses"  # reload and Back land on Doses
    new_row = one(added, ".dose[data-focus]")  # focus goes to the new row
    dose_id = int(new_row["id"].removeprefix("dose-"))
    corrected = client.post(f"/carnets/{carnet.public_id}/doses/{dose_id}/modifier",
                            data={"product": "Hexyon", "administered_on": "2024-04-11"}, headers=HTMX)
    assert corrected.headers["HX-Trigger"] == "carnet-changed" and one(corrected, f"#dose-{dose_id}")
    flags = client.post(f"/carnets/{carnet.public_id}/situation", data={"flags": ["bcg_risk"]}, headers=HTMX)
    assert flags.headers["HX-Trigger"] == "carnet-summary-changed" and one(flags, "#statut")
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    declared = [services.record_dose(owner, carnet, services.DoseInput("Priorix", [], date(2025, 2, day)))
                for day in (10, 11)]
    validated = client.post(f"/carnets/{carnet.public_id}/doses/{declared[0].id}/valider", headers=HTMX)
    refused = client.post(f"/carnets/{carnet.public_id}/doses/{declared[1].id}/refuser",
                          data={"reason": "Pas de trace"}, headers=HTMX)
    for response in (validated, refused):
        assert response.status_code == 200 and response.headers["HX-Trigger"] == "carnet-changed"
    assert one(validated, ".dose[data-focus]") and one(refused, ".dose[data-focus]")
    panel = client.post(f"/carnets/{carnet.public_id}/invitations/code", data={"channel": "link"}, headers=HTMX)
    assert panel.status_code == 404  # handed over: only its owners share now
    header = client.get(f"/carnets/{carnet.public_id}/resume", headers=HTMX)
    assert "<html" not in header.get_data(as_text=True)
    assert text(one(header, "#status-line")).startswith("3 doses")  # Hexyon, Priorix validated, Priorix refused
    assert one(header, "#carnet-header")["hx-trigger"].startswith("carnet-changed from:body")


def test_the_professional_whose_access_ended_is_told_and_pointed_to_the_archive(
        auth, client, pro, carnet, create_patient, create_professional):
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    access = archives.accesses(carnet)[0]
    archive = archives.end_access(owner, carnet, access)
    auth.login(pro)
    for url in (f"/carnets/{carnet.public_id}", f"/carnets/{carnet.public_id}/doses"):
        response = client.get(url)
        assert response.status_code == 404
        page = one(response, "#acces-termine")
        assert "a arrêté le partage avec vous le 2 mars 2026" in text(page)
        assert one(page, f'a[href="/pro/archives/{archive.id}"]')
        assert "Carnets archivés" in texts(response, ".main-nav a")
    auth.logout()
    auth.login(create_professional())  # anyone else: the plain 404, nothing learnt
    other = client.get(f"/carnets/{carnet.public_id}")
    assert other.status_code == 404 and "acces-termine" not in other.get_data(as_text=True)
    assert "arrêté le partage" not in other.get_data(as_text=True)


def test_the_administrator_lands_on_administration(client, auth, create_admin):
    auth.login(create_admin())
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/professionnels")


def test_dose_form_defaults_to_today_and_folds_the_details(auth, client, pro, carnet, clock):
    auth.login(pro)
    form = client.get(f"/carnets/{carnet.public_id}/doses/nouvelle")
    assert one(form, "#administered_on")["value"] == "2026-03-02"
    fields = [e["name"] for e in one(form, "form.dose-form").select("input[name], select[name], textarea[name]")
              if e.get("type") not in ("hidden", "checkbox")]
    assert fields[:2] == ["product", "administered_on"]  # product first, then the date
    details = one(form, "details.more-details")
    assert text(one(details, "summary")).startswith("Plus de détails") and not details.has_attr("open")
    assert {e["name"] for e in details.select("[name]")} >= {"lot_number", "injection_site", "route", "note"}


KERNEL = {"cvn.clock", "cvn.extensions", "cvn.web", "cvn.inputs", "cvn.audit", "cvn.access", "cvn.errors",
          "cvn.dates", "cvn.tokens", "cvn.config", "cvn.templating"}
FEATURES = ("cvn.admin", "cvn.alerts", "cvn.archives", "cvn.auth", "cvn.carnets", "cvn.main", "cvn.outbox",
            "cvn.patient", "cvn.pro", "cvn.sharing", "cvn.status", "cvn.validation")
#: Where the kernel still leans on a feature (said in the report): the second-factor check the
#: access policy applies, and the outbox's body sealing the outbox model decrypts with.
KERNEL_TO_FEATURE = {("cvn.access", "cvn.auth.factors"), ("cvn.models.outbox", "cvn.outbox.sealing")}


def import_graph():
    """Return the cvn import graph (top-level imports) and the imports found inside functions."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "cvn"
    allowed = {"cvn/__init__.py", "cvn/cli.py", "cvn/demo.py"}
    graph: dict[str, set[str]] = {}
    inner = []
    for path in root.rglob("*.py"):
        rel = f"cvn/{path.relative_to(root).as_posix()}"
        module = rel[:-3].replace("/", ".").removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cvn"):
                graph[module].add(node.module)
                graph[module].update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                graph[module].update(a.name for a in node.names if a.name.startswith("cvn"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and rel not in allowed:
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        inner.append(f"{rel}:{node.name}")
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    return graph, inner


def test_no_arrow_runs_back_up():
    """Services never import routes; the kernel imports no feature (but the two listed)."""
    graph, _inner = import_graph()
    to_routes = [(m, d) for m, deps in graph.items() for d in deps
                 if d.endswith("routes") and not m.endswith("routes") and m not in ("cvn", "cvn.auth.routes")]
    assert to_routes == []
    kernel = [m for m in graph if m in KERNEL or m.startswith("cvn.models")]
    upward = {(m, d) for m in kernel for d in graph[m] if d.startswith(FEATURES)}
    assert upward == KERNEL_TO_FEATURE


def test_no_import_inside_a_function_and_no_circle():
    """The house rule, checked on the source: imports at the top; no module imports one that imports it back."""
    graph, inner = import_graph()
    circles = []
    state: dict[str, int] = {}

    def visit(m, trail):
        state[m] = 1
        for d in graph[m]:
            if state.get(d) == 1:
                circles.append(trail[trail.index(d):] + [d] if d in trail else [m, d])
            elif d not in state:
                visit(d, trail + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert circles == [], circles
    assert sorted(inner) == sorted(KNOWN_INNER_IMPORTS), sorted(inner)


#: The one import left inside a function is a CLI command's (allowed, like cvn/cli.py): the pure
#: engine's forecast command reads the clock only when run, so cvn.schedule imports no Flask at its top.
KNOWN_INNER_IMPORTS: list[str] = ["cvn/schedule/forecast.py:forecast_command"]
