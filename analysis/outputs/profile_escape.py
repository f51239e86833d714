"""Escaping for the profiles and the HTML maps, in ONE place (switch to ``escape.py`` when it exists)."""

from __future__ import annotations

import html

#: the ONE place where profile and map values are escaped for their target (switch to
#: ``analysis/outputs/escape.py`` when it exists): HTML text and attributes, typst string literals
escape_html = html.escape


def escape_typst(value: object) -> str:
    """``value`` as a typst string literal (``"..."``; backslash and double quote escaped):
    in typst code a string is shown as plain text, so no markup, label or code can start in it."""
    text = " ".join(str(value).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
