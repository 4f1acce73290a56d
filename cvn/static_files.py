"""Static files under content-hashed URLs, compressed once at start-up.

At start-up every file of the static folder is read, hashed (SHA-256, 12 hex
digits) and, when it is text, compressed with brotli and gzip. ``url_for('static',
filename=...)`` then adds ``?v=<hash>``: a changed file gets a new URL, so an
installed app picks it up on its next page load, and a URL that names the
current hash may be kept for a year (``immutable``). A request naming no hash,
or an old one, still gets the current file, revalidated on every use.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Flask, abort, current_app, request
from werkzeug.wrappers import Response

#: Cache-Control of a URL that names the file's current hash.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Cache-Control of any other static URL (unhashed or stale hash): revalidate each time.
REVALIDATE = "no-cache"
#: Media types worth compressing.
COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "image/svg+xml",
                "application/json", "application/manifest+json", "text/plain"}
#: Files of the app shell, precached by the service worker.
SHELL = ("css/cvn.css", "css/print.css", "css/carnet.css", "js/app.js", "js/carnet.js", "js/htmx-2.0.11.min.js",
         "icons/logo.svg", "icons/icon-192.png")


@dataclass(frozen=True)
class StaticFile:
    """One static file as read at start-up, with its encodings."""

    digest: str
    mimetype: str
    raw: bytes
    br: bytes | None
    gz: bytes | None


def load(folder: Path) -> dict[str, StaticFile]:
    """Read, hash and compress every file under ``folder`` (keys are POSIX relative paths)."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        name = path.relative_to(folder).as_posix()
        mimetype = _mimetype(name)
        packed = mimetype in COMPRESSIBLE and len(raw) >= 500
        files[name] = StaticFile(
            digest=hashlib.sha256(raw).hexdigest()[:12], mimetype=mimetype, raw=raw,
            br=brotli.compress(raw, quality=11) if packed else None,
            gz=gzip.compress(raw, compresslevel=9, mtime=0) if packed else None)
    return files


def _mimetype(name: str) -> str:
    """Return the media type of a static file by its extension."""
    if name.endswith(".js"):
        return "text/javascript"
    if name.endswith(".webmanifest"):
        return "application/manifest+json"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def version(files: dict[str, StaticFile]) -> str:
    """Return one hash of all the files: the service worker's cache version."""
    joined = "".join(f"{name}:{f.digest};" for name, f in sorted(files.items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


def init_app(app: Flask) -> None:
    """Hash the static folder, add ``v=`` to static URLs and serve them from memory."""
    files = load(Path(app.static_folder))
    app.extensions["cvn_static"] = files
    app.config["CVN_STATIC_VERSION"] = version(files)

    @app.url_defaults
    def add_digest(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            known = files.get(values["filename"])
            if known is not None:
                values["v"] = known.digest

    app.view_functions["static"] = serve


def serve(filename: str) -> Response:
    """Send a static file, compressed when the browser accepts it, cached for a year when hashed."""
    known = current_app.extensions["cvn_static"].get(filename)
    if known is None:
        abort(404)
    etag = f"{known.digest}"
    accepted = request.accept_encodings
    body, encoding = known.raw, None
    if known.br is not None and accepted["br"]:
        body, encoding = known.br, "br"
    elif known.gz is not None and accepted["gzip"]:
        body, encoding = known.gz, "gzip"
    response = Response(body, mimetype=known.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
        etag = f"{etag}-{encoding}"
    if known.br is not None:
        response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(etag)
    hashed = request.args.get("v") == known.digest
    response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
    return response.make_conditional(request)
