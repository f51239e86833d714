"""Download from the official URL (served here from a loopback HTTP server): verified into the
cache; a corrupted download is rejected and leaves nothing in the cache."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading

import pytest

from analysis import paths
from analysis.errors import ChecksumError, SourceUnavailableError
from analysis.data.sources import fetch, load_registry


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def no_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.MIRROR_ENV, raising=False)
    monkeypatch.setattr(paths, "RAW_CACHE", tmp_path / "cache")
    return tmp_path / "cache"


def _source(url: str):
    return dataclasses.replace(load_registry()["iod2019_utla"], url=url)


def test_download_is_verified_and_cached(mirror, server, no_mirror):
    www, base = server
    src = _source(f"{base}/file11.xlsx")
    (www / "file11.xlsx").write_bytes((mirror / src.path).read_bytes())
    path = fetch(src)
    assert path == no_mirror / src.path and path.exists()
    assert fetch(src) == path  # second call: from the cache


def test_corrupted_download_is_rejected_and_not_cached(mirror, server, no_mirror):
    www, base = server
    src = _source(f"{base}/file11.xlsx")
    data = bytearray((mirror / src.path).read_bytes())
    data[1000] ^= 0xFF
    (www / "file11.xlsx").write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="sha256"):
        fetch(src)
    assert not (no_mirror / src.path).exists()
    assert not any(no_mirror.rglob("*")) or all(p.is_dir() for p in no_mirror.rglob("*"))


def test_unreachable_url_says_how_to_get_the_file(server, no_mirror):
    _, base = server
    src = _source(f"{base}/missing.xlsx")
    with pytest.raises(SourceUnavailableError, match="CSC_DATA_MIRROR"):
        fetch(src)


def test_landing_pages_are_never_scraped(no_mirror):
    src = load_registry()["csww_indicators"]
    assert src.url_kind == "landing"
    with pytest.raises(SourceUnavailableError, match="publication page"):
        fetch(src)
