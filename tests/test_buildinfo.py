"""The stamp tells the truth: derived data that differ from their manifest are marked (or an
error with --strict), uncommitted changes to tracked files are stated after the commit, and a build
without git or outside a checkout says so (never a silent "unknown")."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from analysis import paths
from analysis.outputs.buildinfo import (NO_GIT, NOT_A_CHECKOUT, StaleDataError, build_info, commit_text,
                                       data_check, is_dirty)


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
    head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=repo, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert build_info(root=repo, derived=derived_copy)["commit"] == head
    (repo / "a.txt").write_text("two\n")
    assert is_dirty(repo)
    info = build_info(root=repo, derived=derived_copy)
    assert info["commit"] == f"{head} + uncommitted changes" and info["dirty"] == "yes"


def test_no_git_is_stated_not_unknown(tmp_path, derived_copy, monkeypatch):
    """git not installed (not on PATH): the stamp says so."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    info = build_info(root=repo, derived=derived_copy)
    assert info["commit"] == NO_GIT == "unavailable (no git)"
    assert "unknown" not in info["commit"] and info["dirty"] == "no"


def test_outside_a_checkout_is_stated(tmp_path, derived_copy):
    """A copy without .git (an unpacked archive): the stamp says the commit is unavailable."""
    plain = tmp_path / "plain"
    plain.mkdir()
    assert commit_text(plain) == NOT_A_CHECKOUT
    assert build_info(root=plain, derived=derived_copy)["commit"] == "unavailable (not a git checkout)"
