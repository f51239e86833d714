"""Why a council has no value for a measure in a year.

Two kinds of reason:

* documented ones, from the committed reference table ``data/reference/missing_reasons.csv``
  (council, years, measures, reason, source citation), e.g. Kensington and Chelsea and
  Westminster made no 2025 workforce census return after a cyberattack in November 2025;
* council-years whose spending this project sets aside as implausible
  (``data/reference/spend_exclusions.csv``, with the reason given there);
* generic ones derived from the panel itself: the council did not exist yet (its first year in
  the panel is later), no longer exists (its last year is earlier), or its row is present but the
  value is not (not published: not returned, withheld or suppressed by DfE).
"""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..errors import DataError

REASONS = paths.REFERENCE / "missing_reasons.csv"
#: council-years whose spending this project sets missing as an implausible return (reason given there)
SPEND_EXCLUSIONS = paths.REFERENCE / "spend_exclusions.csv"
SPEND_MEASURE = "spend_total_pc"
COLUMNS = ["la_code", "la_name", "first_year", "last_year", "measures", "reason", "source"]
NOT_YET = "council not yet created (first counted {first})"
ABOLISHED = "council no longer exists (last counted {last})"
NOT_PUBLISHED = "not published for this council (not returned, withheld or suppressed)"


def load_reasons(path=REASONS, measures: tuple[str, ...] | None = None,
                 years: tuple[int, int] | None = None) -> pd.DataFrame:
    """The documented reasons, one row per (la_code, measure, year).

    Raises :class:`DataError` naming the file, line, column and value for a missing column, a
    blank reason or source, a non-integer or reversed year range, or a measure not in
    ``measures`` (when given)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    rows = []
    for i, r in raw.iterrows():
        line = i + 2  # header is line 1
        for col in ("la_code", "reason", "source", "measures"):
            if not r[col].strip():
                raise DataError(f"{path}, line {line}, column {col}: empty value")
        try:
            first, last = int(r["first_year"]), int(r["last_year"])
        except ValueError:
            raise DataError(f"{path}, line {line}, columns first_year/last_year: "
                            f"{r['first_year']!r}/{r['last_year']!r} are not years") from None
        if last < first or (years and (first < years[0] or last > years[1])):
            raise DataError(f"{path}, line {line}: year range {first}-{last} is reversed or outside "
                            f"the panel{'' if not years else f' ({years[0]}-{years[1]})'}")
        for m in r["measures"].split(";"):
            if measures is not None and m not in measures:
                raise DataError(f"{path}, line {line}, column measures: unknown measure {m!r} "
                                f"(known: {', '.join(measures)})")
            for y in range(first, last + 1):
                rows.append({"la_code": r["la_code"], "measure": m, "year": y,
                             "reason": r["reason"], "source": r["source"]})
    return pd.DataFrame(rows, columns=["la_code", "measure", "year", "reason", "source"])


def missing_years(panel: pd.DataFrame, measures: list[str], reasons: pd.DataFrame | None = None,
                  councils=None) -> pd.DataFrame:
    """Every (council, measure, year) of the panel's year range without a value, with its reason.

    Tidy columns ``la_code, measure, year, reason, source`` (``source`` is the citation of a
    documented reason, "derived from la_year_panel.csv" for a generic one). ``councils``
    restricts the result to those codes (default: every council in the panel)."""
    years = range(int(panel["year"].min()), int(panel["year"].max()) + 1)
    reasons = (load_reasons(measures=tuple(panel.columns), years=(years.start, years.stop - 1))
               if reasons is None else reasons)
    doc = {(r.la_code, r.measure, int(r.year)): (r.reason, r.source) for r in reasons.itertuples()}
    if SPEND_MEASURE in measures and SPEND_EXCLUSIONS.exists():
        for r in pd.read_csv(SPEND_EXCLUSIONS, dtype=str).itertuples():
            doc.setdefault((r.la_code, SPEND_MEASURE, int(r.year)),
                           ("spending return set aside by this report as implausible: " + r.reason.rsplit(": ", 1)[-1],
                            "this report's screen of implausible spending returns"))
    span = panel.groupby("la_code")["year"].agg(["min", "max"])
    present = panel.set_index(["la_code", "year"])
    codes = sorted(panel["la_code"].unique()) if councils is None else list(councils)
    out = []
    for la in codes:
        if la not in span.index:
            continue
        first, last = int(span.loc[la, "min"]), int(span.loc[la, "max"])
        for m in measures:
            for y in years:
                key = (la, y)
                if key in present.index and pd.notna(present.at[key, m]):
                    continue
                if (la, m, y) in doc:
                    reason, source = doc[(la, m, y)]
                elif y < first:
                    reason, source = NOT_YET.format(first=first), "derived from la_year_panel.csv"
                elif y > last:
                    reason, source = ABOLISHED.format(last=last), "derived from la_year_panel.csv"
                else:
                    reason, source = NOT_PUBLISHED, "derived from la_year_panel.csv"
                out.append({"la_code": la, "measure": m, "year": y, "reason": reason, "source": source})
    return pd.DataFrame(out, columns=["la_code", "measure", "year", "reason", "source"])
