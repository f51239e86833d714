"""Render the Quarto book: ``quarto render`` when Quarto is on PATH, otherwise the in-project
pandoc + typst path (:mod:`analysis.render.lite`) on the same sources."""
