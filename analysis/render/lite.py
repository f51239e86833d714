"""The in-project renderer: the Quarto subset the report uses, on pandoc and typst.

The report is ONE Quarto document (``project: type: default``; ``_quarto.yml`` lists it under
``project: render:``), not a book: a book renders one HTML page per chapter and, with
``embed-resources``, every page embeds its neighbours (issue 9, finding 5). This module renders
the same document the way Quarto 1.10 does, so that both engines give the same text:

* front matter of the document; ``{{< var a.b >}}`` from ``_variables.yml`` (keys are split on
  dots, https://quarto.org/docs/authoring/variables.html), ``{{< include f >}}`` resolved from the
  directory of the MAIN document ("include shortcodes are equivalent to copying and pasting",
  https://quarto.org/docs/authoring/includes.html), ``/f`` from the project root; escaped
  shortcodes ``{{{< x >}}}`` print ``{{< x >}}`` (https://quarto.org/docs/extensions/shortcodes.html#escaping);
* ``::: {.content-visible when-format="html"}`` / ``content-hidden`` / ``unless-format`` divs,
  with Quarto's format matching (``pdf`` and ``latex`` match only LaTeX output, never typst:
  quarto-cli ``src/resources/pandoc/datadir/_format.lua``, ``isFormat``); raw ```` ```{=html} ````
  and ```` ```{=typst} ```` blocks pass through pandoc;
* numbering as Quarto numbers a single document with ``number-sections: true``: sections 1, 1.1,
  ... (``.unnumbered`` headings and everything under an unnumbered level-1 heading are not
  numbered; the appendix carries its letters in its headings), figures and tables 1..n through
  the whole document, references "Section 4", "Figure 3", "Table 2";
* citations through pandoc's citeproc with the CSL file named in the front matter (Quarto's
  typst format is told ``citeproc: true`` so both formats use the same author-date style,
  https://quarto.org/docs/output-formats/typst.html#bibliography).

An unknown variable, label or include, or a Quarto construct this engine does not implement
faithfully, is a :class:`RenderError`, never an empty string or a "??" in the output.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths
from ..fileio import atomic_write
from . import quarto_rules, renderlog
from ..outputs.escape import typst_string as _typst_string

VAR_RE = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")
INCLUDE_RE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
ESCAPED_SC_RE = re.compile(r"\{\{\{<(.*?)>\}\}\}", re.S)
ANY_SC_RE = re.compile(r"\{\{<\s*(\w+)")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*(\{[^}]*\})?\s*$")
FIG_RE = re.compile(r"!\[(?P<cap>.*?)\]\((?P<src>[^)\s]+)\)\{(?P<attr>[^}]*#fig-[\w-]+[^}]*)\}", re.S)
TBL_CAP_RE = re.compile(r"^:\s+(?P<cap>.*?)\s*\{#(?P<id>tbl-[\w-]+)\}\s*$", re.M)
FLOAT_DIV_RE = re.compile(r"^(?P<fence>:{3,})\s*\{#(?P<id>(?:fig|tbl)-[\w-]+)(?P<rest>[^}]*)\}\s*$")
REF_RE = re.compile(r"(?<![\w@\[\\])@((?:fig|tbl|sec)-[\w-]+)")
REF_IN_BRACKETS_RE = re.compile(r"\[@((?:fig|tbl|sec)-[\w-]+)\]")
FENCE_OPEN_RE = re.compile(r"^(:{3,})\s*(\{.*\}|[\w-]+)\s*$")
FENCE_CLOSE_RE = re.compile(r"^(:{3,})\s*$")
ESC_TOKEN = "\x00ESCSC{}\x00"

#: the two formats of the report, as pandoc/Quarto name them
FORMATS = ("html", "typst")


class RenderError(RuntimeError):
    """The sources cannot be rendered as written (unknown variable, label or include, ...)."""


def split_front_matter(text: str, where: str) -> tuple[dict, str]:
    """Return (YAML front matter, body) of a ``.qmd`` text."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        raise RenderError(f"{where}: front matter is not closed by '---'")
    return yaml.safe_load(text[4:end]) or {}, text[end + 5:]


