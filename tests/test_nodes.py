"""CVN on several machines: two web nodes (the Procfile's gunicorn command) over one PostgreSQL and one
Redis, and worker processes side by side — as the README's deployment section describes.

Runs on PostgreSQL only (CI gives it): SQLite is one file on one machine.
"""
from __future__ import annotations

import gzip
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import brotli
import pytest
from sqlalchemy import func, select

from cvn.extensions import db
from cvn.models import (AlertSubscription, InvitationChannel, InvitationTarget, JobLock, OutboxMessage,
                        OutboxStatus)
from tests.conftest import PASSWORD, TEST_DATABASE_URL
from tests.smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/5"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.nodes,
    pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgres"),
                       reason="two nodes share a PostgreSQL server: set CVN_TEST_DATABASE_URL=postgresql://…"),
    pytest.mark.skipif(not _redis_up(), reason="two nodes share a Redis server: none at 127.0.0.1:6379"),
]


def procfile(kind: str) -> list[str]:
    """Return the command the Procfile gives for a process type (the README points to it)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return shlex.split(command)
    raise LookupError(kind)


class Cluster:
    """Two web nodes and the environment they share (as systemd units would give it)."""

    def __init__(self, database_url: str, tmp: Path):
        self.smtp = SMTPServer().start()
        self.tmp = tmp
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "CVN_ENV": "production",
            "CVN_SECRET_KEY": secrets.token_hex(32),
            "CVN_DATABASE_URL": database_url,
            "CVN_RATELIMIT_STORAGE_URL": REDIS_URL,
            "CVN_MAIL_SERVER": "127.0.0.1",
            "CVN_MAIL_PORT": str(self.smtp.port),
            "CVN_BASE_URL": "https://carnet.exemple.fr",
            "CVN_PROXY_HOPS": "1",
            "CVN_INSTANCE_PATH": str(tmp / "instance"),
            "WEB_CONCURRENCY": "2",
        }
        self.env.pop("CVN_TEST_DATABASE_URL", None)
        self.processes: list[subprocess.Popen] = []
        self.nodes = [self._start_node(name) for name in ("a", "b")]

    def _start_node(self, name: str) -> str:
        port = free_port()
        log = open(self.tmp / f"node-{name}.log", "wb")
        process = subprocess.Popen(procfile("web"), cwd=ROOT, env={**self.env, "CVN_BIND": f"127.0.0.1:{port}"},
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/sante", timeout=2) as response:
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
            assert process.poll() is None, (self.tmp / f"node-{name}.log").read_text()
        raise TimeoutError(f"node {name} did not start: {(self.tmp / f'node-{name}.log').read_text()}")

    def run(self, *args: str, count: int = 1, timeout: int = 60) -> list[subprocess.CompletedProcess]:
        """Run ``flask cvn …`` in ``count`` processes at once; return their results."""
        command = [str(BIN / "flask"), "--app", "wsgi", "cvn", *args]
        started = [subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True) for _ in range(count)]
        results = []
        for process in started:
            out, _ = process.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(command, process.returncode, out))
        return results

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.smtp.stop()


class Browser:
    """One user's browser: keeps its cookies (over plain http here, so ``Secure`` is ignored)."""

    def __init__(self, client_ip: str):
        self.cookies: dict[str, str] = {}
        self.client_ip = client_ip  # as the TLS proxy would append it to X-Forwarded-For
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-Forwarded-For": self.client_ip, "X-Forwarded-Proto": "http"})
        try:
            response = self._opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)

    def csrf(self, url: str) -> str:
        status, page, _ = self.request(url)
        return re.search(r'id="csrf-token" data-token="([^"]+)"', page).group(1)

    def login(self, node: str, email: str, password: str = PASSWORD) -> int:
        token = self.csrf(node + "/connexion")
        return self.request(node + "/connexion", {"csrf_token": token, "email": email, "password": password})[0]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def cluster(database_url, tmp_path_factory):
    running = Cluster(database_url, tmp_path_factory.mktemp("nodes"))
    yield running
    running.stop()


