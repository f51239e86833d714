"""Social work workforce pressure and Ofsted ratings of children's services in England.

The package follows the data flow of the project (see ARCHITECTURE.md)::

    sources -> fetch -> clean -> harmonise -> panel / inspections -> (models -> outputs)
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