@dataclass
class Document:
    """The report document named in ``_quarto.yml`` (``project: render: [<one .qmd>]``)."""

    root: Path
    config: dict
    path: Path
    meta: dict
    body: str
    variables: dict = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path = paths.ROOT) -> "Document":
        cfg = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
        project = cfg.get("project", {})
        if project.get("type", "default") != "default":
            raise RenderError(f"_quarto.yml: project type {project.get('type')!r}: the report is one "
                              f"document (type: default), see ARCHITECTURE.md")
        render_list = project.get("render") or []
        if len(render_list) != 1:
            raise RenderError(f"_quarto.yml: project: render: must list exactly one document, not {render_list}")
        path = root / render_list[0]
        if not path.exists():
            raise RenderError(f"_quarto.yml lists {render_list[0]}, which does not exist")
        meta, body = split_front_matter(path.read_text(encoding="utf-8"), str(path))
        # project-level options (all of _quarto.yml but `project`) under the document's own
        meta = deep_merge({k: v for k, v in cfg.items() if k != "project"}, meta)
        var_file = root / "_variables.yml"
        variables = yaml.safe_load(var_file.read_text(encoding="utf-8")) if var_file.exists() else {}
        return cls(root, cfg, path, meta, body, variables or {})

    @property
    def base(self) -> Path:
        return self.path.parent


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` merged into ``base`` (dicts recursively; other values of ``over`` win)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# Backwards-compatible name (the report used to be a Quarto book).
Book = Document


def lookup(variables: dict, key: str, where: str) -> str:
    """Value of ``{{< var key >}}``: the key is split on dots, as Quarto does."""
    node = variables
    for part in key.split("."):
        if part.isdigit():
            raise RenderError(f"{where}: {{{{< var {key} >}}}}: Quarto reads the numeric key segment "
                              f"{part!r} as a number and never finds it; use a name such as 'y{part}'")
        if not isinstance(node, dict) or part not in node:
            raise RenderError(f"{where}: {{{{< var {key} >}}}} is not defined in _variables.yml "
                              f"(run `make outputs`)")
        node = node[part]
    if isinstance(node, (dict, list)):
        raise RenderError(f"{where}: {{{{< var {key} >}}}} is not a scalar")
    return str(node)


def _include_target(arg: str, base: Path, root: Path) -> Path:
    return (root / arg.lstrip("/")) if arg.startswith("/") else (base / arg)


def expand(text: str, source: Path, variables: dict, base: Path | None = None,
           root: Path = paths.ROOT, depth: int = 0) -> str:
    """Expand includes (recursively) and variables; escaped shortcodes print literally.

    Includes resolve from ``base`` (the main document's directory), as Quarto's copy-and-paste
    semantics do; the text of an included file is itself scanned for shortcodes.
    """
    base = base or source.parent
    escaped: list[str] = []

    def protect(m: re.Match) -> str:
        escaped.append("{{<" + m.group(1) + ">}}")
        return ESC_TOKEN.format(len(escaped) - 1)

    def includes(t: str, where: Path, level: int) -> str:
        if level > 5:
            raise RenderError(f"{where}: includes nested too deeply")
        t = ESCAPED_SC_RE.sub(protect, t)

        def inc(m: re.Match) -> str:
            target = _include_target(m.group(1), base, root)
            if not target.is_file():
                raise RenderError(f"{where}: {{{{< include {m.group(1)} >}}}}: file not found ({target}; "
                                  f"includes resolve from {base}, as in Quarto)")
            return includes(target.read_text(encoding="utf-8"), target, level + 1)

        return INCLUDE_RE.sub(inc, t)

    text = includes(text, source, depth)
    # Quarto's built-in page break: a native typst page break, nothing in HTML
    text = re.sub(r"\{\{<\s*pagebreak\s*>\}\}", "\n```{=typst}\n#pagebreak()\n```\n", text)
    text = VAR_RE.sub(lambda m: lookup(variables, m.group(1), str(source)), text)
    other = ANY_SC_RE.search(text)
    if other:
        raise RenderError(f"{source}: shortcode {{{{< {other.group(1)} ... >}}}} is not supported by the "
                          f"in-project engine")
    for i, literal in enumerate(escaped):
        text = text.replace(ESC_TOKEN.format(i), literal)
    return text


def _format_matches(name: str, fmt: str) -> bool:
    """Quarto's ``isFormat``: html matches html; typst matches only typst (pdf means LaTeX)."""
    name = name.strip()
    if name in ("pdf", "latex"):
        raise RenderError(f'when-format/unless-format "{name}" matches only LaTeX output in Quarto, never '
                          f'the typst PDF (quarto-cli _format.lua isFormat); write "typst"')
    return name == fmt or (name in ("html", "html5", "html:js") and fmt == "html")


