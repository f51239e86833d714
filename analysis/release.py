"""``python -m analysis.release --version X``: write a citable, immutable release.

``releases/v<version>/`` receives the rendered HTML and PDF (and the record of the engine that
rendered them), the machine-readable results, the derived-data manifest, ``CITATION.cff`` with
the release commit filled in, ``.zenodo.json`` (deposit metadata for a DOI-minting repository,
converted from ``CITATION.cff``) and ``SHA256SUMS`` (one ``<sha256>  <file>`` line per file).
``releases/report-v<version>-deposit.tar.gz`` is the deposit archive: the tracked sources at the
release commit, the release folder and its ``SHA256SUMS``; it is byte-identical on rebuild (sorted
members, fixed owner and times from the commit).

A release is refused when tracked files have uncommitted changes (the stamp would not name the
sources), when the rendered report is stamped with another commit, and when the folder exists
already (releases are immutable: bump the version in pyproject.toml, CITATION.cff, CHANGELOG.md).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from . import __version__, paths


class ReleaseExistsError(RuntimeError):
    """The release folder for this version exists already."""


class ReleaseRefusedError(RuntimeError):
    """The working tree or the rendered outputs cannot be released as they are."""


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def zenodo_metadata(cff: dict, commit: str) -> dict:
    """Zenodo deposit metadata (``.zenodo.json``) from CITATION.cff's preferred citation."""
    pc = cff.get("preferred-citation", cff)
    creators = [{"name": a["name"]} if "name" in a else {"name": f"{a['family-names']}, {a['given-names']}"}
                for a in pc["authors"]]
    meta = {
        "title": pc["title"],
        "upload_type": "publication",
        "publication_type": "report",
        "version": str(pc["version"]),
        "publication_date": str(pc["date-released"]),
        "creators": creators,
        "description": " ".join(str(cff.get("abstract", pc["title"])).split()),
        "license": cff.get("license", "MIT"),
        "keywords": list(cff.get("keywords", [])),
        "notes": f"Built from commit {commit}.",
    }
    repo = pc.get("repository-code") or cff.get("repository-code")
    if repo:
        meta["related_identifiers"] = [{"identifier": repo, "relation": "isSupplementedBy", "scheme": "url"}]
    return meta


def _deterministic_tar_gz(members: list[tuple[str, bytes]], mtime: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def release(version: str, root: Path = paths.ROOT, dest_root: Path | None = None,
            allow_dirty: bool = False) -> Path:
    dest_root = dest_root or root / "releases"
    dest = dest_root / f"v{version}"
    if dest.exists():
        raise ReleaseExistsError(f"{dest} exists: releases are immutable; bump the version to publish again")
    try:
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no").strip()
        commit = _git(root, "rev-parse", "HEAD").strip()
        commit_time = int(_git(root, "log", "-1", "--format=%ct").strip())
        sources = [s for s in _git(root, "ls-files", "-z").split("\0") if s]
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ReleaseRefusedError(f"{root} is not a git checkout: a release names its commit ({exc})") from None
    if dirty and not allow_dirty:
        raise ReleaseRefusedError(f"uncommitted changes to tracked files: commit them first\n{dirty}")
    variables = root / "_variables.yml"
    stamped = (yaml.safe_load(variables.read_text()) or {}).get("build", {}) if variables.exists() else {}
    stamp = str(stamped.get("commit", ""))
    if not stamp or "+" in stamp or not commit.startswith(stamp):
        raise ReleaseRefusedError(f"the rendered report is stamped with commit {stamped.get('commit')!r}, HEAD is "
                                  f"{commit[:10]}: run `make report`")
    files = {
        f"report-v{version}.html": root / "_output" / f"report-v{version}.html",
        f"report-v{version}.pdf": root / "_output" / f"report-v{version}.pdf",
        f"report-v{version}.render.json": root / "_output" / f"report-v{version}.render.json",
        "results.json": root / "report" / "outputs" / "results" / "results.json",
        "estimates.csv": root / "report" / "outputs" / "results" / "estimates.csv",
        "multiverse.csv": root / "report" / "outputs" / "results" / "multiverse.csv",
        "data_manifest.json": root / "data" / "derived" / "manifest.json",
    }
    # the CSV downloads (lookup, council series, every table, each with its dictionary)
    downloads = root / "report" / "outputs" / "downloads"
    if not (downloads / "lookup.csv").exists():
        files["downloads/lookup.csv"] = downloads / "lookup.csv"  # reported missing below
    for csv in sorted(downloads.rglob("*.csv")):
        files["downloads/" + csv.relative_to(downloads).as_posix()] = csv
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"cannot release, missing: {missing} (run `make report`)")
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    if str(cff.get("version")) != version:
        raise ReleaseRefusedError(f"CITATION.cff version {cff.get('version')} is not {version}")
    cff["commit"] = commit
    cff.setdefault("preferred-citation", {})["commit"] = commit
    contents = {name: src.read_bytes() for name, src in files.items()}
    contents["CITATION.cff"] = yaml.safe_dump(cff, sort_keys=False, allow_unicode=True).encode()
    contents[".zenodo.json"] = (json.dumps(zenodo_metadata(cff, commit), indent=2, ensure_ascii=False) + "\n").encode()
    contents["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                                     for name, data in sorted(contents.items())).encode()
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, data in contents.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(data)
    prefix = f"report-v{version}"
    members = [(f"{prefix}/source/{s}", (root / s).read_bytes()) for s in sources if (root / s).is_file()]
    members += [(f"{prefix}/release/{name}", data) for name, data in contents.items()]
    archive = dest_root / f"{prefix}-deposit.tar.gz"
    archive.write_bytes(_deterministic_tar_gz(members, commit_time))
    tmp.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default=__version__)
    args = ap.parse_args(argv)
    if args.version != __version__:
        print(f"error: --version {args.version} differs from the package version {__version__}", file=sys.stderr)
        return 2
    try:
        dest = release(args.version)
    except (ReleaseExistsError, ReleaseRefusedError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"released {dest} and {dest.parent / f'report-v{args.version}-deposit.tar.gz'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
