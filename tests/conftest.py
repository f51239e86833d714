"""Shared fixtures.

Tests that read raw files need the mirror: ``$CSC_DATA_MIRROR``, else ``../shared/data`` beside
the repository. Without it they are skipped, unless ``CSC_REQUIRE_MIRROR=1`` (set by CI), in which
case they fail, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis import paths

DEFAULT_MIRROR = paths.ROOT.parent / "shared" / "data"


def _mirror() -> Path | None:
    env = os.environ.get(paths.MIRROR_ENV)
    if env:
        return Path(env).resolve()
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None


@pytest.fixture(scope="session")
def mirror() -> Path:
    m = _mirror()
    if m is None or not m.is_dir():
        msg = (f"raw-data mirror not found (set {paths.MIRROR_ENV} or place shared/data beside the repo)")
        if os.environ.get("CSC_REQUIRE_MIRROR") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return m


@pytest.fixture(scope="session")
def source_paths(mirror) -> dict[str, Path]:
    """Verified paths of every registered raw file in the mirror."""
    from analysis.data.sources import fetch, load_registry
    mp = pytest.MonkeyPatch()
    mp.setenv(paths.MIRROR_ENV, str(mirror))
    try:
        return {sid: fetch(src, allow_download=False) for sid, src in load_registry().items()}
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def derived(source_paths):
    """The derived tables rebuilt from the raw files (built once per session)."""
    from analysis.data.build import build
    return build(source_paths)


@pytest.fixture(scope="session")
def outputs_built():
    """The generated includes and ``_variables.yml`` (``make outputs`` is a no-op when up to date)."""
    import subprocess
    subprocess.run(["make", "outputs"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
