"""The report's reading text, for the prose rules (references, abbreviations, no code in the text).

"Reading text" is what a reader reads: the document with its includes expanded in reading order
(as Quarto pastes them, from the main document's directory) for one format, without the
reproducibility material of the appendix (data dictionary, provenance, reproducibility, how to
cite: ``EXEMPT``), code blocks, raw HTML/typst blocks, attributes and link targets. Each piece
keeps the name of the source file it came from, so a rule can say where to fix it.

Violations in the files that other engineers are rewriting are listed in ``prose_pending.yml``
(beside this file) with rule, file and item: a test fails on a violation that is not listed and
on a listed one that no longer occurs, so the list only shrinks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from analysis import paths
from analysis.render.lite import INCLUDE_RE, VAR_RE, Document, lookup, select_format

#: level-1 sections of the appendix that hold reproducibility material, not reading text
EXEMPT = ("sec-dictionary", "sec-provenance", "sec-reproducibility", "sec-cite")
PENDING_FILE = Path(__file__).with_name("prose_pending.yml")
MARK = "<!--@file {}-->"
MARK_RE = re.compile(r"^<!--@file (\S+)-->$", re.M)


@dataclass(frozen=True)
class Piece:
    """A run of reading text from one source file (``file`` as named under report/)."""

    file: str
    text: str


def _expand(text: str, name: str, base: Path, depth: int = 0) -> str:
    """``text`` (of the file ``name``) with its includes pasted in, each between file markers."""
    if depth > 5:
        return text

    def inc(m: re.Match) -> str:
        arg = m.group(1)
        target = base / arg
        if not target.is_file():
            return ""  # a generated include not built yet
        # a generated table or map belongs to the file that includes it
        child = arg if arg.endswith(".qmd") else f"{name}>{arg}"
        return (f"\n{MARK.format(child)}\n" + _expand(target.read_text(encoding="utf-8"), child, base, depth + 1)
                + f"\n{MARK.format(name)}\n")

    return INCLUDE_RE.sub(inc, text)


def _drop_exempt(text: str) -> str:
    """Remove the exempt level-1 sections (their file markers stay)."""
    out, skipping = [], False
    for line in text.split("\n"):
        m = re.match(r"^# .*\{([^}]*)\}\s*$", line)
        if m:
            ids = re.findall(r"#([\w-]+)", m.group(1))
            skipping = any(i in EXEMPT for i in ids)
        if skipping and not MARK_RE.match(line):
            continue
        out.append(line)
    return "\n".join(out)


def clean(text: str, keep_links: bool = False) -> str:
    """Markdown reduced to the words a reader sees (code, raw blocks, attributes removed)."""
    text = re.sub(r"^(`{3,}).*?^\1\s*$", " ", text, flags=re.S | re.M)   # code and raw blocks
    text = re.sub(r"<!--(?!@file).*?-->", " ", text, flags=re.S)       # comments
    text = re.sub(r"`[^`\n]*`(?:\{=\w+\})?", " ", text)                   # inline code, raw inline
    text = re.sub(r"^:{3,}.*$", "", text, flags=re.M)                     # div fences
    text = re.sub(r"\{[#.][^}]*\}|\{[\w-]+=[^}]*\}", " ", text)          # attributes, labels
    if not keep_links:
        text = re.sub(r"\]\([^)]*\)", "]", text)                          # link/image targets
    return re.sub(r"\\([^\w\s])", r"\1", text)                            # markdown escapes


@lru_cache(maxsize=4)
def pieces(fmt: str) -> tuple[Piece, ...]:
    """The reading text of ``fmt`` (html or typst) as pieces in reading order."""
    doc = Document.load()
    body = _expand(doc.body, doc.path.name, doc.base)
    body = VAR_RE.sub(lambda m: lookup(doc.variables, m.group(1), "reading text"), body)
    body = _drop_exempt(select_format(body, fmt))
    out, current, start = [], doc.path.name, 0
    for m in MARK_RE.finditer(body):
        out.append(Piece(current, body[start:m.start()]))
        current, start = m.group(1), m.end()
    out.append(Piece(current, body[start:]))
    return tuple(p for p in out if p.text.strip())


def paragraphs(fmt: str, keep_links: bool = False) -> list[tuple[str, str]]:
    """(file, paragraph) in reading order; a table and its caption line form one paragraph."""
    out: list[tuple[str, str]] = []
    for piece in pieces(fmt):
        for para in re.split(r"\n\s*\n", clean(piece.text, keep_links)):
            if not para.strip():
                continue
            if para.lstrip().startswith(": ") and out and out[-1][1].lstrip().startswith("|"):
                # a table caption: printed above its table, so read before it
                out[-1] = (out[-1][0], para + "\n" + out[-1][1])
            else:
                out.append((piece.file, para))
    return out


def source_file(name: str) -> str:
    """The qmd a piece belongs to (``descriptives.qmd>outputs/maps.md`` -> descriptives.qmd)."""
    return name.split(">")[0]


def line_of(name: str, needle: str) -> int | None:
    """Line number of ``needle`` in the source file ``name`` (None if not found verbatim)."""
    path = paths.ROOT / "report" / name.split(">")[-1]
    if not path.is_file():
        return None
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    return None


def pending() -> set[tuple[str, str, str]]:
    """(rule, file, item) of the violations listed as waiting for another engineer's file."""
    data = yaml.safe_load(PENDING_FILE.read_text(encoding="utf-8")) or []
    return {(d["rule"], d["file"], str(d["item"])) for d in data}


def check_against_pending(rule: str, found: set[tuple[str, str]]) -> None:
    """Fail on a violation (file, item) of ``rule`` not in the pending list, and on a pending
    entry of ``rule`` that no longer occurs."""
    listed = {(f, i) for r, f, i in pending() if r == rule}
    new = sorted(found - listed)
    gone = sorted(listed - found)
    assert not new, f"{rule}: {new} (fix the prose; only files other engineers own may be listed " \
                    f"in {PENDING_FILE.name})"
    assert not gone, f"{rule}: fixed, remove from {PENDING_FILE.name}: {gone}"