def client_ip() -> str:
    """Return a client address of this test's own (its rate-limit counters are fresh)."""
    return f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def test_both_nodes_run_the_production_settings(cluster):
    for node in cluster.nodes:
        status, body, headers = Browser(client_ip()).request(node + "/sante")
        assert status == 200 and '"database":"ok"' in body.replace(" ", "") and '"redis":"ok"' in body.replace(" ", "")
        assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_session_opened_on_node_a_works_on_node_b(cluster, create_patient):
    a, b = cluster.nodes
    user = create_patient()
    browser = Browser(client_ip())
    assert browser.request(b + "/mes-carnets/")[0] == 302  # not logged in yet
    assert browser.login(a, user.email) == 303
    status, page, _ = browser.request(b + "/mes-carnets/")
    assert status == 200 and "Mes carnets" in page
    # A form whose token node A gave is accepted by node B.
    token = browser.csrf(a + "/compte")
    assert browser.request(b + "/compte", {"csrf_token": token, "action": "email", "em-email": "",
                                            "em-current_password": ""})[0] == 422  # checked, not refused as CSRF


def test_logging_out_on_node_a_ends_the_session_on_node_b(cluster, create_patient):
    a, b = cluster.nodes
    user = create_patient()
    browser = Browser(client_ip())
    assert browser.login(a, user.email) == 303
    stolen = dict(browser.cookies)  # the same session, as another tab or a copied cookie holds it
    token = browser.csrf(a + "/compte")
    assert browser.request(a + "/deconnexion", {"csrf_token": token})[0] == 303
    other = Browser(browser.client_ip)
    other.cookies = stolen
    assert other.request(b + "/mes-carnets/")[0] == 302  # logged out everywhere


def test_rate_limit_counts_are_shared_by_the_nodes(cluster):
    a, b = cluster.nodes
    browser = Browser(client_ip())
    token = browser.csrf(a + "/connexion")
    statuses = [browser.request((a, b)[n % 2] + "/connexion", {"csrf_token": token, "email": "x@exemple.fr",
                                                               "password": "mauvais mot de passe"})[0]
                for n in range(11)]
    # "10 per minute" for the whole service, not 10 per node (nor per worker).
    assert statuses == [401] * 10 + [429]
    # Another client behind the same proxy keeps its own bucket.
    other = Browser(client_ip())
    assert other.login(b, "x@exemple.fr", "mauvais mot de passe") == 401


def test_two_delivery_workers_send_each_message_once(cluster, app):
    from cvn.outbox.services import queue_mail

    for n in range(40):
        queue_mail(f"destinataire{n}@exemple.fr", f"Message {n}", "password_changed",
                   user=type("U", (), {"first_name": f"N{n}"})())
    db.session.commit()
    before = len(cluster.smtp.messages)
    results = cluster.run("deliver-mail", count=2)
    assert all(r.returncode == 0 for r in results), [r.stdout for r in results]
    received = [m["to"][0] for m in cluster.smtp.messages[before:]]
    assert len(received) == 40 and len(set(received)) == 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == OutboxStatus.SENT)) == 40
    sent = [int(re.search(r"(\d+) envoyé", r.stdout).group(1)) for r in results]
    assert sum(sent) == 40


def test_two_schedulers_run_the_daily_alert_job_once(cluster, app, clock, create_professional, create_patient,
                                                     create_carnet):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from cvn.alerts import services as alerts
    from cvn.sharing import services as sharing

    clock.now = datetime.now(ZoneInfo("UTC"))  # the worker processes live in real time
    today = clock.now.astimezone(ZoneInfo("Europe/Paris")).date()

    db.session.execute(JobLock.__table__.delete())
    db.session.commit()
    born = today - timedelta(days=75)  # two and a half months: the first vaccines are due
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Léo", birth_date=born)
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, born, True)
    alerts.subscribe(owner, carnet, True)
    assert db.session.scalar(select(func.count()).select_from(AlertSubscription)) == 1
    # Two worker processes fire the daily job at the same moment (the scheduler's own call).
    results = cluster.run("run-alerts", "--scheduled", count=2)
    assert all(r.returncode == 0 for r in results), [r.stdout for r in results]
    ran = [r for r in results if "déjà" not in r.stdout]
    assert len(ran) == 1 and "1 message(s)" in ran[0].stdout, [r.stdout for r in results]
    # Later the same day (a restarted worker catching up): nothing runs again.
    again = cluster.run("run-alerts", "--scheduled")[0]
    assert "déjà été envoyées ce jour-là" in again.stdout
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert db.session.get(JobLock, alerts.JOB).last_run_on == today


def test_gunicorn_nodes_answer_compressed_and_hashed_static_files(cluster):
    node = cluster.nodes[0]
    request = urllib.request.Request(node + "/connexion", headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "br"
        page = brotli.decompress(response.read()).decode()
    css = re.search(r'href="(/static/css/cvn\.css\?v=\w+)"', page).group(1)
    request = urllib.request.Request(node + css, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert b":root" in gzip.decompress(response.read())