def _visible(attrs: str, fmt: str) -> bool | None:
    """None if the div is not conditional, else whether its content is shown in ``fmt``."""
    classes = re.findall(r"\.([\w-]+)", attrs)
    kind = "visible" if "content-visible" in classes else "hidden" if "content-hidden" in classes else None
    if kind is None:
        return None
    when = re.search(r'when-format="([^"]*)"', attrs)
    unless = re.search(r'unless-format="([^"]*)"', attrs)
    cond = True
    if when:
        cond = cond and _format_matches(when.group(1), fmt)
    if unless:
        cond = cond and not _format_matches(unless.group(1), fmt)
    return cond if kind == "visible" else not cond


def select_format(text: str, fmt: str) -> str:
    """Keep or drop ``content-visible`` / ``content-hidden`` divs for ``fmt`` (html or typst)."""
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []  # (is conditional, shown)
    in_code = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        shown = all(s for c, s in stack if c)
        if not in_code:
            m_open = FENCE_OPEN_RE.match(line)
            if m_open:
                vis = _visible(m_open.group(2), fmt)
                stack.append((vis is not None, bool(vis)))
                if vis is None and shown:
                    out.append(line)
                continue
            if FENCE_CLOSE_RE.match(line) and stack:
                conditional, _ = stack.pop()
                if not conditional and shown:
                    out.append(line)
                continue
        if shown:
            out.append(line)
    if stack:
        raise RenderError("a ::: div is not closed")
    return "\n".join(out)


@dataclass
class Numbering:
    labels: dict[str, str] = field(default_factory=dict)  # id -> "Figure 3"
    n_fig: int = 0
    n_tbl: int = 0


def number_document(text: str) -> tuple[str, Numbering]:
    """Number sections, figures and tables as Quarto numbers one document."""
    if isinstance(text, list):  # old signature: list of (chapter text, is_appendix)
        text = "\n\n".join(t for t, _ in text)
    num = Numbering()
    counters = [0] * 6
    numbering_on = True  # False under an unnumbered level-1 heading
    lines = []
    in_code = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        m = None if in_code else HEADING_RE.match(line)
        if not m:
            lines.append(line)
            continue
        level = len(m.group(1))
        title, attrs = m.group(2), (m.group(3) or "")
        unnumbered = ".unnumbered" in attrs or "{-}" in attrs or re.search(r"(^|\s)-(\s|\})", attrs) is not None
        ident = re.search(r"#([\w-]+)", attrs)
        if level == 1:
            numbering_on = not unnumbered
        elif not unnumbered and not numbering_on:
            raise RenderError(f"heading '{title}' is numbered but sits under an unnumbered level-1 heading: "
                              f"mark it {{.unnumbered}} (Quarto would number it under the previous section)")
        if unnumbered:
            label = title
        else:
            counters[level - 1] += 1
            counters[level:] = [0] * (6 - level)
            number = ".".join(map(str, counters[:level]))
            label = f"{number}\u2002{title}"
            if ident:
                num.labels[ident.group(1)] = f"Section {number}"
        inner = attrs[1:-1] if attrs else ""
        inner = re.sub(r"(^|\s)(\.unnumbered|-)(?=\s|$)", " ", inner).strip()
        lines.append(f"{m.group(1)} {label} {{{inner} .unnumbered}}".replace("{ ", "{"))
    text = "\n".join(lines)

    # figures and tables: one pass each, in document order (image figures and div floats together)
    events = []
    for m in FIG_RE.finditer(text):
        events.append((m.start(), "fig-img", m))
    for m in TBL_CAP_RE.finditer(text):
        events.append((m.start(), "tbl-cap", m))
    for m in re.finditer(r"^:{3,}\s*\{#((?:fig|tbl)-[\w-]+)[^}]*\}\s*$", text, re.M):
        events.append((m.start(), "div", m))
    events.sort(key=lambda e: e[0])
    replacements = []
    for _, kind, m in events:
        if kind == "fig-img":
            ident = re.search(r"#(fig-[\w-]+)", m.group("attr")).group(1)
            attr = m.group("attr")
            if "fig-alt=" not in attr:
                raise RenderError(f"figure #{ident} has no fig-alt text (required for accessibility)")
            num.n_fig += 1
            num.labels[ident] = f"Figure {num.n_fig}"
            attr = attr.replace("fig-alt=", "alt=")  # Quarto's fig-alt is the <img> alt text
            replacements.append((m.start(), m.end(),
                                 f"![Figure {num.n_fig}: {m.group('cap')}]({m.group('src')}){{{attr}}}"))
        elif kind == "tbl-cap":
            num.n_tbl += 1
            num.labels[m.group("id")] = f"Table {num.n_tbl}"
            replacements.append((m.start(), m.end(), f": Table {num.n_tbl}: {m.group('cap')} {{#{m.group('id')}}}"))
        else:
            ident = m.group(1)
            if ident.startswith("fig-"):
                num.n_fig += 1
                num.labels[ident] = f"Figure {num.n_fig}"
            else:
                num.n_tbl += 1
                num.labels[ident] = f"Table {num.n_tbl}"
            replacements.append((m.start(), m.end(), m.group(0) + f"\n\n[{num.labels[ident]}]{{.float-number}}"))
    for start, end, new in reversed(replacements):
        text = text[:start] + new + text[end:]
    return text, num


