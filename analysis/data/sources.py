"""Source registry (``data/sources.toml``) and fetching of raw files.

A raw file is obtained, in this order, from

1. the download cache ``data/raw/<path>`` (git-ignored) if present and verified;
2. the mirror directory named by ``$CSC_DATA_MIRROR`` (CI and tests: ``../shared/data``);
3. the official URL, only where the registry marks it a direct file link (``url_kind = "file"``).

Every file is verified against the registry's byte size and sha256 before it is returned.
Raw files are never modified: loaders read them in place.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..fileio import ordinary_mode
from ..errors import ChecksumError, SchemaError, SourceUnavailableError

_REQUIRED_FIELDS = (
    "path", "publisher", "publication", "release_date", "url", "url_kind", "licence", "sha256", "bytes",
)


@dataclass(frozen=True)
class Source:
    """One raw file of the registry."""

    id: str
    path: str
    publisher: str
    publication: str
    release_date: str
    url: str
    url_kind: str
    licence: str
    sha256: str
    bytes: int
    years: str = ""

    @property
    def period(self) -> tuple[int, int]:
        """First and last year named by the registry's ``years`` text.

        ``"2017-2025 (30 September snapshots)"`` -> (2017, 2025); ``"finance 2016-17 to
        2024-25 (financial years); LAC 2016-2025 (31 March)"`` -> (2016, 2025); ``"mid-2012
        to mid-2024"`` -> (2012, 2024). A row dated after the last year describes a period the
        registered publication does not cover (a later vintage must be registered deliberately).

        Raises
        ------
        SchemaError
            If the text names no four-digit year.
        """
        found = [int(y) for y in _YEAR_IN_TEXT.findall(self.years)]
        if not found:
            raise SchemaError(f"data/sources.toml: source '{self.id}' has no year in its 'years' field "
                              f"({self.years!r})")
        return min(found), max(found)


_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def raw_name(path: Path | str) -> str:
    """How error messages name a raw file: its path relative to the mirror or download cache
    (``csww/csww_indicators_2017_to_2025.csv``), else the registered path it ends with, else
    the path as given. A sheet suffix (``file.ods[sheet]``) is kept."""
    text = str(path)
    sheet = ""
    if text.endswith("]") and "[" in text:
        text, sheet = text[: text.rindex("[")], text[text.rindex("["):]
    p = Path(text)
    for base in (paths.mirror_dir(), paths.RAW_CACHE):
        if base is None:
            continue
        try:
            return p.resolve().relative_to(Path(base).resolve()).as_posix() + sheet
        except (ValueError, OSError):
            continue
    for src in _registered_paths():
        if p.as_posix().endswith("/" + src) or p.as_posix() == src:
            return src + sheet
    return text + sheet


def _registered_paths() -> list[str]:
    try:
        return sorted((s.path for s in load_registry().values()), key=len, reverse=True)
    except (OSError, SchemaError):
        return []


def load_registry(toml_path: Path = paths.SOURCES_TOML) -> dict[str, Source]:
    """Read and validate the source registry.

    Raises
    ------
    SchemaError
        If an entry lacks a required field or has an invalid checksum or url kind.
    """
    with open(toml_path, "rb") as fh:
        raw = tomllib.load(fh)
    out: dict[str, Source] = {}
    for sid, entry in raw.get("sources", {}).items():
        missing = [f for f in _REQUIRED_FIELDS if f not in entry]
        if missing:
            raise SchemaError(f"{toml_path}: source '{sid}' lacks field(s) {missing}")
        if len(entry["sha256"]) != 64 or any(c not in "0123456789abcdef" for c in entry["sha256"]):
            raise SchemaError(f"{toml_path}: source '{sid}' has an invalid sha256 {entry['sha256']!r}")
        if entry["url_kind"] not in ("file", "landing"):
            raise SchemaError(f"{toml_path}: source '{sid}' url_kind must be 'file' or 'landing'")
        out[sid] = Source(id=sid, **entry)
    if not out:
        raise SchemaError(f"{toml_path}: no [sources.*] entries")
    return out


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(source: Source, path: Path) -> Path:
    """Check a candidate file's size and sha256 against the registry.

    Raises
    ------
    ChecksumError
        Naming the file, the expected and found size/hash, and what to do.
    """
    size = path.stat().st_size
    if size != source.bytes:
        hint = "truncated" if size < source.bytes else "larger than registered"
        raise ChecksumError(
            f"{path}: {size} bytes, but source '{source.id}' is registered with {source.bytes} bytes "
            f"(file {hint}; a different vintage or a damaged copy). Re-download it from {source.url} "
            f"or restore the mirror copy; never edit raw files."
        )
    digest = sha256_of(path)
    if digest != source.sha256:
        raise ChecksumError(
            f"{path}: sha256 {digest} does not match the registered {source.sha256} for source "
            f"'{source.id}' ({source.publication}). The file has been modified or is another vintage. "
            f"Restore the original from {source.url}; if the publisher has revised it, update "
            f"data/sources.toml deliberately and rebuild with `make data`."
        )
    return path


def _download(source: Source, dest: Path) -> None:
    """Download into a temporary file beside ``dest``, verify, then rename into place.

    The temporary file is removed on any failure (network error, checksum mismatch,
    interruption), and the cached file gets ordinary permissions (``0666 & ~umask``), not the
    0600 of :func:`tempfile.mkstemp`.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp_path = Path(name)
    try:
        with os.fdopen(fd, "wb") as tmp:
            with urllib.request.urlopen(source.url, timeout=60) as resp:  # noqa: S310 (registry URL)
                shutil.copyfileobj(resp, tmp)
        verify(source, tmp_path)
        ordinary_mode(tmp_path)
        tmp_path.replace(dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def fetch(source: Source, *, allow_download: bool = True) -> Path:
    """Return a verified local path for ``source`` (cache, then mirror, then official URL).

    Raises
    ------
    SourceUnavailableError
        If the file is in none of the places and cannot be downloaded; the message says how
        to obtain it.
    ChecksumError
        If a copy is found but its size or sha256 is wrong.
    """
    cached = paths.RAW_CACHE / source.path
    if cached.exists():
        return verify(source, cached)
    mirror = paths.mirror_dir()
    tried = [str(cached)]
    if mirror is not None:
        if not mirror.is_dir():
            raise SourceUnavailableError(
                f"${paths.MIRROR_ENV}={mirror} is not a directory; point it at a mirror of the raw "
                f"files (e.g. ../shared/data) or unset it to download from the official URLs."
            )
        candidate = mirror / source.path
        if candidate.exists():
            return verify(source, candidate)
        tried.append(str(candidate))
    if allow_download and source.url_kind == "file":
        try:
            _download(source, cached)
            return cached
        except ChecksumError:
            raise
        except OSError as exc:  # no network, HTTP error
            tried.append(f"{source.url} ({exc})")
    how = (
        f"download it from {source.url}"
        if source.url_kind == "file"
        else f"download '{source.publication}' from its publication page {source.url}"
    )
    raise SourceUnavailableError(
        f"raw source '{source.id}' ({source.path}) not found; tried: {'; '.join(tried)}. "
        f"To fix: set {paths.MIRROR_ENV} to a directory holding '{source.path}' (CI uses ../shared/data), "
        f"or {how} and save it as {cached}. Its sha256 must be {source.sha256}."
    )


def fetch_all(registry: dict[str, Source] | None = None) -> dict[str, Path]:
    """Fetch and verify every registered source; returns ``{source id: path}``."""
    registry = registry or load_registry()
    return {sid: fetch(src) for sid, src in registry.items()}
