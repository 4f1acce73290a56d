"""Home page, PWA shell (manifest, service worker, offline page) and health check."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user

from cvn.extensions import limiter
from cvn.main.services import health as report
from cvn.static_files import SHELL
from cvn.web import render

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """Send each account to its space (the administrator to administration); welcome visitors."""
    if current_user.is_authenticated:
        if current_user.is_admin:
            return redirect(url_for("admin.professionals"))
        if current_user.is_professional:
            return redirect(url_for("pro.home"))
        if current_user.is_patient:
            return redirect(url_for("patient.home"))
    return render("main/home.html")


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the web app manifest, its images under their hashed URLs."""
    data = json.loads(current_app.extensions["cvn_static"]["manifest.webmanifest"].raw)
    for image in data.get("icons", []) + data.get("screenshots", []) + [
            icon for shortcut in data.get("shortcuts", []) for icon in shortcut.get("icons", [])]:
        image["src"] = url_for("static", filename=image["src"].removeprefix("/static/"))
    response = current_app.response_class(json.dumps(data, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root, so its scope is the whole app.

    Its text names the static version and the hashed URLs of the app shell, so
    any change of a static file makes a new worker, which replaces the old caches.
    """
    body = render_template("main/sw.js", version=current_app.config["CVN_STATIC_VERSION"],
                           offline_url=url_for("main.offline"),
                           shell_urls=[url_for("static", filename=name) for name in SHELL])
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/hors-ligne")
def offline():
    """Say the network is unreachable (the service worker serves this page)."""
    return render("main/offline.html", hide_nav=True)


@bp.get("/sante")
@limiter.exempt
def health():
    """Report database, Redis and outbox state as JSON: 200, or 503 when the database is down."""
    body, status = report()
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