def resolve_refs(text: str, num: Numbering) -> str:
    def link(ident: str) -> str:
        if ident not in num.labels:
            raise RenderError(f"cross-reference @{ident} has no target: no such label, or an unnumbered "
                              f"section (link to it with [text](#{ident}) instead)")
        return f"[{num.labels[ident]}](#{ident})"

    text = REF_IN_BRACKETS_RE.sub(lambda m: link(m.group(1)), text)
    return REF_RE.sub(lambda m: link(m.group(1)), text)


def assemble(doc: Document, fmt: str = "html") -> tuple[str, Numbering]:
    """The document's markdown for ``fmt`` with shortcodes, conditions, numbers and refs resolved."""
    text = expand(doc.body, doc.path, doc.variables, base=doc.base, root=doc.root)
    found = quarto_rules.problems(text)
    if found:
        raise RenderError(f"{doc.path}: {len(found)} construct(s) that Quarto renders differently "
                          f"(analysis/render/quarto_rules.py): " + "; ".join(found[:5]))
    text = select_format(text, fmt)
    text, num = number_document(text)
    return resolve_refs(text, num), num


def metadata(doc: Document) -> dict:
    """Pandoc metadata from the document's front matter (title block shortcodes expanded)."""
    found = quarto_rules.metadata_problems(doc.meta)
    if found:
        raise RenderError(f"{doc.path}: front matter: " + "; ".join(found))
    meta = {}
    for key in ("title", "subtitle", "date", "lang"):
        if key in doc.meta:
            meta[key] = expand(str(doc.meta[key]), doc.path, doc.variables, base=doc.base, root=doc.root)
    meta["author"] = [a["name"] if isinstance(a, dict) else a for a in doc.meta.get("author", [])]
    meta["link-citations"] = True
    meta["toc-title"] = doc.meta.get("format", {}).get("html", {}).get("toc-title", "Contents")
    return meta


#: lite-only typst rule: pandoc's figure captions already carry "Figure 3:" (numbered here)
LITE_TYPST_HEADER = "#show figure.caption: it => it.body\n"


class _Missing(RenderError):
    pass


def _pandoc() -> str:
    try:
        import pypandoc
        path = pypandoc.get_pandoc_path()
        if path and Path(path).exists():
            return str(path)
    except (ImportError, OSError):
        pass
    found = shutil.which("pandoc")
    if not found:
        raise _Missing("pandoc not found (neither pypandoc-binary nor pandoc on PATH): run `make setup`")
    return found


def _typst():
    try:
        import typst
    except ImportError as exc:
        raise _Missing(f"typst (the Python package) is not installed: run `make setup` ({exc})") from None
    return typst


def source_date_epoch(root: Path = paths.ROOT) -> int:
    """Timestamp written into the PDF: ``$SOURCE_DATE_EPOCH``, else the commit time, else 0."""
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env:
        return int(env)
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        return int(out) if out else 0
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


