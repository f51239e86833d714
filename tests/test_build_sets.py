"""Results and outputs are committed as sets (issue 17 item 3), and build failures are one clear
line (item 5): a manifest written last, refused when it does not match its files; temporary
files of an interrupted run removed at the next start; fault injection through ``CSC_FAULT``."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys

import pytest

from analysis import cli, fileio, paths


# ---------------------------------------------------------------------------------- unit level

def _set(tmp_path):
    d = tmp_path / "results"
    for name, text in (("results.json", "{}\n"), ("estimates.csv", "a\n1\n"), ("multiverse.csv", "b\n2\n")):
        fileio.atomic_write(d / name, text.encode())
    fileio.write_manifest(d / "manifest.json", sorted(d.glob("*.*")), d)
    return d


def test_a_complete_set_passes_and_an_edited_member_is_refused_with_the_fix(tmp_path):
    d = _set(tmp_path)
    fileio.check_set(d / "manifest.json", d, "run X")
    (d / "estimates.csv").write_text("a\n9\n")
    with pytest.raises(fileio.IncompleteSetError, match=r"estimates.csv differs .*; run X"):
        fileio.check_set(d / "manifest.json", d, "run X")
    (d / "estimates.csv").unlink()
    with pytest.raises(fileio.IncompleteSetError, match="estimates.csv missing"):
        fileio.check_set(d / "manifest.json", d, "run X")


def test_a_set_without_its_manifest_is_refused(tmp_path):
    d = _set(tmp_path)
    fileio.begin_set(d / "manifest.json")
    with pytest.raises(fileio.IncompleteSetError, match="missing: the set was not written completely"):
        fileio.check_set(d / "manifest.json", d, "run X")


def test_variables_build_block_is_outside_the_digest(tmp_path):
    """A render refreshes ``build:`` in _variables.yml; the rest of the file is what the set
    guards."""
    v = tmp_path / "_variables.yml"
    v.write_text("# h\nalt:\n  a: x\nbuild:\n  commit: abc\n  engine: lite\ndata:\n  n: 1\n")
    before = fileio.member_digest(v)
    v.write_text("# h\nalt:\n  a: x\nbuild:\n  commit: def + uncommitted changes\n  engine: quarto\ndata:\n  n: 1\n")
    assert fileio.member_digest(v) == before
    v.write_text("# h\nalt:\n  a: x\nbuild:\n  commit: def\ndata:\n  n: 2\n")
    assert fileio.member_digest(v) != before


def test_fault_after_results_json_leaves_no_manifest_and_no_temporary_file(tmp_path, monkeypatch):
    """The write order of analysis/run_models.py: manifest removed, members, manifest last. An
    I/O error after results.json leaves new results.json beside old CSVs: refused, not current."""
    from analysis import run_models
    d = _set(tmp_path)
    monkeypatch.setattr(run_models, "results_document", lambda out, manifest: {"new": True})

    class Table:
        def to_csv(self, **kw):
            return "x\n1\n"

    class Fit:
        def tidy(self):
            import pandas as pd
            return pd.DataFrame({"x": [1]})

    class Mv:
        table = Table()

    out = {"fits": [Fit()], "multiverse": Mv()}
    monkeypatch.setenv(fileio.FAULT_ENV, "after:results.json")
    with pytest.raises(OSError, match="injected fault after writing results.json"):
        run_models.write_results(out, d)
    assert json.loads((d / "results.json").read_text()) == {"new": True}
    assert (d / "estimates.csv").read_text() == "a\n1\n"  # stale
    assert sorted(p.name for p in d.iterdir()) == ["estimates.csv", "multiverse.csv", "results.json"]
    with pytest.raises(fileio.IncompleteSetError):
        fileio.check_set(d / "manifest.json", d, "rebuild")
    monkeypatch.delenv(fileio.FAULT_ENV)
    run_models.write_results(out, d)
    fileio.check_set(d / "manifest.json", d, "rebuild")


def test_clean_stale_removes_interrupted_writes_only(tmp_path):
    keep = ["results.json", "manifest.json", ".gitkeep", ".stamp", "figures"]
    stale = [".results.json.k2j3_h4l", "estimates.csv.tmp", ".staging-abc12", ".backup-abc12",
             ".report-v0.2.0.html.a1b2c3d4"]
    for name in keep[:-1] + stale[:2] + stale[4:]:
        (tmp_path / name).write_text("x")
    for name in (keep[-1], *stale[2:4]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "la_year_panel.csv").write_text("x")
    removed = fileio.clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def test_derived_data_that_differ_from_their_manifest_are_refused(tmp_path, monkeypatch):
    d = tmp_path / "derived"
    shutil.copytree(paths.DERIVED, d)
    cli.check_derived(d)
    panel = d / "la_year_panel.csv"
    panel.write_bytes(panel.read_bytes() + b"\n")
    with pytest.raises(cli.BuildError, match=r"la_year_panel.csv .* differ .*`make data`.*git checkout"):
        cli.check_derived(d)
    monkeypatch.setenv(cli.ALLOW_MODIFIED_ENV, "1")
    cli.check_derived(d)


# ------------------------------------------------------------------------------ messages

@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EFBIG, "ulimit -f"),
                                         (errno.EROFS, "read-only checkout"), (errno.EACCES, "read-only checkout")])
def test_io_errors_are_one_line_with_the_fix(code, words):
    text = cli.oserror_text(OSError(code, os.strerror(code), "report/outputs/x.png"), "build")
    assert words in text and "report/outputs/x.png" in text and "\n" not in text


def test_sigxfsz_is_named_with_the_fix():
    assert "ulimit -f" in cli.signal_text(-25) and "SIGXFSZ" in cli.signal_text(-25)
    assert cli.signal_text(-9) == "killed by SIGKILL" and cli.signal_text(3) == "exit 3"


def _run(cmd, env=None, **kw):
    return subprocess.run(cmd, cwd=paths.ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kw)


@pytest.fixture(scope="module")
def built():
    proc = _run(["make", "outputs"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return True


def test_disk_full_while_writing_outputs_is_one_line_without_traceback(built):
    """ENOSPC injected in the outputs step (the write of _variables.yml): one line, exit 2; the
    outputs are then not a set, so a render refuses them."""
    proc = _run([sys.executable, "-m", "analysis.cli", "build"],
                env={fileio.FAULT_ENV: "after:_variables.yml:ENOSPC"})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("error: build: no space left on the device; free some space and run "
                                   "again (_variables.yml)")
    refused = _run([sys.executable, "-m", "analysis.cli", "render", "--engine", "lite"])
    assert refused.returncode == 2 and "report/outputs/manifest.json is missing" in refused.stderr
    assert "rm -rf report/outputs && make report" in refused.stderr
    again = _run(["make", "outputs"])
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize("kib, words", [(64, ("file too large",)), (1000, ("killed by SIGXFSZ", "file too large"))])
def test_file_size_limit_in_the_render_is_named(built, kib, words):
    """``ulimit -f``: at 64 KiB a write of this process fails (EFBIG), at 1000 KiB pandoc is killed
    by SIGXFSZ unless a write of this process reaches the limit first (which one comes first depends
    on the sizes of the intermediate files); either way one line naming the limit (not "pandoc
    failed (-25)")."""
    proc = _run(["bash", "-c", f"ulimit -f {kib}; exec {sys.executable} -m analysis.cli render --engine lite"])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "(-25)" not in proc.stderr
    assert any(w in proc.stderr for w in words) and "ulimit -f" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not list((paths.ROOT / "_output").glob(".*.*"))  # no hidden temporary file left


def _step_makefile(tmp_path, recipe: str):
    """A Makefile with the project's ``step`` macro (copied from the real Makefile) and one target."""
    text = (paths.ROOT / "Makefile").read_text()
    macro = text[text.index("define step"):text.index("endef") + len("endef")]
    (tmp_path / "Makefile").write_text(f"SHELL := /bin/bash\nV ?= 0\nLOGDIR := logs\n{macro}\n"
                                       f"t:\n\t$(call step,models,{recipe})\n")


def test_unwritable_log_never_shows_the_previous_runs_success(tmp_path):
    """A read-only log (here: an immutable file holding the last run's success line) must not be
    shown after FAILED; this run's own error is."""
    _step_makefile(tmp_path, "echo this-run-error >&2; false")
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "models.log"
    log.write_text("wrote report/outputs/results/results.json (previous run)\n")
    if subprocess.run(["chattr", "+i", str(log)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i not permitted here")
    try:
        proc = subprocess.run(["make", "-s", "t"], cwd=tmp_path, capture_output=True, text=True)
    finally:
        subprocess.run(["chattr", "-i", str(log)], capture_output=True)
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout and "this-run-error" in proc.stdout, proc.stdout
    assert "previous run" not in proc.stdout and "cannot write logs/models.log" in proc.stdout


# ------------------------------------------------------------------ end to end, with make

def test_killed_models_step_is_rebuilt_not_rendered_and_leaves_no_temporary_files(built):
    """SIGKILL right after results.json is replaced: the next ``make report`` re-fits (never renders
    the stale CSVs), removes every temporary file an interrupted run left, and ends byte-identical
    to the build before the fault."""
    results = paths.ROOT / "report" / "outputs" / "results"
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    os.utime(paths.ROOT / "analysis" / "run_models.py")  # model code "changed": the models re-run
    killed = _run(["make", "report"], env={fileio.FAULT_ENV: "kill-after:results.json"})
    assert killed.returncode != 0
    assert not (results / "manifest.json").exists()
    assert not (paths.ROOT / "report" / "outputs" / "manifest.json").exists()
    refused = _run([sys.executable, "-m", "analysis.cli", "render", "--engine", "lite"])
    assert refused.returncode == 2 and "is missing" in refused.stderr
    planted = [results / ".estimates.csv.a1b2c3d4", results / "results.json.tmp",
               paths.DERIVED / ".staging-x1y2z3", paths.DERIVED / ".backup-x1y2z3",
               paths.ROOT / "_output" / ".report-v0.2.0.pdf.q1w2e3r4"]
    for p in planted:
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.mkdir() if ".staging" in p.name or ".backup" in p.name else p.write_bytes(b"partial"))
    rebuilt = _run(["make", "report"])
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "build " in rebuilt.stdout  # the models were re-fitted in the one-process step
    assert not [p for p in planted if p.exists()]
    after = {p.name: p.read_bytes() for p in results.iterdir()}
    assert after == before
