"""Entry points of the report build, as Make runs them: ``python -m analysis.cli <step>``.

``build``
    models (only when the results are missing, incomplete or older than the derived data or the
    model code) and then every output, in ONE process: the model and output stacks (pandas,
    scipy, statsmodels, matplotlib) are imported once.
``models``
    the models only (``make results``).
``render [--engine ...]``
    the render (:mod:`analysis.render`), after checking that the outputs are a complete set.

Every step first removes what an interrupted earlier run left behind (hidden temporary files of
:func:`analysis.fileio.atomic_write`, ``*.tmp``, ``make data``'s ``.staging-*``/``.backup-*``),
refuses derived data that differ from ``data/derived/manifest.json`` and inputs that are not a
complete set (:func:`analysis.fileio.check_set`), and turns an I/O failure (disk full, file size
limit, read-only checkout) into one line naming the file and the fix, without a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import sys
from pathlib import Path

from . import fileio, paths
from .errors import DataError

OUT = paths.ROOT / "report" / "outputs"
RESULTS_DIR = OUT / "results"
RESULTS_MANIFEST = RESULTS_DIR / "manifest.json"
OUTPUTS_MANIFEST = OUT / "manifest.json"
RENDER_OUT = paths.ROOT / "_output"
#: directories where an interrupted write can leave temporary files
STALE_DIRS = (paths.DERIVED, RESULTS_DIR, OUT, OUT / "figures", OUT / "tables", RENDER_OUT)
#: the inputs of the results besides the derived data (Make's MODEL_CODE)
MODEL_CODE = (paths.ROOT / "analysis" / "run_models.py", paths.ROOT / "analysis" / "models")
REBUILD = "rebuild it with `rm -rf report/outputs && make report`"
#: set to 1 to build from derived data that differ from their manifest (the stamp says MODIFIED)
ALLOW_MODIFIED_ENV = "CSC_ALLOW_MODIFIED_DATA"


class BuildError(RuntimeError):
    """A step refused to run or failed for a reason the user can fix (one-line message)."""


def signal_text(returncode: int) -> str:
    """Describe a child's exit status; a signal death by name, with the fix for SIGXFSZ.

    ``subprocess`` reports a child killed by signal ``n`` as ``-n``: ``-25`` is SIGXFSZ, sent
    when a write passes the file size limit (``ulimit -f``).
    """
    if returncode >= 0:
        return f"exit {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"killed by signal {-returncode}"
    if name == "SIGXFSZ":
        return ("killed by SIGXFSZ: a file passed the file size limit (`ulimit -f`); raise it "
                "(`ulimit -f unlimited`) and run again")
    return f"killed by {name}"


def oserror_text(exc: OSError, step: str) -> str:
    """One line for an I/O failure: what failed, on which file, and what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    code = exc.errno
    if code == errno.ENOSPC:
        cause = "no space left on the device; free some space and run again"
    elif code == errno.EFBIG:
        cause = "file too large: the file size limit (`ulimit -f`) was reached; raise it and run again"
    elif code == errno.EDQUOT:
        cause = "disk quota exceeded; free some space and run again"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        cause = ("cannot write here (read-only checkout or no permission); build in a writable "
                 "copy of the repository")
    else:
        cause = f"{exc.strerror or exc}; run again (the next run removes any partial files)"
    return f"{step}: {cause}{where}"


def check_derived(derived: Path = paths.DERIVED) -> None:
    """Refuse derived data that differ from ``manifest.json`` (an interrupted or hand-edited
    ``make data``), unless ``$CSC_ALLOW_MODIFIED_DATA=1`` (then the stamp says MODIFIED)."""
    if os.environ.get(ALLOW_MODIFIED_ENV) == "1":
        return
    manifest = derived / "manifest.json"
    try:
        expected = json.loads(manifest.read_text())["outputs_sha256"]
    except FileNotFoundError:
        raise BuildError(f"{manifest} is missing: restore the committed data with "
                         "`git checkout -- data/derived` or rebuild them with `make data`") from None
    bad = [name for name, digest in sorted(expected.items())
           if not (derived / name).is_file()
           or hashlib.sha256((derived / name).read_bytes()).hexdigest() != digest]
    if bad:
        raise BuildError(f"{', '.join(bad)} in {derived} differ from its manifest.json (an interrupted "
                         "`make data`, or an edit): rebuild with `make data`, restore the committed "
                         f"files with `git checkout -- data/derived`, or set {ALLOW_MODIFIED_ENV}=1 "
                         "to build from them anyway")


def _newest_input() -> float:
    files = [p for p in paths.DERIVED.glob("*.csv")] + [paths.DERIVED / "manifest.json"]
    for code in MODEL_CODE:
        files += list(code.glob("*.py")) if code.is_dir() else [code]
    return max(p.stat().st_mtime for p in files if p.exists())


def results_current() -> bool:
    """True when the results are a complete set, newer than the derived data and model code."""
    try:
        fileio.check_set(RESULTS_MANIFEST, RESULTS_DIR, REBUILD)
    except fileio.IncompleteSetError:
        return False
    return RESULTS_MANIFEST.stat().st_mtime >= _newest_input()


def run_models() -> None:
    from .run_models import main as models_main
    models_main([])


def run_build(force_models: bool = False) -> None:
    """Models (when needed) and outputs in this one process."""
    if force_models or not results_current():
        fileio.begin_set(OUTPUTS_MANIFEST)  # outputs made from the old results are no longer a set
        run_models()
    fileio.check_set(RESULTS_MANIFEST, RESULTS_DIR, REBUILD)
    from .outputs.build import main as outputs_main
    outputs_main([])


def run_render(argv: list[str]) -> int:
    fileio.check_set(OUTPUTS_MANIFEST, paths.ROOT, REBUILD)
    from .render.__main__ import main as render_main
    return render_main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("build", "models", "render"):
        print("usage: python -m analysis.cli build [--models] | models | render [render options]",
              file=sys.stderr)
        return 2
    step, rest = argv[0], argv[1:]
    try:
        fileio.clean_stale(*STALE_DIRS)
        (OUT / ".stamp").unlink(missing_ok=True)  # the outputs' Make target before 0.3.0
        for tmp in paths.ROOT.glob("._variables.yml.*"):  # buildinfo's atomic write of _variables.yml
            tmp.unlink(missing_ok=True)
        if step == "render":
            return run_render(rest)
        check_derived()
        if step == "models":
            run_models()
        else:
            run_build(force_models="--models" in rest)
        return 0
    except OSError as exc:
        print(f"error: {oserror_text(exc, step)}", file=sys.stderr)
    except (BuildError, fileio.IncompleteSetError, DataError) as exc:
        print(f"error: {step}: {exc}".splitlines()[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
