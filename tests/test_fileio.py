"""Rendered and derived files get ordinary permissions, not mkstemp's 0600."""

import os
import stat

import pytest

from analysis.fileio import atomic_write


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_atomic_write_gives_ordinary_mode_and_no_temporary_file(tmp_path, umask):
    old = os.umask(umask)
    try:
        dest = tmp_path / "out" / "report.html"
        atomic_write(dest, b"<p>x</p>")
    finally:
        os.umask(old)
    assert dest.read_bytes() == b"<p>x</p>"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in dest.parent.iterdir()] == ["report.html"]

