"""Read the committed derived tables with their intended column types (pandas only)."""

from __future__ import annotations

import pandas as pd

from . import paths


def load_derived() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The LA-year panel and the inspection table from ``data/derived/``."""
    panel = pd.read_csv(paths.DERIVED / "la_year_panel.csv", dtype={"la_code": str, "gss_code": str})
    insp = pd.read_csv(paths.DERIVED / "inspections.csv", dtype={"la_code": str, "source_la_code": str},
                       parse_dates=["start_date", "end_date", "publication_date", "prev_published"])
    return panel, insp
