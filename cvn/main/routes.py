"""Home page, PWA shell (manifest, service worker, offline page) and health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, send_from_directory, url_for
from flask_login import current_user

from cvn.extensions import limiter
from cvn.main.services import health as report
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
    """Serve the web app manifest with its registered media type."""
    response = send_from_directory(current_app.static_folder, "manifest.webmanifest",
                                   mimetype="application/manifest+json", max_age=3600)
    return response


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root, so its scope is the whole app."""
    response = send_from_directory(current_app.static_folder, "js/sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/hors-ligne")
def offline():
    """Say the network is unreachable (the service worker serves this page)."""
    return render("main/offline.html")


@bp.get("/sante")
@limiter.exempt
def health():
    """Report database, Redis and outbox state as JSON: 200, or 503 when the database is down."""
    body, status = report()
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
