"""Render the report (one Quarto document, ``report/report.qmd``): ``quarto render`` when Quarto is
on PATH or asked for, otherwise the in-project pandoc + typst engine (:mod:`analysis.render.lite`)
on the same sources, with the same numbering, references, citation style and stamp."""
