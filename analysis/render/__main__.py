"""``python -m analysis.render [--engine auto|quarto|lite] [--out _output]``.

Writes ``report-v<version>.html`` (one self-contained file) and ``report-v<version>.pdf``, and
``report-v<version>.render.json`` recording the engine. ``--engine auto`` (default) uses Quarto
when ``quarto`` is on PATH, the in-project pandoc + typst engine otherwise. If Quarto is used and
fails, the render fails: there is no silent fallback (run with ``--engine lite``, or
``make report RENDER_ENGINE=lite``, to use the in-project engine deliberately).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import __version__, paths
from ..cli import signal_text
from ..outputs import buildinfo
from . import renderlog
from .lite import Document, RenderError, atomic_write, postprocess_html, render, source_date_epoch

FORCE_LITE = "make report RENDER_ENGINE=lite (or python -m analysis.render --engine lite)"


def resolve_engine(engine: str) -> str:
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "lite"
    return engine


def quarto_version(quarto: str) -> str:
    try:
        return subprocess.run([quarto, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def engine_description(engine: str) -> str:
    if engine == "quarto":
        return f"Quarto {quarto_version(shutil.which('quarto') or 'quarto')}"
    try:
        import pypandoc
        import typst
        # typst-py's own version (its bundled Typst compiler reports itself in the PDF metadata)
        return f"the in-project engine (pandoc {pypandoc.get_pandoc_version()}, typst-py {typst.__version__})"
    except (ImportError, OSError):
        return "the in-project engine"


def format_engines(engine: str) -> dict[str, str]:
    """What makes each format, for the reproducibility block: the HTML is written by pandoc (or
    Quarto), never by typst; the PDF by pandoc and typst (or Quarto with typst)."""
    if engine == "quarto":
        q = f"Quarto {quarto_version(shutil.which('quarto') or 'quarto')}"
        return {"html": q, "pdf": f"{q} with typst"}
    try:
        import pypandoc
        import typst
        pandoc = f"pandoc {pypandoc.get_pandoc_version()}"
        return {"html": pandoc, "pdf": f"{pandoc} and typst (typst-py {typst.__version__})"}
    except (ImportError, OSError):
        return {"html": "pandoc", "pdf": "pandoc and typst"}


def _tracked_state(root: Path) -> str:
    try:
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def quarto_render(root: Path, out_dir: Path, stem: str, formats=("html", "pdf"),
                  log: dict[str, str] | None = None) -> dict[str, Path]:
    """Render with the Quarto CLI: ONE ``quarto render`` call for both formats (two calls each
    clean the project's output directory, issue 9 finding 2) into a staging folder, then copy to
    the versioned names. The PDF's dates come from ``SOURCE_DATE_EPOCH`` (typst honours it).
    Quarto's stderr (its warnings; all of it on a failure) goes into ``log["quarto render"]``."""
    log = {} if log is None else log
    quarto = shutil.which("quarto")
    if not quarto:
        raise RenderError(f"quarto is not on PATH; to render without it: {FORCE_LITE}")
    staging = root / "_build" / "quarto"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [quarto, "render", "--output-dir", os.path.relpath(staging, root)]
    if tuple(formats) != ("html", "pdf"):
        cmd += ["--to", "typst" if formats[0] == "pdf" else "html"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_date_epoch(root))}
    before = _tracked_state(root)
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    log["quarto render"] = proc.stderr
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RenderError(f"quarto render failed ({signal_text(proc.returncode)}): {tail}; to render with the "
                          f"in-project engine instead: {FORCE_LITE}")
    after = _tracked_state(root)
    if after != before:
        raise RenderError(f"quarto render modified tracked files: {after.strip()}")
    written = {}
    for fmt, ext in (("html", "html"), ("pdf", "pdf")):
        if fmt not in formats:
            continue
        found = sorted(staging.rglob(f"report.{ext}"))
        if not found:
            raise RenderError(f"quarto render wrote no report.{ext} under {staging}")
        data = found[0].read_bytes()
        if fmt == "html":
            data = postprocess_html(data.decode("utf-8")).encode("utf-8")
        dest = out_dir / f"{stem}.{ext}"
        atomic_write(dest, data)
        written[fmt] = dest
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["auto", "quarto", "lite"], default="auto")
    ap.add_argument("--out", type=Path, default=paths.ROOT / "_output")
    ap.add_argument("--format", choices=["html", "pdf", "both"], default="both")
    ap.add_argument("--root", type=Path, default=paths.ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    stem = f"report-v{__version__}"
    engine = resolve_engine(args.engine)
    formats = ("html", "pdf") if args.format == "both" else (args.format,)
    log: dict[str, str] = {}
    try:
        description = engine_description(engine)
        if args.root == paths.ROOT:
            per_format = format_engines(engine)
            buildinfo.refresh(engine=description, engine_html=per_format["html"], engine_pdf=per_format["pdf"])
        if engine == "quarto":
            written = quarto_render(args.root, args.out, stem, formats, log=log)
        else:
            written = render(Document.load(args.root), args.out, stem, formats, log=log)
        record = {"engine": engine, "description": description, "files": sorted(p.name for p in written.values())}
        atomic_write(args.out / f"{stem}.render.json", (json.dumps(record, indent=1) + "\n").encode())
    except OSError as exc:  # disk full, file size limit, read-only checkout: one line
        from ..cli import oserror_text
        print(f"error: {oserror_text(exc, 'render')}", file=sys.stderr)
        return 2
    except RenderError as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        _write_log(args.root, log)
        return 2
    print(f"rendered with {description}: " + ", ".join(os.path.relpath(p) for p in written.values()))
    _write_log(args.root, log)
    return 0


def _write_log(root: Path, log: dict[str, str]) -> None:
    """The render log (every engine's stderr) and the one-line warning count, on stdout."""
    if not log:
        return
    try:
        _, n = renderlog.write(root, log)
    except OSError as exc:  # a log that cannot be written never fails the render
        print(f"render: log not written ({exc})")
        return
    print(renderlog.summary(n))


if __name__ == "__main__":
    raise SystemExit(main())
