"""The committed derived data equal a rebuild from the raw files, byte for byte, and the build is
deterministic."""

from __future__ import annotations

import hashlib
import json

from analysis import paths
from analysis.data.build import OUTPUTS, build, render


def test_committed_outputs_equal_rebuild(derived):
    files = render(derived)
    for name, content in files.items():
        committed = (paths.DERIVED / name).read_bytes()
        assert committed == content, f"data/derived/{name} differs from a rebuild: run `make data`"


def test_rebuild_is_deterministic(derived, source_paths):
    again = render(build(source_paths))
    assert again == render(derived)


def test_manifest_hashes(derived):
    manifest = json.loads((paths.DERIVED / "manifest.json").read_text())
    for name in OUTPUTS:
        assert manifest["outputs_sha256"][name] == hashlib.sha256((paths.DERIVED / name).read_bytes()).hexdigest()
    from analysis.data.sources import load_registry
    assert manifest["inputs_sha256"] == {k: v.sha256 for k, v in sorted(load_registry().items())}
