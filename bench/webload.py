"""Pieces of the web load benchmark: gunicorn on loopback, a tiny HTTP client, wrk, worker memory."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess  # nosec B404  # runs gunicorn and wrk, fixed argument lists
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
WRK = os.environ.get("CVN_WRK", "/usr/bin/wrk")
TOKEN = re.compile(r'id="csrf-token" data-token="([^"]+)"')

#: wrk's Lua: the request of the target, then one JSON line with the figures we keep.
LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format('CVN {{"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"bytes":%d,"errors_status":%d,"errors_socket":%d}}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.bytes,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


def wrk_available() -> bool:
    return Path(WRK).exists() or shutil.which("wrk") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for this ASCII content


def run_wrk(port: int, method: str, path: str, headers: dict[str, str], body: str, seconds: float,
            connections: int) -> dict:
    """Load one URL for ``seconds`` with ``connections`` keep-alive connections; return wrk's figures."""
    lines = "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(method=_lua_string(method), body=_lua_string(body) if body else "nil",
                                headers=lines))
    try:
        wrk = WRK if Path(WRK).exists() else shutil.which("wrk")
        out = subprocess.run([wrk, "-t", str(min(2, connections)), "-c", str(connections),  # nosec B603
                              "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", script.name,
                              f"http://127.0.0.1:{port}{path}"],
                             capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    figures = json.loads(out.split("CVN ", 1)[1].splitlines()[0])
    seconds_run = figures["duration_us"] / 1e6
    figures["rps"] = figures["requests"] / seconds_run if seconds_run else 0.0
    return figures


class Browser:
    """Just enough of a browser for the log-ins: cookies by name, forms as urlencoded posts."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if cookie_value and "Max-Age=0" not in value:
                    self.cookies[name] = cookie_value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        return response.status, dict(response.getheaders()), data

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def token(self, path: str = "/connexion") -> str:
        status, _, page = self.request("GET", path)
        match = TOKEN.search(page)
        if not match:
            raise RuntimeError(f"pas de jeton CSRF sur {path} ({status})")
        return match.group(1)

    def log_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        """Log in through the real forms (and the authenticator-app code when asked)."""
        status, headers, _ = self.request("POST", "/connexion", {"csrf_token": self.token(), "email": email,
                                                                 "password": password})
        if status != 303:
            raise RuntimeError(f"connexion refusée pour {email} ({status})")
        if headers.get("Location", "").endswith("/connexion/code"):
            import pyotp

            for _attempt in range(2):
                token = self.token("/connexion/code")
                status, headers, _ = self.request("POST", "/connexion/code", {
                    "csrf_token": token, "code": pyotp.TOTP(totp_secret).now()})
                if status == 303:
                    break
                time.sleep(31 - time.time() % 30)  # that code was spent: wait for the next one
            else:
                raise RuntimeError(f"code refusé pour {email} ({status})")


@dataclass
class Server:
    """gunicorn serving ``wsgi:app`` with the shipped settings, on a free loopback port."""

    env: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    peak_rss: dict[int, int] = field(default_factory=dict)
    _sampling: bool = False

    def start(self) -> None:
        env = {**os.environ, **self.env, "CVN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(self.workers)}
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        # Workers are not recycled during the measure (max-requests 0), so the peak memory is the real one.
        self.process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "--max-requests", "0",  # nosec
                                         "--access-logfile", "/dev/null", "wsgi:app"],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn s’est arrêté :\n" + Path(self.log.name).read_text()[-3000:])
            try:
                if Browser(self.port).request("GET", "/hors-ligne")[0] == 200 and len(self.workers_pids()) >= self.workers:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn ne répond pas")
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def workers_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def _sample(self) -> None:
        while self._sampling:
            for pid in self.workers_pids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                match = re.search(r"VmRSS:\s+(\d+) kB", status)
                if match:
                    self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), int(match.group(1)) * 1024)
            time.sleep(0.25)

    def stop(self) -> None:
        self._sampling = False
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()
            os.unlink(self.log.name)
