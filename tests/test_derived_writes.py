"""The derived set is replaced as a whole: a failure half-way restores the previous files and
leaves no temporary file; written files get ordinary modes (umask honoured)."""

from __future__ import annotations

import os
import stat

import pytest

from analysis.data import build as build_data

OLD = {"la_year_panel.csv": b"old panel\n", "inspections.csv": b"old inspections\n",
       "manifest.json": b'{"old": true}\n'}
NEW = {"la_year_panel.csv": b"new panel\n", "inspections.csv": b"new inspections\n",
       "data_dictionary.csv": b"new dictionary\n", "manifest.json": b'{"new": true}\n'}


def _snapshot(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir()}


@pytest.fixture
def out(tmp_path):
    d = tmp_path / "derived"
    d.mkdir()
    for name, content in OLD.items():
        (d / name).write_bytes(content)
    return d


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_failure_mid_write_restores_the_previous_set(out, monkeypatch, fail_at):
    """The ``fail_at``-th rename into place raises (disk full, killed...): nothing changes."""
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(28, "No space left on device (injected)")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="injected"):
        build_data.write(NEW, out)
    assert _snapshot(out) == OLD, "a failed write must leave the previous set exactly as it was"
    assert sorted(p.name for p in out.parent.iterdir()) == ["derived"], "no stray temporary files"


def test_success_replaces_all_with_ordinary_modes(out):
    old_umask = os.umask(0o022)
    try:
        build_data.write(NEW, out)
    finally:
        os.umask(old_umask)
    assert _snapshot(out) == NEW
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, f"{p.name}: {oct(p.stat().st_mode)}"


def test_umask_is_honoured(out):
    old_umask = os.umask(0o027)
    try:
        build_data.write(NEW, out)
    finally:
        os.umask(old_umask)
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o640}


# --- raw-file download cache: ordinary mode, no stray temporary file ----------------------------

@pytest.fixture
def www(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    from analysis import paths
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.delenv(paths.MIRROR_ENV, raising=False)
    monkeypatch.setattr(paths, "RAW_CACHE", tmp_path / "cache")
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", tmp_path / "cache"
    httpd.shutdown()


def test_downloaded_file_has_ordinary_mode(mirror, www):
    import dataclasses

    from analysis.data.sources import fetch, load_registry
    root, base, cache = www
    src = dataclasses.replace(load_registry()["iod2019_utla"], url=f"{base}/file11.xlsx")
    (root / "file11.xlsx").write_bytes((mirror / src.path).read_bytes())
    old_umask = os.umask(0o022)
    try:
        path = fetch(src)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left beside it"


def test_failed_download_leaves_no_temporary_file(www):
    import dataclasses

    from analysis.data.sources import fetch, load_registry
    from analysis.errors import SourceUnavailableError
    _, base, cache = www
    src = dataclasses.replace(load_registry()["iod2019_utla"], url=f"{base}/missing.xlsx")
    with pytest.raises(SourceUnavailableError):
        fetch(src)
    assert not [p for p in cache.rglob("*") if p.is_file()], "a failed download must leave nothing"


def test_main_reports_a_failed_write_without_traceback(out, monkeypatch, capsys):
    """`make data` with a write failure: exit 3, a message, the previous set intact."""
    monkeypatch.setattr(build_data, "build", lambda: None)
    monkeypatch.setattr(build_data, "render", lambda derived: NEW)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device (injected)")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky_replace)
    assert build_data.main(["--out", str(out)]) == 3
    assert "previous derived files were restored" in capsys.readouterr().err
    assert _snapshot(out) == OLD
