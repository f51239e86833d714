"""``python -m analysis.release --version X``: write a citable, immutable release folder.

``releases/v<version>/`` receives the rendered HTML and PDF, the machine-readable results, the
derived-data manifest and ``SHA256SUMS`` (one ``<sha256>  <file>`` line per file). An existing
release folder is never overwritten: bump the version in pyproject.toml (and CITATION.cff,
CHANGELOG.md) instead.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from . import __version__, paths


class ReleaseExistsError(RuntimeError):
    """The release folder for this version exists already."""


def release(version: str, root: Path = paths.ROOT, dest_root: Path | None = None) -> Path:
    dest = (dest_root or root / "releases") / f"v{version}"
    if dest.exists():
        raise ReleaseExistsError(f"{dest} exists: releases are immutable; bump the version to publish again")
    files = {
        f"report-v{version}.html": root / "_output" / f"report-v{version}.html",
        f"report-v{version}.pdf": root / "_output" / f"report-v{version}.pdf",
        "results.json": root / "report" / "outputs" / "results" / "results.json",
        "estimates.csv": root / "report" / "outputs" / "results" / "estimates.csv",
        "spec_curve.csv": root / "report" / "outputs" / "results" / "spec_curve.csv",
        "multiverse.csv": root / "report" / "outputs" / "results" / "multiverse.csv",
        "data_manifest.json": root / "data" / "derived" / "manifest.json",
    }
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"cannot release, missing: {missing} (run `make report`)")
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    lines = []
    for name, src in sorted(files.items()):
        shutil.copyfile(src, tmp / name)
        lines.append(f"{hashlib.sha256((tmp / name).read_bytes()).hexdigest()}  {name}")
    (tmp / "SHA256SUMS").write_text("\n".join(lines) + "\n")
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
    except (ReleaseExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"released {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
