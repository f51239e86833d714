"""Social work workforce pressure and Ofsted ratings of children's services in England.

The package follows the data flow of the project (see ARCHITECTURE.md)::

    sources -> fetch -> clean -> harmonise -> panel / inspections -> models -> outputs -> render
"""

import os as _os
import tomllib as _tomllib
from pathlib import Path as _Path

# One BLAS thread per process, unless the user says otherwise. The specification curve runs in
# parallel processes; BLAS threads on top oversubscribe the cores (measured: 4x slower on 2 cores).
# Set here because the package is imported before numpy by every entry point (CLIs, tests).
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_v, "1")

__all__ = ["__version__"]
#: single source of the version: pyproject.toml
__version__ = _tomllib.loads((_Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]["version"]
