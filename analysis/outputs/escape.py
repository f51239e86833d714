"""One escaping function per output target: data are text, never markup.

Every data value (a council or region name, a label read from a file) that reaches the report
goes through exactly one of these, chosen by where it lands:

========================  ===============================================================
:func:`md_text`           pandoc/Quarto markdown text (table cells, list items, captions)
:func:`md_attr`           a quoted value inside a markdown attribute block ``{key="..."}``
                          (``fig-alt``, ``fig-cap``)
:func:`html_text`         text of a raw HTML fragment (``{=html}`` block or included file)
:func:`html_attr`         a quoted HTML attribute value (``title="..."``, ``data-*``)
:func:`html_href`         a URL for ``href``/``src``: only http(s), mailto, ``#`` and
                          relative links; ``javascript:`` and any other scheme become ``#``
:func:`typst_string`      a typst string literal ``"..."``
:func:`typst_content`     typst markup (the value printed as text)
:func:`csv_cell`          a text cell of a downloadable CSV (spreadsheet formula injection)
:func:`yaml_var`          a string value written to ``_variables.yml`` for ``{{< var >}}``
========================  ===============================================================

Each neutralises, for its target: Quarto shortcodes (``{{<`` ... ``>}}``: Quarto scans the
raw text for them before pandoc parses it, even inside included files, code spans and raw
blocks, https://quarto.org/docs/extensions/shortcodes.html), ``@`` cross-references and
citations, line breaks (a newline and a code fence would close a raw block), code fences
(a run of backticks) and ``:::`` div fences, ``<`` and ``&`` (raw HTML, entities), ``"``,
backslashes, ``$`` (math) and ``#`` (typst code). No function ever produces a link, so a
``javascript:`` value stays text.
"""

from __future__ import annotations

import re
import string

#: breakable whitespace (every kind but the non-breaking space U+00A0, which keeps an interval
#: such as "[-7.2,\u00a02.2]" together)
_BREAKABLE_RE = re.compile(r"[ \t\n\r\f\v\u2028\u2029\x85]+")
_SHORTCODE_RE = re.compile(r"\{\{<|>\}\}")
#: ASCII punctuation (every character pandoc allows a backslash escape for)
_PUNCT = frozenset(string.punctuation)
#: HTML and markdown-attribute targets: these stay as they are, every other ASCII punctuation
#: character becomes a numeric character reference
_ENTITY_SAFE = frozenset(".,;-()%'/!?+=_")
#: zero-width space: a line-break opportunity in an over-long word (PDF only)
ZWSP = "\u200b"
#: a word longer than this (in characters) may break anywhere in the PDF
LONG_WORD = 18


def _one_line(value: object) -> str:
    """The value as one line: runs of breakable whitespace (newlines included) become a space;
    control characters other than whitespace are dropped."""
    text = "".join(ch for ch in str(value) if ch >= " " or ch in "\t\n\r\f\v")
    return " ".join(w for w in _BREAKABLE_RE.split(text) if w)


def words(text: str) -> list[str]:
    """The unbreakable words of ``text``: split at breakable whitespace only (not at U+00A0)."""
    return [w for w in _BREAKABLE_RE.split(text) if w]


def md_text(value: object) -> str:
    """``value`` as literal pandoc markdown text (one line).

    Notes
    -----
    Pandoc markdown reads any ASCII punctuation character preceded by a backslash as that
    character (pandoc manual, "Backslash escapes"), so every ASCII punctuation character is
    escaped: shortcodes (``{{<`` no longer occurs in the raw text), ``@`` references, ``$``
    math, emphasis, raw HTML (``<``), entities (``&``), code spans and fences, ``:::`` fences,
    link brackets and the ``--``/``...`` ligatures. Line breaks become spaces (a table row is one
    line). Pandoc's HTML and typst writers then escape the literal characters for their format.
    """
    return "".join("\\" + ch if ch in _PUNCT else ch for ch in _one_line(value))


def _entities(text: str) -> str:
    return "".join(f"&#{ord(ch)};" if ch in _PUNCT and ch not in _ENTITY_SAFE else ch for ch in text)


