"""The forked figure worker of ``analysis.outputs.build``: a failure in it fails the build."""

from __future__ import annotations

import pytest

from analysis.outputs.build import in_worker


def _boom():
    raise ValueError("figure failed")


def test_a_failing_worker_fails_the_build():
    w = in_worker(_boom)
    with pytest.raises(RuntimeError, match="figure worker failed"):
        w.join()


def test_a_succeeding_worker_joins_quietly(tmp_path):
    out = tmp_path / "drawn.txt"
    w = in_worker(lambda: out.write_text("ok"))
    w.join()
    assert out.read_text() == "ok"
