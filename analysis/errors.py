"""Exceptions raised by the data pipeline.

Every error names the file (and where relevant the column, value and row) so that a reader
can find the problem without a debugger. Nothing is written when one is raised.
"""

from __future__ import annotations


class DataError(Exception):
    """Base class: invalid or unavailable input data."""


class SourceUnavailableError(DataError):
    """A raw source is neither in the cache, nor in the mirror, nor downloadable."""


class ChecksumError(DataError):
    """A raw file's size or sha256 differs from the registry (modified or truncated)."""


class SchemaError(DataError):
    """A raw file lacks an expected column, sheet or coverage (e.g. a renamed column)."""


class SuppressionCodeError(DataError):
    """A cell holds a non-numeric symbol that is not a known suppression code for its source."""


class DuplicateKeyError(DataError):
    """Two rows share a key that must be unique (e.g. LA x year)."""


class UnknownAreaError(DataError):
    """An LA code is not in the project's LA register (data/reference/la_register.csv)."""


class FileFormatError(DataError):
    """A raw file cannot be read as what it claims to be: empty, UTF-16, ragged rows, cut short,
    an unparseable date or time period."""


class CoverageError(SchemaError):
    """A raw file covers fewer years, rows or LAs than expected (header-only, truncated, filtered);
    the expectations live in ``data/reference/coverage.toml``."""


class ImplausibleValueError(DataError):
    """A value parses but cannot be true: a negative or infinite count, an end date before the
    start, a publication before fieldwork or in the future, a year of rates given as fractions."""
