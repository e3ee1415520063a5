"""The pinned browser assets (core.assets): fetched by the lockfile's version, refused on a hash that
differs, unpacked whole or not at all, and nothing but the named files."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from yunying.core import assets
from yunying.core.assets import AssetError, assets_fetch, assets_missing, integrity_matches


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A tiny npm registry on loopback serving one package, `demo-lib`, and its lockfile."""
    root = tmp_path / "registry"
    (root / "demo-lib" / "-").mkdir(parents=True)
    good = _tarball({"dist/lib.js": b"console.log('demo');", "dist/other.js": b"x", "../evil": b"no"})
    (root / "demo-lib" / "-" / "demo-lib-1.0.0.tgz").write_bytes(good)
    lock_dir = tmp_path / "vendor"
    lock_dir.mkdir()
    (lock_dir / "package.json").write_text(json.dumps({"dependencies": {"demo-lib": "1.0.0"}}))
    lockfile = lock_dir / "package-lock.json"
    lockfile.write_text(
        json.dumps({"packages": {"node_modules/demo-lib": {"version": "1.0.0", "integrity": _sri(good)}}})
    )
    monkeypatch.setattr(assets, "FILES", {"demo-lib": ["dist/lib.js"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", lockfile, root
    server.shutdown()


def test_a_package_is_fetched_verified_and_only_its_named_files_unpacked(registry, tmp_path):
    url, lockfile, _ = registry
    target = tmp_path / "assets"
    assert assets_missing(target, lockfile) == ["demo-lib@1.0.0"]
    assert assets_fetch(target, registry=url, lockfile=lockfile) == ["demo-lib@1.0.0"]
    assert (target / "demo-lib/dist/lib.js").read_bytes() == b"console.log('demo');"
    assert not (target / "demo-lib/dist/other.js").exists()
    assert not (tmp_path / "evil").exists()
    assert assets_missing(target, lockfile) == []
    # a second run fetches nothing
    assert assets_fetch(target, registry=url, lockfile=lockfile) == []


def test_a_tarball_whose_hash_differs_from_the_lockfile_is_refused_and_nothing_kept(registry, tmp_path):
    url, lockfile, root = registry
    (root / "demo-lib/-/demo-lib-1.0.0.tgz").write_bytes(_tarball({"dist/lib.js": b"alert('tampered')"}))
    target = tmp_path / "assets"
    with pytest.raises(AssetError, match="sha512 differs"):
        assets_fetch(target, registry=url, lockfile=lockfile)
    assert not (target / "demo-lib").exists()


def test_a_lockfile_that_pins_another_version_than_package_json_is_refused(registry, tmp_path):
    url, lockfile, _ = registry
    (lockfile.parent / "package.json").write_text(json.dumps({"dependencies": {"demo-lib": "2.0.0"}}))
    with pytest.raises(AssetError, match="does not pin"):
        assets_fetch(tmp_path / "assets", registry=url, lockfile=lockfile)


def test_a_changed_file_in_place_is_fetched_again_when_the_pin_changes(registry, tmp_path):
    url, lockfile, _ = registry
    target = tmp_path / "assets"
    assets_fetch(target, registry=url, lockfile=lockfile)
    (target / "demo-lib/.integrity").write_text("sha512-old")
    assert assets_missing(target, lockfile) == ["demo-lib@1.0.0"]


def test_integrity_is_sha512_only():
    assert integrity_matches(b"x", _sri(b"x"))
    assert not integrity_matches(b"x", _sri(b"y"))
    assert not integrity_matches(b"x", "sha1-" + base64.b64encode(hashlib.sha1(b"x").digest()).decode())


def test_the_real_lockfile_pins_every_package_the_pages_use():
    packages = assets.locked_packages()
    assert set(packages) == set(assets.FILES)
    assert all(p.integrity.startswith("sha512-") for p in packages.values())


def test_no_page_template_loads_anything_from_another_host():
    """Self-hosted deployments run in intranets: every script, style, font and image is the product's
    own (the browser tests also watch every request each page makes)."""
    import re
    from pathlib import Path

    import yunying

    pattern = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.I)
    offenders = [
        str(path)
        for path in Path(yunying.__file__).parent.rglob("templates/**/*.html")
        if pattern.search(path.read_text())
    ]
    assert offenders == []
