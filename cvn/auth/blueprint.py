"""The auth blueprint, shared by its route modules (routes, account_routes, methods_routes)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)
