"""Atomic file writes with ordinary permissions, shared by every stage that writes outputs."""

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
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