def md_attr(value: object) -> str:
    """``value`` for a double-quoted markdown attribute value (``fig-alt="..."``), one line.

    Notes
    -----
    Pandoc decodes character references in attribute values, so ``"``, ``{``, ``}``, ``<``,
    ``&``, ``@``, backslash, backtick, ``$``, ``#``, ``:`` and the brackets are written as
    numeric references (``&#123;``): the raw text then holds no shortcode, no closing quote or
    brace, and the decoded alt text prints the characters literally.
    """
    return _entities(_one_line(value))


def html_text(value: object) -> str:
    """``value`` as text of a raw HTML fragment, one line (entities for ``<&"'`` and the
    markdown/Quarto specials, so the fragment survives inside a ``{=html}`` block and Quarto's
    raw-text shortcode scan)."""
    return _entities(_one_line(value))


def html_attr(value: object) -> str:
    """``value`` for a double-quoted HTML attribute (same encoding as :func:`html_text`)."""
    return _entities(_one_line(value))


_SAFE_URL_RE = re.compile(r"^(?:https?://|mailto:|#|data:text/csv[;,])", re.I)
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def html_href(url: object) -> str:
    """An attribute-safe URL: http(s), mailto, ``#fragment``, ``data:text/csv`` or a relative
    path; any other scheme (``javascript:``, ``data:text/html``, ``vbscript:``) becomes ``#``.
    Control characters and whitespace inside the scheme (``java\\tscript:``) are removed first,
    as browsers do."""
    text = re.sub(r"[\x00-\x20\x7f]", "", str(url))
    if not _SAFE_URL_RE.match(text) and _SCHEME_RE.match(text):
        return "#"
    if text.startswith("//") or text.startswith("\\"):
        return "#"
    return _entities(text)


#: typst string escapes; every other special written as \\u{..} so that a typst string inside a
#: markdown raw block holds no shortcode, fence, reference or math character either
_TYPST_ESC = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TYPST_HEX = frozenset("{}<>@`:$#[]*_=~'&")


def typst_string(value: object) -> str:
    """``value`` as a typst string literal, quotes included (may hold line breaks as ``\\n``)."""
    out = []
    for ch in str(value):
        if ch in _TYPST_ESC:
            out.append(_TYPST_ESC[ch])
        elif ch in _TYPST_HEX or ch < " ":
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def typst_content(value: object) -> str:
    """``value`` printed as text in typst markup: an embedded string expression ended by ``;``
    (so a following ``.`` or ``(`` cannot continue the expression), one line."""
    return "#" + typst_string(_one_line(value)) + ";"


#: a spreadsheet evaluates a cell starting with one of these as a formula (OWASP, "CSV Injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula: a text value starting with
    ``= + - @``, tab or a line break gets a leading apostrophe; numbers and missing values are
    returned unchanged (a negative number stays a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def yaml_var(value: object) -> str:
    """A string for ``_variables.yml``. Quarto inserts a variable's value into the markdown and
    reads it as markdown, so a value must be one line without shortcode delimiters, fences or
    raw HTML; ``yaml.safe_dump`` quotes it. A value that breaks these rules is a ``ValueError``
    naming it (variables are produced by code from numbers and reference labels, never from
    free data text, which goes through :func:`md_text` in a table instead)."""
    text = str(value)
    bad = [why for why, hit in (("a line break", "\n" in text or "\r" in text),
                                ("a shortcode delimiter", bool(_SHORTCODE_RE.search(text))),
                                ("a code fence", "```" in text), ("a ::: fence", ":::" in text),
                                ("raw HTML", bool(re.search(r"<[A-Za-z/!?]", text))))
           if hit]
    if bad:
        raise ValueError(f"_variables.yml: value {text[:80]!r} holds {', '.join(bad)}; a value is read "
                         f"as markdown by {{{{< var >}}}}")
    return text


def break_long_words(text: str, longer_than: int = LONG_WORD) -> str:
    """``text`` with a zero-width space between every two characters of each word longer than
    ``longer_than``, so that typst can wrap a 500-character name anywhere inside its table cell
    instead of printing it over the next columns (ordinary words are untouched). Apply before
    :func:`md_text` (U+200B is not punctuation)."""
    return re.sub(r"\S{%d,}" % (longer_than + 1), lambda m: ZWSP.join(m.group(0)), text)
