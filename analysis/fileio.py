"""Atomic file writes with ordinary permissions, shared by every stage that writes outputs; sets of
files committed by a manifest written last; removal of what an interrupted write left behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def ordinary_mode(path: Path) -> None:
    """Give ``path`` the mode a plain ``open()`` would: ``0666 & ~umask`` (0644 under umask 022).

    :func:`tempfile.mkstemp` creates files with mode 0600; a file renamed into place from it
    would otherwise stay unreadable to other users.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def atomic_write(dest: Path, data: bytes) -> None:
    """Write ``data`` to ``dest`` through a temporary file in the same folder and a rename.

    A failure leaves the previous ``dest`` (if any) and no temporary file behind.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        ordinary_mode(Path(tmp))
        os.replace(tmp, dest)
    except OSError as exc:  # disk full or file size limit: name the file being written
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(dest)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fault_point(dest.name)


# --------------------------------------------------------------------------------------------
# Sets of files committed together (issue 17 item 3): a manifest written last
# --------------------------------------------------------------------------------------------
#
# A stage that writes several files (results, outputs) first removes its manifest, writes every
# member (each atomically), then writes the manifest with the sha256 of each member. Make
# depends on the manifest, so an interrupted stage (no manifest) is re-run, and the next stage
# refuses a set whose files differ from their manifest (:func:`check_set`).

import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402

#: fault injection for the tests: ``CSC_FAULT=after:<file name>[:<ERRNO>]`` raises an I/O error
#: (EIO, or the errno named, e.g. ENOSPC) right after that file is written by
#: :func:`atomic_write`; ``CSC_FAULT=kill-after:<file name>`` kills the process (SIGKILL) there
FAULT_ENV = "CSC_FAULT"


class IncompleteSetError(RuntimeError):
    """A set of files does not match its manifest (interrupted or edited by hand)."""


def fault_point(name: str) -> None:
    """Fail here if ``$CSC_FAULT`` names this point (``after:<name>`` or ``kill-after:<name>``)."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return
    kind, _, rest = spec.partition(":")
    point, _, code = rest.partition(":")
    if point != name:
        return
    if kind == "kill-after":
        import signal
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "after":
        import errno
        if code:
            number = getattr(errno, code)
            raise OSError(number, os.strerror(number), name)
        raise OSError(errno.EIO, f"injected fault after writing {name} ({FAULT_ENV})")


def _strip_build_block(text: str) -> str:
    """``_variables.yml`` without its top-level ``build:`` block (refreshed by every render)."""
    return re.sub(r"^build:\n(?:[ -].*\n)*", "", text, flags=re.M)


def member_digest(path: Path) -> str:
    """sha256 of a set member; for ``_variables.yml`` of everything but the ``build`` block."""
    data = Path(path).read_bytes()
    if Path(path).name == "_variables.yml":
        data = _strip_build_block(data.decode("utf-8")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def begin_set(manifest: Path) -> None:
    """Mark a set as being rewritten: remove its manifest (the set is incomplete until
    :func:`write_manifest`)."""
    Path(manifest).unlink(missing_ok=True)


def write_manifest(manifest: Path, members: list[Path], root: Path) -> dict[str, str]:
    """Write ``manifest`` (last): the sha256 of each member, keyed by its path from ``root``."""
    digests = {Path(p).resolve().relative_to(Path(root).resolve()).as_posix(): member_digest(p)
               for p in sorted(members)}
    atomic_write(Path(manifest), (json.dumps({"sha256": digests}, indent=1, sort_keys=True) + "\n").encode())
    return digests


def check_set(manifest: Path, root: Path, fix: str) -> None:
    """Raise :class:`IncompleteSetError` unless every member of ``manifest`` exists with its
    recorded sha256; ``fix`` (the command that rebuilds the set) ends the message."""
    manifest = Path(manifest)
    try:
        digests = json.loads(manifest.read_text())["sha256"]
    except FileNotFoundError:
        raise IncompleteSetError(f"{_rel(manifest, root)} is missing: the set was not written "
                                 f"completely (an interrupted build?); {fix}") from None
    except (ValueError, KeyError, TypeError):
        raise IncompleteSetError(f"{_rel(manifest, root)} is not a valid manifest; {fix}") from None
    bad = []
    for name, digest in digests.items():
        path = Path(root) / name
        if not path.is_file():
            bad.append(f"{name} missing")
        elif member_digest(path) != digest:
            bad.append(f"{name} differs")
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise IncompleteSetError(f"{', '.join(bad[:3])}{more} from {_rel(manifest, root)}: the set is "
                                 f"incomplete or was edited after it was written; {fix}")


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


#: temporary names left by an interrupted write: atomic_write's hidden ``.<name>.<random>``,
#: ``*.tmp``, and ``make data``'s ``.staging-*`` / ``.backup-*`` directories
_STALE = re.compile(r"^(\.staging-.*|\.backup-.*|\..+\.[A-Za-z0-9_]{8}|.+\.tmp)$")


def clean_stale(*dirs: Path) -> list[Path]:
    """Remove the temporary files and directories an interrupted write left in ``dirs`` (not
    recursive); return what was removed. Ordinary files and folders are never touched."""
    removed = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if not _STALE.match(p.name):
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed
