"""A small Quarto-compatible renderer built on pandoc and typst (for machines without Quarto).

It reads ``_quarto.yml`` (book chapters, bibliography, title) and the chapters' ``.qmd`` text and
implements the Quarto features the report uses:

* ``{{< var key.path >}}`` from ``_variables.yml`` and ``{{< include file >}}`` (relative to the
  chapter); an unknown variable or missing include is an error, never an empty string;
* numbered chapters/sections (``{.unnumbered}`` respected, appendices lettered), figures
  ``![cap](path){#fig-x}`` and tables (caption line ``: cap {#tbl-x}``);
* cross-references ``@fig-x``, ``@tbl-x``, ``@sec-x`` resolved to linked "Figure 3", "Table 2",
  "Section 4.1" / "Chapter 4" (an unknown label is an error, so no "??" reaches a reader);
* citations ``[@key]`` and the bibliography through pandoc's citeproc.

Numbering is done here, once, so the HTML and the PDF carry identical numbers. HTML is
self-contained (images embedded, no CDN); the PDF is made by typst from pandoc's typst output.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths

VAR_RE = re.compile(r"\{\{<\s*var\s+([\w.\-]+)\s*>\}\}")
INCLUDE_RE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*(\{[^}]*\})?\s*$")
FIG_RE = re.compile(r"!\[(?P<cap>.*?)\]\((?P<src>[^)\s]+)\)\{(?P<attr>[^}]*#fig-[\w-]+[^}]*)\}", re.S)
TBL_CAP_RE = re.compile(r"^:\s+(?P<cap>.*?)\s*\{#(?P<id>tbl-[\w-]+)\}\s*$", re.M)
REF_RE = re.compile(r"(?<![\w@\[])@((?:fig|tbl|sec)-[\w-]+)")
REF_IN_BRACKETS_RE = re.compile(r"\[@((?:fig|tbl|sec)-[\w-]+)\]")


class RenderError(RuntimeError):
    """The sources cannot be rendered as written (unknown variable, label or include)."""


@dataclass
class Book:
    root: Path
    config: dict
    chapters: list[Path]
    appendices: list[Path]
    variables: dict = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path = paths.ROOT) -> "Book":
        cfg = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8"))
        book = cfg.get("book", {})
        chapters = [root / c for c in book.get("chapters", [])]
        appendices = [root / c for c in book.get("appendices", [])]
        missing = [str(p) for p in chapters + appendices if not p.exists()]
        if missing:
            raise RenderError(f"_quarto.yml lists chapter(s) that do not exist: {missing}")
        var_file = root / "_variables.yml"
        variables = yaml.safe_load(var_file.read_text(encoding="utf-8")) if var_file.exists() else {}
        return cls(root, cfg, chapters, appendices, variables or {})


def lookup(variables: dict, key: str, where: str) -> str:
    node = variables
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise RenderError(f"{where}: {{{{< var {key} >}}}} is not defined in _variables.yml "
                              f"(run `make outputs`)")
        node = node[part]
    if isinstance(node, (dict, list)):
        raise RenderError(f"{where}: {{{{< var {key} >}}}} is not a scalar")
    return str(node)


def expand(text: str, source: Path, variables: dict, depth: int = 0) -> str:
    """Expand includes (recursively) and variables."""
    if depth > 5:
        raise RenderError(f"{source}: includes nested too deeply")

    def inc(m: re.Match) -> str:
        target = (source.parent / m.group(1)).resolve()
        if not target.exists():
            raise RenderError(f"{source}: {{{{< include {m.group(1)} >}}}}: file not found ({target})")
        return expand(target.read_text(encoding="utf-8"), target, variables, depth + 1)

    text = INCLUDE_RE.sub(inc, text)
    return VAR_RE.sub(lambda m: lookup(variables, m.group(1), str(source)), text)


@dataclass
class Numbering:
    labels: dict[str, str] = field(default_factory=dict)  # id -> "Figure 3"
    n_fig: int = 0
    n_tbl: int = 0


def _letter(i: int) -> str:
    return chr(ord("A") + i)


def number_document(parts: list[tuple[str, bool]], base_level: int = 1) -> tuple[str, Numbering]:
    """Number headings, figures and tables of the chapters; returns the joined text and labels.

    ``parts`` is a list of (chapter text, is_appendix).
    """
    num = Numbering()
    counters = [0] * 6
    n_appendix = -1
    out_chapters = []
    for text, appendix in parts:
        lines = []
        in_code = False
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                in_code = not in_code
            m = None if in_code else HEADING_RE.match(line)
            if not m:
                lines.append(line)
                continue
            level = len(m.group(1))
            title, attrs = m.group(2), (m.group(3) or "")
            unnumbered = ".unnumbered" in attrs or "{-}" in attrs
            ident = re.search(r"#([\w-]+)", attrs)
            if unnumbered:
                label = title
            else:
                if level == 1 and appendix:
                    n_appendix += 1
                counters[level - 1] += 1
                counters[level:] = [0] * (6 - level)
                head = _letter(n_appendix) if appendix else str(counters[0])
                number = ".".join([head, *map(str, counters[1:level])])
                label = f"{number}\u2002{title}"
                if ident:
                    kind = ("Appendix" if appendix else "Chapter") if level == 1 else "Section"
                    num.labels[ident.group(1)] = f"{kind} {number}"
            new_attrs = attrs[1:-1].replace(".unnumbered", "").strip() if attrs else ""
            new_attrs = f"{{{new_attrs} .unnumbered}}".replace("{ ", "{")
            lines.append(f"{m.group(1)} {label} {new_attrs}")
        chapter = "\n".join(lines)

        def fig(m: re.Match) -> str:
            ident = re.search(r"#(fig-[\w-]+)", m.group("attr")).group(1)
            num.n_fig += 1
            num.labels[ident] = f"Figure {num.n_fig}"
            attr = m.group("attr")
            if "fig-alt=" not in attr:
                raise RenderError(f"figure #{ident} has no fig-alt text (required for accessibility)")
            attr = attr.replace("fig-alt=", "alt=")  # Quarto's fig-alt is the <img> alt text
            return f"![Figure {num.n_fig}: {m.group('cap')}]({m.group('src')}){{{attr}}}"

        chapter = FIG_RE.sub(fig, chapter)

        def tbl(m: re.Match) -> str:
            num.n_tbl += 1
            num.labels[m.group("id")] = f"Table {num.n_tbl}"
            return f": Table {num.n_tbl}: {m.group('cap')} {{#{m.group('id')}}}"

        chapter = TBL_CAP_RE.sub(tbl, chapter)
        out_chapters.append(chapter)
    return "\n\n".join(out_chapters), num


def resolve_refs(text: str, num: Numbering) -> str:
    def link(ident: str) -> str:
        if ident not in num.labels:
            raise RenderError(f"cross-reference @{ident} has no target (labels: {sorted(num.labels)[:8]}...)")
        return f"[{num.labels[ident]}](#{ident})"

    text = REF_IN_BRACKETS_RE.sub(lambda m: link(m.group(1)), text)
    return REF_RE.sub(lambda m: link(m.group(1)), text)


def assemble(book: Book) -> tuple[str, Numbering]:
    parts = []
    for path in book.chapters:
        parts.append((expand(path.read_text(encoding="utf-8"), path, book.variables), False))
    for path in book.appendices:
        parts.append((expand(path.read_text(encoding="utf-8"), path, book.variables), True))
    text, num = number_document(parts)
    return resolve_refs(text, num), num


def metadata(book: Book) -> dict:
    b = book.config.get("book", {})
    v = book.variables.get("build", {})
    authors = [a["name"] if isinstance(a, dict) else a for a in b.get("author", [])]
    return {
        "title": b.get("title", ""),
        "subtitle": f"{b.get('subtitle', '')} · version {v.get('version', '?')}",
        "author": authors,
        "date": f"{v.get('date', '')} · commit {v.get('commit', '')}",
        "lang": book.config.get("lang", "en-GB"),
        "link-citations": True,
        "toc-title": "Contents",
    }


TYPST_HEADER = r"""
#show figure.caption: it => it.body
#show figure.where(kind: image): set block(breakable: false)
#show figure.where(kind: table): set block(breakable: true)
#show link: set text(fill: rgb("#1a5490"))
#set table(stroke: 0.4pt + luma(180), inset: 4pt)
#show table: set text(size: 8pt)
#show raw.where(block: true): set text(size: 8pt)
#set par(justify: false)
"""


def _pandoc() -> str:
    import pypandoc
    return pypandoc.get_pandoc_path()


def render(book: Book, out_dir: Path, stem: str, formats=("html", "pdf")) -> dict[str, Path]:
    """Render the book to ``out_dir/stem.html`` and ``out_dir/stem.pdf``."""
    text, _ = assemble(book)
    out_dir.mkdir(parents=True, exist_ok=True)
    build = book.root / "_build"
    build.mkdir(exist_ok=True)
    meta = metadata(book)
    bib = book.root / book.config["bibliography"]
    md_path = build / "book.md"
    md_path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + text, encoding="utf-8")
    common = [_pandoc(), str(md_path), "--from", "markdown", "--citeproc", "--bibliography", str(bib),
              "--standalone", "--toc", "--toc-depth=2", "--resource-path", str(book.root / "report")]
    written = {}
    if "html" in formats:
        css = book.root / book.config["format"]["html"].get("css", "report/style.css")
        html = out_dir / f"{stem}.html"
        subprocess.run([*common, "--to", "html5", "--embed-resources", "--mathml", "--css", str(css),
                        "--section-divs", "-o", str(html)], check=True, cwd=book.root)
        written["html"] = html
    if "pdf" in formats:
        import typst
        typ = build / "book.typ"
        header = build / "header.typ"
        header.write_text(TYPST_HEADER, encoding="utf-8")
        ty = book.config["format"].get("typst", {})
        subprocess.run([*common, "--to", "typst", "-V", f"papersize:{ty.get('papersize', 'a4')}",
                        "-V", "fontsize:10pt", "-V", "margin.x:2.2cm", "-V", "margin.y:2.2cm",
                        "--include-in-header", str(header), "-o", str(typ)], check=True, cwd=book.root)
        src = typ.read_text(encoding="utf-8")
        # images: make paths absolute from the project root, where typst is rooted
        src = re.sub(r'image\("(?!/)([^"]+)"', lambda m: f'image("/report/{m.group(1)}"', src)
        typ.write_text(src, encoding="utf-8")
        pdf = out_dir / f"{stem}.pdf"
        pdf.write_bytes(typst.compile(str(typ), root=str(book.root)))
        written["pdf"] = pdf
    return written