_TABLE_RE = re.compile(r"(<table\b[^>]*>)(.*?)(</table>)", re.S)
_TBODY_RE = re.compile(r"<tbody>(.*?)</tbody>", re.S)
_ROW_FIRST_TD_RE = re.compile(r"(<tr\b[^>]*>\s*)<td\b([^>]*)>(.*?)</td>", re.S)


def row_headers(html: str) -> str:
    """Mark the first cell of each body row of a table as ``<th scope="row">``.

    Applied to the HTML of either engine (pandoc cannot express row headers in markdown tables).
    Tables that carry their own row headers (any ``scope="row"``) or opt out of processing
    (``data-quarto-disable-processing``, ``data-no-row-headers``: hand-made raw HTML tables such
    as a searchable lookup) are left alone.
    """
    def body(m: re.Match) -> str:
        return "<tbody>" + _ROW_FIRST_TD_RE.sub(
            lambda r: f'{r.group(1)}<th scope="row"{r.group(2)}>{r.group(3)}</th>', m.group(1)) + "</tbody>"

    def table(m: re.Match) -> str:
        start, inner, end = m.groups()
        if 'scope="row"' in inner or "data-quarto-disable-processing" in start or "data-no-row-headers" in start:
            return m.group(0)
        return start + _TBODY_RE.sub(body, inner) + end

    return _TABLE_RE.sub(table, html)


_CAPTIONED_TABLE_RE = re.compile(r'<table\b([^>]*?)\bid="([^"]+)"([^>]*)>\s*<caption>(.*?)</caption>(.*?)</table>', re.S)


def caption_outside_table(html: str) -> str:
    """Move each table's ``<caption>`` out of the table into a ``<figcaption>``, as Quarto does.

    A wide table scrolls inside its own box on a phone (``report/style.css``); a ``<caption>``
    belongs to that box, is laid out as wide as the table and is clipped with it. Pandoc writes
    ``<table id="tbl-x"><caption>..</caption>..</table>``; this becomes
    ``<figure class="table" id="tbl-x"><figcaption id="tbl-x-caption">..</figcaption><table
    aria-labelledby="tbl-x-caption">..</table></figure>``: the caption wraps at the page width
    and still names the table for assistive technology. Cross-references keep their target id.
    """
    def one(m: re.Match) -> str:
        before, ident, after, caption, inner = m.groups()
        attrs = (before + after).strip()
        attrs = f" {attrs}" if attrs else ""
        return (f'<figure class="table" id="{ident}">\n<figcaption id="{ident}-caption">{caption}</figcaption>\n'
                f'<table aria-labelledby="{ident}-caption"{attrs}>{inner}</table>\n</figure>')

    return _CAPTIONED_TABLE_RE.sub(one, html)


def postprocess_html(html: str) -> str:
    """Everything both engines' HTML gets: row headers, then table captions outside the tables."""
    return caption_outside_table(row_headers(html))


# the end of an image: "](path){... alt="..." ...}" (its caption may hold links and brackets)
_IMAGE_ALT_RE = re.compile(r'\]\((?P<src>[^)\s]+)\)\{[^}]*?\balt="(?P<alt>[^"]*)"')


def image_alts(markdown: str) -> dict[str, str]:
    """Image path -> alt text of every figure in the assembled markdown (``alt=`` as
    :func:`number_document` writes Quarto's ``fig-alt``)."""
    return {m.group("src"): _attr_value(m.group("alt")) for m in _IMAGE_ALT_RE.finditer(markdown)}


