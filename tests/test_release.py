"""Citation metadata and releases."""

from __future__ import annotations

import hashlib
import re
import tomllib

import pytest
import yaml

from analysis import __version__, paths
from analysis.release import ReleaseExistsError, release

CFF_REQUIRED = {"cff-version", "message", "title", "authors", "version", "date-released"}


def test_citation_cff_is_valid_and_matches_pyproject():
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    assert CFF_REQUIRED <= set(cff), CFF_REQUIRED - set(cff)
    assert re.fullmatch(r"1\.2\.\d+", cff["cff-version"])
    assert all("name" in a or ("family-names" in a and "given-names" in a) for a in cff["authors"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    pyproject = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())
    assert str(cff["version"]) == pyproject["project"]["version"] == __version__


def test_changelog_has_an_entry_for_this_version():
    assert f"## [{__version__}]" in (paths.ROOT / "CHANGELOG.md").read_text()


def _fake_outputs(root):
    for rel in [f"_output/report-v{__version__}.html", f"_output/report-v{__version__}.pdf",
                "report/outputs/results/results.json", "report/outputs/results/estimates.csv",
                "report/outputs/results/spec_curve.csv", "report/outputs/results/multiverse.csv",
                "data/derived/manifest.json"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"content of {rel}\n")


def test_release_writes_manifest_and_refuses_to_overwrite(tmp_path):
    _fake_outputs(tmp_path)
    dest = release(__version__, root=tmp_path)
    sums = (dest / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 7
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    with pytest.raises(ReleaseExistsError, match="immutable"):
        release(__version__, root=tmp_path)


def test_release_needs_rendered_outputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="make report"):
        release(__version__, root=tmp_path)
