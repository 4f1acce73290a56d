"""Backups of the whole database, and their restoration.

SQLite: the online backup API (a consistent copy while the app runs).
PostgreSQL: ``pg_dump -Fc`` (custom format) and ``pg_restore --clean``; the
client's major version must be the server's or newer. The password goes to
the tools through the environment, never on the command line.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess  # nosec B404  # runs pg_dump/pg_restore with fixed arguments, no shell
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL

from cvn.archives.services import digest
from cvn.extensions import db
from cvn.models import Archive


class BackupError(RuntimeError):
    """The backup or the restoration could not be done; the message says why, in French."""


@dataclass
class ArchiveCheck:
    total: int
    intact: int


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _url() -> URL:
    return db.engine.url


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    if "sslmode" in url.query:
        env["PGSSLMODE"] = str(url.query["sslmode"])
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} introuvable : installez le client PostgreSQL "
                          "(paquet postgresql-client, même version majeure que le serveur).")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} a échoué : {result.stderr.strip()[:500]}")


def backup(path: Path) -> Path:
    """Write a backup of the database to ``path`` (replaced if it exists)."""
    url = _url()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partiel")
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"],
             _pg_env(url))
    else:
        raise BackupError(f"Base de données non prise en charge : {url.get_backend_name()}.")
    os.replace(partial, path)
    path.chmod(0o600)  # health data
    return path


def restore(path: Path) -> None:
    """Replace the database's content by the backup at ``path``."""
    url = _url()
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {path}.")
    db.session.remove()
    db.engine.dispose()  # no connection of ours may hold a lock while tables are replaced
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"Sauvegarde SQLite endommagée : {path}.")
            target = sqlite3.connect(url.database)
            try:
                source.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"Ce fichier n’est pas une sauvegarde SQLite : {error}.") from None
        finally:
            source.close()
    elif url.get_backend_name() == "postgresql":
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", f"--dbname={url.database}", str(path)], _pg_env(url))
    else:
        raise BackupError(f"Base de données non prise en charge : {url.get_backend_name()}.")


def check_archives() -> ArchiveCheck:
    """Check every archived carnet against its SHA-256."""
    total = intact = 0
    for content, sha256 in db.session.execute(select(Archive.content, Archive.sha256)):
        total += 1
        intact += digest(content) == sha256
    return ArchiveCheck(total, intact)
