"""Citation metadata and releases: immutable, refused for a dirty tree or a stale stamp, with a
deposit archive (sources, outputs, SHA256SUMS, .zenodo.json) that is byte-identical on rebuild."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
import tomllib

import pytest
import yaml

from analysis import __version__, paths
from analysis.release import ReleaseExistsError, ReleaseRefusedError, release, zenodo_metadata

CFF_REQUIRED = {"cff-version", "message", "title", "authors", "version", "date-released"}


def test_citation_cff_is_valid_and_matches_pyproject():
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    assert CFF_REQUIRED <= set(cff), CFF_REQUIRED - set(cff)
    assert re.fullmatch(r"1\.2\.\d+", cff["cff-version"])
    assert all("name" in a or ("family-names" in a and "given-names" in a) for a in cff["authors"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    pyproject = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())
    assert str(cff["version"]) == pyproject["project"]["version"] == __version__


def test_citation_cff_has_a_preferred_citation_of_type_report():
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    pc = cff["preferred-citation"]
    assert pc["type"] == "report"
    for key in ("title", "version", "date-released", "commit", "repository-code", "authors"):
        assert pc.get(key), key
    assert str(pc["version"]) == __version__ and str(pc["date-released"]) == str(cff["date-released"])


def test_changelog_has_an_entry_for_this_version():
    assert f"## [{__version__}]" in (paths.ROOT / "CHANGELOG.md").read_text()


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _project(root, commit_stamp=True):
    """A tiny committed project with rendered outputs stamped with its commit."""
    for rel in [f"_output/report-v{__version__}.html", f"_output/report-v{__version__}.pdf",
                f"_output/report-v{__version__}.render.json",
                "report/outputs/results/results.json", "report/outputs/results/estimates.csv",
                "report/outputs/results/multiverse.csv",
                "report/outputs/downloads/lookup.csv", "report/outputs/downloads/lookup-dictionary.csv",
                "report/outputs/downloads/tables/tbl-x.csv",
                "data/derived/manifest.json"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"content of {rel}\n")
    (root / "CITATION.cff").write_text((paths.ROOT / "CITATION.cff").read_text())
    (root / ".gitignore").write_text("_output/\nreport/outputs/\n_variables.yml\nreleases/\n")
    (root / "analysis.py").write_text("print('source')\n")
    _git(root, "init", "-q")
    _git(root, "add", "CITATION.cff", ".gitignore", "analysis.py", "data")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x")
    head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip()
    (root / "_variables.yml").write_text(yaml.safe_dump({"build": {"commit": head if commit_stamp else "0000000000"}}))


def test_release_writes_manifest_archive_and_refuses_to_overwrite(tmp_path):
    _project(tmp_path)
    dest = release(__version__, root=tmp_path)
    sums = (dest / "SHA256SUMS").read_text().splitlines()
    names = {line.split("  ")[1] for line in sums}
    assert "multiverse.csv" in names and "spec_curve.csv" not in names  # no duplicate of the multiverse
    assert len(sums) == 12
    assert {"downloads/lookup.csv", "downloads/lookup-dictionary.csv", "downloads/tables/tbl-x.csv"} <= names
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    zen = json.loads((dest / ".zenodo.json").read_text())
    assert zen["upload_type"] == "publication" and zen["publication_type"] == "report"
    assert zen["version"] == __version__ and zen["creators"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert yaml.safe_load((dest / "CITATION.cff").read_text())["preferred-citation"]["commit"] == head
    archive = tmp_path / "releases" / f"report-v{__version__}-deposit.tar.gz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert f"report-v{__version__}/source/analysis.py" in names
    assert f"report-v{__version__}/release/SHA256SUMS" in names
    assert f"report-v{__version__}/release/report-v{__version__}.pdf" in names
    with pytest.raises(ReleaseExistsError, match="immutable"):
        release(__version__, root=tmp_path)
    # byte-identical on rebuild
    first = archive.read_bytes()
    import shutil
    shutil.rmtree(dest)
    archive.unlink()
    release(__version__, root=tmp_path)
    assert archive.read_bytes() == first


def test_release_refuses_a_dirty_tree(tmp_path):
    _project(tmp_path)
    (tmp_path / "analysis.py").write_text("print('edited')\n")
    with pytest.raises(ReleaseRefusedError, match="uncommitted"):
        release(__version__, root=tmp_path)
    assert not (tmp_path / "releases" / f"v{__version__}").exists()


def test_release_refuses_outputs_stamped_with_another_commit(tmp_path):
    _project(tmp_path, commit_stamp=False)
    with pytest.raises(ReleaseRefusedError, match="make report"):
        release(__version__, root=tmp_path)


def test_release_needs_rendered_outputs(tmp_path):
    _project(tmp_path)
    (tmp_path / "_output" / f"report-v{__version__}.pdf").unlink()
    with pytest.raises(FileNotFoundError, match="make report"):
        release(__version__, root=tmp_path)


def test_zenodo_metadata_from_cff():
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    z = zenodo_metadata(cff, "abc")
    assert z["title"] == cff["preferred-citation"]["title"] and "abc" in z["notes"]
    assert z["related_identifiers"][0]["identifier"] == cff["preferred-citation"]["repository-code"]