def _attr_value(raw: str) -> str:
    """A markdown attribute value as pandoc reads it: backslash escapes and character
    references decoded (``analysis.outputs.escape.md_attr`` writes references)."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", raw))


def typst_string(text: str) -> str:
    """``text`` as a typst string literal (:func:`analysis.outputs.escape.typst_string`)."""
    return _typst_string(text)


def add_image_alt(typst_src: str, alts: dict[str, str]) -> str:
    """Give every ``image("path"...)`` call of pandoc's typst output the alt text of its figure.

    An image without an alt text is a :class:`RenderError` (PDF/UA-1 refuses it, and a reader of
    the PDF with a screen reader would meet an unnamed picture)."""
    def one(m: re.Match) -> str:
        path = m.group(1)
        if path not in alts:
            raise RenderError(f"image {path} has no alt text (fig-alt) in the sources")
        return f'image("{path}", alt: {typst_string(alts[path])}'

    return re.sub(r'image\("([^"]+)"(?!, alt:)', one, typst_src)


def pdf_standards(typst_format: dict) -> list[str]:
    """The PDF standards asked for in ``format: typst: pdf-standard`` (one value or a list), the
    option Quarto passes to typst; typst-py takes them as ``pdf_standards``."""
    value = typst_format.get("pdf-standard") or []
    return [str(v) for v in ([value] if isinstance(value, str) else value)]


def typst_length(value, where: str) -> str:
    """A length of ``format: typst`` (``2.2cm``, ``10pt``, ``1in``) checked as typst reads it."""
    text = str(value).strip()
    if not re.fullmatch(r"\d+(\.\d+)?(pt|mm|cm|in|em)", text):
        raise RenderError(f"_quarto.yml / front matter: format: typst: {where}: {value!r} is not a typst "
                          f"length such as 2.2cm, 10pt or 1in")
    return text


def page_geometry(typst_format: dict) -> dict:
    """Paper, margins and font size of ``format: typst`` as Quarto's typst template uses them.

    Quarto passes ``papersize`` and ``margin`` (a map: ``x``, ``y``, ``top``, ``bottom``, ``left``,
    ``right``) to its template's ``set page(paper: .., margin: (x: .., y: ..))``; pandoc's own
    typst template does the same with the metadata map ``margin`` (``$for(margin/pairs)$``) but
    ignores a dotted variable such as ``-V margin.x:2.2cm``, which is a string named "margin.x"
    (0.2.0 got pandoc's default 1.25in margins that way: 43 pages instead of Quarto's 38).
    """
    margin = typst_format.get("margin") or {"x": "2.2cm", "y": "2.2cm"}
    if not isinstance(margin, dict):
        margin = {"x": margin, "y": margin}
    sides = ("x", "y", "top", "bottom", "left", "right", "inside", "outside", "rest")
    unknown = sorted(set(margin) - set(sides))
    if unknown:
        raise RenderError(f"_quarto.yml: format: typst: margin: unknown side(s) {unknown}; use {list(sides)}")
    return {"papersize": str(typst_format.get("papersize", "a4")),
            "fontsize": typst_length(typst_format.get("fontsize", "10pt"), "fontsize"),
            "margin": {k: typst_length(v, f"margin: {k}") for k, v in margin.items()}}


def page_variables(typst_format: dict) -> list[str]:
    """Pandoc arguments for the scalar geometry (paper, font size); the margin map goes into the
    typst pass's front matter (:func:`render`), where pandoc's template reads its pairs."""
    geo = page_geometry(typst_format)
    return ["-V", f"papersize:{geo['papersize']}", "-V", f"fontsize:{geo['fontsize']}"]


def syntax_highlighting(typst_format: dict) -> str:
    """Pandoc's ``--syntax-highlighting`` for the typst pass, as Quarto chooses it.

    Quarto >= 1.9 highlights typst code with Skylighting by default (every code block and inline
    code becomes inline ``raw`` tokens with ``EndLine()`` line ends; quarto-cli #13878) unless
    ``syntax-highlighting: idiomatic`` asks for typst's native raw elements; pandoc's own typst
    default is idiomatic. The lite engine follows the format option, with Quarto's default
    (Skylighting; pandoc's pygments colours stand in for Quarto's arrow theme), so that the two
    engines lay code out alike (issue 16: the BibTeX block lost its line breaks under Quarto)."""
    value = str(typst_format.get("syntax-highlighting", typst_format.get("highlight-style", "default")))
    return f"--syntax-highlighting={'pygments' if value == 'default' else value}"


def _run(cmd: list[str], cwd: Path) -> str:
    """Run pandoc; return its stderr (its warnings, for the render log)."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        from ..cli import signal_text  # -25 (SIGXFSZ) -> the file size limit, with the fix
        raise RenderError(f"pandoc failed ({signal_text(proc.returncode)}): {proc.stderr.strip()[-2000:]}")
    return proc.stderr


def render(doc: Document, out_dir: Path, stem: str, formats=("html", "pdf"),
           log: dict[str, str] | None = None) -> dict[str, Path]:
    """Render the document to ``out_dir/stem.html`` and ``out_dir/stem.pdf`` (atomic writes).

    The two formats are independent (each its own pandoc run); they run side by side. ``log``,
    if given, receives each step's warnings (pandoc's stderr, typst's warnings) by step name.
    """
    log = {} if log is None else log
    pandoc = _pandoc()
    typst = _typst() if "pdf" in formats else None
    build = doc.root / "_build" / "lite"
    build.mkdir(parents=True, exist_ok=True)
    meta = metadata(doc)
    rel = lambda p: os.path.relpath(p, doc.root)  # noqa: E731  relative paths: no quoting issues
    common = ["--from", "markdown", "--citeproc", "--bibliography", rel(doc.base / doc.meta["bibliography"]),
              "--csl", rel(doc.base / doc.meta["csl"]), "--standalone", "--resource-path", rel(doc.base)]
    fmt_cfg = doc.meta.get("format", {})

    def html() -> Path:
        text, _ = assemble(doc, "html")
        md_path = build / "report.html.md"
        md_path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + text, encoding="utf-8")
        html_cfg = fmt_cfg.get("html", {})
        css = rel(doc.base / html_cfg.get("css", "style.css"))
        tmp_html = build / "report.html"
        log["pandoc html"] = _run([pandoc, rel(md_path), *common, "--to", "html5", "--embed-resources",
                                   "--mathml", "--toc", f"--toc-depth={html_cfg.get('toc-depth', 2)}",
                                   "--css", css, "--section-divs", "-o", rel(tmp_html)], doc.root)
        dest = out_dir / f"{stem}.html"
        atomic_write(dest, postprocess_html(tmp_html.read_text(encoding="utf-8")).encode("utf-8"))
        return dest

    def pdf() -> Path:
        text, _ = assemble(doc, "typst")
        md_path = build / "report.typst.md"
        ty = fmt_cfg.get("typst", {})
        # the margin map as metadata: pandoc's template writes `margin: (x: 2.2cm, y: 2.2cm,)`
        # into its `set page(...)`, as Quarto's does (page_geometry)
        typst_meta = {**meta, "margin": page_geometry(ty)["margin"]}
        md_path.write_text("---\n" + yaml.safe_dump(typst_meta, allow_unicode=True) + "---\n\n" + text,
                           encoding="utf-8")
        header = build / "header.typ"
        shared = (doc.base / ty["include-in-header"]).read_text(encoding="utf-8") if ty.get("include-in-header") else ""
        # the lite rule first: a later show rule applies first, so the shared header's caption
        # rules (a sticky caption block) still see the caption element
        header.write_text(LITE_TYPST_HEADER + shared, encoding="utf-8")
        typ = build / "report.typ"
        log["pandoc typst"] = _run([pandoc, rel(md_path), *common, "--to", "typst", *page_variables(ty),
                                    syntax_highlighting(ty), "--include-in-header", rel(header),
                                    "-o", rel(typ)], doc.root)
        src = typ.read_text(encoding="utf-8")
        # pandoc's typst writer drops the alt text (Quarto adds it, quarto-cli #14110): put each
        # figure's fig-alt on its image, which PDF/UA-1 requires
        src = add_image_alt(src, image_alts(text))
        # images: typst resolves paths from the .typ file; make them absolute from the project root
        base_rel = "/" + rel(doc.base).replace(os.sep, "/")
        src = re.sub(r'image\("(?!/)([^"]+)"', lambda m: f'image("{base_rel}/{m.group(1)}"', src)
        typ.write_text(src, encoding="utf-8")
        try:
            standards = pdf_standards(ty)
            args = dict(root=str(doc.root), timestamp=source_date_epoch(doc.root),
                        **({"pdf_standards": standards} if standards else {}))
            if hasattr(typst, "compile_with_warnings"):
                pdf_bytes, warnings = typst.compile_with_warnings(str(typ), **args)
                log["typst"] = renderlog.typst_warnings(warnings)
            else:
                pdf_bytes = typst.compile(str(typ), **args)
        except Exception as exc:  # typst.TypstError carries the diagnostic
            raise RenderError(f"typst failed: {exc}") from None
        dest = out_dir / f"{stem}.pdf"
        atomic_write(dest, pdf_bytes)
        return dest

    jobs = {"html": html, "pdf": pdf}
    wanted = [f for f in ("html", "pdf") if f in formats]
    if len(wanted) == 1:
        return {wanted[0]: jobs[wanted[0]]()}
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {f: pool.submit(jobs[f]) for f in wanted}
        return {f: fut.result() for f, fut in futures.items()}
