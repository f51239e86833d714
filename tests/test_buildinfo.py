"""The stamp tells the truth: derived data that differ from their manifest are marked (or an
error with --strict), and uncommitted changes to tracked files mark the commit "+dirty"."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from analysis import paths
from analysis.outputs.buildinfo import StaleDataError, build_info, data_check, is_dirty


@pytest.fixture
def derived_copy(tmp_path):
    d = tmp_path / "derived"
    d.mkdir()
    for name in ("manifest.json", "la_year_panel.csv", "inspections.csv"):
        shutil.copy(paths.DERIVED / name, d / name)
    return d


def test_committed_data_match_their_manifest(derived_copy):
    actual, modified = data_check(derived_copy)
    assert modified == []
    assert build_info(derived=derived_copy)["data_status"] == "as in the manifest"


def test_hand_edited_panel_is_marked_modified_with_its_real_hash(derived_copy):
    panel = derived_copy / "la_year_panel.csv"
    panel.write_text(panel.read_text().replace(",", ";", 1))
    info = build_info(derived=derived_copy)
    assert "MODIFIED" in info["data_status"] and "la_year_panel.csv" in info["data_status"]
    assert info["panel_sha"] == hashlib.sha256(panel.read_bytes()).hexdigest()[:16]
    with pytest.raises(StaleDataError, match="la_year_panel.csv"):
        build_info(strict=True, derived=derived_copy)


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_dirty_tree_is_marked(tmp_path, derived_copy):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.txt").write_text("one\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "a.txt")
    _git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x")
    assert not is_dirty(repo)
    (repo / "untracked.txt").write_text("not a change to tracked files\n")
    assert not is_dirty(repo)
    assert not build_info(root=repo, derived=derived_copy)["commit"].endswith("+dirty")
    (repo / "a.txt").write_text("two\n")
    assert is_dirty(repo)
    info = build_info(root=repo, derived=derived_copy)
    assert info["commit"].endswith("+dirty") and info["dirty"] == "yes"
