"""Make as a user expects: help lists every target, one progress line per step with its time,
and the render engine is part of the out-of-date test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from analysis import paths


def _make(*args, env=None):
    return subprocess.run(["make", *args], cwd=paths.ROOT, capture_output=True, text=True, env=env)


def test_help_lists_every_target_with_one_line():
    makefile = (paths.ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()) - {"FORCE"}
    out = _make("help").stdout.splitlines()
    listed = {ln.split()[1]: ln for ln in out if ln.startswith("  make ")}
    assert set(listed) == phony
    assert all(len(ln.split(None, 2)) == 3 for ln in listed.values())  # each has a description


def test_progress_lines_and_engine_in_the_out_of_date_test():
    """With lite outputs present, asking for the Quarto engine must re-render (here: fail, as
    Quarto is not on PATH); asking for lite again re-renders with one timed progress line; a
    third call does nothing."""
    if shutil.which("quarto"):
        pytest.skip("Quarto is on PATH")
    env = {**os.environ}
    assert _make("report", "RENDER_ENGINE=lite", env=env).returncode == 0
    q = _make("report", "RENDER_ENGINE=quarto", env=env)
    assert q.returncode != 0 and "quarto is not on PATH" in q.stdout + q.stderr
    lite = _make("report", "RENDER_ENGINE=lite", env=env)
    assert lite.returncode == 0, lite.stdout + lite.stderr
    assert re.search(r"^report\s+done in\s+\d+\.\d s$", lite.stdout, re.M), lite.stdout
    assert "rendered with the in-project engine" in lite.stdout
    assert re.search(r"^render: \d+ warnings? \(see _build/logs/render\.log\)$", lite.stdout, re.M), lite.stdout
    noop = _make("report", "RENDER_ENGINE=lite", env=env)
    assert "done in" not in noop.stdout
