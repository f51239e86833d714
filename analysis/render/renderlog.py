"""The render log: every engine's warnings, kept (issue 16, finding 10).

A successful ``quarto render`` used to have its stderr discarded, so a warning printed on every
render ("Unable to parse table from raw html block") never reached anyone. Now the stderr of
Quarto, or of pandoc and typst under the in-project engine, is written to
``_build/logs/render.log`` after every render, successful or not, and the render prints one line,
``render: N warnings (see _build/logs/render.log)``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..fileio import atomic_write

LOG = Path("_build") / "logs" / "render.log"
#: the line prefixes of a warning: Quarto ("WARNING (main.lua) ...", "WARN: ..."), pandoc
#: ("[WARNING] ..."), typst as :func:`typst_warnings` writes them ("warning: ...")
WARNING_RE = re.compile(r"^\s*(\[WARNING\]|WARNING\b|WARN\b|warning:)", re.I | re.M)


def count_warnings(text: str) -> int:
    """Number of warnings in a tool's stderr: lines that start with a warning prefix (a warning's
    continuation lines are not counted again)."""
    return len(WARNING_RE.findall(text))


def typst_warnings(warnings) -> str:
    """typst-py's ``TypstWarning`` objects as log lines: ``warning: message`` and its hints."""
    lines = []
    for w in warnings:
        lines.append(f"warning: {getattr(w, 'message', str(w))}")
        lines += [f"  hint: {h}" for h in (getattr(w, "hints", None) or [])]
    return "\n".join(lines)


def write(root: Path, sections: dict[str, str]) -> tuple[Path, int]:
    """Write ``root/_build/logs/render.log``: one section per step, in a fixed order (step names
    sorted), each under a ``== step ==`` line; return its path and the number of warnings."""
    path = root / LOG
    body = []
    for step in sorted(sections):
        text = sections[step].rstrip("\n")
        body.append(f"== {step} ({count_warnings(text)} warnings) ==\n{text}\n" if text else f"== {step} (no output) ==\n")
    atomic_write(path, "".join(body).encode("utf-8"))
    return path, sum(count_warnings(t) for t in sections.values())


def summary(n: int) -> str:
    return f"render: {n} warning{'' if n == 1 else 's'} (see {LOG.as_posix()})"
