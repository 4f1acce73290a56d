"""Static files under hashed URLs, compression, and what the service worker may keep."""
from __future__ import annotations

import gzip
import json
import re
from datetime import date

import brotli

from cvn.models import InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from cvn.static_files import IMMUTABLE, SHELL, load, version
from tests.html import one, parse, text


def _css_url(client) -> str:
    return parse(client.get("/connexion")).select("link[rel=stylesheet]")[0]["href"]


def test_static_urls_carry_the_file_hash_and_are_immutable(app, client):
    url = _css_url(client)
    digest = app.extensions["cvn_static"]["css/cvn.css"].digest
    assert url == f"/static/css/cvn.css?v={digest}"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
    assert b":root" in response.get_data()
    # Without the hash, or with an old one: the current file, revalidated each time.
    for stale in ("/static/css/cvn.css", "/static/css/cvn.css?v=000000000000"):
        response = client.get(stale)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert client.get("/static/nulle-part.css").status_code == 404


def test_a_changed_file_gets_a_new_hash_and_a_new_version(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "cvn.css").write_text("body { color: black; }")
    before = load(tmp_path)
    (tmp_path / "css" / "cvn.css").write_text("body { color: navy; }")
    after = load(tmp_path)
    assert before["css/cvn.css"].digest != after["css/cvn.css"].digest
    assert version(before) != version(after)


def test_static_files_are_compressed_brotli_first_then_gzip(client):
    url = _css_url(client)
    plain = client.get(url).get_data()
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.get_data()) == plain
    assert len(br.get_data()) < len(plain) / 3
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.get_data()) == plain
    assert "Accept-Encoding" in gz.headers["Vary"]
    assert "Content-Encoding" not in client.get(url).headers


def test_pages_json_and_manifest_are_compressed(client):
    for path in ("/connexion", "/manifest.webmanifest", "/sw.js", "/sante"):
        response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
        if len(client.get(path).get_data()) >= 500:
            assert response.headers.get("Content-Encoding") == "br", path
            brotli.decompress(response.get_data())


def test_service_worker_names_the_version_and_the_hashed_shell(app, client):
    text = client.get("/sw.js").get_data(as_text=True)
    assert f'const VERSION = "{app.config["CVN_STATIC_VERSION"]}"' in text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", text).group(1))
    files = app.extensions["cvn_static"]
    assert shell == [f"/static/{name}?v={files[name].digest}" for name in SHELL]
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache"


def test_manifest_images_are_hashed(app, client):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    for image in manifest["icons"] + manifest.get("screenshots", []):
        assert "?v=" in image["src"]
        assert client.get(image["src"]).headers["Cache-Control"] == IMMUTABLE


def test_owner_pages_may_be_kept_offline_per_account(client, auth, create_patient, create_professional,
                                                      create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro)
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, date(2024, 2, 10), True)
    anonymous = client.get("/connexion")
    assert anonymous.headers["X-CVN-Account"] == "anonyme" and "X-CVN-Offline" not in anonymous.headers

    auth.login(owner)
    page = client.get(f"/carnets/{carnet.public_id}")
    owner_key = page.headers["X-CVN-Account"]
    assert page.headers["X-CVN-Offline"] == "1" and owner_key not in ("anonyme", str(owner.id))
    note = one(page, "[data-offline-note]")
    assert note.has_attr("hidden")
    assert text(note) == "Hors ligne — dernière mise à jour le 2 mars 2026 à 09 h 00"
    assert client.get("/mes-carnets/").headers["X-CVN-Offline"] == "1"
    # A fragment is never kept as a page; nor is the account page.
    assert "X-CVN-Offline" not in client.get(f"/carnets/{carnet.public_id}",
                                             headers={"HX-Request": "true"}).headers
    assert "X-CVN-Offline" not in client.get("/compte").headers
    auth.logout()

    auth.login(pro)
    for path in (f"/carnets/{carnet.public_id}", "/pro/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store" and "X-CVN-Offline" not in response.headers
        assert response.headers["X-CVN-Account"] not in ("anonyme", owner_key)
        assert not parse(response).select("[data-offline-note]")
