"""Filesystem locations used by the pipeline (one place, so nothing hard-codes a path)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SOURCES_TOML = DATA / "sources.toml"
REFERENCE = DATA / "reference"
LA_REGISTER = REFERENCE / "la_register.csv"
DERIVED = DATA / "derived"
#: download cache for raw files fetched from their official URL (git-ignored)
RAW_CACHE = DATA / "raw"

#: environment variable naming a read-only mirror of the raw files (CI: ../shared/data)
MIRROR_ENV = "CSC_DATA_MIRROR"


def mirror_dir() -> Path | None:
    """Return the mirror directory named by ``$CSC_DATA_MIRROR``, or None if unset."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None
