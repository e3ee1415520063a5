"""Third-party browser assets (Bootstrap, ECharts, axe-core, jsQR), fetched without Node.

The versions and their integrity hashes are npm's: `vendor/package.json` pins each package by exact
version and `vendor/package-lock.json` (written by `npm install --package-lock-only`) holds the
sha512 of each tarball. `yunying assets` reads that lockfile, downloads each tarball from the npm
registry, refuses any whose hash differs, and unpacks only the files the pages use into ASSETS_DIR,
which the product serves as /static/vendor/… . Nothing is committed and no page loads anything from
another host (intranets have no CDN). htmx comes with django-htmx, a Python dependency.

To upgrade: change the version in package.json, run `npm install --package-lock-only --ignore-scripts`
in that folder (or edit the lockfile's version and integrity by hand), then `yunying assets`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
LOCKFILE = VENDOR_DIR / "package-lock.json"
DEFAULT_REGISTRY = "https://registry.npmjs.org"

# package → the files the pages use, as paths inside the package (served as vendor/<package>/<path>).
FILES: dict[str, list[str]] = {
    # The source maps come too: the files name them, and collectstatic's manifest refuses a missing one.
    "bootstrap": [
        "dist/css/bootstrap.min.css",
        "dist/css/bootstrap.min.css.map",
        "dist/js/bootstrap.bundle.min.js",
        "dist/js/bootstrap.bundle.min.js.map",
    ],
    "bootstrap-icons": [
        "font/bootstrap-icons.min.css",
        "font/fonts/bootstrap-icons.woff2",
        "font/fonts/bootstrap-icons.woff",
    ],
    "echarts": ["dist/echarts.min.js"],
    "axe-core": ["axe.min.js"],
    "jsqr": ["dist/jsQR.js"],
}


class AssetError(Exception):
    pass


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # "sha512-<base64>", as npm writes it
    resolved: str  # the tarball's address; npm may leave it out of the lockfile

    def tarball_url(self, registry: str) -> str:
        if self.resolved and registry == DEFAULT_REGISTRY:
            return self.resolved
        basename = self.name.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.name}/-/{basename}-{self.version}.tgz"


def locked_packages(lockfile: Path = LOCKFILE) -> dict[str, Package]:
    """The packages FILES names, with the version and integrity the lockfile pins."""
    data = json.loads(lockfile.read_text())
    pinned = json.loads((lockfile.parent / "package.json").read_text())["dependencies"]
    packages = {}
    for name in FILES:
        entry = data["packages"].get(f"node_modules/{name}")
        if entry is None or entry.get("version") != pinned.get(name):
            raise AssetError(f"{name}: package-lock.json does not pin the version package.json asks for")
        if not entry.get("integrity", "").startswith("sha512-"):
            raise AssetError(f"{name}: no sha512 integrity in package-lock.json")
        packages[name] = Package(name, entry["version"], entry["integrity"], entry.get("resolved", ""))
    return packages


def integrity_matches(data: bytes, integrity: str) -> bool:
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        return False
    return base64.b64encode(hashlib.sha512(data).digest()).decode() == expected


def _download(url: str, *, timeout: float = 60) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise AssetError(f"refusing to fetch {url!r}: not an http(s) address")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        return response.read()


def _unpack(package: Package, tarball: bytes, dest: Path) -> None:
    wanted = {f"package/{path}": path for path in FILES[package.name]}
    found = set()
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            path = wanted.get(member.name)
            if path is None or not member.isfile():
                continue  # only the named regular files: no links, nothing outside dest
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            found.add(member.name)
    missing = set(wanted) - found
    if missing:
        raise AssetError(f"{package.name}@{package.version} lacks {sorted(missing)}")


def _stamp(dest: Path) -> Path:
    return dest / ".integrity"


def assets_missing(assets_dir: Path, lockfile: Path = LOCKFILE) -> list[str]:
    """What `yunying assets` still has to fetch: packages absent, incomplete or of another version."""
    missing = []
    for name, package in locked_packages(lockfile).items():
        dest = assets_dir / name
        stamp = _stamp(dest)
        complete = all((dest / path).is_file() for path in FILES[name])
        if not (complete and stamp.is_file() and stamp.read_text() == package.integrity):
            missing.append(f"{name}@{package.version}")
    return missing


def assets_fetch(assets_dir: Path, *, registry: str | None = None, lockfile: Path = LOCKFILE) -> list[str]:
    """Download, verify and unpack every package that is not already in place; returns what it fetched.

    Raises AssetError when a tarball's hash differs from the lockfile's (nothing of it is kept)."""
    registry = registry or os.environ.get("YUNYING_NPM_REGISTRY", DEFAULT_REGISTRY)
    fetched = []
    for name, package in locked_packages(lockfile).items():
        if f"{name}@{package.version}" not in assets_missing(assets_dir, lockfile):
            continue
        url = package.tarball_url(registry)
        tarball = _download(url)
        if not integrity_matches(tarball, package.integrity):
            raise AssetError(f"{name}@{package.version} from {url}: sha512 differs from package-lock.json")
        dest = assets_dir / name
        staging = assets_dir / f".{name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        _unpack(package, tarball, staging)
        _stamp(staging).write_text(package.integrity)
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)  # whole or absent: a crash mid-fetch leaves no half package in place
        fetched.append(f"{name}@{package.version}")
    return fetched
