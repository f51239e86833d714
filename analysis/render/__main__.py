"""``python -m analysis.render [--engine auto|quarto|lite] [--out _output]``.

Writes ``report-v<version>.html`` and ``report-v<version>.pdf``. With ``--engine auto`` (default)
Quarto is used when ``quarto`` is on PATH, the pandoc + typst path otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .. import __version__, paths
from .lite import Book, RenderError, render


def quarto_render(out_dir: Path, stem: str) -> dict[str, Path]:
    """Render with the Quarto CLI. A Quarto book's HTML is a multi-page site in ``_output/``
    (entry ``index.html``); the typst PDF is ``_output/report.pdf``, copied to the versioned name."""
    subprocess.run(["quarto", "render", "--to", "html"], check=True, cwd=paths.ROOT)
    subprocess.run(["quarto", "render", "--to", "typst"], check=True, cwd=paths.ROOT)
    q_out = paths.ROOT / "_output"
    written = {"html": q_out / "index.html"}
    pdf = q_out / "report.pdf"
    if pdf.exists():
        dest = out_dir / f"{stem}.pdf"
        shutil.copyfile(pdf, dest)
        written["pdf"] = dest
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["auto", "quarto", "lite"], default="auto")
    ap.add_argument("--out", type=Path, default=paths.ROOT / "_output")
    ap.add_argument("--format", choices=["html", "pdf", "both"], default="both")
    args = ap.parse_args(argv)
    stem = f"report-v{__version__}"
    engine = args.engine
    if engine == "auto":
        engine = "quarto" if shutil.which("quarto") else "lite"
    formats = ("html", "pdf") if args.format == "both" else (args.format,)
    try:
        if engine == "quarto":
            written = quarto_render(args.out, stem)
        else:
            written = render(Book.load(), args.out, stem, formats)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"rendered with {engine}: " + ", ".join(str(p) for p in written.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
