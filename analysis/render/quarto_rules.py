"""Constructs that a real Quarto render treats differently from the in-project engine (issue 16).

Each function finds one construct in markdown text; the in-project engine refuses them
(:func:`check_body`, :func:`check_metadata`), so that the two engines cannot silently disagree,
and the tests run the same functions over the sources and the generated includes.

* A ``var`` shortcode joined to other text by a dash inside YAML metadata
  (``{{< var a >}}-{{< var b >}}``): Quarto 1.10 drops the second value (the title read
  "2015 ·"); with spaces around the dash, or " to ", both print.
* A line starting with ``(@`` (``(@sec-x) ...``): pandoc reads ``(@label)`` at the start of a
  line as an example-list marker, "(1)", before Quarto's cross-references see it.
* A raw HTML table that Quarto's HTML table processing would parse: Quarto >= 1.3 converts every
  ``<table>`` in a raw HTML block into a pandoc table in EVERY format (rewriting ``<small>`` and
  other inline markup, losing the table's own layout) and warns "Unable to parse table from raw
  html block" where it cannot (the typst pass). A raw table must opt out: the comment
  ``<!--| quarto-html-table-processing: none -->`` in its raw block (Quarto >= 1.5) and
  ``data-quarto-disable-processing="true"`` on the ``<table>`` (Quarto >= 1.3),
  https://quarto.org/docs/authoring/tables.html#disabling-quarto-table-processing.
* Code under Quarto's default typst highlighting (Skylighting, Quarto >= 1.9): every code block
  becomes inline raw tokens, which the report's typst rule for long inline code boxes and breaks
  between characters: the BibTeX entry lost its line breaks ("Analysis T / eam}}").
  ``_quarto.yml`` sets ``syntax-highlighting: idiomatic`` (typst's own raw blocks) for both
  engines (:func:`analysis.render.lite.syntax_highlighting`); tests check it.
* A Quarto callout (``.callout-*``): Quarto draws a titled box with an icon, the in-project
  engine plain text; the report uses a plain div class styled by ``style.css`` instead.
"""

from __future__ import annotations

import re

#: dashes, and the no-break spaces that pandoc keeps inside one Str token as it keeps a dash
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212\u00a0\u202f"
#: a shortcode touching a dash (or a no-break space) on either side, with no space between
DASH_JOINED_RE = re.compile(rf">\}}\}}[{DASHES}]|[{DASHES}]\{{\{{<")
EXAMPLE_LIST_RE = re.compile(r"^\s*\(@")
FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(.*?)\s*$")
RAW_TABLE_OPT_OUT = "<!--| quarto-html-table-processing: none -->"
TABLE_TAG_RE = re.compile(r"<table\b[^>]*>", re.I)
CALLOUT_RE = re.compile(r"^\s*:{3,}\s*\{[^}]*\.callout-[\w-]+", re.M)


def dash_joined_shortcodes(value: str) -> list[str]:
    """Places in one metadata value where a shortcode touches a dash (``>}}-`` or ``-{{<``)."""
    return [value[max(m.start() - 30, 0):m.end() + 30] for m in DASH_JOINED_RE.finditer(value)]


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number, info string, content) of every fenced code block of ``text``."""
    blocks, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(2), m.group(3), i
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[j]):
            j += 1
        blocks.append((start + 1, info, "\n".join(lines[start + 1:j])))
        i = j + 1
    return blocks


def _outside_code(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks."""
    inside, out, fence = False, [], ""
    for n, line in enumerate(text.split("\n"), 1):
        m = FENCE_RE.match(line)
        if m and (not inside or (m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence) and not m.group(3))):
            inside, fence = (not inside), m.group(2)
            continue
        if not inside:
            out.append((n, line))
    return out


def example_list_lines(text: str) -> list[tuple[int, str]]:
    """Lines (outside code) that start with ``(@``: pandoc's example-list marker."""
    return [(n, line) for n, line in _outside_code(text) if EXAMPLE_LIST_RE.match(line)]


def unprotected_raw_tables(text: str) -> list[tuple[int, str]]:
    """Raw HTML blocks holding a ``<table>`` that Quarto's table processing would parse: the block
    lacks the opt-out comment, or one of its tables lacks ``data-quarto-disable-processing``."""
    bad = []
    for line, info, content in fenced_blocks(text):
        if info.replace(" ", "") != "{=html}" or not TABLE_TAG_RE.search(content):
            continue
        tags = TABLE_TAG_RE.findall(content)
        if RAW_TABLE_OPT_OUT not in content or any('data-quarto-disable-processing="true"' not in t for t in tags):
            bad.append((line, tags[0]))
    return bad


def callouts(text: str) -> list[str]:
    return [m.group(0).strip() for m in CALLOUT_RE.finditer(text)]


def problems(text: str) -> list[str]:
    """Every construct of the module docstring found in a document body, one line each."""
    out = [f"line {n}: starts with '(@', which pandoc reads as an example list ('(1)'): move a word "
           f"of the previous line in front of it: {line.strip()[:60]}" for n, line in example_list_lines(text)]
    out += [f"line {n}: raw HTML table {tag} without Quarto's opt-out ({RAW_TABLE_OPT_OUT} in the block and "
            f'data-quarto-disable-processing="true" on the table)' for n, tag in unprotected_raw_tables(text)]
    out += [f"{c}: Quarto draws callouts differently from the in-project engine; use a plain div class "
            f"styled in report/style.css" for c in callouts(text)]
    return out


def metadata_problems(meta: dict, keys=("title", "subtitle", "date", "description", "abstract")) -> list[str]:
    return [f"{key}: a shortcode joined by a dash ({where!r}): Quarto drops the value after it; write "
            f"' to ' or a spaced dash" for key in keys if isinstance(meta.get(key), str)
            for where in dash_joined_shortcodes(meta[key])]


LIST_ITEM_RE = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
INLINE_CODE_RE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def long_code_in_list_items(text: str, limit: int = 24) -> list[tuple[int, str]]:
    """Inline code longer than ``limit`` characters (a path, ``module.py::function``) in a list
    item, continuation lines included. Quarto's CSS keeps inline code on one line
    (``code { white-space: pre }``); in a list item's narrow column on a phone a long path runs
    past the screen (issue 16: 475 px at 400 px). ``report/style.css`` lets code wrap; the prose
    keeps long code out of list items all the same."""
    found, in_item = [], False
    for n, line in _outside_code(text):
        if not line.strip():
            in_item = False
            continue
        if LIST_ITEM_RE.match(line):
            in_item = True
        elif not line.startswith((" ", "\t")):
            in_item = False
        if in_item:
            found += [(n, c) for c in INLINE_CODE_RE.findall(line) if len(c) > limit]
    return found
