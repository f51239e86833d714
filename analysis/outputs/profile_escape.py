"""Escaping for the profiles and the HTML maps, in ONE place: the project's escaping functions
(``escape.py``, one per target), re-exported under the names the profile and map code use."""

from __future__ import annotations

from .escape import html_text as escape_html  # HTML text and double-quoted attribute values
from .escape import typst_string as escape_typst  # a typst string literal, quotes included

__all__ = ["escape_html", "escape_typst"]
