"""Bad input stops the pipeline with a clear error naming file, column and value; nothing is written.

Each case copies the mirror into a temporary directory, damages one file there (raw files in the
real mirror are never touched) and runs the whole build against it. The defect classes of issue 7
(blank cells, coverage, ragged rows, implausible values, unreadable files, schema messages) are
tested loader by loader in ``test_bad_input_loaders.py``; set-wise writes in ``test_derived_writes.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import paths
from analysis.data import build as build_data
from analysis.errors import (ChecksumError, DuplicateKeyError, SchemaError, SourceUnavailableError,
                             SuppressionCodeError, UnknownAreaError)
from analysis.data.sources import fetch, load_registry

WF = "csww/csww_indicators_2017_to_2025.csv"


@pytest.fixture
def bad_mirror(mirror, tmp_path, monkeypatch):
    """A private copy of the mirror, with the cache disabled, that a test may damage."""
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy, ignore=shutil.ignore_patterns("previous_vintages", "spend", "lookups"))
    monkeypatch.setenv(paths.MIRROR_ENV, str(copy))
    monkeypatch.setattr(paths, "RAW_CACHE", tmp_path / "no-cache")
    return copy


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _loaded_paths(mirror: Path) -> dict[str, Path]:
    """Paths into the damaged mirror without checksum verification (to reach the loaders)."""
    return {sid: mirror / src.path for sid, src in load_registry().items()}


def _run_main_writes_nothing(tmp_path: Path, capsys) -> str:
    out = tmp_path / "out"
    assert build_data.main(["--out", str(out)]) == 2
    assert not out.exists() or not any(out.iterdir()), "a failed build must write nothing"
    return capsys.readouterr().err


def test_checksum_mismatch_names_file_and_stops(bad_mirror, tmp_path, capsys):
    _edit(bad_mirror / WF, "36186.3", "36186.4")
    with pytest.raises(ChecksumError, match=r"csww_indicators_2017_to_2025\.csv.*sha256"):
        fetch(load_registry()["csww_indicators"])
    err = _run_main_writes_nothing(tmp_path, capsys)
    assert "csww_indicators_2017_to_2025.csv" in err and "sha256" in err


def test_truncated_file_is_reported_as_truncated(bad_mirror, tmp_path, capsys):
    f = bad_mirror / WF
    f.write_bytes(f.read_bytes()[: 100_000])
    with pytest.raises(ChecksumError, match="truncated"):
        fetch(load_registry()["csww_indicators"])
    assert "truncated" in _run_main_writes_nothing(tmp_path, capsys)


def test_truncated_file_is_caught_by_the_loader_too(bad_mirror):
    """Even without the checksum (e.g. a deliberately re-registered file), coverage checks fire."""
    f = bad_mirror / WF
    lines = f.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    f.write_text("".join(lines[:700]), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"csww_indicators_2017_to_2025\.csv.*truncated"):
        build_data.build(_loaded_paths(bad_mirror))


def test_missing_mirror_says_how_to_get_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(paths.MIRROR_ENV, str(tmp_path / "does-not-exist"))
    monkeypatch.setattr(paths, "RAW_CACHE", tmp_path / "no-cache")
    with pytest.raises(SourceUnavailableError, match="not a directory"):
        fetch(load_registry()["csww_indicators"])
    assert "not a directory" in _run_main_writes_nothing(tmp_path, capsys)


def test_file_missing_from_mirror(bad_mirror, tmp_path, capsys):
    (bad_mirror / WF).unlink()
    with pytest.raises(SourceUnavailableError, match=r"csww_indicators.*CSC_DATA_MIRROR.*sha256"):
        fetch(load_registry()["csww_indicators"], allow_download=False)
    _run_main_writes_nothing(tmp_path, capsys)


def test_renamed_column(bad_mirror):
    _edit(bad_mirror / WF, ",caseload_fte,", ",caseload_per_fte,")
    with pytest.raises(SchemaError, match=r"csww_indicators_2017_to_2025\.csv.*'caseload_fte'"):
        build_data.build(_loaded_paths(bad_mirror))


def test_unknown_suppression_symbol(bad_mirror):
    f = bad_mirror / WF
    text = f.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    # an LA row (Darlington-like): replace its caseload value with a new symbol "[s]"
    i = next(k for k, line in enumerate(text) if ",Local authority," in line)
    cells = text[i].rstrip("\n").split(",")
    header = text[0].rstrip("\n").split(",")
    cells[header.index("caseload_fte")] = "[s]"
    text[i] = ",".join(cells) + "\n"
    f.write_text("".join(text), encoding="utf-8")
    with pytest.raises(SuppressionCodeError, match=r"csww_indicators_2017_to_2025\.csv.*'caseload_fte'.*'\[s\]'.*line"):
        build_data.build(_loaded_paths(bad_mirror))


def test_duplicated_la_year(bad_mirror):
    f = bad_mirror / WF
    lines = f.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    la_line = next(line for line in lines if ",Local authority," in line)
    f.write_text("".join(lines + [la_line]), encoding="utf-8")
    n, first = len(lines) + 1, lines.index(la_line) + 1
    with pytest.raises(DuplicateKeyError, match=rf"csww_indicators_2017_to_2025\.csv.*\['time_period', 'old_la_code'\]"
                                               rf".*line {n}, which repeats line {first}"):
        build_data.build(_loaded_paths(bad_mirror))


def test_unknown_la_code(bad_mirror):
    f = bad_mirror / "context/cin/b1_children_in_need_2013_to_2025.csv"
    lines = f.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if ",Local authority," in line and ",841," in line)
    lines[i] = lines[i].replace(",841,", ",999,")
    f.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(UnknownAreaError, match=r"b1_children_in_need_2013_to_2025\.csv.*'old_la_code'.*'999'"):
        build_data.build(_loaded_paths(bad_mirror))


def test_unknown_grade_word(bad_mirror):
    _edit(bad_mirror / "ofsted/derived_sif_judgements_from_reports.csv", "requires improvement", "needs work")
    with pytest.raises(SchemaError, match="unknown grade 'needs work'"):
        build_data.build(_loaded_paths(bad_mirror))


def test_registry_rejects_bad_entries(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text('[sources.x]\npath = "a.csv"\nsha256 = "abc"\n')
    with pytest.raises(SchemaError, match="lacks field"):
        load_registry(bad)
