"""Social work workforce pressure and Ofsted ratings of children's services in England.

The package follows the data flow of the project (see ARCHITECTURE.md)::

    sources -> fetch -> clean -> harmonise -> panel / inspections -> models -> outputs -> render
"""

import tomllib as _tomllib
from pathlib import Path as _Path

__all__ = ["__version__"]
#: single source of the version: pyproject.toml
__version__ = _tomllib.loads((_Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]["version"]
