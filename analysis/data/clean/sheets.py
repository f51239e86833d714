"""Reading one sheet of an ODS or XLSX workbook as stored, with the sheet's row numbers.

pandas' spreadsheet reading would turn ``n/a``, ``NULL``, ``NaN`` (and a dozen other strings)
into missing values and guess types; and even with ``keep_default_na=False`` its ODF reader
maps a cell reading ``#N/A``, and its openpyxl reader every error cell (``#N/A``, ``#VALUE!``),
to NaN, and it turns a float such as ``1e308`` into a 309-digit integer. So the cells are taken
from pandas' own workbook readers (which handle repeated and covered cells), with only that
conversion overridden (:class:`_OdsCells`, :class:`_XlsxCells`): every cell stays as the
workbook holds it (text, number, date, error text); only an empty (or all-space) cell becomes
missing. Loaders then convert explicitly (:func:`.parse.to_number`,
:func:`.parse.parse_sheet_dates`, grade and label vocabularies), so an unknown symbol is refused
with the sheet and row a user sees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.excel._odfreader import ODFReader
from pandas.io.excel._openpyxl import OpenpyxlReader

from ...errors import FileFormatError, SchemaError
from ..sources import raw_name
from .parse import _dedupe


class _OdsCells(ODFReader):
    """pandas' ODF reader, except that a cell reading ``#N/A`` stays that text."""

    def _get_cell_value(self, cell):
        if str(cell) == "#N/A":
            return "#N/A"
        return super()._get_cell_value(cell)


class _XlsxCells(OpenpyxlReader):
    """pandas' openpyxl reader, except that error cells keep their text and numbers their type."""

    def _convert_cell(self, cell):
        return "" if cell.value is None else cell.value


READERS = {"odf": (_OdsCells, ".ods"), "openpyxl": (_XlsxCells, ".xlsx")}


def sheet_name(path: Path | str, sheet: str) -> str:
    """``file[sheet]`` as error messages name a sheet (file relative to the mirror)."""
    return f"{raw_name(path)}[{sheet}]"


def read_sheet(path: Path, sheet: str, *, header_row: int | None, engine: str) -> pd.DataFrame:
    """Cells of one sheet; the index is the 1-based sheet row (name ``row``).

    Parameters
    ----------
    path : the workbook.
    sheet : sheet name.
    header_row : 1-based row holding the column names (None: no header, columns 0..n-1).
    engine : ``"odf"`` or ``"openpyxl"``.

    Raises
    ------
    FileFormatError
        For an empty or unreadable (damaged, truncated) workbook.
    SchemaError
        If the sheet is absent.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise FileFormatError(f"{raw_name(path)}: the file is empty (0 bytes); restore the original download.")
    reader_class, kind = READERS[engine]
    try:
        reader = reader_class(str(path))
    except Exception as exc:  # zipfile.BadZipFile, KeyError, XML errors of a damaged workbook
        raise FileFormatError(f"{raw_name(path)}: cannot be read as an {kind} workbook ({type(exc).__name__}: "
                              f"{exc}); restore the original download.") from exc
    try:
        if sheet not in reader.sheet_names:
            raise SchemaError(f"{raw_name(path)}: sheet '{sheet}' not found (sheets: {reader.sheet_names})")
        data = reader.get_sheet_data(reader.get_sheet_by_name(sheet))
    except SchemaError:
        raise
    except Exception as exc:
        raise FileFormatError(f"{raw_name(path)}[{sheet}]: cannot be read ({type(exc).__name__}: {exc}); "
                              f"restore the original download.") from exc
    finally:
        reader.close()
    width = max((len(r) for r in data), default=0)
    data = [list(r) + [""] * (width - len(r)) for r in data]
    if header_row is None:
        body, columns, first = data, list(range(width)), 1
    else:
        if len(data) < header_row:
            raise SchemaError(f"{raw_name(path)}[{sheet}]: no header on row {header_row} (the sheet has "
                              f"{len(data)} row(s))")
        body, first = data[header_row:], header_row + 1
        columns = _dedupe([str(c).strip() for c in data[header_row - 1]])
    df = pd.DataFrame(body, columns=columns, index=pd.Index(np.arange(len(body)) + first, name="row"),
                      dtype=object)
    return df.map(lambda v: np.nan if isinstance(v, str) and not v.strip() else v)
