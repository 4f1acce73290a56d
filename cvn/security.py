"""HTTP security headers set on every response."""
from __future__ import annotations

from flask import Flask, request

#: No inline scripts or styles; nothing loaded from another origin.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def init_app(app: Flask) -> None:
    """Register the after-request hook that sets the headers."""

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        if request.endpoint == "static":
            # A stylesheet, script or image: only the media type rule applies (bytes count on a phone).
            headers.setdefault("X-Content-Type-Options", "nosniff")
            return response
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("CVN_ENV") == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Pages may carry health data: never keep them in a shared or browser cache.
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response
